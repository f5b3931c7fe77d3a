import { ResourceStack } from '../../../src/hub/resource-stack.js';

/** A closer that notes its name, as a resource's close would. */
const record = (closed: string[], name: string): Promise<void> => {
  closed.push(name);
  return Promise.resolve();
};

describe('ResourceStack: what start-up opened is closed, newest first', () => {
  test('closeAll closes in reverse order of opening, runs every closer past a failure, then reports the first failure', async () => {
    const stack = new ResourceStack();
    const closed: string[] = [];
    stack.add('redis', () => record(closed, 'redis'));
    stack.add('store', () => {
      closed.push('store');
      return Promise.reject(new Error('pool end failed'));
    });
    stack.add('workers', () => record(closed, 'workers'));
    await expect(stack.closeAll()).rejects.toThrow('closing store failed');
    expect(closed).toEqual(['workers', 'store', 'redis']);
    // Closed once only: a second call has nothing left to close.
    await stack.closeAll();
    expect(closed).toEqual(['workers', 'store', 'redis']);
  });

  test('orCloseAll closes what was opened before the failure and rethrows the failure itself', async () => {
    const stack = new ResourceStack();
    const closed: string[] = [];
    const failure = new Error('port taken');
    await expect(
      stack.orCloseAll(() => {
        stack.add('redis', () => record(closed, 'redis'));
        stack.add('store', () => Promise.reject(new Error('also broken')));
        stack.add('workers', () => record(closed, 'workers'));
        return Promise.reject(failure);
      }),
    ).rejects.toBe(failure);
    expect(closed).toEqual(['workers', 'redis']);
  });

  test('orCloseAll leaves everything open when opening succeeds', async () => {
    const stack = new ResourceStack();
    const closed: string[] = [];
    const value = await stack.orCloseAll(() => {
      stack.add('redis', () => record(closed, 'redis'));
      return Promise.resolve(42);
    });
    expect(value).toBe(42);
    expect(closed).toEqual([]);
  });
});
