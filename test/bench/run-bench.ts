/**
 * Stork benchmark: the whole hub in this process (MLLP intake, group commit to PostgreSQL, BullMQ
 * processing and delivery workers) against a fresh PostgreSQL database and a private Redis key prefix.
 *
 *   npm run bench                      # 20,000 messages over 8 connections, latency phase at 1,000/s
 *   npm run bench -- --short           # CI: 500 messages over 4 connections
 *   npm run bench -- --messages 5000 --connections 4 --rate 500
 *
 * Phases: (1) throughput: N pre-generated ITK ADT^A28 newborns sent as fast as the hub ACKs them, timed
 * until the last one is in a centre inbox; (2) latency: messages offered at a fixed rate, ACK latency
 * reported; (3) baseline: a bare BullMQ add-and-process loop of N jobs on the same Redis, for the ratio.
 *
 * It reports; it asserts no wall-clock target. It exits 1 only if a message is lost, an ACK is not
 * positive (CA/AA), or the run passes its deadline. Results also go to `.stork-bench/last-run.json`.
 * Plain Node (no jest types): compiled by tsconfig.build.json to dist/test/bench/run-bench.js.
 *
 * Environment: STORK_BENCH_PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL
 * (default redis://127.0.0.1:6379). STORK_BENCH_MESSAGES / _CONNECTIONS / _RATE are read as defaults for the flags.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadEnvConfig, repoRoot } from '../../src/config/env.js';
import { createLogger } from '../../src/logger.js';
import { startHub, type Hub } from '../../src/hub.js';
import type { Database } from '../../src/ports/database.js';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { openPostgres } from '../../adapters/store/postgres-database.js';
import { migrate } from '../../adapters/store/migrate.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';

// ---------------------------------------------------------------------------------------------------
// Settings

interface Settings {
  messages: number;
  connections: number;
  rate: number;
  short: boolean;
  inFlightPerConnection: number;
  latencySeconds: number;
  deadlineMs: number;
  adminUrl: string;
  redisUrl: string;
  /** Worker processes started beside the in-process intake (STORK_ROLES=worker); 0 = one process for all. */
  workerProcesses: number;
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`${name} must be a positive integer (got ${JSON.stringify(value)})`);
  return Number(value);
}

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', short: 'n' },
      connections: { type: 'string', short: 'c' },
      rate: { type: 'string', short: 'r' },
      short: { type: 'boolean', default: false },
      'worker-processes': { type: 'string', short: 'w' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('usage: npm run bench -- [--messages N] [--connections C] [--rate R] [--worker-processes W] [--short]\n');
    process.exit(0);
  }
  const env = process.env;
  const short = values.short === true;
  const messages = positiveInt(values.messages, '--messages') ?? positiveInt(env['STORK_BENCH_MESSAGES'], 'STORK_BENCH_MESSAGES') ?? (short ? 500 : 20_000);
  const connections = positiveInt(values.connections, '--connections') ?? positiveInt(env['STORK_BENCH_CONNECTIONS'], 'STORK_BENCH_CONNECTIONS') ?? (short ? 4 : 8);
  const rate = positiveInt(values.rate, '--rate') ?? positiveInt(env['STORK_BENCH_RATE'], 'STORK_BENCH_RATE') ?? 1000;
  return {
    messages,
    connections,
    rate,
    short,
    inFlightPerConnection: 256,
    latencySeconds: Math.min(5, messages / rate),
    deadlineMs: 10 * 60_000,
    adminUrl: env['STORK_BENCH_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    workerProcesses: values['worker-processes'] === '0' ? 0 : (positiveInt(values['worker-processes'], '--worker-processes') ?? 1),
  };
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

/** Starts `node dist/src/main.js` with STORK_ROLES=worker and waits until it says it has started. */
async function startWorkerProcess(extraEnv: Record<string, string>, deadline: Deadline): Promise<{ stop(): Promise<void> }> {
  const main = path.join(repoRoot, 'dist', 'src', 'main.js');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STORK_') && k !== 'DATABASE_URL') env[k] = v;
  const child = spawn(process.execPath, [main], { env: { ...env, ...extraEnv, STORK_ROLES: 'worker', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let started = false;
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.stdout.on('data', (d: Buffer) => {
    if (d.toString('utf8').includes('"msg":"stork started"')) started = true;
  });
  while (!started) {
    if (exited !== null) throw new Error(`worker process exited with code ${String(exited)} before starting`);
    deadline.check('starting a worker process');
    await sleep(20);
  }
  child.stdout.resume();
  return {
    async stop() {
      if (exited !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class DeadlineError extends Error {}

/** The run's one deadline: every wait checks it, so a stuck pipeline fails the run instead of hanging. */
class Deadline {
  readonly at: number;
  constructor(ms: number) {
    this.at = Date.now() + ms;
  }
  check(what: string): void {
    if (Date.now() > this.at) throw new DeadlineError(`deadline passed while ${what}`);
  }
}

/** Nearest-rank percentile of an ascending-sorted array. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

interface Dist {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function dist(samples: Float64Array): Dist {
  const s = Float64Array.from(samples).sort();
  return { count: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.length ? (s[s.length - 1] as number) : Number.NaN };
}

const round = (n: number, d = 2): number => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : n);
const mb = (bytes: number): number => round(bytes / (1024 * 1024), 1);

/** Peak resident set size, sampled every 50 ms; a phase can read (and reset) its own peak. */
class RssSampler {
  peak = process.memoryUsage().rss;
  phasePeak = this.peak;
  private readonly timer: NodeJS.Timeout;
  constructor() {
    this.timer = setInterval(() => this.sample(), 50);
    this.timer.unref();
  }
  sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
    if (rss > this.phasePeak) this.phasePeak = rss;
  }
  resetPhase(): void {
    this.phasePeak = process.memoryUsage().rss;
  }
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

/** MSA-1 of an ACK (AA, CA, AE, …), '' when there is none. */
function ackCode(ack: string): string {
  const fs = ack.charAt(3) || '|';
  const segment = ack.split(/\r\n|\r|\n/).find((s) => s.startsWith(`MSA${fs}`));
  return segment?.split(fs)[1] ?? '';
}

const POSITIVE_ACKS = new Set(['CA', 'AA']);

// ---------------------------------------------------------------------------------------------------
// Messages

// Each is covered by a centre of the sample catchments (postcode, sector and district matches), so every birth ends in a centre inbox.
const POSTCODES = ['LS9 7AB', 'LS9 7TF', 'LS9 8AA', 'LS8 3DR', 'LS9 6AA'] as const;

/**
 * Pre-generates `count` distinct newborns. The baby's NHS number is the birth's identity (a second message
 * with the same number is the same birth and creates no second inbox item), so seeds whose synthetic NHS
 * number was already used are skipped: every message must end as one inbox item.
 */
function generateMessages(count: number, controlIdPrefix: string, usedNhs: Set<string>, nextSeed: { value: number }): Buffer[] {
  const out: Buffer[] = [];
  const now = new Date();
  while (out.length < count) {
    const seed = nextSeed.value++;
    const n = describeNewborn({
      seed,
      messageTime: now,
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      controlId: `${controlIdPrefix}${out.length}`,
      postcodes: POSTCODES,
    });
    if (usedNhs.has(n.baby.nhsNumber)) continue;
    usedNhs.add(n.baby.nhsNumber);
    out.push(Buffer.from(n.text, 'utf8'));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Sending

interface SendStats {
  latenciesMs: Float64Array;
  codes: Map<string, number>;
  errors: Map<string, number>;
  firstSendEpochMs: number;
  lastAckEpochMs: number;
}

function tally(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Sends every message as fast as the hub takes them: C pipelined connections, at most `cap` unacknowledged on each. */
async function sendAllAsFastAsPossible(clients: MllpClient[], messages: Buffer[], cap: number, deadline: Deadline): Promise<SendStats> {
  const latencies = new Float64Array(messages.length);
  const codes = new Map<string, number>();
  const errors = new Map<string, number>();
  let next = 0;
  let settled = 0;
  const firstSendEpochMs = Date.now();
  await new Promise<void>((resolve, reject) => {
    const watchdog = setInterval(() => {
      try {
        deadline.check('sending the throughput phase');
      } catch (err) {
        clearInterval(watchdog);
        reject(err);
      }
    }, 250);
    const pump = (client: MllpClient): void => {
      while (client.inFlight < cap && next < messages.length) {
        const i = next++;
        const t0 = performance.now();
        client.send(messages[i] as Buffer).then(
          (ack) => {
            latencies[i] = performance.now() - t0;
            tally(codes, ackCode(ack) || '(none)');
            done(client);
          },
          (err: unknown) => {
            latencies[i] = performance.now() - t0;
            tally(errors, (err as { code?: string }).code ?? (err as Error).message);
            done(client);
          },
        );
      }
    };
    const done = (client: MllpClient): void => {
      settled++;
      if (settled === messages.length) {
        clearInterval(watchdog);
        resolve();
      } else pump(client);
    };
    if (messages.length === 0) {
      clearInterval(watchdog);
      resolve();
      return;
    }
    for (const c of clients) pump(c);
  });
  return { latenciesMs: latencies, codes, errors, firstSendEpochMs, lastAckEpochMs: Date.now() };
}

/**
 * Offers messages at a fixed rate: a 1 ms timer sends every message due by now (catching up if a tick was
 * late), round robin over the connections, so latency is measured at the offered load and not at saturation.
 */
async function sendAtRate(clients: MllpClient[], messages: Buffer[], rate: number, deadline: Deadline): Promise<SendStats & { achievedRate: number; maxLagMs: number }> {
  const latencies = new Float64Array(messages.length);
  const codes = new Map<string, number>();
  const errors = new Map<string, number>();
  let sent = 0;
  let settled = 0;
  let maxLagMs = 0;
  const firstSendEpochMs = Date.now();
  const start = performance.now();
  let lastSendAt = start;
  await new Promise<void>((resolve, reject) => {
    if (messages.length === 0) return resolve();
    const tick = (): void => {
      try {
        deadline.check('sending the latency phase');
      } catch (err) {
        reject(err);
        return;
      }
      const now = performance.now();
      const due = Math.min(messages.length, Math.floor(((now - start) * rate) / 1000) + 1);
      if (due > sent) maxLagMs = Math.max(maxLagMs, now - (start + ((sent) * 1000) / rate));
      while (sent < due) {
        const i = sent++;
        const client = clients[i % clients.length] as MllpClient;
        const t0 = performance.now();
        client.send(messages[i] as Buffer).then(
          (ack) => {
            latencies[i] = performance.now() - t0;
            tally(codes, ackCode(ack) || '(none)');
            if (++settled === messages.length) resolve();
          },
          (err: unknown) => {
            latencies[i] = performance.now() - t0;
            tally(errors, (err as { code?: string }).code ?? (err as Error).message);
            if (++settled === messages.length) resolve();
          },
        );
      }
      lastSendAt = now;
      if (sent < messages.length) setTimeout(tick, 1);
    };
    tick();
  });
  const elapsed = (lastSendAt - start) / 1000;
  return { latenciesMs: latencies, codes, errors, firstSendEpochMs, lastAckEpochMs: Date.now(), achievedRate: elapsed > 0 ? (messages.length - 1) / elapsed : Number.NaN, maxLagMs };
}

// ---------------------------------------------------------------------------------------------------
// Database and Redis

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Polls (every 50 ms, no fixed sleeps) until `count` inbox items exist for messages whose control id starts with `prefix`. */
async function waitForInbox(db: Database, prefix: string, count: number, deadline: Deadline): Promise<{ epochMs: number; polls: number }> {
  let polls = 0;
  for (;;) {
    polls++;
    const r = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM inbox_items i JOIN notifications n ON n.id = i.notification_id JOIN messages m ON m.id = n.message_id
        WHERE m.control_id LIKE $1`,
      [`${prefix}%`],
    );
    const n = Number(r.rows[0]?.n ?? 0);
    if (n >= count) return { epochMs: Date.now(), polls };
    // Fail fast when something will never reach an inbox (rejected, withheld, a duplicate birth).
    const stuck = await db.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM messages WHERE control_id LIKE $1 AND status NOT IN ('queued', 'processed') GROUP BY status`,
      [`${prefix}%`],
    );
    if (stuck.rows.length > 0) {
      throw new Error(`messages that will never reach an inbox: ${stuck.rows.map((s) => `${s.status}=${s.n}`).join(', ')}`);
    }
    deadline.check(`waiting for inbox items (${n} of ${count})`);
    await sleep(50);
  }
}

interface PipelineFigures {
  inboxItems: number;
  byQueue: Record<string, number>;
  e2eMs: Dist;
  firstReceivedEpochMs: number;
  lastDeliveredEpochMs: number;
}

/** End-to-end latency (messages.received_at → inbox_items.delivered_at), computed in SQL. */
async function pipelineFigures(db: Database, prefix: string): Promise<PipelineFigures> {
  const base = `FROM inbox_items i JOIN notifications n ON n.id = i.notification_id JOIN messages m ON m.id = n.message_id WHERE m.control_id LIKE $1`;
  const r = await db.query<{ n: string; p50: number; p90: number; p99: number; max: number; first_received: number; last_delivered: number }>(
    `SELECT count(*) AS n,
            percentile_cont(0.50) WITHIN GROUP (ORDER BY ms) AS p50,
            percentile_cont(0.90) WITHIN GROUP (ORDER BY ms) AS p90,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
            max(ms) AS max,
            (extract(epoch FROM min(received_at)) * 1000)::float8 AS first_received,
            (extract(epoch FROM max(delivered_at)) * 1000)::float8 AS last_delivered
       FROM (SELECT (extract(epoch FROM (i.delivered_at - m.received_at)) * 1000)::float8 AS ms, m.received_at, i.delivered_at ${base}) t`,
    [`${prefix}%`],
  );
  const q = await db.query<{ queue: string; n: string }>(`SELECT i.queue, count(*) AS n ${base} GROUP BY i.queue ORDER BY i.queue`, [`${prefix}%`]);
  const row = r.rows[0];
  return {
    inboxItems: Number(row?.n ?? 0),
    byQueue: Object.fromEntries(q.rows.map((x) => [x.queue, Number(x.n)])),
    e2eMs: { count: Number(row?.n ?? 0), p50: Number(row?.p50), p90: Number(row?.p90), p99: Number(row?.p99), max: Number(row?.max) },
    firstReceivedEpochMs: Number(row?.first_received),
    lastDeliveredEpochMs: Number(row?.last_delivered),
  };
}

/** Deletes every Redis key under `prefix:` (SCAN, never KEYS). */
async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

// ---------------------------------------------------------------------------------------------------
// Baseline: bare BullMQ

interface BaselineFigures {
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
}

/** N no-op jobs through one Queue and one Worker (concurrency 50), `add` with ~50 in flight: first add → last completed. */
async function bareBullmq(redisUrl: string, prefix: string, jobs: number, deadline: Deadline): Promise<BaselineFigures> {
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
  const worker = new Worker(name, async () => undefined, { connection: workerConnection, prefix, concurrency: 50, autorun: false });
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

// ---------------------------------------------------------------------------------------------------
// Main

interface CleanupStep {
  name: string;
  run: () => Promise<unknown>;
}

async function main(): Promise<number> {
  const settings = readSettings();
  const deadline = new Deadline(settings.deadlineMs);
  const tag = randomBytes(4).toString('hex');
  const dbName = `stork_bench_${tag}`;
  const prefix = `stork-bench-${tag}`;
  const baselinePrefix = `stork-bench-bare-${tag}`;
  const cleanup: CleanupStep[] = [];
  const failures: string[] = [];
  const rss = new RssSampler();
  const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);
  let exitCode = 0;
  // Client, hub and its PostgreSQL and Redis share the machine: a busy machine shows in the figures, so say how busy it was.
  const loadAtStart = os.loadavg();

  log(`${settings.messages} messages, ${settings.connections} connections, latency phase ${settings.rate}/s for ${round(settings.latencySeconds, 2)} s; database ${dbName}, Redis prefix ${prefix}`);
  try {
    // --- Set-up: own database, migrated; hub in-process on free ports.
    await adminQuery(settings.adminUrl, `CREATE DATABASE ${dbName}`);
    cleanup.unshift({ name: `drop database ${dbName}`, run: () => adminQuery(settings.adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`) });
    cleanup.unshift({ name: `delete Redis keys ${prefix}:*`, run: () => deleteRedisKeys(settings.redisUrl, prefix) });
    const dbUrlObject = new URL(settings.adminUrl);
    dbUrlObject.pathname = `/${dbName}`;
    const dbUrl = dbUrlObject.toString();
    const db = await openPostgres({ connectionString: dbUrl });
    cleanup.unshift({ name: 'close bench pool', run: () => db.close() });
    await migrate(db);

    const env = loadEnvConfig({
      STORK_HTTP_PORT: '0',
      STORK_MLLP_PORT: '0',
      STORK_HOST: '127.0.0.1',
      REDIS_URL: settings.redisUrl,
      STORK_CONFIG_DIR: repoRoot,
      STORK_QUEUE_PREFIX: prefix,
      STORK_ROLES: settings.workerProcesses > 0 ? 'intake' : 'intake,worker',
      LOG_LEVEL: 'warn',
    });
    const logger = createLogger('warn', process.stderr);
    // The deployment the README describes: intake here, workers in their own processes (the second core).
    for (let i = 0; i < settings.workerProcesses; i++) {
      const worker = await startWorkerProcess({ DATABASE_URL: dbUrl, REDIS_URL: settings.redisUrl, STORK_QUEUE_PREFIX: prefix, STORK_CONFIG_DIR: repoRoot }, deadline);
      cleanup.unshift({ name: `stop worker process ${i + 1}`, run: () => worker.stop() });
    }
    const hub: Hub = await startHub({ env, logger, db });
    cleanup.unshift({ name: 'stop hub', run: () => hub.stop() });
    const port = hub.mllpPort;
    if (port === undefined) throw new Error('the hub did not start an MLLP listener');

    // --- Messages (not timed).
    const usedNhs = new Set<string>();
    const seed = { value: 1 + (randomBytes(4).readUInt32BE(0) % 1_000_000_000) };
    const tPrefix = `T${tag}-`;
    const lPrefix = `L${tag}-`;
    const latencyCount = Math.max(1, Math.round(settings.rate * settings.latencySeconds));
    const genStart = performance.now();
    const throughputMessages = generateMessages(settings.messages, tPrefix, usedNhs, seed);
    const latencyMessages = generateMessages(latencyCount, lPrefix, usedNhs, seed);
    log(`generated ${throughputMessages.length + latencyMessages.length} messages in ${round(performance.now() - genStart, 0)} ms`);

    const clients = await Promise.all(Array.from({ length: settings.connections }, () => MllpClient.connect({ host: '127.0.0.1', port, timeoutMs: 60_000 })));
    cleanup.unshift({ name: 'close MLLP clients', run: () => Promise.all(clients.map((c) => c.destroy())) });

    // --- Phase 1: throughput.
    log('throughput phase…');
    rss.resetPhase();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const sent = await sendAllAsFastAsPossible(clients, throughputMessages, settings.inFlightPerConnection, deadline);
    const ackSeconds = (performance.now() - t0) / 1000;
    const inbox = await waitForInbox(db, tPrefix, settings.messages, deadline);
    const cpu = process.cpuUsage(cpu0);
    const throughputPeakRss = rss.phasePeak;
    const figures = await pipelineFigures(db, tPrefix);
    const lastDelivered = Math.max(figures.lastDeliveredEpochMs, 0);
    const wallSeconds = (lastDelivered - sent.firstSendEpochMs) / 1000;
    const throughputAck = dist(sent.latenciesMs);
    const storkRate = settings.messages / wallSeconds;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    log(`throughput: ${round(storkRate, 0)} messages/s end to end (all ACKed after ${round(ackSeconds, 2)} s)`);

    // --- Phase 2: latency at a fixed offered rate.
    log(`latency phase at ${settings.rate}/s…`);
    const paced = await sendAtRate(clients, latencyMessages, settings.rate, deadline);
    await waitForInbox(db, lPrefix, latencyMessages.length, deadline);
    const latencyFigures = await pipelineFigures(db, lPrefix);
    const latencyAck = dist(paced.latenciesMs);

    // Hub down before the baseline, so the baseline has the machine to itself.
    const stopHub = cleanup.find((c) => c.name === 'stop hub');
    await Promise.all(clients.map((c) => c.close()));
    await hub.stop();
    if (stopHub) cleanup.splice(cleanup.indexOf(stopHub), 1);

    // --- Phase 3: bare BullMQ baseline, same Redis.
    log('bare BullMQ baseline…');
    cleanup.unshift({ name: `delete Redis keys ${baselinePrefix}:*`, run: () => deleteRedisKeys(settings.redisUrl, baselinePrefix) });
    const baseline = await bareBullmq(settings.redisUrl, baselinePrefix, settings.messages, deadline);
    const ratio = storkRate / baseline.jobsPerSecond;

    // --- Verdict: only correctness fails the run.
    for (const [label, s] of [['throughput', sent], ['latency', paced]] as const) {
      const bad = [...s.codes].filter(([code]) => !POSITIVE_ACKS.has(code));
      if (bad.length > 0) failures.push(`${label} phase: ACKs not positive: ${bad.map(([c, n]) => `${c}=${n}`).join(', ')}`);
      if (s.errors.size > 0) failures.push(`${label} phase: sends failed: ${[...s.errors].map(([c, n]) => `${c}=${n}`).join(', ')}`);
    }
    if (figures.inboxItems !== settings.messages) failures.push(`throughput phase: ${figures.inboxItems} inbox items for ${settings.messages} messages`);
    if (latencyFigures.inboxItems !== latencyMessages.length) failures.push(`latency phase: ${latencyFigures.inboxItems} inbox items for ${latencyMessages.length} messages`);
    const unexpectedQueues = Object.keys(figures.byQueue).filter((q) => !['east-end-park', 'richmond-hill', 'osmondthorpe', 'harehills'].includes(q));
    if (unexpectedQueues.length > 0) log(`note: some notifications went to non-centre queues: ${unexpectedQueues.join(', ')}`);

    rss.stop();
    const result = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverageAtStart: loadAtStart.map((l) => round(l)) },
      settings: { messages: settings.messages, connections: settings.connections, rate: settings.rate, short: settings.short, inFlightPerConnection: settings.inFlightPerConnection, workerConcurrency: env.workerConcurrency, workerProcesses: settings.workerProcesses },
      throughput: {
        messagesPerSecond: round(storkRate, 0),
        seconds: round(wallSeconds, 3),
        ackPhaseSeconds: round(ackSeconds, 3),
        ackMessagesPerSecond: round(settings.messages / ackSeconds, 0),
        ackMs: mapDist(throughputAck),
        endToEndMs: mapDist(figures.e2eMs),
        ackCodes: Object.fromEntries(sent.codes),
        sendErrors: Object.fromEntries(sent.errors),
        inboxItems: figures.inboxItems,
        inboxByQueue: figures.byQueue,
        peakRssMb: mb(throughputPeakRss),
        processCpuSeconds: round(cpuSeconds, 2),
        processCpuPerMessageUs: round((cpuSeconds * 1e6) / settings.messages, 0),
        inboxPolls: inbox.polls,
      },
      latency: {
        offeredRate: settings.rate,
        achievedRate: round(paced.achievedRate, 0),
        messages: latencyMessages.length,
        maxPacingLagMs: round(paced.maxLagMs, 1),
        ackMs: mapDist(latencyAck),
        endToEndMs: mapDist(latencyFigures.e2eMs),
        ackCodes: Object.fromEntries(paced.codes),
        sendErrors: Object.fromEntries(paced.errors),
      },
      baseline: { ...baseline, concurrency: 50, inFlightAdds: 50 },
      ratio: round(ratio, 3),
      targets: { ratio: 0.5, latencyAckP99Ms: 20, latencyOfferedRate: 1000 },
      peakRssMb: mb(rss.peak),
      failures,
    };
    printReport(result);
    const outDir = path.join(repoRoot, '.stork-bench');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'last-run.json'), JSON.stringify(result, null, 2) + '\n');
    log(`results written to ${path.relative(process.cwd(), path.join(outDir, 'last-run.json')) || path.join(outDir, 'last-run.json')}`);
    if (failures.length > 0) {
      for (const f of failures) log(`FAILED: ${f}`);
      exitCode = 1;
    }
  } catch (err) {
    log(`FAILED: ${err instanceof DeadlineError ? err.message : ((err as Error).stack ?? String(err))}`);
    exitCode = 1;
  } finally {
    rss.stop();
    // Clean up even on failure; a stuck step must not keep the process alive past a bounded grace period.
    const grace = setTimeout(() => {
      log('cleanup did not finish in 30 s; exiting');
      process.exit(1);
    }, 30_000);
    grace.unref();
    for (const step of cleanup) {
      try {
        await step.run();
      } catch (err) {
        log(`cleanup "${step.name}" failed: ${(err as Error).message}`);
      }
    }
    clearTimeout(grace);
  }
  return exitCode;
}

function mapDist(d: Dist): { p50: number; p90: number; p99: number; max: number } {
  return { p50: round(d.p50), p90: round(d.p90), p99: round(d.p99), max: round(d.max) };
}

function printReport(r: {
  settings: { messages: number; connections: number; rate: number; workerProcesses: number };
  throughput: { messagesPerSecond: number; seconds: number; ackMessagesPerSecond: number; ackMs: { p50: number; p99: number }; endToEndMs: { p50: number; p99: number }; peakRssMb: number; processCpuPerMessageUs: number; ackCodes: Record<string, number> };
  latency: { offeredRate: number; achievedRate: number; messages: number; ackMs: { p50: number; p99: number }; endToEndMs: { p50: number; p99: number }; ackCodes: Record<string, number> };
  baseline: { jobsPerSecond: number; seconds: number };
  ratio: number;
  peakRssMb: number;
}): void {
  const rows: [string, string, string][] = [
    ['Hub processes', r.settings.workerProcesses > 0 ? `intake (this process) + ${r.settings.workerProcesses} worker process(es)` : 'one process: intake and workers', ''],
    ['Throughput phase', `${r.settings.messages} msgs, ${r.settings.connections} conns`, ''],
    ['  Stork end to end (first send → last in inbox)', `${r.throughput.messagesPerSecond} msg/s`, `${r.throughput.seconds} s`],
    ['  Intake only (first send → last ACK)', `${r.throughput.ackMessagesPerSecond} msg/s`, ''],
    ['  ACK latency p50 / p99', `${r.throughput.ackMs.p50} / ${r.throughput.ackMs.p99} ms`, ''],
    ['  End to end p50 / p99 (received → delivered)', `${r.throughput.endToEndMs.p50} / ${r.throughput.endToEndMs.p99} ms`, ''],
    ['  ACK codes', Object.entries(r.throughput.ackCodes).map(([c, n]) => `${c}=${n}`).join(' '), ''],
    ['  Process CPU per message', `${r.throughput.processCpuPerMessageUs} µs`, ''],
    ['  Peak RSS (phase / whole run)', `${r.throughput.peakRssMb} / ${r.peakRssMb} MB`, ''],
    ['Latency phase', `${r.latency.offeredRate}/s offered, ${r.latency.messages} msgs`, `achieved ${r.latency.achievedRate}/s`],
    ['  ACK latency p50 / p99', `${r.latency.ackMs.p50} / ${r.latency.ackMs.p99} ms`, 'target p99 < 20 ms'],
    ['  End to end p50 / p99', `${r.latency.endToEndMs.p50} / ${r.latency.endToEndMs.p99} ms`, ''],
    ['  ACK codes', Object.entries(r.latency.ackCodes).map(([c, n]) => `${c}=${n}`).join(' '), ''],
    ['Bare BullMQ (add ×50 in flight, worker ×50)', `${r.baseline.jobsPerSecond} jobs/s`, `${r.baseline.seconds} s`],
    ['Ratio Stork / bare BullMQ', `${r.ratio}`, 'target ≥ 0.5'],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const line = '-'.repeat(w0 + w1 + 30);
  process.stdout.write(`\nStork benchmark\n${line}\n`);
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}\n`.replace(/\s+\n$/, '\n'));
  process.stdout.write(`${line}\nTargets are for comparison only; the bench fails only on lost messages, non-positive ACKs or its deadline.\n\n`);
}

const deadlineTimer = setTimeout(() => {
  process.stderr.write('bench: hard deadline (11 min) passed; exiting\n');
  process.exit(1);
}, 11 * 60_000);
deadlineTimer.unref();

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
