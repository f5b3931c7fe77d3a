import type { Logger } from '../logger.js';
import type { ProcessingJobs } from '../ports/processing-jobs.js';
import type { MessageStore } from '../ports/message-store.js';
import type { DeliveryJobs } from '../ports/delivery-jobs.js';
import type { NotificationStore } from '../ports/notification-store.js';
import { byInbox } from './process-messages.js';

export interface RequeueStrandedDeps {
  store: MessageStore;
  processingJobs: ProcessingJobs;
  /**
   * With these, deliveries too: a notification committed as routed whose delivery job never reached Redis (or
   * was lost with it) is handed to its inbox's delivery job again.
   */
  notifications?: Pick<NotificationStore, 'undeliveredCreated'>;
  deliveryJobs?: DeliveryJobs;
  logger: Logger;
  clock?: () => Date;
}

/** Messages queued again per sweep at most; when there are more, the same range is swept again next time. */
const SWEEP_LIMIT = 100_000;

/**
 * The recovery sweep. Intake commits a message as `queued` before its ACK and adds its processing job after it,
 * so a job can fail to reach Redis (Redis down, the process killed between the two). Every `intervalMs` a worker
 * queues again the messages still `queued` that were received more than `intervalMs` ago, so they are processed
 * without waiting for a restart.
 *
 * - Each message is swept at most once by a worker: a sweep covers the messages received since the previous
 *   sweep's cut-off (from `intervalMs` before this worker started: older ones are its boot recovery's). So a
 *   message whose processing keeps failing (it waits in BullMQ's failed set) is not queued again every interval.
 * - Safe with many workers: one process sweeps at a time (an advisory lock; the others hold back and cover the
 *   range later), and processing is idempotent, so a message queued twice still makes one notification.
 * - While the processing queue has a backlog (waiting or delayed jobs) the sweep holds back: a message still
 *   waiting behind it is not stranded, and queueing it again would only add work when there is most of it. The
 *   range is kept, and swept once the backlog has drained.
 * - The same for deliveries: notifications still `routed` that were created in the sweep's range are handed to
 *   their inboxes' delivery jobs again (delivering is idempotent: only a routed notification moves). Found by
 *   killing Redis during a stream (test/integration/redis-restart.int.test.ts): a delivery job added after the
 *   processing commit was lost with Redis, and only a restart's boot recovery would have delivered it.
 */
export class RequeueStranded {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly clock: () => Date;
  private from: Date;

  constructor(
    private readonly deps: RequeueStrandedDeps,
    private readonly intervalMs: number,
  ) {
    this.clock = deps.clock ?? (() => new Date());
    this.from = new Date(this.clock().getTime() - intervalMs);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweepOnce()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'recovery sweep failed; the next one retries'))
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One sweep: how many messages were queued again; undefined when it held back (a backlog, or another process sweeping). */
  async sweepOnce(): Promise<number | undefined> {
    if (this.deps.processingJobs.backlog && (await this.deps.processingJobs.backlog()) > 0) return undefined;
    const cutoff = new Date(this.clock().getTime() - this.intervalMs);
    if (cutoff <= this.from) return 0;
    const count = await this.deps.store.withStrandedIds(this.from, cutoff, SWEEP_LIMIT, (ids) => this.deps.processingJobs.enqueue(ids));
    if (count === undefined) return undefined;
    // After the messages' transaction (PGlite has one connection: no query beside an open transaction). Only the
    // process that held the sweep lock gets here; queueing a delivery twice does no harm either way.
    let deliveries = 0;
    const { notifications, deliveryJobs } = this.deps;
    if (notifications && deliveryJobs) {
      const pending = await notifications.undeliveredCreated(this.from, cutoff, SWEEP_LIMIT);
      for (const [inboxId, ids] of byInbox(pending)) await deliveryJobs.enqueue(inboxId, ids);
      deliveries = pending.length;
    }
    if (count < SWEEP_LIMIT && deliveries < SWEEP_LIMIT) this.from = cutoff;
    if (count > 0) this.deps.logger.warn({ messages: count }, 'recovery sweep: stranded messages queued again');
    if (deliveries > 0) this.deps.logger.warn({ deliveries }, 'recovery sweep: stranded deliveries queued again');
    return count;
  }
}
