/**
 * A token bucket: at most `perSecond` requests a second on average, bursts of up to one second's worth. Callers
 * wait their turn in order (each take() reserves the next free slot), so a feed's server never sees more.
 */
export class RateLimiter {
  private next = 0;
  private readonly interval: number;
  private readonly burst: number;

  constructor(perSecond: number) {
    this.interval = 1000 / perSecond;
    this.burst = Math.max(1, Math.floor(perSecond)) * this.interval;
  }

  async take(): Promise<void> {
    const now = Date.now();
    // Unused capacity is kept for at most one second's burst.
    const at = Math.max(this.next, now - this.burst + this.interval);
    this.next = at + this.interval;
    const wait = at - now;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
