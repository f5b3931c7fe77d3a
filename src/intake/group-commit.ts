interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: items submitted while a flush is running (or within the same turn of the event loop)
 * are flushed together, so a burst of messages costs one transaction and one queue round trip instead
 * of one each. A commit per message caps intake at a few thousand a second; this does not.
 */
export class GroupCommit<I, O> {
  private pending: Pending<I, O>[] = [];
  private running = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        this.idle = new Promise((r) => (this.markIdle = r));
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Resolves when nothing is pending or being flushed (used by graceful shutdown). */
  async drained(): Promise<void> {
    await this.idle;
  }

  get size(): number {
    return this.pending.length;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        const results = await this.flush(batch.map((p) => p.item));
        batch.forEach((p, i) => p.resolve(results[i] as O));
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.running = false;
    this.markIdle();
  }
}
