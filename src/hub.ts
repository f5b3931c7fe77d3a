import http from 'node:http';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import type { EnvConfig } from './config/env.js';
import { ConfigError } from './domain/config-error.js';
import { feedMapper, inboxQueues, loadHubConfig, type HubConfig } from './config/hub-config.js';
import type { Database } from './ports/database.js';
import { Hl7v2Intake } from './intake/hl7v2-intake.js';
import type { ReplayDeps } from './intake/replay-message.js';
import { deliverNotifications, processMessages, byQueue } from './processing/process-messages.js';
import { coalesceJobs } from './batching/coalesce-jobs.js';
import { openStore } from '../adapters/store/open-store.js';
import { SqlMessageStore } from '../adapters/store/sql-message-store.js';
import { SqlNotificationStore } from '../adapters/store/sql-notification-store.js';
import { SqlAuditLog } from '../adapters/store/sql-audit-log.js';
import { BullmqQueues, deliveryQueues, startWorkers, type WorkerSet } from '../adapters/queue/bullmq-queues.js';
import { redisAddress, redisConnection } from '../adapters/queue/redis-connection.js';
import { MllpListener } from '../adapters/mllp/mllp-listener.js';
import express from 'express';
import { createHttpApp } from '../adapters/http/http-app.js';
import { healthRoutes } from '../adapters/http/routes/health.js';

export interface Hub {
  config: HubConfig;
  db: Database;
  queues: BullmqQueues;
  /** Bound ports (0 in the settings picks a free one: tests do). */
  httpPort?: number;
  mllpPort?: number;
  /** Graceful stop: stop accepting, finish in-flight messages, close workers, then pools. */
  stop(): Promise<void>;
}

export interface StartOptions {
  env: EnvConfig;
  logger: Logger;
  /** An already open, migrated store (tests); otherwise opened from the settings. */
  db?: Database;
}

async function connectRedis(url: string, purpose: 'worker' | 'producer'): Promise<Redis> {
  const redis = redisConnection(url, purpose);
  // ioredis reports a refused connection as "Connection is closed"; the socket error says why.
  let cause: string | undefined;
  redis.once('error', (err: NodeJS.ErrnoException) => (cause = err.code ?? err.message));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new ConfigError(
      `Redis at ${redisAddress(url)} cannot be reached (${cause ?? (err as NodeJS.ErrnoException).code ?? (err as Error).message}). ` +
        'Start one locally with `redis-server --daemonize yes --bind 127.0.0.1 --port 6379` or `docker run -p 6379:6379 redis:7`, or set REDIS_URL.',
    );
  }
  return redis;
}

/** Starts the roles this process runs (intake: HTTP and MLLP; worker: BullMQ workers) against one store and Redis. */
export async function startHub({ env, logger, db: givenDb }: StartOptions): Promise<Hub> {
  const config = loadHubConfig(env.configDir);
  const producer = await connectRedis(env.redisUrl, 'producer');
  let db: Database;
  try {
    db = givenDb ?? (await openStore({ dataDir: env.dataDir, logger, ...(env.databaseUrl ? { databaseUrl: env.databaseUrl } : {}) }));
  } catch (err) {
    producer.disconnect();
    throw err;
  }
  const messages = new SqlMessageStore(db);
  const notifications = new SqlNotificationStore(db);
  const audit = new SqlAuditLog(db);
  const queues = new BullmqQueues(producer, env.queuePrefix);
  const deliveries = deliveryQueues(queues);
  const mapper = feedMapper(config.mappings);
  const clock = () => new Date();

  let workers: WorkerSet | undefined;
  let workerConnection: Redis | undefined;
  if (env.roles.includes('worker')) {
    workerConnection = await connectRedis(env.redisUrl, 'worker');
    const processDeps = { store: notifications, deliveries, rulebook: config.rulebook, catchments: config.catchments, logger, clock };
    workers = startWorkers({
      connection: workerConnection,
      prefix: env.queuePrefix,
      concurrency: env.workerConcurrency,
      lockMs: env.jobLockMs,
      inboxQueues: inboxQueues(config.catchments),
      process: coalesceJobs((ids) => processMessages(processDeps, ids), {
        maxJobsPerBatch: env.workerConcurrency,
        maxConcurrentBatches: 1,
      }),
      deliver: deliverByQueue((queue, ids) => deliverNotifications(notifications, logger, queue, ids, clock), env.workerConcurrency),
      logger,
    });
    // Messages and deliveries left unfinished by a crash or a failed enqueue are queued again (jobs are idempotent).
    const pending = await messages.pendingIds(100_000);
    if (pending.length > 0) await queues.enqueue(pending);
    const undelivered = await notifications.undelivered();
    for (const [queue, ids] of byQueue(undelivered)) await deliveries.enqueue(queue, ids);
    if (pending.length + undelivered.length > 0)
      logger.info({ messages: pending.length, deliveries: undelivered.length }, 'recovered unfinished work at boot');
  }

  let intake: Hl7v2Intake | undefined;
  let mllp: MllpListener | undefined;
  let server: http.Server;
  let httpPort: number;
  let mllpPort: number | undefined;
  const readiness = [
    {
      name: 'store',
      check: async () => {
        await db.query('SELECT 1');
      },
    },
    {
      name: 'redis',
      check: async () => {
        await producer.ping();
      },
    },
  ];
  if (env.roles.includes('intake')) {
    intake = new Hl7v2Intake({ feeds: config.feeds, mapper, store: messages, queue: queues, logger, clock });
    const replay: ReplayDeps = { store: messages, queue: queues, feeds: config.feeds, mapper, clock };
    const app = createHttpApp({
      logger,
      apiClients: config.apiClients,
      readiness,
      maxMessageBytes: env.mllpMaxMessageBytes,
      intake,
      messages,
      notifications,
      audit,
      replay,
      feedIdsForFacility: (ods) => config.feeds.feeds.filter((f) => f.sendingFacility === ods).map((f) => f.id),
    });
    mllp = new MllpListener(
      intake,
      { host: env.host, port: env.mllpPort, maxMessageBytes: env.mllpMaxMessageBytes, idleTimeoutMs: env.mllpIdleTimeoutMs },
      logger,
    );
    mllpPort = await mllp.start();
    server = http.createServer(app);
    httpPort = await listen(server, env.httpPort, env.host);
    logger.info({ httpPort, mllpPort, feeds: config.feeds.feeds.length, centres: config.catchments.centres.size }, 'intake listening');
  } else {
    // A worker-only process serves /healthz and /readyz alone, for its orchestrator's probes.
    server = http.createServer(express().disable('x-powered-by').use(healthRoutes(readiness)));
    httpPort = await listen(server, env.httpPort, env.host);
    logger.info({ httpPort }, 'health endpoints listening');
  }
  logger.info({ roles: env.roles, store: db.kind }, 'stork started');

  let stopped = false;
  return {
    config,
    db,
    queues,
    httpPort,
    ...(mllpPort !== undefined ? { mllpPort } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await mllp?.close();
      await intake?.drained();
      await httpClosed;
      await workers?.close();
      await queues.close();
      await workerConnection?.quit().catch(() => undefined);
      await producer.quit().catch(() => undefined);
      if (!givenDb) await db.close();
      logger.info('stork stopped');
    },
  };
}

/** One coalescer per delivery queue: a queue's concurrent jobs become one batch; queues never wait for each other. */
function deliverByQueue(
  deliver: (queue: string, ids: readonly string[]) => Promise<void>,
  maxJobsPerBatch: number,
): (queue: string, ids: readonly string[]) => Promise<void> {
  const perQueue = new Map<string, (ids: readonly string[]) => Promise<void>>();
  return (queue, ids) => {
    let run = perQueue.get(queue);
    if (run === undefined) {
      run = coalesceJobs((batch) => deliver(queue, batch), { maxJobsPerBatch, maxConcurrentBatches: 1 });
      perQueue.set(queue, run);
    }
    return run(ids);
  };
}

/** Listens and returns the port actually bound (the configured one, or the one chosen for port 0). */
async function listen(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}
