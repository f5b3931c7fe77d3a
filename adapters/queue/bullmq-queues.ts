import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { queueKeyPrefix, type RedisClient } from './redis-connection.js';
import type { ProcessingJobs } from '../../src/ports/processing-jobs.js';
import type { DeliveryJobs } from '../../src/ports/delivery-jobs.js';
import type { QueueDepth } from '../../src/ports/queue-depths.js';
import type { Logger } from '../../src/logger.js';
import { describeError, isPermanent, PermanentError, TransientError } from '../../src/ports/errors.js';

/** Job data of the processing queue: message ids only, never personal data (Redis keeps it in clear text). */
export interface ProcessJobData {
  readonly messageIds: readonly string[];
}

/** Job data of a delivery queue: notification ids only. */
export interface DeliverJobData {
  readonly notificationIds: readonly string[];
}

export const PROCESS_QUEUE = 'process';
/**
 * Matches held for an operator (issue 12 item 3): one waiting job per pending review (job id = review id, data
 * the review id only), removed when the review is decided. No worker takes them: the `match_reviews` table is
 * the queue of record (durable, decided in one transaction with the merge); this queue makes the backlog visible
 * beside the others (its depth on the operators' console) and lets other tools subscribe to new reviews.
 */
export const MATCH_REVIEW_QUEUE = 'match-review';

/** Job data of the match-review queue: the review id only. */
export interface MatchReviewJobData {
  readonly reviewId: string;
}
/** One BullMQ delivery queue per inbox (a centre, an unallocated inbox, review): `deliver-<inboxId>`. */
export const deliveryQueueName = (inboxId: string): string => `deliver-${inboxId}`;

/** One BullMQ webhook queue per centre with a webhook (issue 15): `webhook-<centreId>`, so one receiver never delays another. */
export const webhookQueueName = (centreId: string): string => `webhook-${centreId}`;

/** Job data of a webhook queue: the delivery id only (the record is read from the store when sent). */
export interface WebhookJobData {
  readonly deliveryId: string;
}

/**
 * Webhook jobs retry until the handler settles them: it dead-letters a delivery once its next retry would pass the
 * horizon, so BullMQ's attempt count is only a backstop; the wait between tries is the worker's backoff strategy
 * (exponential with jitter, src/domain/webhook-signature.ts).
 */
export const WEBHOOK_JOB_OPTIONS: JobsOptions = {
  attempts: 100_000,
  backoff: { type: 'webhook' },
  removeOnComplete: { count: 1000 },
  removeOnFail: { age: 14 * 24 * 3600 },
};

/** Ids per job: a group commit's worth of messages is processed in one job and one transaction. */
export const MAX_IDS_PER_JOB = 200;

/**
 * Retries for transient failures (store or Redis briefly down): 12 attempts with exponential backoff from
 * 500 ms wait 0.5 + 1 + 2 + … + 1024 s ≈ 34 minutes in all before the job lands in the failed set (the
 * dead-letter queue). A permanent failure (src/ports/errors.ts) skips the retries and lands there at once.
 * Messages behind a failed job stay `queued` and are re-enqueued at the next boot (the recovery sweep
 * queues each stranded message once per worker, not every interval).
 */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { age: 14 * 24 * 3600 },
};

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A queue with no `error` listener has BullMQ print every connection error with console.error, outside the logs
 * (seen while Redis was away in test/integration/redis-restart.int.test.ts: one raw stderr line per reconnect).
 * The failure that matters reaches the caller of add/addBulk, which logs it; the connection's own errors are the
 * connection's business (adapters/queue/redis-connection.ts).
 */
function quiet(queue: { on(event: 'error', listener: (err: Error) => void): unknown }): void {
  queue.on('error', () => undefined);
}

/** Producer side of the processing and delivery queues. */
export class BullmqQueues implements ProcessingJobs {
  private readonly process: Queue<ProcessJobData>;
  private readonly delivery = new Map<string, Queue<DeliverJobData>>();
  private readonly reviews: Queue<MatchReviewJobData>;
  private readonly webhooks = new Map<string, Queue<WebhookJobData>>();

  /** `hashTagged`: on a Redis Cluster, each queue's keys carry a hash tag of their own (`queueKeyPrefix`). */
  constructor(
    private readonly connection: RedisClient,
    private readonly prefix: string,
    private readonly hashTagged = false,
    /** Centres with a webhook: their webhook queues are counted with the others (depths, dashboard). */
    private readonly webhookCentreIds: readonly string[] = [],
  ) {
    this.process = new Queue<ProcessJobData>(PROCESS_QUEUE, { connection, prefix: queueKeyPrefix(prefix, PROCESS_QUEUE, hashTagged) });
    this.reviews = new Queue<MatchReviewJobData>(MATCH_REVIEW_QUEUE, {
      connection,
      prefix: queueKeyPrefix(prefix, MATCH_REVIEW_QUEUE, hashTagged),
    });
    quiet(this.process);
    quiet(this.reviews);
  }

  /** One job per review held (idempotent: the job id is the review id). */
  async enqueueReviews(reviewIds: readonly string[]): Promise<void> {
    await this.reviews.addBulk(
      reviewIds.map((reviewId) => ({ name: 'review', data: { reviewId }, opts: { jobId: reviewId, removeOnComplete: true } })),
    );
  }

  /** A decided review's job leaves the queue. */
  async reviewDecided(reviewId: string): Promise<void> {
    await this.reviews.remove(reviewId);
  }

  /** The match-review queue, for tests to inspect. */
  get reviewQueue(): Queue<MatchReviewJobData> {
    return this.reviews;
  }

  async enqueue(messageIds: readonly string[]): Promise<void> {
    const jobs = chunks(messageIds, MAX_IDS_PER_JOB).map((ids) => ({ name: 'process', data: { messageIds: ids }, opts: JOB_OPTIONS }));
    if (jobs.length === 1 && jobs[0]) await this.process.add(jobs[0].name, jobs[0].data, jobs[0].opts);
    else await this.process.addBulk(jobs);
  }

  async backlog(): Promise<number> {
    const counts = await this.process.getJobCounts('waiting', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, n) => a + n, 0);
  }

  /** Jobs per state in the processing queue and in the delivery queue of each of these inboxes. */
  async depths(inboxIds: readonly string[]): Promise<QueueDepth[]> {
    const queues = this.all(inboxIds);
    return Promise.all(
      queues.map(async (q) => {
        const c = await q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
        return {
          queue: q.name,
          waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
          active: c.active ?? 0,
          delayed: c.delayed ?? 0,
          failed: c.failed ?? 0,
        };
      }),
    );
  }

  /** Every queue (processing, match review, each of these inboxes' delivery), for the administrators' dashboard. */
  all(inboxIds: readonly string[]): Queue[] {
    return [
      this.process,
      this.reviews,
      ...inboxIds.map((id) => this.deliveryQueue(id)),
      ...this.webhookCentreIds.map((id) => this.webhookQueue(id)),
    ];
  }

  /** A centre's webhook queue (made on first use). */
  webhookQueue(centreId: string): Queue<WebhookJobData> {
    let q = this.webhooks.get(centreId);
    if (!q) {
      const name = webhookQueueName(centreId);
      q = new Queue<WebhookJobData>(name, { connection: this.connection, prefix: queueKeyPrefix(this.prefix, name, this.hashTagged) });
      quiet(q);
      this.webhooks.set(centreId, q);
    }
    return q;
  }

  /** One job per delivery; the job id (delivery id and replay count) makes adding it twice a no-op. */
  async enqueueWebhooks(centreId: string, deliveries: readonly { id: string; replays: number }[]): Promise<void> {
    const q = this.webhookQueue(centreId);
    for (const batch of chunks(deliveries, MAX_IDS_PER_JOB))
      await q.addBulk(
        batch.map((d) => ({
          name: 'webhook',
          data: { deliveryId: d.id },
          opts: { ...WEBHOOK_JOB_OPTIONS, jobId: `${d.id}-r${d.replays}` },
        })),
      );
  }

  private deliveryQueue(inboxId: string): Queue<DeliverJobData> {
    let q = this.delivery.get(inboxId);
    if (!q) {
      const name = deliveryQueueName(inboxId);
      q = new Queue<DeliverJobData>(name, { connection: this.connection, prefix: queueKeyPrefix(this.prefix, name, this.hashTagged) });
      quiet(q);
      this.delivery.set(inboxId, q);
    }
    return q;
  }

  async enqueueDelivery(inboxId: string, notificationIds: readonly string[]): Promise<void> {
    const q = this.deliveryQueue(inboxId);
    for (const ids of chunks(notificationIds, MAX_IDS_PER_JOB)) await q.add('deliver', { notificationIds: ids }, JOB_OPTIONS);
  }

  /** The processing queue, for tests and the benchmark to inspect. */
  get processQueue(): Queue<ProcessJobData> {
    return this.process;
  }

  async close(): Promise<void> {
    await Promise.all([
      this.process.close(),
      this.reviews.close(),
      ...[...this.delivery.values()].map((q) => q.close()),
      ...[...this.webhooks.values()].map((q) => q.close()),
    ]);
  }
}

/** `DeliveryJobs` view of BullmqQueues (its method is named apart from the processing `enqueue`). */
export function deliveryJobs(queues: BullmqQueues): DeliveryJobs {
  return { enqueue: (inboxId, ids) => queues.enqueueDelivery(inboxId, ids) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The ids a job carries; job data of another shape (another version's, or hand-made) can never be processed. */
function jobIds(data: unknown, key: 'messageIds' | 'notificationIds'): string[] {
  const ids = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[key] : undefined;
  if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string' && UUID.test(id))) {
    throw new PermanentError(`job data has no valid ${key}`);
  }
  return ids;
}

/**
 * Runs a job's handler and rethrows its failure in the form BullMQ keeps in Redis (failedReason and
 * stacktrace, in clear text): the error's name and code with its stack frames, never a driver's message.
 * A permanent failure becomes UnrecoverableError, so BullMQ fails the job at once instead of retrying it.
 */
async function runJob(handler: () => Promise<void>): Promise<void> {
  try {
    await handler();
  } catch (err) {
    const safe = isPermanent(err) ? new UnrecoverableError(describeError(err)) : new TransientError(describeError(err));
    const frames = err instanceof Error ? (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)) : [];
    safe.stack = [`${safe.name}: ${safe.message}`, ...frames].join('\n');
    throw safe;
  }
}

export interface WorkerSet {
  close(): Promise<void>;
}

/**
 * Starts the processing worker and one delivery worker per inbox (on its delivery queue). `connection` is a worker-mode
 * ioredis connection; BullMQ duplicates it for each worker's blocking reads.
 */
export function startWorkers(options: {
  connection: RedisClient;
  prefix: string;
  /** On a Redis Cluster: hash-tagged key prefixes (`queueKeyPrefix`), as the queues of BullmqQueues have. */
  hashTagged?: boolean;
  concurrency: number;
  /** Lock duration and stalled-job check interval: a job held by a dead worker is retried after about this long. */
  lockMs: number;
  inboxIds: readonly string[];
  process: (messageIds: readonly string[]) => Promise<void>;
  deliver: (inboxId: string, notificationIds: readonly string[]) => Promise<void>;
  logger: Logger;
}): WorkerSet {
  const { connection } = options;
  const prefix = (queue: string): string => queueKeyPrefix(options.prefix, queue, options.hashTagged ?? false);
  const common = { connection, lockDuration: options.lockMs, stalledInterval: options.lockMs };
  const workers: Worker[] = [
    new Worker<ProcessJobData>(PROCESS_QUEUE, (job: Job<ProcessJobData>) => runJob(() => options.process(jobIds(job.data, 'messageIds'))), {
      ...common,
      prefix: prefix(PROCESS_QUEUE),
      concurrency: options.concurrency,
    }),
    ...options.inboxIds.map(
      (inboxId) =>
        new Worker<DeliverJobData>(
          deliveryQueueName(inboxId),
          (job: Job<DeliverJobData>) => runJob(() => options.deliver(inboxId, jobIds(job.data, 'notificationIds'))),
          {
            ...common,
            prefix: prefix(deliveryQueueName(inboxId)),
            concurrency: options.concurrency,
          },
        ),
    ),
  ];
  for (const w of workers) {
    w.on('error', (err) => options.logger.error({ queue: w.name, err }, 'worker error'));
    w.on('failed', (job, err) => {
      const attempts = job?.opts.attempts ?? 1;
      const final = err instanceof UnrecoverableError || (job?.attemptsMade ?? 0) >= attempts;
      const fields = { queue: w.name, jobId: job?.id, attempt: job?.attemptsMade, err };
      if (final) options.logger.error(fields, 'job failed for good; kept in the failed set for an operator');
      else options.logger.warn(fields, 'job failed; BullMQ retries it with backoff');
    });
  }
  return {
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/**
 * One webhook worker per centre with a webhook, on its own queue, each with its own concurrency: a receiver that
 * hangs holds only its centre's slots (until the request timeout), never another centre's. A failed try is retried
 * after the backoff strategy's wait (exponential with jitter).
 */
export function startWebhookWorkers(options: {
  connection: RedisClient;
  prefix: string;
  centreIds: readonly string[];
  concurrency: number;
  lockMs: number;
  /** The wait before retry `attemptsMade` (1 = the first retry). */
  backoff: (attemptsMade: number) => number;
  send: (deliveryId: string) => Promise<void>;
  logger: Logger;
  /** On a Redis Cluster: hash-tagged key prefixes (`queueKeyPrefix`), as the queues of BullmqQueues have. */
  hashTagged?: boolean;
}): WorkerSet {
  const workers = options.centreIds.map(
    (centreId) =>
      new Worker<WebhookJobData>(
        webhookQueueName(centreId),
        (job: Job<WebhookJobData>) =>
          runJob(() => {
            const data: unknown = job.data;
            const id = typeof data === 'object' && data !== null ? (data as Record<string, unknown>).deliveryId : undefined;
            if (typeof id !== 'string' || !UUID.test(id)) throw new PermanentError('job data has no valid deliveryId');
            return options.send(id);
          }),
        {
          connection: options.connection,
          prefix: queueKeyPrefix(options.prefix, webhookQueueName(centreId), options.hashTagged ?? false),
          concurrency: options.concurrency,
          lockDuration: options.lockMs,
          stalledInterval: options.lockMs,
          settings: { backoffStrategy: (attemptsMade: number) => options.backoff(attemptsMade) },
        },
      ),
  );
  for (const w of workers) {
    w.on('error', (err) => options.logger.error({ queue: w.name, err }, 'worker error'));
    w.on('failed', (job, err) => {
      if (err instanceof UnrecoverableError) options.logger.error({ queue: w.name, jobId: job?.id, err }, 'webhook job failed for good');
    });
  }
  return {
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/**
 * Retention (issue 14 item 6): one repeatable job, `purge`, on the `retention` queue, from a job scheduler of a fixed
 * id, so however many hubs start (each upserts the same scheduler) BullMQ makes one job per scheduled time and one
 * worker takes it. Its data is empty: the run reads its settings from the hub's configuration. A run that meets
 * another in progress (a second hub, an operator's `npm run retention:run`) is skipped by the store's lease.
 */
export const RETENTION_QUEUE = 'retention';
export const RETENTION_SCHEDULER_ID = 'retention-daily';

export interface RetentionJob {
  /** The retention queue (tests add a `purge` job to run it at once, and read the scheduler). */
  readonly queue: Queue;
  close(): Promise<void>;
}

/** Schedules the daily purge (cron `pattern` in `timeZone`) and starts its worker, one job at a time. */
export async function startRetentionJob(options: {
  producer: RedisClient;
  connection: RedisClient;
  prefix: string;
  /** On a Redis Cluster: a hash-tagged key prefix (`queueKeyPrefix`). */
  hashTagged?: boolean;
  pattern: string;
  timeZone: string;
  lockMs: number;
  run: () => Promise<void>;
  logger: Logger;
}): Promise<RetentionJob> {
  const { producer, connection } = options;
  const prefix = queueKeyPrefix(options.prefix, RETENTION_QUEUE, options.hashTagged ?? false);
  const queue = new Queue(RETENTION_QUEUE, { connection: producer, prefix });
  await queue.upsertJobScheduler(
    RETENTION_SCHEDULER_ID,
    { pattern: options.pattern, tz: options.timeZone },
    {
      name: 'purge',
      data: {},
      opts: {
        attempts: 3,
        backoff: { type: 'exponential', delay: 60_000 },
        removeOnComplete: { count: 100 },
        removeOnFail: { age: 14 * 24 * 3600 },
      },
    },
  );
  const worker = new Worker(RETENTION_QUEUE, () => runJob(options.run), {
    connection,
    prefix,
    concurrency: 1,
    lockDuration: options.lockMs,
    stalledInterval: options.lockMs,
  });
  worker.on('error', (err) => options.logger.error({ queue: RETENTION_QUEUE, err }, 'worker error'));
  worker.on('failed', (job, err) => options.logger.error({ queue: RETENTION_QUEUE, jobId: job?.id, err }, 'retention run failed'));
  return {
    queue,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
