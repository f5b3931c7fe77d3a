import { sinceDate } from '../../../src/fetch/feed-poller.js';
import { RateLimiter } from '../../../adapters/fhir-server/rate-limiter.js';

describe('the poller’s settings', () => {
  it('reads `since` as a date, or as a number of days before today in London', () => {
    expect(sinceDate('2026-01-31', new Date('2026-11-29T12:00:00Z'))).toBe('2026-01-31');
    expect(sinceDate('P28D', new Date('2026-11-29T12:00:00Z'))).toBe('2026-11-01');
    // 23:30 UTC on 30 June is already 1 July in London (BST).
    expect(sinceDate('P1D', new Date('2026-06-30T23:30:00Z'))).toBe('2026-06-30');
  });

  it('the rate limiter lets a second’s burst through, then spaces requests out', async () => {
    const limiter = new RateLimiter(50);
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) await limiter.take();
    expect(Date.now() - t0).toBeLessThan(100);
    for (let i = 0; i < 10; i++) await limiter.take();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(180); // 10 more at 50/s: at least 200 ms, less timer slack
  });
});
