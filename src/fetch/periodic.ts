/**
 * Runs `tick` again and again: `intervalMs` after the previous run ended, or sooner when nudged. stop() waits for
 * the run in progress, so a graceful shutdown never cuts a fetch between storing a record and moving its cursor.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private again = false;

  constructor(
    private readonly intervalMs: number,
    private readonly tick: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Run as soon as possible (after the run in progress, if any). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = this.tick().catch(this.onError);
    await this.running;
    this.running = undefined;
    const soon = this.again;
    this.again = false;
    this.schedule(soon ? 0 : this.intervalMs);
  }
}
