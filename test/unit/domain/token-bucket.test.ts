import { TokenBucket } from '../../../src/domain/token-bucket.js';

describe('TokenBucket', () => {
  test('tryTake: a burst, then one token per interval; a refusal takes nothing and says how long to wait', () => {
    const b = new TokenBucket(10, 3); // 100 ms a token, bursts of 3
    expect([b.tryTake(1000), b.tryTake(1000), b.tryTake(1000)]).toEqual([0, 0, 0]);
    expect(b.tryTake(1000)).toBe(100);
    expect(b.tryTake(1050)).toBe(50);
    expect(b.tryTake(1100)).toBe(0);
    expect(b.tryTake(1100)).toBe(100);
    // Unused capacity comes back up to the burst, never more.
    expect(b.isFull(1500)).toBe(true);
    expect([b.tryTake(10_000), b.tryTake(10_000), b.tryTake(10_000), b.tryTake(10_000)]).toEqual([0, 0, 0, 100]);
  });

  test('reserve: every caller gets the next slot in turn (the FHIR fetch limiter)', () => {
    const b = new TokenBucket(10);
    const waits = Array.from({ length: 12 }, () => b.reserve(0));
    expect(waits.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => 0));
    expect(waits.slice(10)).toEqual([100, 200]);
  });
});
