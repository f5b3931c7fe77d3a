import { TokenBucket } from '../../src/domain/token-bucket.js';

/**
 * A token bucket: at most `perSecond` requests a second on average, bursts of up to one second's worth. Callers
 * wait their turn in order (each take() reserves the next free slot), so a feed's server never sees more.
 */
export class RateLimiter {
  private readonly bucket: TokenBucket;

  constructor(perSecond: number) {
    this.bucket = new TokenBucket(perSecond);
  }

  async take(): Promise<void> {
    const wait = this.bucket.reserve(Date.now());
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
