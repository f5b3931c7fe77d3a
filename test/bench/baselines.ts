/** The baselines Stork's figures are divided by, each measured in the same run: bare BullMQ, and PostgreSQL's commit floor. */
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { dist, round } from './bench-stats.js';
import type { Deadline } from './load-generator-protocol.js';

// ---------------------------------------------------------------------------------------------------
// Baseline: bare BullMQ

export interface BaselineFigures {
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
}

/** N no-op jobs through one Queue and one Worker (concurrency 50), `add` with ~50 in flight: first add → last completed. */
export async function bareBullmq(redisUrl: string, prefix: string, jobs: number, deadline: Deadline): Promise<BaselineFigures> {
  const queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  queueConnection.on('error', () => undefined);
  workerConnection.on('error', () => undefined);
  const name = 'baseline';
  const queue = new Queue(name, { connection: queueConnection, prefix });
  let completed = 0;
  let lastCompleted = 0;
  let resolveDone: () => void = () => undefined;
  const allDone = new Promise<void>((r) => (resolveDone = r));
  const worker = new Worker(name, () => Promise.resolve(), { connection: workerConnection, prefix, concurrency: 50, autorun: false });
  worker.on('completed', () => {
    completed++;
    if (completed === jobs) {
      lastCompleted = performance.now();
      resolveDone();
    }
  });
  worker.on('error', () => undefined);
  try {
    await queue.waitUntilReady();
    await worker.waitUntilReady();
    void worker.run();
    const opts = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };
    const start = performance.now();
    let next = 0;
    const producer = async (): Promise<void> => {
      while (next < jobs) {
        const i = next++;
        await queue.add('job', { i }, opts);
      }
    };
    await Promise.all(Array.from({ length: Math.min(50, jobs) }, producer));
    const watchdog = setInterval(() => {
      if (Date.now() > deadline.at) resolveDone();
    }, 250);
    await allDone;
    clearInterval(watchdog);
    deadline.check(`waiting for the bare BullMQ worker (${completed} of ${jobs})`);
    const seconds = (lastCompleted - start) / 1000;
    return { jobs, seconds: round(seconds, 3), jobsPerSecond: round(jobs / seconds, 0) };
  } finally {
    await worker.close().catch(() => undefined);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close().catch(() => undefined);
    queueConnection.disconnect();
    workerConnection.disconnect();
  }
}

export interface CommitFloorFigures {
  commits: number;
  seconds: number;
  commitsPerSecond: number;
  /** One INSERT + COMMIT, send → reply. */
  commitMs: { p50: number; p99: number };
}

/**
 * The floor of any durable ACK: a bare loop over one connection, one message at a time, of a single-row INSERT of
 * the message's bytes, committed with synchronous_commit on (PostgreSQL returns only once the WAL is flushed).
 * Each statement runs on its own (autocommit), so it is one round trip and one commit, exactly what a serial
 * sender's ACK cannot go below. The table lives in the bench's own database and is dropped with it.
 */
export async function commitFloor(connectionString: string, messages: readonly Buffer[], deadline: Deadline): Promise<CommitFloorFigures> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query('SET synchronous_commit = on');
    await client.query('CREATE TABLE IF NOT EXISTS bench_commit_floor (id bigserial PRIMARY KEY, body bytea NOT NULL)');
    const latencies = new Float64Array(messages.length);
    const start = performance.now();
    for (let i = 0; i < messages.length; i++) {
      if (i % 100 === 0) deadline.check(`the PostgreSQL commit floor (${i} of ${messages.length})`);
      const t0 = performance.now();
      await client.query({ name: 'floor-insert', text: 'INSERT INTO bench_commit_floor (body) VALUES ($1)', values: [messages[i]] });
      latencies[i] = performance.now() - t0;
    }
    const seconds = (performance.now() - start) / 1000;
    const d = dist(latencies);
    return {
      commits: messages.length,
      seconds: round(seconds, 3),
      commitsPerSecond: round(messages.length / seconds, 0),
      commitMs: { p50: round(d.p50, 3), p99: round(d.p99, 3) },
    };
  } finally {
    await client.end();
  }
}
