/**
 * A token bucket on a clock the caller gives (ms): on average `perSecond` takes a second, in bursts of up to
 * `burst` takes. Two ways to take: `reserve` always succeeds and says how long the caller must wait for its
 * turn (a feed's FHIR server is never asked faster, adapters/fhir-server/rate-limiter.ts); `tryTake` takes only
 * when a token is there now, and otherwise says how long until one is (the HTTP API's per-client limits).
 */
export class TokenBucket {
  /** When the next token is free; earlier than now by up to the burst when capacity went unused. */
  private next = Number.NEGATIVE_INFINITY;
  private readonly interval: number;
  private readonly burstMs: number;

  constructor(perSecond: number, burst = Math.max(1, Math.floor(perSecond))) {
    this.interval = 1000 / perSecond;
    this.burstMs = Math.max(1, burst) * this.interval;
  }

  /** Reserves the next free slot: ms to wait until it (0 = now). */
  reserve(now: number): number {
    const at = Math.max(this.next, now - this.burstMs + this.interval);
    this.next = at + this.interval;
    return Math.max(0, at - now);
  }

  /** Takes a token if one is free now (0); otherwise takes nothing and answers the ms until one is. */
  tryTake(now: number): number {
    const at = Math.max(this.next, now - this.burstMs + this.interval);
    if (at > now) return at - now;
    this.next = at + this.interval;
    return 0;
  }

  /** The bucket is full again (unused since long enough that forgetting it changes nothing). */
  isFull(now: number): boolean {
    return this.next <= now - this.burstMs + this.interval;
  }
}
