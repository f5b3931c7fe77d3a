/**
 * Stork benchmark: the hub (MLLP intake and group commit to PostgreSQL in this process; the BullMQ processing
 * and delivery workers in `--worker-processes` processes of their own, default 1, or here too with 0) against a
 * fresh PostgreSQL database and a private Redis key prefix. The MLLP load generator is a child process of its
 * own (load-generator.ts, driven over IPC), so its CPU and event loop are not counted as the hub's.
 *
 *   npm run bench                      # 20,000 messages over 8 connections, latency phase at 1,000/s
 *   npm run bench -- --short           # CI: 500 messages over 4 connections
 *   npm run bench -- --messages 5000 --connections 4 --rate 500
 *   npm run bench -- --repeat 3        # the whole sequence 3 times; the report gives the median of each figure
 *
 * Phases: (1) throughput: N pre-generated ITK ADT^A28 newborns sent as fast as the hub ACKs them, timed
 * until the last one is in a centre inbox; (2) latency: messages offered at a fixed rate, ACK latency
 * reported; (3) baseline: a bare BullMQ add-and-process loop of N jobs on the same Redis, for the ratio.
 * With `--repeat N` the three phases run N times, each repetition on a fresh database, Redis prefix, hub,
 * worker process(es) and load generator (the in-process intake stays in this one process, JIT-warm after the
 * first), its baseline measured right after its own Stork phases; one line per repetition is printed, then
 * the report with the median of each figure (the ratio: the median of the per-repetition ratios).
 *
 * It reports; it asserts no wall-clock target. It exits 1 only if a message is lost, an ACK is not
 * positive (CA/AA), or the run passes its deadline (10 minutes per repetition). Results also go to
 * `.stork-bench/last-run.json`: the figures (medians when N > 1) at the top level, every repetition in `runs`.
 * Plain Node (no jest types): compiled by tsconfig.build.json to dist/test/bench/run-bench.js (and
 * load-generator.js beside it, which this forks).
 *
 * Environment: STORK_BENCH_PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL
 * (default redis://127.0.0.1:6379). STORK_BENCH_MESSAGES / _CONNECTIONS / _RATE / _REPEAT are read as defaults for the flags.
 */
import { randomBytes } from 'node:crypto';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { inspect, parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadEnvConfig, repoRoot } from '../../src/config/env.js';
import { procsCpuSeconds, serviceCpu, serviceCpuSince } from './proc-cpu.js';
import { adminQuery, databaseUrl } from './bench-postgres.js';
import { createLogger } from '../../src/logger.js';
import { startHub, type Hub } from '../../src/hub.js';
import type { Database } from '../../src/ports/database.js';
import { openPostgres } from '../../adapters/store/postgres-database.js';
import { migrate } from '../../adapters/store/migrate.js';
import {
  Deadline,
  DeadlineError,
  isGeneratorReply,
  type GeneratorCommand,
  type GeneratorReply,
  type PrepareCommand,
  type PreparedReply,
  type ResultReply,
} from './load-generator-protocol.js';

// ---------------------------------------------------------------------------------------------------
// Settings

interface Settings {
  messages: number;
  connections: number;
  rate: number;
  /** Repetitions of the whole measured sequence (throughput, latency, baseline); the report gives medians. */
  repeat: number;
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
      repeat: { type: 'string' },
      short: { type: 'boolean', default: false },
      'worker-processes': { type: 'string', short: 'w' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench -- [--messages N] [--connections C] [--rate R] [--worker-processes W] [--repeat N] [--short]\n',
    );
    process.exit(0);
  }
  const env = process.env;
  const short = values.short;
  const messages =
    positiveInt(values.messages, '--messages') ?? positiveInt(env.STORK_BENCH_MESSAGES, 'STORK_BENCH_MESSAGES') ?? (short ? 500 : 20_000);
  const connections =
    positiveInt(values.connections, '--connections') ??
    positiveInt(env.STORK_BENCH_CONNECTIONS, 'STORK_BENCH_CONNECTIONS') ??
    (short ? 4 : 8);
  const rate = positiveInt(values.rate, '--rate') ?? positiveInt(env.STORK_BENCH_RATE, 'STORK_BENCH_RATE') ?? 1000;
  const repeat = positiveInt(values.repeat, '--repeat') ?? positiveInt(env.STORK_BENCH_REPEAT, 'STORK_BENCH_REPEAT') ?? 1;
  return {
    messages,
    connections,
    rate,
    repeat,
    short,
    inFlightPerConnection: 256,
    latencySeconds: Math.min(5, messages / rate),
    deadlineMs: repeat * 10 * 60_000,
    adminUrl: env.STORK_BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    workerProcesses: values['worker-processes'] === '0' ? 0 : (positiveInt(values['worker-processes'], '--worker-processes') ?? 1),
  };
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);

/** Child processes still running: killed when this process exits by any path (process.exit included), so none is left behind. */
const liveChildren = new Set<ChildProcess>();

function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Starts `node dist/src/main.js` with STORK_ROLES=worker and waits until it says it has started. */
async function startWorkerProcess(
  extraEnv: Record<string, string>,
  deadline: Deadline,
): Promise<{ pid: number | undefined; stop(): Promise<void> }> {
  const main = path.join(repoRoot, 'dist', 'src', 'main.js');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STORK_') && k !== 'DATABASE_URL') env[k] = v;
  const child = spawn(process.execPath, [main], {
    env: { ...env, ...extraEnv, STORK_ROLES: 'worker', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  trackChild(child);
  // Set by the child's events while the loop below waits.
  const state: { started: boolean; exited: number | null } = { started: false, exited: null };
  child.on('exit', (code) => (state.exited = code ?? 1));
  child.stdout.on('data', (d: Buffer) => {
    if (d.toString('utf8').includes('"msg":"stork started"')) state.started = true;
  });
  try {
    while (!state.started) {
      if (state.exited !== null) throw new Error(`worker process exited with code ${state.exited} before starting`);
      deadline.check('starting a worker process');
      await sleep(20);
    }
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  child.stdout.resume();
  return {
    pid: child.pid,
    async stop() {
      if (state.exited !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an ascending-sorted array. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
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
  return {
    count: s.length,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s[s.length - 1] ?? Number.NaN,
  };
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

const POSITIVE_ACKS = new Set(['CA', 'AA']);

// ---------------------------------------------------------------------------------------------------
// The load generator: a child process (load-generator.ts) that generates and sends the messages

/**
 * The bench's handle on its load generator. One request at a time; each waits for its reply, the child's
 * death (the run fails, naming the step), or the run's deadline (plus a little, as the child checks it too).
 */
class LoadGenerator {
  private exit: string | undefined;
  private waiter: { resolve(reply: GeneratorReply): void; reject(err: Error): void } | undefined;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    trackChild(child);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`;
        this.failWaiter(new Error(`the load generator process (pid ${String(child.pid)}) ${this.exit}`));
        resolve();
      });
    });
    child.on('error', (err) => this.failWaiter(new Error(`load generator process: ${err.message}`)));
    child.on('message', (message: unknown) => {
      const waiter = this.waiter;
      this.waiter = undefined;
      if (!isGeneratorReply(message)) {
        const err = new Error(
          `the load generator sent something the bench does not understand: ${inspect(message, { depth: 2, maxStringLength: 200 })}`,
        );
        if (waiter) waiter.reject(err);
        else log(err.message);
        child.kill('SIGKILL');
      } else if (waiter) waiter.resolve(message);
      else if (message.type === 'failed') log(`load generator: ${message.message}`);
    });
  }

  /** Forks dist/test/bench/load-generator.js and waits for it to say it is ready. */
  static async start(deadline: Deadline): Promise<LoadGenerator> {
    const script = fileURLToPath(new URL('./load-generator.js', import.meta.url));
    const child = fork(script, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const generator = new LoadGenerator(child);
    try {
      await generator.next('ready', 'starting', deadline);
    } catch (err) {
      await generator.stop();
      throw err;
    }
    return generator;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Generates the phase's messages and opens the connections (the first time); not timed. */
  async prepare(command: Omit<PrepareCommand, 'type' | 'deadlineAt'>, deadline: Deadline): Promise<PreparedReply> {
    this.send({ type: 'prepare', ...command, deadlineAt: deadline.at });
    return this.next('prepared', `preparing the ${command.phase} phase`, deadline);
  }

  /** Sends the prepared messages; resolves when every one has its ACK (or has failed). */
  async run(phase: string, deadline: Deadline): Promise<ResultReply> {
    this.send({ type: 'run' });
    return this.next('result', `sending the ${phase} phase`, deadline);
  }

  /** Asks the child to close its connections and exit; kills it if it has not within 5 s. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.exit !== undefined) return;
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies GeneratorCommand, () => undefined);
    else this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  private send(command: GeneratorCommand): void {
    if (this.exit !== undefined)
      throw new Error(`the load generator process (pid ${String(this.child.pid)}) ${this.exit} before "${command.type}"`);
    this.child.send(command, (err) => {
      if (err) this.failWaiter(new Error(`could not send "${command.type}" to the load generator: ${err.message}`));
    });
  }

  private failWaiter(err: Error): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(err);
  }

  private async next<T extends GeneratorReply['type']>(
    type: T,
    what: string,
    deadline: Deadline,
  ): Promise<Extract<GeneratorReply, { type: T }>> {
    if (this.exit !== undefined) throw new Error(`the load generator process (pid ${String(this.child.pid)}) ${this.exit} before ${what}`);
    if (this.waiter) throw new Error(`load generator: ${what} while another request is waiting`);
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await new Promise<GeneratorReply>((resolve, reject) => {
        this.waiter = {
          resolve,
          reject: (err) => reject(new Error(`${err.message} while ${what}`)),
        };
        // The child checks the deadline itself; this catches a child that is alive but stuck.
        timer = setTimeout(
          () => {
            this.waiter = undefined;
            reject(new DeadlineError(`deadline passed while waiting for the load generator (${what})`));
          },
          Math.max(0, deadline.at - Date.now()) + 5000,
        );
      });
      if (reply.type === 'failed')
        throw reply.deadline ? new DeadlineError(reply.message) : new Error(`load generator failed while ${what}: ${reply.message}`);
      if (reply.type !== type) throw new Error(`load generator answered "${reply.type}" while ${what} (expected "${type}")`);
      return reply as Extract<GeneratorReply, { type: T }>;
    } finally {
      clearTimeout(timer);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Database and Redis

/** Inbox items in the bench's database (a private, fresh one: every row is this run's). */
async function inboxCount(db: Database): Promise<number> {
  const r = await db.query<{ n: string }>('SELECT count(*) AS n FROM inbox_items');
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * Polls every 50 ms, until the run's deadline, for `count` more inbox items than the `before` counted at the
 * start of the phase. The poll is a bare count of one table (it runs while the hub is being measured, so it
 * must cost PostgreSQL little); which messages the items came from is checked after the phase, by
 * pipelineFigures. About once a second it also fails fast on messages that will never reach an inbox
 * (quarantined, not relevant, a duplicate birth): any message in the database not queued or
 * processed, since the earlier phases already ended with all theirs in an inbox.
 */
async function waitForInbox(
  db: Database,
  before: number,
  count: number,
  deadline: Deadline,
): Promise<{ epochMs: number; polls: number; stuckChecks: number }> {
  const STUCK_CHECK_EVERY_MS = 1000;
  let polls = 0;
  let stuckChecks = 0;
  let lastStuckCheck = performance.now();
  for (;;) {
    polls++;
    const n = (await inboxCount(db)) - before;
    if (n >= count) return { epochMs: Date.now(), polls, stuckChecks };
    if (performance.now() - lastStuckCheck >= STUCK_CHECK_EVERY_MS) {
      stuckChecks++;
      const stuck = await db.query<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM messages WHERE status NOT IN ('queued', 'processed') GROUP BY status`,
      );
      if (stuck.rows.length > 0) {
        throw new Error(`messages that will never reach an inbox: ${stuck.rows.map((s) => `${s.status}=${s.n}`).join(', ')}`);
      }
      lastStuckCheck = performance.now();
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
  const r = await db.query<{
    n: string;
    p50: number;
    p90: number;
    p99: number;
    max: number;
    first_received: number;
    last_delivered: number;
  }>(
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
  const q = await db.query<{ queue: string; n: string }>(`SELECT i.queue, count(*) AS n ${base} GROUP BY i.queue ORDER BY i.queue`, [
    `${prefix}%`,
  ]);
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

// ---------------------------------------------------------------------------------------------------
// One repetition: throughput, latency and baseline on its own database, Redis prefix, hub, worker process(es) and load generator

interface CleanupStep {
  name: string;
  run: () => Promise<unknown>;
}

/**
 * Runs the measured sequence once, from an empty pipeline, and cleans up after itself (database, Redis keys,
 * processes) before it returns or throws. Throws on the deadline or a broken step; lost messages and
 * non-positive ACKs come back in `failures`. `label` prefixes its log lines ('' for a single run).
 */
async function runOnce(settings: Settings, deadline: Deadline, label: string) {
  const say = (s: string): void => log(`${label}${s}`);
  const tag = randomBytes(4).toString('hex');
  const dbName = `stork_bench_${tag}`;
  const prefix = `stork-bench-${tag}`;
  const baselinePrefix = `stork-bench-bare-${tag}`;
  const cleanup: CleanupStep[] = [];
  const failures: string[] = [];
  const rss = new RssSampler();
  const at = new Date().toISOString();
  // Load generator, hub and its PostgreSQL and Redis share the machine: a busy machine shows in the figures, so say how busy it was.
  const loadAtStart = os.loadavg();

  say(`database ${dbName}, Redis prefix ${prefix}`);
  try {
    // --- Set-up: own database, migrated; hub in-process on free ports.
    await adminQuery(settings.adminUrl, `CREATE DATABASE ${dbName}`);
    cleanup.unshift({
      name: `drop database ${dbName}`,
      run: () => adminQuery(settings.adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`),
    });
    cleanup.unshift({ name: `delete Redis keys ${prefix}:*`, run: () => deleteRedisKeys(settings.redisUrl, prefix) });
    const dbUrl = databaseUrl(settings.adminUrl, dbName);
    const db = await openPostgres({ connectionString: dbUrl });
    cleanup.unshift({ name: 'close bench pool', run: () => db.close() });
    await migrate(db);
    // The bench's own polls and figures use their own connection, so they never wait for (or hold) one of the hub's.
    const benchDb = await openPostgres({ connectionString: dbUrl, maxConnections: 1 });
    cleanup.unshift({ name: 'close bench poll connection', run: () => benchDb.close() });

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
    const workerPids: (number | undefined)[] = [];
    for (let i = 0; i < settings.workerProcesses; i++) {
      const worker = await startWorkerProcess(
        {
          DATABASE_URL: dbUrl,
          REDIS_URL: settings.redisUrl,
          STORK_QUEUE_PREFIX: prefix,
          STORK_CONFIG_DIR: repoRoot,
          STORK_HTTP_PORT: '0',
          STORK_HOST: '127.0.0.1',
        },
        deadline,
      );
      workerPids.push(worker.pid);
      cleanup.unshift({ name: `stop worker process ${i + 1}`, run: () => worker.stop() });
    }
    const hub: Hub = await startHub({ env, logger, db });
    cleanup.unshift({ name: 'stop hub', run: () => hub.stop() });
    const port = hub.mllpPort;
    if (port === undefined) throw new Error('the hub did not start an MLLP listener');

    // The load generator: its own process, so its CPU and event loop are not the hub's. It generates each
    // phase's messages before the phase (not timed) and keeps the baby NHS numbers used, so all are distinct.
    const generator = await LoadGenerator.start(deadline);
    cleanup.unshift({ name: 'stop load generator', run: () => generator.stop() });
    const target = { host: '127.0.0.1', port, connections: settings.connections };
    const tPrefix = `T${tag}-`;
    const lPrefix = `L${tag}-`;
    const latencyCount = Math.max(1, Math.round(settings.rate * settings.latencySeconds));

    // --- Phase 1: throughput.
    const tPrepared = await generator.prepare(
      {
        ...target,
        phase: 'throughput',
        seedStart: 1 + (randomBytes(4).readUInt32BE(0) % 1_000_000_000),
        count: settings.messages,
        controlIdPrefix: tPrefix,
        mode: { kind: 'fast', inFlightPerConnection: settings.inFlightPerConnection },
      },
      deadline,
    );
    say(`load generator (pid ${String(generator.pid)}) generated ${tPrepared.count} messages in ${round(tPrepared.generateMs, 0)} ms`);
    say('throughput phase…');
    const inboxBefore = await inboxCount(benchDb);
    rss.resetPhase();
    const cpu0 = process.cpuUsage();
    const workerCpu0 = procsCpuSeconds(workerPids);
    const postgresCpu0 = serviceCpu('postgres');
    const redisCpu0 = serviceCpu('redis-server');
    const sent = await generator.run('throughput', deadline);
    const ackSeconds = (sent.lastAckEpochMs - sent.firstSendEpochMs) / 1000;
    const inbox = await waitForInbox(benchDb, inboxBefore, settings.messages, deadline);
    const cpu = process.cpuUsage(cpu0);
    const workerCpu1 = procsCpuSeconds(workerPids);
    const postgresCpuSeconds = serviceCpuSince(postgresCpu0, 'postgres');
    const redisCpuSeconds = serviceCpuSince(redisCpu0, 'redis-server');
    const throughputPeakRss = rss.phasePeak;
    const figures = await pipelineFigures(benchDb, tPrefix);
    const lastDelivered = Math.max(figures.lastDeliveredEpochMs, 0);
    const wallSeconds = (lastDelivered - sent.firstSendEpochMs) / 1000;
    const throughputAck = dist(sent.latenciesMs);
    const storkRate = settings.messages / wallSeconds;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const workerCpuSeconds = workerCpu0 !== undefined && workerCpu1 !== undefined ? workerCpu1 - workerCpu0 : undefined;
    const generatorCpuSeconds = (sent.cpuUserMicros + sent.cpuSystemMicros) / 1e6;
    const perMessageUs = (seconds: number | undefined): number | null =>
      seconds === undefined ? null : round((seconds * 1e6) / settings.messages, 0);
    say(`throughput: ${round(storkRate, 0)} messages/s end to end (all ACKed after ${round(ackSeconds, 2)} s)`);

    // --- Phase 2: latency at a fixed offered rate.
    const lPrepared = await generator.prepare(
      {
        ...target,
        phase: 'latency',
        seedStart: tPrepared.nextSeed,
        count: latencyCount,
        controlIdPrefix: lPrefix,
        mode: { kind: 'rate', rate: settings.rate },
      },
      deadline,
    );
    say(`latency phase at ${settings.rate}/s…`);
    const latencyInboxBefore = await inboxCount(benchDb);
    const paced = await generator.run('latency', deadline);
    await waitForInbox(benchDb, latencyInboxBefore, lPrepared.count, deadline);
    const latencyFigures = await pipelineFigures(benchDb, lPrefix);
    const latencyAck = dist(paced.latenciesMs);

    // Load generator and hub down before the baseline, so the baseline has the machine to itself.
    const stopHub = cleanup.find((c) => c.name === 'stop hub');
    await generator.stop();
    await hub.stop();
    if (stopHub) cleanup.splice(cleanup.indexOf(stopHub), 1);

    // --- Phase 3: bare BullMQ baseline, same Redis.
    say('bare BullMQ baseline…');
    cleanup.unshift({ name: `delete Redis keys ${baselinePrefix}:*`, run: () => deleteRedisKeys(settings.redisUrl, baselinePrefix) });
    const baseline = await bareBullmq(settings.redisUrl, baselinePrefix, settings.messages, deadline);
    const ratio = storkRate / baseline.jobsPerSecond;

    // --- Verdict: only correctness fails the run.
    for (const [label, s] of [
      ['throughput', sent],
      ['latency', paced],
    ] as const) {
      const bad = Object.entries(s.codes).filter(([code]) => !POSITIVE_ACKS.has(code));
      if (bad.length > 0) failures.push(`${label} phase: ACKs not positive: ${bad.map(([c, n]) => `${c}=${n}`).join(', ')}`);
      const errors = Object.entries(s.errors);
      if (errors.length > 0) failures.push(`${label} phase: sends failed: ${errors.map(([c, n]) => `${c}=${n}`).join(', ')}`);
    }
    if (figures.inboxItems !== settings.messages)
      failures.push(`throughput phase: ${figures.inboxItems} inbox items for ${settings.messages} messages`);
    if (latencyFigures.inboxItems !== lPrepared.count)
      failures.push(`latency phase: ${latencyFigures.inboxItems} inbox items for ${lPrepared.count} messages`);
    const unexpectedQueues = Object.keys(figures.byQueue).filter(
      (q) => !['east-end-park', 'richmond-hill', 'osmondthorpe', 'harehills'].includes(q),
    );
    if (unexpectedQueues.length > 0) say(`note: some notifications went to non-centre queues: ${unexpectedQueues.join(', ')}`);

    rss.stop();
    return {
      at,
      loadAverageAtStart: loadAtStart.map((l) => round(l)),
      workerConcurrency: env.workerConcurrency,
      failures,
      figures: {
        throughput: {
          messagesPerSecond: round(storkRate, 0),
          seconds: round(wallSeconds, 3),
          ackPhaseSeconds: round(ackSeconds, 3),
          ackMessagesPerSecond: round(settings.messages / ackSeconds, 0),
          ackMs: mapDist(throughputAck),
          endToEndMs: mapDist(figures.e2eMs),
          ackCodes: sent.codes,
          sendErrors: sent.errors,
          inboxItems: figures.inboxItems,
          inboxByQueue: figures.byQueue,
          // The hub's process only (intake, and the workers too when --worker-processes 0): the load generator is a child process.
          peakRssMb: mb(throughputPeakRss),
          processCpuSeconds: round(cpuSeconds, 2),
          processCpuPerMessageUs: perMessageUs(cpuSeconds),
          // Worker processes (--worker-processes), from /proc/<pid>/stat; null when there are none or /proc cannot be read.
          workerProcessesCpuSeconds: workerCpuSeconds === undefined ? null : round(workerCpuSeconds, 2),
          workerProcessesCpuPerMessageUs: perMessageUs(workerCpuSeconds),
          // The load generator's process.cpuUsage(), first send → last ACK.
          loadGeneratorCpuSeconds: round(generatorCpuSeconds, 2),
          loadGeneratorCpuPerMessageUs: perMessageUs(generatorCpuSeconds),
          // The local PostgreSQL's and Redis's server processes (all databases and clients), from /proc; null where unreadable.
          postgresCpuPerMessageUs: perMessageUs(postgresCpuSeconds),
          redisCpuPerMessageUs: perMessageUs(redisCpuSeconds),
          inboxPolls: inbox.polls,
          inboxStuckChecks: inbox.stuckChecks,
        },
        latency: {
          offeredRate: settings.rate,
          achievedRate: round(paced.achievedRate ?? Number.NaN, 0),
          messages: lPrepared.count,
          maxPacingLagMs: round(paced.maxLagMs ?? Number.NaN, 1),
          ackMs: mapDist(latencyAck),
          endToEndMs: mapDist(latencyFigures.e2eMs),
          ackCodes: paced.codes,
          sendErrors: paced.errors,
        },
        baseline: { ...baseline, concurrency: 50, inFlightAdds: 50 },
        ratio: round(ratio, 3),
        peakRssMb: mb(rss.peak),
      },
    };
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
        say(`cleanup "${step.name}" failed: ${(err as Error).message}`);
      }
    }
    clearTimeout(grace);
  }
}

// ---------------------------------------------------------------------------------------------------
// Main: the repetitions, the median of each figure, the report

type RunResult = Awaited<ReturnType<typeof runOnce>>;
type RunFigures = RunResult['figures'];

/** A run's figures as medianOf sees them: numbers, nested (null: not measured). */
type Figures = number | null | { readonly [key: string]: Figures };

function median(values: readonly number[]): number {
  if (values.some(Number.isNaN)) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2;
}

/**
 * The median of each number across the runs, position by position: every figure is the median of that
 * figure over the runs (so the ratio is the median of the runs' own ratios, not a ratio of medians). A key
 * some runs lack (an ACK code only one run saw) counts 0 there; a figure any run could not measure stays null.
 */
function medianOf(values: readonly Figures[]): Figures {
  if (values.some((v) => v === null)) return null;
  const numbers = values.filter((v): v is number => typeof v === 'number');
  if (numbers.length === values.length) return median(numbers);
  const objects = values.filter((v): v is Readonly<Record<string, Figures>> => typeof v === 'object' && v !== null);
  const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
  return Object.fromEntries(keys.map((k) => [k, medianOf(objects.map((o) => o[k] ?? 0))]));
}

async function main(): Promise<number> {
  const settings = readSettings();
  const deadline = new Deadline(settings.deadlineMs);
  // Every wait checks the deadline; this catches a step that does not.
  const hardDeadlineMs = settings.deadlineMs + 60_000;
  const hardDeadline = setTimeout(() => {
    log(`hard deadline (${hardDeadlineMs / 60_000} min) passed; exiting`);
    process.exit(1);
  }, hardDeadlineMs);
  hardDeadline.unref();
  const loadAtStart = os.loadavg();
  const repeated = settings.repeat > 1;

  log(
    `${settings.messages} messages, ${settings.connections} connections, latency phase ${settings.rate}/s for ${round(settings.latencySeconds, 2)} s${repeated ? `; ${settings.repeat} runs` : ''}`,
  );
  const runs: RunResult[] = [];
  for (let i = 1; i <= settings.repeat; i++) {
    try {
      runs.push(await runOnce(settings, deadline, repeated ? `run ${i}/${settings.repeat}: ` : ''));
    } catch (err) {
      log(
        `FAILED${repeated ? ` (run ${i}/${settings.repeat})` : ''}: ${err instanceof DeadlineError ? err.message : ((err as Error).stack ?? String(err))}`,
      );
      return 1;
    }
  }

  // medianOf keeps the shape of what it is given: the runs' figures.
  const medians = medianOf(runs.map((r) => r.figures)) as RunFigures;
  const failures = runs.flatMap((r, i) => r.failures.map((f) => (repeated ? `run ${i + 1}: ${f}` : f)));
  const result = {
    at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '',
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadAverageAtStart: loadAtStart.map((l) => round(l)),
    },
    settings: {
      messages: settings.messages,
      connections: settings.connections,
      rate: settings.rate,
      repeat: settings.repeat,
      short: settings.short,
      inFlightPerConnection: settings.inFlightPerConnection,
      workerConcurrency: runs[0]?.workerConcurrency,
      workerProcesses: settings.workerProcesses,
      loadGenerator: 'child process',
    },
    // The figures: the run's own, or with --repeat N > 1 the median of each across the runs (listed in `runs`).
    ...medians,
    targets: { ratio: 0.5, latencyAckP99Ms: 20, latencyOfferedRate: 1000 },
    runs: runs.map((r) => ({ at: r.at, loadAverageAtStart: r.loadAverageAtStart, ...r.figures, failures: r.failures })),
    failures,
  };
  if (repeated) process.stdout.write(`\n${runs.map((r, i) => runLine(`run ${i + 1}/${settings.repeat}`, r.figures)).join('\n')}\n`);
  printReport({ settings, ...medians }, repeated ? `median of ${settings.repeat} runs` : '');
  const outDir = path.join(repoRoot, '.stork-bench');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'last-run.json'), JSON.stringify(result, null, 2) + '\n');
  log(`results written to ${path.relative(process.cwd(), path.join(outDir, 'last-run.json')) || path.join(outDir, 'last-run.json')}`);
  for (const f of failures) log(`FAILED: ${f}`);
  return failures.length > 0 ? 1 : 0;
}

function mapDist(d: Dist): { p50: number; p90: number; p99: number; max: number } {
  return { p50: round(d.p50), p90: round(d.p90), p99: round(d.p99), max: round(d.max) };
}

const us = (n: number | null): string => (n === null ? 'n/a' : `${n} µs`);

/** One repetition's key figures on one line. */
function runLine(name: string, f: RunFigures): string {
  const t = f.throughput;
  return (
    `${name}: end to end ${t.messagesPerSecond} msg/s, intake ${t.ackMessagesPerSecond} msg/s, ` +
    `ACK p50/p99 at ${f.latency.offeredRate}/s ${f.latency.ackMs.p50} / ${f.latency.ackMs.p99} ms, bare BullMQ ${f.baseline.jobsPerSecond} jobs/s, ratio ${f.ratio}, ` +
    `CPU/msg hub ${us(t.processCpuPerMessageUs)}, worker(s) ${us(t.workerProcessesCpuPerMessageUs)}, PostgreSQL ${us(t.postgresCpuPerMessageUs)}`
  );
}

function printReport(
  r: {
    settings: { messages: number; connections: number; rate: number; workerProcesses: number };
    throughput: {
      messagesPerSecond: number;
      seconds: number;
      ackMessagesPerSecond: number;
      ackMs: { p50: number; p99: number };
      endToEndMs: { p50: number; p99: number };
      peakRssMb: number;
      ackCodes: Record<string, number>;
      processCpuPerMessageUs: number | null;
      workerProcessesCpuPerMessageUs: number | null;
      loadGeneratorCpuPerMessageUs: number | null;
      postgresCpuPerMessageUs: number | null;
      redisCpuPerMessageUs: number | null;
    };
    latency: {
      offeredRate: number;
      achievedRate: number;
      messages: number;
      ackMs: { p50: number; p99: number };
      endToEndMs: { p50: number; p99: number };
      ackCodes: Record<string, number>;
    };
    baseline: { jobsPerSecond: number; seconds: number };
    ratio: number;
    peakRssMb: number;
  },
  title: string,
): void {
  const rows: [string, string, string][] = [
    [
      'Hub processes',
      r.settings.workerProcesses > 0
        ? `intake (this process) + ${r.settings.workerProcesses} worker process(es)`
        : 'one process: intake and workers',
      '',
    ],
    ['Throughput phase', `${r.settings.messages} msgs, ${r.settings.connections} conns`, ''],
    ['  Stork end to end (first send → last in inbox)', `${r.throughput.messagesPerSecond} msg/s`, `${r.throughput.seconds} s`],
    ['  Intake only (first send → last ACK)', `${r.throughput.ackMessagesPerSecond} msg/s`, ''],
    ['  ACK latency p50 / p99', `${r.throughput.ackMs.p50} / ${r.throughput.ackMs.p99} ms`, ''],
    ['  End to end p50 / p99 (received → delivered)', `${r.throughput.endToEndMs.p50} / ${r.throughput.endToEndMs.p99} ms`, ''],
    [
      '  ACK codes',
      Object.entries(r.throughput.ackCodes)
        .map(([c, n]) => `${c}=${n}`)
        .join(' '),
      '',
    ],
    [
      '  CPU per message: hub process',
      us(r.throughput.processCpuPerMessageUs),
      r.settings.workerProcesses > 0 ? 'intake' : 'intake and workers',
    ],
    ...(r.settings.workerProcesses > 0
      ? [
          ['  CPU per message: worker process(es)', us(r.throughput.workerProcessesCpuPerMessageUs), '/proc/<pid>/stat'] as [
            string,
            string,
            string,
          ],
        ]
      : []),
    ['  CPU per message: load generator', us(r.throughput.loadGeneratorCpuPerMessageUs), 'child process, not counted above'],
    [
      '  CPU per message: PostgreSQL / Redis',
      `${us(r.throughput.postgresCpuPerMessageUs)} / ${us(r.throughput.redisCpuPerMessageUs)}`,
      'server processes, /proc',
    ],
    ['  Peak RSS of hub process (phase / whole run)', `${r.throughput.peakRssMb} / ${r.peakRssMb} MB`, ''],
    ['Latency phase', `${r.latency.offeredRate}/s offered, ${r.latency.messages} msgs`, `achieved ${r.latency.achievedRate}/s`],
    ['  ACK latency p50 / p99', `${r.latency.ackMs.p50} / ${r.latency.ackMs.p99} ms`, 'target p99 < 20 ms'],
    ['  End to end p50 / p99', `${r.latency.endToEndMs.p50} / ${r.latency.endToEndMs.p99} ms`, ''],
    [
      '  ACK codes',
      Object.entries(r.latency.ackCodes)
        .map(([c, n]) => `${c}=${n}`)
        .join(' '),
      '',
    ],
    ['Bare BullMQ (add ×50 in flight, worker ×50)', `${r.baseline.jobsPerSecond} jobs/s`, `${r.baseline.seconds} s`],
    ['Ratio Stork / bare BullMQ', `${r.ratio}`, 'target ≥ 0.5'],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const line = '-'.repeat(w0 + w1 + 30);
  process.stdout.write(`\nStork benchmark${title ? ` (${title})` : ''}\n${line}\n`);
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}\n`.replace(/\s+\n$/, '\n'));
  process.stdout.write(
    `${line}\nTargets are for comparison only; the bench fails only on lost messages, non-positive ACKs or its deadline.\n\n`,
  );
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
