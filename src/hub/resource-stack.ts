/**
 * What start-up has opened so far (connections, pools, listeners, workers), closed in the reverse order
 * of opening: on a graceful stop, and when start-up fails part-way, so a failed start leaves nothing open.
 */
export class ResourceStack {
  private readonly closers: { name: string; close: () => Promise<void> }[] = [];

  /** Registers how to close something just opened. */
  add(name: string, close: () => Promise<void>): void {
    this.closers.push({ name, close });
  }

  /**
   * Closes everything, newest first. Every closer runs even if an earlier one fails; the first failure is
   * thrown at the end, with the name of what could not be closed.
   */
  async closeAll(): Promise<void> {
    let first: Error | undefined;
    for (let c = this.closers.pop(); c !== undefined; c = this.closers.pop()) {
      try {
        await c.close();
      } catch (err) {
        first ??= new Error(`closing ${c.name} failed`, { cause: err });
      }
    }
    if (first !== undefined) throw first;
  }

  /** Runs `open`; if it throws, closes what was opened so far (its own failures ignored) and rethrows. */
  async orCloseAll<T>(open: () => Promise<T>): Promise<T> {
    try {
      return await open();
    } catch (err) {
      await this.closeAll().catch(() => undefined);
      throw err;
    }
  }
}
