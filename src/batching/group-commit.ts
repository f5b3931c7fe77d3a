interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: items submitted while flushes are running (or within the same turn of the event loop)
 * are flushed together, so a burst of messages costs one statement and one queue round trip instead of
 * one each. A commit per message caps intake at a few thousand a second; this does not. Up to
 * `maxConcurrent` batches may be in flight at once, so an ACK waits for its own commit, not for the
 * batch before it as well.
 */
export class GroupCommit<I, O> {
  private pending: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 500,
    private readonly maxConcurrent = 1,
    /** Intake passes true: see schedule(). Workers' jobs keep waiting a turn, so a burst of jobs still becomes one batch. */
    private readonly startAtOnceWhenIdle = false,
    /**
     * True for an error one item's data could cause (not the store being down): the failed batch is then split
     * in halves and each flushed on its own, down to single items, so only the offending items fail and the
     * others get their normal results. A poison message must not fail the messages committed with it.
     */
    private readonly splitOnError: (err: unknown) => boolean = () => false,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when nothing is pending or being flushed (used by graceful shutdown). */
  drained(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get size(): number {
    return this.pending.length;
  }

  /**
   * A batch waits for the event loop's next turn (setImmediate), so that items arriving meanwhile (messages on
   * other connections) join it. With `startAtOnceWhenIdle`, when nothing is being flushed (a quiet hub, a serial
   * sender: one message in flight) the batch starts as soon as the current synchronous work has finished (a
   * microtask, so the frames of one socket read still go together) instead of a turn later; under load something
   * is nearly always being flushed, so batches still form.
   */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxConcurrent || this.pending.length === 0) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      this.launch();
    };
    if (this.startAtOnceWhenIdle && this.inFlight === 0) queueMicrotask(run);
    else setImmediate(run);
  }

  private launch(): void {
    while (this.pending.length > 0 && this.inFlight < this.maxConcurrent) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.inFlight++;
      // flushSplitting never rejects: it settles every item of its batch itself.
      void this.flushSplitting(batch).finally(() => {
        this.inFlight--;
        if (this.pending.length > 0) this.schedule();
        else if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  /** Flushes a batch and settles its items; on a data error (splitOnError) flushes each half on its own instead. */
  private async flushSplitting(batch: Pending<I, O>[]): Promise<void> {
    try {
      // Promise.resolve().then(...) turns a flush that throws synchronously into a rejection of its batch.
      const results = await Promise.resolve().then(() => this.flush(batch.map((p) => p.item)));
      batch.forEach((p, i) => p.resolve(results[i] as O));
    } catch (err: unknown) {
      if (batch.length > 1 && this.splitOnError(err)) {
        const half = Math.ceil(batch.length / 2);
        await this.flushSplitting(batch.slice(0, half));
        await this.flushSplitting(batch.slice(half));
      } else batch.forEach((p) => p.reject(err));
    }
  }
}
