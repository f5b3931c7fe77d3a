/**
 * Stork benchmark: the hub (MLLP intake and group commit to PostgreSQL in this process; the BullMQ processing
 * and delivery workers in `--worker-processes` processes of their own, default 1, or here too with 0) against a
 * fresh PostgreSQL database and a private Redis key prefix. The MLLP load generator is a child process of its
 * own (load-generator.ts, driven over IPC), so its CPU and event loop are not counted as the hub's.
 *
 *   npm run bench                      # serial 2,000; 20,000 over 16 connections; latency at 1,000/s; FHIR 5,000; burst of 100,000
 *   npm run bench -- --short           # CI: serial 200, 500 over 16 connections, FHIR 300, no burst (well under a minute)
 *   npm run bench -- --messages 5000 --connections 4 --rate 500 --serial 1000 --burst 0
 *   npm run bench -- --repeat 3        # the whole sequence 3 times; the report gives the median of each figure
 *
 * Phases, each with its target printed as a ratio to a baseline measured in the same run:
 *   (1) serial sender: one MLLP connection, one message in flight (as most trust interface engines send);
 *       then the PostgreSQL commit floor: a bare loop of single-row INSERT + COMMIT of the same kind of bytes over
 *       one connection (synchronous_commit on), the floor of any durable ACK. Target: Stork ≥ 0.5 × the floor.
 *   (2) throughput: N pre-generated ITK ADT^A28 newborns over C connections (16) as fast as the hub ACKs them,
 *       timed until the last one is in a centre inbox; (3) latency: messages offered at a fixed rate;
 *   (3b) FHIR mode (`--fhir N`, default 5,000; 300 in --short; 0: none): N FHIR R4 birth message Bundles (made from the
 *       README's test/fixtures/sample-fhir-birth.json, each a distinct birth) posted to `POST /v1/fhir/$process-message`
 *       over 8 keep-alive HTTP connections, one request in flight on each, timed until the last one is in a centre inbox;
 *       and right before it, the same number of HL7 v2 newborns over 8 of the MLLP connections, one in flight on each
 *       (the HL7 v2 mode at the same concurrency). Printed as ratios: FHIR / that HL7 v2 run, and FHIR / the throughput
 *       phase (2), both measured in this run;
 *   (4) burst (`--burst N`, default 100,000; 0 in --short): N messages as fast as possible, with the peak RSS of
 *       the hub process and of the worker processes at every 10,000th ACK (target: flat, 100k ≤ 1.1 × 10k);
 *   (5) bare BullMQ: an add-and-process loop of N jobs on the same Redis. Target: end to end ≥ 0.25 × bare BullMQ.
 * Then CPU per birth: bench:stages (stage-costs.js, 5,000 newborns in batches of 100) is run once, and its figure
 * (this process + its PostgreSQL backend) is printed beside the reference measured on the code before this issue
 * (target: at least 25% below it).
 * With `--repeat N` phases 1–5 run N times, each repetition on a fresh database, Redis prefix, hub, worker
 * process(es) and load generator; one line per repetition is printed, then the median of each figure.
 *
 * It reports; it asserts no wall-clock target. It exits 1 only if a message is lost, an ACK is not
 * positive (CA/AA), or the run passes its deadline (10 minutes per repetition, more with a burst). Results also go
 * to `.stork-bench/last-run.json`: the figures (medians when N > 1) at the top level, every repetition in `runs`.
 * Plain Node (no jest types): compiled by tsconfig.build.json to dist/test/bench/run-bench.js (and
 * load-generator.js beside it, which this forks).
 *
 * Environment: STORK_BENCH_PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL
 * (default redis://127.0.0.1:6379). STORK_BENCH_MESSAGES / _CONNECTIONS / _RATE / _REPEAT are read as defaults for the flags.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadEnvConfig, repoRoot } from '../../src/config/env.js';
import { procsCpuSeconds, serviceCpu, serviceCpuSince } from './proc-cpu.js';
import { adminQuery, databaseUrl } from './bench-postgres.js';
import { createLogger } from '../../src/logger.js';
import { startHub, type Hub } from '../../src/hub.js';
import { openPostgres } from '../../adapters/store/postgres-database.js';
import { migrate } from '../../adapters/store/migrate.js';
import { ACK_MILESTONE_EVERY, Deadline, DeadlineError, type ResultReply } from './load-generator-protocol.js';
import { generateNewborns } from './bench-messages.js';
import { bareBullmq, commitFloor } from './baselines.js';
import { deleteRedisKeys, inboxCount, pipelineFigures, waitForInbox, type PipelineFigures } from './bench-db.js';
import { LoadGenerator, startWorkerProcess } from './bench-processes.js';
import { POSITIVE_ACKS, RssSampler, dist, log, mapDist, mb, medianOf, round } from './bench-stats.js';
import { printReport, runLine, TARGETS, type RunFigures, type StageCosts } from './report.js';

// ---------------------------------------------------------------------------------------------------
// Settings

interface Settings {
  messages: number;
  connections: number;
  rate: number;
  /** Messages of the serial-sender phase (one connection, one in flight), and of the commit floor loop. */
  serialMessages: number;
  /** Messages of the burst phase (0: none). */
  burstMessages: number;
  /** Messages of the FHIR mode, and of its HL7 v2 run at the same concurrency (0: none). */
  fhirMessages: number;
  /** Repetitions of the whole measured sequence; the report gives medians. */
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
      serial: { type: 'string' },
      burst: { type: 'string' },
      fhir: { type: 'string' },
      repeat: { type: 'string' },
      short: { type: 'boolean', default: false },
      'worker-processes': { type: 'string', short: 'w' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench -- [--messages N] [--connections C] [--rate R] [--serial N] [--burst N|0] [--fhir N|0] [--worker-processes W] [--repeat N] [--short]\n',
    );
    process.exit(0);
  }
  const env = process.env;
  const short = values.short;
  const messages =
    positiveInt(values.messages, '--messages') ?? positiveInt(env.STORK_BENCH_MESSAGES, 'STORK_BENCH_MESSAGES') ?? (short ? 500 : 20_000);
  const connections =
    positiveInt(values.connections, '--connections') ?? positiveInt(env.STORK_BENCH_CONNECTIONS, 'STORK_BENCH_CONNECTIONS') ?? 16;
  const rate = positiveInt(values.rate, '--rate') ?? positiveInt(env.STORK_BENCH_RATE, 'STORK_BENCH_RATE') ?? 1000;
  const repeat = positiveInt(values.repeat, '--repeat') ?? positiveInt(env.STORK_BENCH_REPEAT, 'STORK_BENCH_REPEAT') ?? 1;
  const serialMessages = positiveInt(values.serial, '--serial') ?? (short ? 200 : 2000);
  const burstMessages = values.burst === '0' ? 0 : (positiveInt(values.burst, '--burst') ?? (short ? 0 : 100_000));
  const fhirMessages = values.fhir === '0' ? 0 : (positiveInt(values.fhir, '--fhir') ?? (short ? 300 : 5000));
  return {
    messages,
    connections,
    rate,
    serialMessages,
    burstMessages,
    fhirMessages,
    repeat,
    short,
    inFlightPerConnection: 256,
    latencySeconds: Math.min(5, messages / rate),
    // Ten minutes per repetition, and a minute more per 10,000 burst messages.
    deadlineMs: repeat * (10 * 60_000 + Math.ceil(burstMessages / 10_000) * 60_000),
    adminUrl: env.STORK_BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    workerProcesses: values['worker-processes'] === '0' ? 0 : (positiveInt(values['worker-processes'], '--worker-processes') ?? 1),
  };
}

// ---------------------------------------------------------------------------------------------------
// One repetition: every phase on its own database, Redis prefix, hub, worker process(es) and load generator

interface CleanupStep {
  name: string;
  run: () => Promise<unknown>;
}

/** The FHIR mode's connections (keep-alive, one request in flight on each). */
const FHIR_CONNECTIONS = 8;
/** The sample configuration's FHIR feed's API key (mappings/api-clients.json, demo keys). */
const FHIR_API_KEY = 'demo-northgate-fhir-key';
/** A FHIR message accepted: 200 with a response message Bundle. */
const POSITIVE_FHIR = new Set(['HTTP 200']);

/**
 * Messages of a phase answered CA or AA (HTTP 200 for FHIR): those, and only those, must reach an inbox (the others are
 * reported as failures).
 */
function positives(s: ResultReply, positive: ReadonlySet<string> = POSITIVE_ACKS): number {
  return Object.entries(s.codes).reduce((n, [code, count]) => n + (positive.has(code) ? count : 0), 0);
}

/** ACK codes (HTTP statuses for FHIR) that are not positive, and failed sends, of one phase, as failure lines. */
function ackFailures(phase: string, s: ResultReply, positive: ReadonlySet<string> = POSITIVE_ACKS): string[] {
  const out: string[] = [];
  const bad = Object.entries(s.codes).filter(([code]) => !positive.has(code));
  if (bad.length > 0) out.push(`${phase} phase: ACKs not positive: ${bad.map(([c, n]) => `${c}=${n}`).join(', ')}`);
  const errors = Object.entries(s.errors);
  if (errors.length > 0) out.push(`${phase} phase: sends failed: ${errors.map(([c, n]) => `${c}=${n}`).join(', ')}`);
  return out;
}

/**
 * Runs the measured sequence once, from an empty pipeline, and cleans up after itself (database, Redis keys,
 * processes) before it returns or throws. Throws on the deadline or a broken step; lost messages and
 * non-positive ACKs come back in `failures`. `label` prefixes its log lines ('' for a single run).
 */
async function runOnce(
  settings: Settings,
  deadline: Deadline,
  label: string,
): Promise<{ at: string; loadAverageAtStart: number[]; workerConcurrency: number; failures: string[]; figures: RunFigures }> {
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
    // A generous connect timeout: on a machine this busy, a new backend can take seconds to start, and the hub would
    // answer AE (store unavailable) meanwhile; that is the hub behaving as designed, not what this bench measures.
    const db = await openPostgres({ connectionString: dbUrl, connectTimeoutMs: 15_000 });
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
      // The bench is one feed sending as fast as the hub takes it: no per-client rate limit in its way.
      STORK_HTTP_RATE_PER_SECOND: '1000000',
      STORK_HTTP_RATE_BURST: '1000000',
      // To try the load generator's reconnection between phases: STORK_MLLP_IDLE_TIMEOUT_MS=1000 npm run bench.
      ...(process.env.STORK_MLLP_IDLE_TIMEOUT_MS ? { STORK_MLLP_IDLE_TIMEOUT_MS: process.env.STORK_MLLP_IDLE_TIMEOUT_MS } : {}),
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
    rss.workerPids = workerPids;
    const hub: Hub = await startHub({ env, logger, db });
    cleanup.unshift({ name: 'stop hub', run: () => hub.stop() });
    const port = hub.mllpPort;
    if (port === undefined) throw new Error('the hub did not start an MLLP listener');
    const httpPort = hub.httpPort;
    if (httpPort === undefined) throw new Error('the hub did not start an HTTP listener');

    // The load generator: its own process, so its CPU and event loop are not the hub's. It generates each
    // phase's messages before the phase (not timed) and keeps the baby NHS numbers used, so all are distinct.
    const generator = await LoadGenerator.start(deadline);
    cleanup.unshift({ name: 'stop load generator', run: () => generator.stop() });
    const target = { host: '127.0.0.1', port, connections: settings.connections };
    const sPrefix = `S${tag}-`;
    const tPrefix = `T${tag}-`;
    const lPrefix = `L${tag}-`;
    const bPrefix = `B${tag}-`;
    const hPrefix = `H${tag}-`;
    const fPrefix = `F${tag}x`;
    const latencyCount = Math.max(1, Math.round(settings.rate * settings.latencySeconds));

    // --- Phase 1: serial sender (the first of the generator's connections, one message in flight), then the commit floor.
    const sPrepared = await generator.prepare(
      {
        ...target,
        phase: 'serial',
        seedStart: 1 + (randomBytes(4).readUInt32BE(0) % 1_000_000_000),
        count: settings.serialMessages,
        controlIdPrefix: sPrefix,
        mode: { kind: 'fast', inFlightPerConnection: 1, connections: 1 },
      },
      deadline,
    );
    say(`serial sender: ${settings.serialMessages} messages, one connection, one in flight…`);
    const serialInboxBefore = await inboxCount(benchDb);
    const serial = await generator.run('serial', deadline);
    const serialSeconds = (serial.lastAckEpochMs - serial.firstSendEpochMs) / 1000;
    const serialRate = settings.serialMessages / serialSeconds;
    const serialAck = dist(serial.latenciesMs);
    await waitForInbox(benchDb, serialInboxBefore, positives(serial), deadline);
    const serialFigures = await pipelineFigures(benchDb, sPrefix);
    say(`serial sender: ${round(serialRate, 0)} msg/s, ACK p50 ${round(serialAck.p50)} ms; PostgreSQL commit floor…`);
    // The same kind of bytes (the same generator and sample feed), with the hub idle.
    const floorMessages = generateNewborns(settings.serialMessages, `F${tag}-`, new Set(), { value: 1 });
    const floor = await commitFloor(dbUrl, floorMessages, deadline);
    const serialRatio = serialRate / floor.commitsPerSecond;
    say(`commit floor: ${floor.commitsPerSecond} commits/s (p50 ${floor.commitMs.p50} ms); serial ratio ${round(serialRatio, 3)}`);

    // --- Phase 2: throughput.
    const tPrepared = await generator.prepare(
      {
        ...target,
        phase: 'throughput',
        seedStart: sPrepared.nextSeed,
        count: settings.messages,
        controlIdPrefix: tPrefix,
        mode: { kind: 'fast', inFlightPerConnection: settings.inFlightPerConnection },
      },
      deadline,
    );
    say(`load generator (pid ${String(generator.pid)}) generated ${tPrepared.count} messages in ${round(tPrepared.generateMs, 0)} ms`);
    say(`throughput phase (${settings.connections} connections)…`);
    const inboxBefore = await inboxCount(benchDb);
    rss.resetPhase();
    const cpu0 = process.cpuUsage();
    const workerCpu0 = procsCpuSeconds(workerPids);
    const postgresCpu0 = serviceCpu('postgres');
    const redisCpu0 = serviceCpu('redis-server');
    const sent = await generator.run('throughput', deadline);
    const ackSeconds = (sent.lastAckEpochMs - sent.firstSendEpochMs) / 1000;
    const inbox = await waitForInbox(benchDb, inboxBefore, positives(sent), deadline);
    const cpu = process.cpuUsage(cpu0);
    const workerCpu1 = procsCpuSeconds(workerPids);
    const postgresCpuSeconds = serviceCpuSince(postgresCpu0, 'postgres');
    const redisCpuSeconds = serviceCpuSince(redisCpu0, 'redis-server');
    const throughputPeakRss = rss.phasePeak;
    const figures = await pipelineFigures(benchDb, tPrefix);
    const lastDelivered = Math.max(figures.lastDeliveredEpochMs, 0);
    const wallSeconds = (lastDelivered - sent.firstSendEpochMs) / 1000;
    const throughputAck = dist(sent.latenciesMs);
    // Messages delivered per second (all of them, unless some were not accepted: the run then fails on their ACKs).
    const storkRate = figures.inboxItems / wallSeconds;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const workerCpuSeconds = workerCpu0 !== undefined && workerCpu1 !== undefined ? workerCpu1 - workerCpu0 : undefined;
    const generatorCpuSeconds = (sent.cpuUserMicros + sent.cpuSystemMicros) / 1e6;
    const perMessageUs = (seconds: number | undefined): number | null =>
      seconds === undefined ? null : round((seconds * 1e6) / settings.messages, 0);
    say(`throughput: ${round(storkRate, 0)} messages/s end to end (all ACKed after ${round(ackSeconds, 2)} s)`);

    // --- Phase 3: latency at a fixed offered rate.
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
    await waitForInbox(benchDb, latencyInboxBefore, positives(paced), deadline);
    const latencyFigures = await pipelineFigures(benchDb, lPrefix);
    const latencyAck = dist(paced.latenciesMs);

    // --- Phase 3b: FHIR mode. First the HL7 v2 mode at the FHIR mode's concurrency (8 of the MLLP connections, one message
    // in flight on each), then the FHIR messages over 8 keep-alive HTTP connections; each timed until its last birth is
    // in an inbox, and the FHIR figure divided by both that and the throughput phase's.
    let fhir: RunFigures['fhir'] = null;
    let seedAfterFhir = lPrepared.nextSeed;
    if (settings.fhirMessages > 0) {
      const lanes = Math.min(FHIR_CONNECTIONS, settings.connections);
      const endToEnd = async (
        phase: string,
        prefix: string,
        result: ResultReply,
        positive: ReadonlySet<string>,
      ): Promise<{ perSecond: number; seconds: number; inboxItems: number; e2e: PipelineFigures['e2eMs'] }> => {
        const f = await pipelineFigures(benchDb, prefix);
        const seconds = (Math.max(f.lastDeliveredEpochMs, 0) - result.firstSendEpochMs) / 1000;
        failures.push(...ackFailures(phase, result, positive));
        if (f.inboxItems !== settings.fhirMessages)
          failures.push(`${phase} phase: ${f.inboxItems} inbox items for ${settings.fhirMessages} messages`);
        return { perSecond: f.inboxItems / seconds, seconds, inboxItems: f.inboxItems, e2e: f.e2eMs };
      };
      const hPrepared = await generator.prepare(
        {
          ...target,
          phase: 'hl7v2 at FHIR concurrency',
          seedStart: lPrepared.nextSeed,
          count: settings.fhirMessages,
          controlIdPrefix: hPrefix,
          mode: { kind: 'fast', inFlightPerConnection: 1, connections: lanes },
        },
        deadline,
      );
      say(`HL7 v2 at the FHIR mode's concurrency: ${hPrepared.count} messages, ${lanes} MLLP connections, one in flight on each…`);
      const hl7Inbox0 = await inboxCount(benchDb);
      const hl7Sent = await generator.run('hl7v2 at FHIR concurrency', deadline);
      await waitForInbox(benchDb, hl7Inbox0, positives(hl7Sent), deadline);
      const hl7 = await endToEnd('hl7v2 at FHIR concurrency', hPrefix, hl7Sent, POSITIVE_ACKS);
      const fPrepared = await generator.prepare(
        {
          ...target,
          phase: 'fhir',
          seedStart: hPrepared.nextSeed,
          count: settings.fhirMessages,
          controlIdPrefix: fPrefix,
          mode: { kind: 'fast', inFlightPerConnection: 1, connections: lanes },
          fhir: { httpPort, apiKey: FHIR_API_KEY },
        },
        deadline,
      );
      seedAfterFhir = fPrepared.nextSeed;
      say(
        `FHIR mode: ${fPrepared.count} FHIR R4 birth Bundles (generated in ${round(fPrepared.generateMs, 0)} ms), ${lanes} HTTP connections…`,
      );
      const fhirInbox0 = await inboxCount(benchDb);
      const fhirCpu0 = process.cpuUsage();
      const fhirSent = await generator.run('fhir', deadline);
      await waitForInbox(benchDb, fhirInbox0, positives(fhirSent, POSITIVE_FHIR), deadline);
      const fhirCpu = process.cpuUsage(fhirCpu0);
      const f = await endToEnd('FHIR', fPrefix, fhirSent, POSITIVE_FHIR);
      const ackSecondsOf = (r: ResultReply): number => (r.lastAckEpochMs - r.firstSendEpochMs) / 1000;
      fhir = {
        messages: fPrepared.count,
        connections: lanes,
        messagesPerSecond: round(f.perSecond, 0),
        seconds: round(f.seconds, 3),
        ackMessagesPerSecond: round(fPrepared.count / ackSecondsOf(fhirSent), 0),
        ackMs: mapDist(dist(fhirSent.latenciesMs)),
        endToEndMs: mapDist(f.e2e),
        httpCodes: fhirSent.codes,
        sendErrors: fhirSent.errors,
        processCpuPerMessageUs: round((fhirCpu.user + fhirCpu.system) / fPrepared.count, 0),
        hl7v2SameConcurrency: {
          messagesPerSecond: round(hl7.perSecond, 0),
          seconds: round(hl7.seconds, 3),
          ackMessagesPerSecond: round(hPrepared.count / ackSecondsOf(hl7Sent), 0),
          ackMs: mapDist(dist(hl7Sent.latenciesMs)),
        },
        ratioToHl7v2SameConcurrency: round(f.perSecond / hl7.perSecond, 3),
        ratioToHl7v2Throughput: round(f.perSecond / storkRate, 3),
      };
      say(
        `FHIR mode: ${fhir.messagesPerSecond} msg/s end to end; HL7 v2 at the same concurrency ${fhir.hl7v2SameConcurrency.messagesPerSecond} msg/s (ratio ${fhir.ratioToHl7v2SameConcurrency}); throughput phase ${round(storkRate, 0)} msg/s (ratio ${fhir.ratioToHl7v2Throughput})`,
      );
    }

    // --- Phase 4: burst, with the RSS of the hub and of the worker processes at every 10,000th ACK.
    let burst: RunFigures['burst'] = null;
    if (settings.burstMessages > 0) {
      const bPrepared = await generator.prepare(
        {
          ...target,
          phase: 'burst',
          seedStart: seedAfterFhir,
          count: settings.burstMessages,
          controlIdPrefix: bPrefix,
          mode: { kind: 'fast', inFlightPerConnection: settings.inFlightPerConnection },
        },
        deadline,
      );
      say(`burst of ${bPrepared.count} messages (generated in ${round(bPrepared.generateMs, 0)} ms)…`);
      const burstInboxBefore = await inboxCount(benchDb);
      // The hub process has run the earlier phases: its peak so far says what the burst starts from.
      const hubPeakBeforeMb = mb(rss.peak);
      rss.recordTimeline();
      const burstSent = await generator.run('burst', deadline);
      const burstInbox = await waitForInbox(benchDb, burstInboxBefore, positives(burstSent), deadline);
      rss.sample();
      const rssAt = (epochMs: number): { hubMb: number; workersMb: number } => {
        const p = rss.peakUntil(epochMs);
        return { hubMb: mb(p.hub), workersMb: mb(p.workers) };
      };
      const burstFailures = ackFailures('burst', burstSent);
      // Milestones count answers, failed sends too: memory at "100k ACKs" means nothing if sends failed (a verdict of
      // "flat" was once printed for a burst whose every send had failed).
      const milestones =
        burstFailures.length > 0
          ? []
          : burstSent.ackMilestonesEpochMs.map((epochMs, i) => ({ acked: (i + 1) * ACK_MILESTONE_EVERY, ...rssAt(epochMs) }));
      const first = milestones[0];
      const last = milestones[milestones.length - 1];
      const allDone = rssAt(burstInbox.epochMs);
      burst = {
        messages: bPrepared.count,
        hubPeakBeforeMb,
        ackMessagesPerSecond: round(bPrepared.count / ((burstSent.lastAckEpochMs - burstSent.firstSendEpochMs) / 1000), 0),
        rssMbAt10k: first ? { hub: first.hubMb, workers: first.workersMb } : null,
        rssMbAtEnd: last ? { hub: last.hubMb, workers: last.workersMb } : null,
        rssMbAllDelivered: { hub: allDone.hubMb, workers: allDone.workersMb },
        growth: first && last ? round((last.hubMb + last.workersMb) / (first.hubMb + first.workersMb), 3) : null,
      };
      say(`burst: RSS by ACKs ${milestones.map((m) => `${m.acked / 1000}k ${m.hubMb}+${m.workersMb} MB`).join(', ')}`);
      failures.push(...burstFailures);
    }

    // Load generator and hub down before the baseline, so the baseline has the machine to itself.
    const stopHub = cleanup.find((c) => c.name === 'stop hub');
    await generator.stop();
    await hub.stop();
    if (stopHub) cleanup.splice(cleanup.indexOf(stopHub), 1);

    // --- Phase 5: bare BullMQ baseline, same Redis.
    say('bare BullMQ baseline…');
    cleanup.unshift({ name: `delete Redis keys ${baselinePrefix}:*`, run: () => deleteRedisKeys(settings.redisUrl, baselinePrefix) });
    const baseline = await bareBullmq(settings.redisUrl, baselinePrefix, settings.messages, deadline);
    const ratio = storkRate / baseline.jobsPerSecond;

    // --- Verdict: only correctness fails the run.
    failures.push(...ackFailures('serial', serial), ...ackFailures('throughput', sent), ...ackFailures('latency', paced));
    if (serialFigures.inboxItems !== sPrepared.count)
      failures.push(`serial phase: ${serialFigures.inboxItems} inbox items for ${sPrepared.count} messages`);
    if (figures.inboxItems !== settings.messages)
      failures.push(`throughput phase: ${figures.inboxItems} inbox items for ${settings.messages} messages`);
    if (latencyFigures.inboxItems !== lPrepared.count)
      failures.push(`latency phase: ${latencyFigures.inboxItems} inbox items for ${lPrepared.count} messages`);
    const unexpectedInboxes = Object.keys(figures.byInbox).filter(
      (q) => !['east-end-park', 'richmond-hill', 'osmondthorpe', 'harehills'].includes(q),
    );
    if (unexpectedInboxes.length > 0) say(`note: some notifications went to non-centre inboxes: ${unexpectedInboxes.join(', ')}`);

    rss.stop();
    return {
      at,
      loadAverageAtStart: loadAtStart.map((l) => round(l)),
      workerConcurrency: env.workerConcurrency,
      failures,
      figures: {
        serial: {
          messages: settings.serialMessages,
          messagesPerSecond: round(serialRate, 0),
          ackMs: mapDist(serialAck),
          endToEndMs: mapDist(serialFigures.e2eMs),
          floor,
          ratio: round(serialRatio, 3),
        },
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
          inboxItemsByInbox: figures.byInbox,
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
        burst,
        fhir,
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

/**
 * CPU per birth: runs bench:stages (stage-costs.js, beside this file) once and reads what it wrote. Its figures do not
 * depend on how the stages share the machine, so one run is enough. null if it fails (the report says so).
 */
async function stageCosts(): Promise<StageCosts | null> {
  const script = fileURLToPath(new URL('./stage-costs.js', import.meta.url));
  // The settings of the recorded reference (a few seconds, so --short uses them too).
  const args = ['--messages', '5000', '--batch', '100'];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('exit', (c) => resolve(c ?? 1));
    child.once('error', () => resolve(1));
  });
  if (code !== 0) return null;
  return JSON.parse(readFileSync(path.join(repoRoot, '.stork-bench', 'stage-costs.json'), 'utf8')) as StageCosts;
}

// ---------------------------------------------------------------------------------------------------
// Main: the repetitions, the median of each figure, the report

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
    `serial ${settings.serialMessages}; ${settings.messages} messages, ${settings.connections} connections, latency phase ${settings.rate}/s for ${round(settings.latencySeconds, 2)} s; FHIR ${settings.fhirMessages}; burst ${settings.burstMessages}${repeated ? `; ${settings.repeat} runs` : ''}`,
  );
  const runs: Awaited<ReturnType<typeof runOnce>>[] = [];
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
  log('CPU per birth (bench:stages)…');
  const stages = await stageCosts();

  // medianOf keeps the shape of what it is given: the runs' figures.
  const medians = medianOf(runs.map((r) => r.figures as unknown as Parameters<typeof medianOf>[0][number])) as unknown as RunFigures;
  const failures = runs.flatMap((r, i) => r.failures.map((f) => (repeated ? `run ${i + 1}: ${f}` : f)));
  if (stages === null) failures.push('bench:stages (stage-costs.js) failed');
  const result = {
    at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '',
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadAverageAtStart: loadAtStart.map((l) => round(l)),
      loadAverageAtEnd: os.loadavg().map((l) => round(l)),
    },
    settings: {
      messages: settings.messages,
      connections: settings.connections,
      rate: settings.rate,
      serialMessages: settings.serialMessages,
      burstMessages: settings.burstMessages,
      fhirMessages: settings.fhirMessages,
      fhirConnections: FHIR_CONNECTIONS,
      repeat: settings.repeat,
      short: settings.short,
      inFlightPerConnection: settings.inFlightPerConnection,
      workerConcurrency: runs[0]?.workerConcurrency,
      workerProcesses: settings.workerProcesses,
      loadGenerator: 'child process',
    },
    // The figures: the run's own, or with --repeat N > 1 the median of each across the runs (listed in `runs`).
    ...medians,
    stages,
    targets: TARGETS,
    runs: runs.map((r) => ({ at: r.at, loadAverageAtStart: r.loadAverageAtStart, ...r.figures, failures: r.failures })),
    failures,
  };
  if (repeated) process.stdout.write(`\n${runs.map((r, i) => runLine(`run ${i + 1}/${settings.repeat}`, r.figures)).join('\n')}\n`);
  printReport({ settings, figures: medians, stages }, repeated ? `median of ${settings.repeat} runs` : '');
  const outDir = path.join(repoRoot, '.stork-bench');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'last-run.json'), JSON.stringify(result, null, 2) + '\n');
  log(`results written to ${path.relative(process.cwd(), path.join(outDir, 'last-run.json')) || path.join(outDir, 'last-run.json')}`);
  for (const f of failures) log(`FAILED: ${f}`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
