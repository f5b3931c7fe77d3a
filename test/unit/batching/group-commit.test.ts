import { setImmediate as nextTurn } from 'node:timers/promises';
import { GroupCommit } from '../../../src/batching/group-commit.js';
import { couldBeOneMessages } from '../../../src/intake/receipt-committer.js';
import { defined } from '../../support/defined.js';

/** A promise with its resolve/reject exposed, to control exactly when a flush finishes. */
interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Records whether a promise has settled, without awaiting it. */
function track<T>(p: Promise<T>): { settled: () => boolean } {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  return { settled: () => done };
}

/** A flush that records each batch and waits for the test to release it. */
class GatedFlush {
  readonly calls: string[][] = [];
  private gates: Deferred<string[] | Error>[] = [];
  private started: Deferred<void>[] = [];

  readonly flush = async (items: string[]): Promise<string[]> => {
    const n = this.calls.length;
    this.calls.push([...items]);
    this.startedPromise(n).resolve();
    const outcome = await this.gate(n).promise;
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };

  private gate(n: number): Deferred<string[] | Error> {
    while (this.gates.length <= n) this.gates.push(deferred<string[] | Error>());
    return defined(this.gates[n], `gate ${n}`);
  }

  private startedPromise(n: number): Deferred<void> {
    while (this.started.length <= n) this.started.push(deferred());
    return defined(this.started[n], `start signal ${n}`);
  }

  /** Resolves when flush call n (0-based) has begun. */
  whenStarted(n: number): Promise<void> {
    return this.startedPromise(n).promise;
  }

  /** Lets flush call n return results (the items upper-cased) or throw. */
  release(n: number, outcome?: Error): void {
    const items = this.calls[n];
    if (items === undefined) throw new Error(`flush ${n} has not started`);
    this.gate(n).resolve(outcome ?? items.map((i) => i.toUpperCase()));
  }
}

describe('GroupCommit', () => {
  it('flushes items submitted in the same tick together, in one call, in order', async () => {
    const calls: number[][] = [];
    const gc = new GroupCommit<number, number>((items) => {
      calls.push([...items]);
      return Promise.resolve(items.map((i) => i * 10));
    });
    const results = await Promise.all([gc.submit(1), gc.submit(2), gc.submit(3)]);
    expect(calls).toEqual([[1, 2, 3]]);
    expect(results).toEqual([10, 20, 30]);
  });

  it('does not flush before the current turn ends', () => {
    const calls: number[][] = [];
    const gc = new GroupCommit<number, number>((items) => {
      calls.push(items);
      return Promise.resolve(items);
    });
    void gc.submit(1);
    void gc.submit(2);
    expect(calls).toEqual([]);
    expect(gc.size).toBe(2);
    return gc.drained().then(() => {
      expect(calls).toEqual([[1, 2]]);
      expect(gc.size).toBe(0);
    });
  });

  it("with startAtOnceWhenIdle, an idle batch starts before the next turn of the event loop, with all of this turn's items", async () => {
    const calls: number[][] = [];
    const gc = new GroupCommit<number, number>(
      (items) => {
        calls.push([...items]);
        return Promise.resolve(items);
      },
      500,
      1,
      true,
    );
    void gc.submit(1);
    void gc.submit(2);
    expect(calls).toEqual([]);
    // A few microtasks later, still within this turn of the event loop, the batch has started with both items.
    for (let i = 0; i < 3; i++) await Promise.resolve();
    expect(calls).toEqual([[1, 2]]);
  });

  it('without startAtOnceWhenIdle, an idle batch waits for the next turn of the event loop', async () => {
    const calls: number[][] = [];
    const gc = new GroupCommit<number, number>((items) => {
      calls.push([...items]);
      return Promise.resolve(items);
    });
    void gc.submit(1);
    for (let i = 0; i < 3; i++) await Promise.resolve();
    expect(calls).toEqual([]);
    await gc.drained();
    expect(calls).toEqual([[1]]);
  });

  it('with startAtOnceWhenIdle, items submitted while a batch is flushing still wait and go together', async () => {
    const f = new GatedFlush();
    const gc = new GroupCommit<string, string>(f.flush, 500, 1, true);
    const first = gc.submit('a');
    await f.whenStarted(0);
    const later = [gc.submit('b'), gc.submit('c')];
    f.release(0);
    expect(await first).toBe('A');
    await f.whenStarted(1);
    expect(f.calls).toEqual([['a'], ['b', 'c']]);
    f.release(1);
    expect(await Promise.all(later)).toEqual(['B', 'C']);
  });

  it('flushes items submitted while a flush is running in the next call', async () => {
    const f = new GatedFlush();
    const gc = new GroupCommit<string, string>(f.flush);
    const first = [gc.submit('a'), gc.submit('b')];
    await f.whenStarted(0);
    const second = [gc.submit('c'), gc.submit('d'), gc.submit('e')];
    expect(gc.size).toBe(3);
    expect(f.calls).toEqual([['a', 'b']]);
    f.release(0);
    expect(await Promise.all(first)).toEqual(['A', 'B']);
    await f.whenStarted(1);
    expect(f.calls).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
    f.release(1);
    expect(await Promise.all(second)).toEqual(['C', 'D', 'E']);
    expect(f.calls).toHaveLength(2);
  });

  it('never runs two flushes at once', async () => {
    let running = 0;
    let maxRunning = 0;
    const gates: Deferred<void>[] = [];
    const gc = new GroupCommit<number, number>(async (items) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      const g = deferred();
      gates.push(g);
      await g.promise;
      running--;
      return items;
    });
    const all: Promise<number>[] = [gc.submit(1)];
    for (let round = 0; round < 5; round++) {
      while (gates.length <= round) await nextTurn();
      all.push(gc.submit(round + 2));
      gates[round]?.resolve();
    }
    while (gates.length <= 5) await nextTurn();
    gates[5]?.resolve();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(maxRunning).toBe(1);
  });

  it('gives each submitter its own result', async () => {
    const gc = new GroupCommit<{ id: string }, string>((items) => Promise.resolve(items.map((i) => `stored:${i.id}`)));
    const ids = ['m1', 'm2', 'm3', 'm4', 'm5'];
    const promises = ids.map((id) => gc.submit({ id }));
    // Await them in reverse so a mix-up cannot hide behind ordering.
    for (let i = ids.length - 1; i >= 0; i--) {
      expect(await promises[i]).toBe(`stored:${ids[i]}`);
    }
  });

  it('a flush rejection rejects exactly that batch, and later submissions still work', async () => {
    const f = new GatedFlush();
    const gc = new GroupCommit<string, string>(f.flush);
    const batch1 = [gc.submit('a'), gc.submit('b')];
    await f.whenStarted(0);
    const batch2 = [gc.submit('c')];
    const failure = new Error('database down');
    f.release(0, failure);
    const outcomes1 = await Promise.allSettled(batch1);
    expect(outcomes1).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
    await f.whenStarted(1);
    f.release(1);
    expect(await Promise.all(batch2)).toEqual(['C']);
    await gc.drained();
    const later = gc.submit('z');
    await f.whenStarted(2);
    expect(f.calls[2]).toEqual(['z']);
    f.release(2);
    expect(await later).toBe('Z');
  });

  it('a flush that throws synchronously rejects its batch too', async () => {
    let n = 0;
    const gc = new GroupCommit<number, number>((items) => {
      n++;
      if (n === 1) throw new Error('sync failure');
      return Promise.resolve(items.map((i) => -i));
    });
    await expect(gc.submit(1)).rejects.toThrow('sync failure');
    await expect(gc.submit(2)).resolves.toBe(-2);
  });

  it('splits batches at maxBatch', async () => {
    const calls: number[][] = [];
    const gc = new GroupCommit<number, number>((items) => {
      calls.push([...items]);
      return Promise.resolve(items.map((i) => i + 100));
    }, 2);
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => gc.submit(i)));
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
    expect(results).toEqual([101, 102, 103, 104, 105]);
  });

  it('splits a burst larger than the default maxBatch of 500', async () => {
    const sizes: number[] = [];
    const gc = new GroupCommit<number, number>((items) => {
      sizes.push(items.length);
      return Promise.resolve(items);
    });
    const results = await Promise.all(Array.from({ length: 1201 }, (_, i) => gc.submit(i)));
    expect(sizes).toEqual([500, 500, 201]);
    expect(results[1200]).toBe(1200);
  });

  it('drained() resolves at once when nothing was submitted', async () => {
    const gc = new GroupCommit<number, number>((items) => Promise.resolve(items));
    await expect(gc.drained()).resolves.toBeUndefined();
  });

  it('drained() resolves only after every flush, including batches submitted during a flush', async () => {
    const f = new GatedFlush();
    const gc = new GroupCommit<string, string>(f.flush);
    const p1 = gc.submit('a');
    await f.whenStarted(0);
    const p2 = gc.submit('b');
    const drained = track(gc.drained());
    await nextTurn();
    expect(drained.settled()).toBe(false);
    f.release(0);
    await p1;
    await f.whenStarted(1);
    await nextTurn();
    expect(drained.settled()).toBe(false);
    f.release(1);
    await gc.drained();
    expect(drained.settled()).toBe(true);
    expect(await p2).toBe('B');
    expect(f.calls).toEqual([['a'], ['b']]);
    expect(gc.size).toBe(0);
  });

  it('drained() waits for a batch that failed, and then resolves (it does not reject)', async () => {
    const f = new GatedFlush();
    const gc = new GroupCommit<string, string>(f.flush);
    const p = gc.submit('a');
    p.catch(() => undefined);
    await f.whenStarted(0);
    const drained = track(gc.drained());
    await nextTurn();
    expect(drained.settled()).toBe(false);
    f.release(0, new Error('boom'));
    await expect(gc.drained()).resolves.toBeUndefined();
    await expect(p).rejects.toThrow('boom');
  });
});

describe('GroupCommit with maxConcurrent > 1', () => {
  test('a second batch is flushed while the first is still running, and each resolves on its own commit', async () => {
    const gates = [deferred(), deferred()];
    const calls: number[][] = [];
    const gc = new GroupCommit<number, number>(
      async (items) => {
        const call = calls.push(items) - 1;
        await gates[call]?.promise;
        return items.map((i) => i * 10);
      },
      500,
      2,
    );
    const first = gc.submit(1);
    await nextTurn();
    const second = gc.submit(2);
    await nextTurn();
    expect(calls).toEqual([[1], [2]]);
    const firstDone = track(first);
    gates[1]?.resolve();
    expect(await second).toBe(20);
    expect(firstDone.settled()).toBe(false);
    gates[0]?.resolve();
    expect(await first).toBe(10);
    await gc.drained();
  });

  test('no more than maxConcurrent batches run at once', async () => {
    let running = 0;
    let peak = 0;
    const gate = deferred();
    const gc = new GroupCommit<number, number>(
      async (items) => {
        running++;
        peak = Math.max(peak, running);
        await gate.promise;
        running--;
        return items;
      },
      1,
      3,
    );
    const all = Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => gc.submit(i)));
    await nextTurn();
    await nextTurn();
    expect(running).toBe(3);
    gate.resolve();
    expect(await all).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });
});

describe('GroupCommit: a batch failing on one item’s data is split so only that item fails', () => {
  /** Fails any batch holding a "poison" item with a data error (SQLSTATE 54000), like a store would. */
  const dataError = Object.assign(new Error('index row size exceeds btree maximum'), { code: '54000' });
  const isData = (err: unknown) => err === dataError;

  test('one poison among many: the others are flushed and resolved normally, the poison alone rejects', async () => {
    const calls: string[][] = [];
    const gc = new GroupCommit<string, string>(
      (items) => {
        calls.push([...items]);
        if (items.includes('poison')) return Promise.reject(dataError);
        return Promise.resolve(items.map((i) => `ok:${i}`));
      },
      500,
      1,
      false,
      isData,
    );
    const items = ['a', 'b', 'c', 'poison', 'd', 'e', 'f'];
    const results = await Promise.allSettled(items.map((i) => gc.submit(i)));
    expect(results).toEqual(
      items.map((i) => (i === 'poison' ? { status: 'rejected', reason: dataError } : { status: 'fulfilled', value: `ok:${i}` })),
    );
    // The first call had them all; the bisection never re-flushes an item once it has been committed.
    expect(calls[0]).toEqual(items);
    expect(calls.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(items.length)));
    const committed = calls.filter((c) => !c.includes('poison')).flat();
    expect(committed.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    await gc.drained();
  });

  test('two poisons: both reject, every other item resolves', async () => {
    const gc = new GroupCommit<number, number>(
      (items) => {
        if (items.some((i) => i % 5 === 0)) return Promise.reject(dataError);
        return Promise.resolve(items.map((i) => i * 2));
      },
      500,
      1,
      false,
      isData,
    );
    const results = await Promise.allSettled([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((i) => gc.submit(i)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed'))).toEqual([
      2,
      4,
      6,
      8,
      'failed',
      12,
      14,
      16,
      18,
      'failed',
      22,
    ]);
  });

  test('an error that is not about the data (the store is down) fails the whole batch at once, with no retries', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    let flushes = 0;
    const gc = new GroupCommit<string, string>(
      () => {
        flushes++;
        return Promise.reject(down);
      },
      500,
      1,
      false,
      isData,
    );
    const results = await Promise.allSettled(['a', 'b', 'c', 'd'].map((i) => gc.submit(i)));
    expect(results.every((r) => r.status === 'rejected' && r.reason === down)).toBe(true);
    expect(flushes).toBe(1);
  });
});

describe('couldBeOneMessages: which store errors a single message’s data can cause', () => {
  test('data exceptions, integrity violations and program limits split the batch; connection and server errors do not', () => {
    const e = (code: unknown) => Object.assign(new Error('x'), { code });
    expect(['54000', '22P05', '22021', '23505', '23514'].map((c) => couldBeOneMessages(e(c)))).toEqual([true, true, true, true, true]);
    expect(['08006', '57P01', '53300', '40001', 'ECONNREFUSED', 'XX000', 54000, undefined].map((c) => couldBeOneMessages(e(c)))).toEqual(
      Array(8).fill(false),
    );
    expect(couldBeOneMessages(new Error('no code'))).toBe(false);
    expect(couldBeOneMessages('54000')).toBe(false);
  });
});
