/**
 * The bench's MLLP load generator, in its own process so that its CPU and event-loop time are not counted
 * as the hub's (ACK latency, CPU per message). run-bench.ts starts it with `child_process.fork` and drives
 * it over IPC, one prepare/run pair per phase (see load-generator-protocol.ts). The process lives for the
 * whole run, so it owns the set of baby NHS numbers used: every message of every phase is a distinct birth.
 *
 * A FHIR phase (PrepareCommand.fhir) posts FHIR R4 birth message Bundles to the hub's `$process-message` over HTTP
 * keep-alive connections of its own instead.
 *
 * Not meant to be run by hand; it exits when its parent goes away (the IPC channel closes).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { generateNewborns } from './bench-messages.js';
import { generateFhirBirths } from './bench-fhir-messages.js';
import { defined } from '../support/defined.js';
import {
  ACK_MILESTONE_EVERY,
  Deadline,
  DeadlineError,
  isGeneratorCommand,
  type GeneratorReply,
  type PrepareCommand,
  type ResultReply,
  type SendMode,
} from './load-generator-protocol.js';

/** MSA-1 of an ACK (AA, CA, AE, …), '' when there is none. */
function ackCode(ack: string): string {
  const fs = ack.charAt(3) || '|';
  const segment = ack.split(/\r\n|\r|\n/).find((s) => s.startsWith(`MSA${fs}`));
  return segment?.split(fs)[1] ?? '';
}

function errorKey(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------
// Sending

interface SendStats {
  latenciesMs: Float64Array;
  codes: Map<string, number>;
  errors: Map<string, number>;
  firstSendEpochMs: number;
  lastAckEpochMs: number;
  ackMilestonesEpochMs: number[];
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
  const milestones: number[] = [];
  const firstSendEpochMs = Date.now();
  await new Promise<void>((resolve, reject) => {
    const watchdog = setInterval(() => {
      try {
        deadline.check('sending the throughput phase');
      } catch (err) {
        clearInterval(watchdog);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    }, 250);
    const pump = (client: MllpClient): void => {
      while (client.inFlight < cap && next < messages.length) {
        const i = next++;
        const t0 = performance.now();
        client.send(defined(messages[i], `message ${i}`)).then(
          (ack) => {
            latencies[i] = performance.now() - t0;
            tally(codes, ackCode(ack) || '(none)');
            done(client);
          },
          (err: unknown) => {
            latencies[i] = performance.now() - t0;
            tally(errors, errorKey(err));
            done(client);
          },
        );
      }
    };
    const done = (client: MllpClient): void => {
      settled++;
      if (settled % ACK_MILESTONE_EVERY === 0) milestones.push(Date.now());
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
  return { latenciesMs: latencies, codes, errors, firstSendEpochMs, lastAckEpochMs: Date.now(), ackMilestonesEpochMs: milestones };
}

/**
 * Offers messages at a fixed rate: a 1 ms timer sends every message due by now (catching up if a tick was
 * late), round robin over the connections, so latency is measured at the offered load and not at saturation.
 */
async function sendAtRate(
  clients: MllpClient[],
  messages: Buffer[],
  rate: number,
  deadline: Deadline,
): Promise<SendStats & { achievedRate: number; maxLagMs: number }> {
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
    if (messages.length === 0) {
      resolve();
      return;
    }
    const tick = (): void => {
      try {
        deadline.check('sending the latency phase');
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const now = performance.now();
      const due = Math.min(messages.length, Math.floor(((now - start) * rate) / 1000) + 1);
      if (due > sent) maxLagMs = Math.max(maxLagMs, now - (start + (sent * 1000) / rate));
      while (sent < due) {
        const i = sent++;
        const client = defined(clients[i % clients.length], 'a client');
        const t0 = performance.now();
        client.send(defined(messages[i], `message ${i}`)).then(
          (ack) => {
            latencies[i] = performance.now() - t0;
            tally(codes, ackCode(ack) || '(none)');
            if (++settled === messages.length) resolve();
          },
          (err: unknown) => {
            latencies[i] = performance.now() - t0;
            tally(errors, errorKey(err));
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
  return {
    latenciesMs: latencies,
    codes,
    errors,
    firstSendEpochMs,
    lastAckEpochMs: Date.now(),
    ackMilestonesEpochMs: [],
    achievedRate: elapsed > 0 ? (messages.length - 1) / elapsed : Number.NaN,
    maxLagMs,
  };
}

/** One POST of a FHIR message Bundle; resolves with the HTTP status once the whole answer is read. */
function postFhir(agent: http.Agent, target: { host: string; port: number; apiKey: string }, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.host,
        port: target.port,
        path: '/v1/fhir/$process-message',
        method: 'POST',
        agent,
        timeout: 60_000,
        headers: {
          'content-type': 'application/fhir+json',
          accept: 'application/fhir+json',
          authorization: `Bearer ${target.apiKey}`,
          'content-length': body.length,
        },
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('ETIMEDOUT')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Posts every FHIR message as fast as the hub answers them: `connections` keep-alive connections (an Agent with that
 * many sockets), one request in flight on each (HTTP/1.1 has no pipelining), each connection taking the next message
 * as soon as its answer is in. Codes are `HTTP <status>`.
 */
async function sendFhirOverHttp(
  target: { host: string; port: number; apiKey: string },
  messages: Buffer[],
  connections: number,
  deadline: Deadline,
): Promise<SendStats> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const latencies = new Float64Array(messages.length);
  const codes = new Map<string, number>();
  const errors = new Map<string, number>();
  const milestones: number[] = [];
  let next = 0;
  let settled = 0;
  const firstSendEpochMs = Date.now();
  const lane = async (): Promise<void> => {
    while (next < messages.length) {
      if (next % 100 === 0) deadline.check('sending the FHIR phase');
      const i = next++;
      const t0 = performance.now();
      try {
        tally(codes, `HTTP ${await postFhir(agent, target, defined(messages[i], `message ${i}`))}`);
      } catch (err) {
        tally(errors, errorKey(err));
      }
      latencies[i] = performance.now() - t0;
      if (++settled % ACK_MILESTONE_EVERY === 0) milestones.push(Date.now());
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(connections, messages.length) }, lane));
  } finally {
    agent.destroy();
  }
  return { latenciesMs: latencies, codes, errors, firstSendEpochMs, lastAckEpochMs: Date.now(), ackMilestonesEpochMs: milestones };
}

// ---------------------------------------------------------------------------------------------------
// The process: state kept across phases, one command at a time.

const usedNhs = new Set<string>();
let clients: MllpClient[] = [];
let connectedTo = '';
let prepared: { messages: Buffer[]; mode: SendMode; deadline: Deadline; fhir?: { host: string; port: number; apiKey: string } } | undefined;
let busy = false;

function reply(message: GeneratorReply): void {
  process.send?.(message);
}

function fail(err: unknown): void {
  const deadline = err instanceof DeadlineError;
  reply({ type: 'failed', message: err instanceof Error ? (deadline ? err.message : (err.stack ?? err.message)) : String(err), deadline });
}

let reconnect: () => Promise<MllpClient> = () => Promise.reject(new Error('reconnect before the first connection'));

async function prepare(cmd: PrepareCommand): Promise<void> {
  const deadline = Deadline.atEpoch(cmd.deadlineAt);
  const where = `${cmd.host}:${cmd.port} ×${cmd.connections}`;
  if (clients.length === 0) {
    reconnect = () => MllpClient.connect({ host: cmd.host, port: cmd.port, timeoutMs: 60_000 });
    clients = await Promise.all(
      Array.from({ length: cmd.connections }, () => MllpClient.connect({ host: cmd.host, port: cmd.port, timeoutMs: 60_000 })),
    );
    connectedTo = where;
  } else if (connectedTo !== where) {
    throw new Error(`phase ${cmd.phase}: connected to ${connectedTo}, asked for ${where}`);
  }
  deadline.check(`generating the ${cmd.phase} phase`);
  const seed = { value: cmd.seedStart };
  const t0 = performance.now();
  const messages = cmd.fhir
    ? generateFhirBirths(cmd.count, cmd.controlIdPrefix, usedNhs, seed)
    : generateNewborns(cmd.count, cmd.controlIdPrefix, usedNhs, seed);
  prepared = {
    messages,
    mode: cmd.mode,
    deadline,
    ...(cmd.fhir ? { fhir: { host: cmd.host, port: cmd.fhir.httpPort, apiKey: cmd.fhir.apiKey } } : {}),
  };
  reply({ type: 'prepared', count: messages.length, nextSeed: seed.value, generateMs: performance.now() - t0 });
}

async function run(): Promise<void> {
  if (!prepared) throw new Error('run before prepare');
  const { messages, mode, deadline, fhir } = prepared;
  prepared = undefined;
  // As a trust's interface engine does: a connection the hub closed (idle past STORK_MLLP_IDLE_TIMEOUT_MS, which a
  // long FHIR phase on a busy machine can take) is opened again before the next phase sends on it.
  if (!fhir) clients = await Promise.all(clients.map((c) => (c.isOpen ? Promise.resolve(c) : reconnect())));
  const cpu0 = process.cpuUsage();
  if (fhir && mode.kind !== 'fast') throw new Error('a FHIR phase sends as fast as the hub answers (mode fast)');
  const stats: SendStats & { achievedRate?: number; maxLagMs?: number } =
    fhir && mode.kind === 'fast'
      ? await sendFhirOverHttp(fhir, messages, mode.connections ?? 1, deadline)
      : mode.kind === 'fast'
        ? await sendAllAsFastAsPossible(
            clients.slice(0, mode.connections ?? clients.length),
            messages,
            mode.inFlightPerConnection,
            deadline,
          )
        : await sendAtRate(clients, messages, mode.rate, deadline);
  const cpu = process.cpuUsage(cpu0);
  const result: ResultReply = {
    type: 'result',
    latenciesMs: stats.latenciesMs,
    codes: Object.fromEntries(stats.codes),
    errors: Object.fromEntries(stats.errors),
    firstSendEpochMs: stats.firstSendEpochMs,
    lastAckEpochMs: stats.lastAckEpochMs,
    ackMilestonesEpochMs: stats.ackMilestonesEpochMs,
    achievedRate: stats.achievedRate ?? null,
    maxLagMs: stats.maxLagMs ?? null,
    cpuUserMicros: cpu.user,
    cpuSystemMicros: cpu.system,
  };
  reply(result);
}

/** Closes the connections (at once if anything is still in flight) and exits. */
async function stop(code: number): Promise<never> {
  const open = clients;
  clients = [];
  await Promise.all(open.map((c) => (c.inFlight === 0 ? c.close() : c.destroy()))).catch(() => undefined);
  process.exit(code);
}

if (!process.send) {
  process.stderr.write('load-generator: start me with child_process.fork (run-bench.ts does); I take my orders over IPC\n');
  process.exit(2);
}

process.on('message', (message: unknown) => {
  if (!isGeneratorCommand(message)) {
    fail(new Error(`unknown command ${JSON.stringify(message)}`));
    return;
  }
  if (message.type === 'stop') {
    void stop(0);
    return;
  }
  if (busy) {
    fail(new Error(`command ${message.type} while another is running`));
    return;
  }
  busy = true;
  (message.type === 'prepare' ? prepare(message) : run()).then(
    () => (busy = false),
    (err: unknown) => {
      busy = false;
      fail(err);
    },
  );
});

// The parent gone (crashed, killed, exited): no one to report to, so no reason to stay.
process.on('disconnect', () => void stop(1));

reply({ type: 'ready' });
