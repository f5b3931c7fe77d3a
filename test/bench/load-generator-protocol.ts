/**
 * What the bench (run-bench.ts) and its load generator (load-generator.ts, a child process started with
 * `child_process.fork` and `serialization: 'advanced'`) say to each other over IPC, with the guards each
 * side uses on what it receives. The deadline helpers are shared too: the generator checks the run's deadline
 * (sent as an epoch) exactly as the bench does.
 *
 *   parent → child: prepare (generate the phase's messages, open the connections; not timed)
 *   child → parent: prepared
 *   parent → child: run (send them; timed)
 *   child → parent: result
 *   parent → child: stop (close the connections and exit)
 *
 * The child says `ready` once it listens, and `failed` instead of `prepared`/`result` when a step fails.
 */

export class DeadlineError extends Error {}

/** The run's one deadline: every wait checks it, so a stuck pipeline fails the run instead of hanging. */
export class Deadline {
  readonly at: number;
  constructor(ms: number, now = Date.now()) {
    this.at = now + ms;
  }
  static atEpoch(epochMs: number): Deadline {
    return new Deadline(0, epochMs);
  }
  check(what: string): void {
    if (Date.now() > this.at) throw new DeadlineError(`deadline passed while ${what}`);
  }
}

/**
 * `fast`: every message as fast as the hub ACKs them, at most `inFlightPerConnection` unacknowledged per connection, over the
 * first `connections` of the open connections (all when absent: a serial sender is `connections: 1, inFlightPerConnection: 1`);
 * `rate`: offered at `rate` per second.
 */
export type SendMode = { kind: 'fast'; inFlightPerConnection: number; connections?: number } | { kind: 'rate'; rate: number };

/** ResultReply.ackMilestonesEpochMs: the epoch of every this-many-th settled message (for RSS at 10k, 20k, …). */
export const ACK_MILESTONE_EVERY = 10_000;

export interface PrepareCommand {
  type: 'prepare';
  /** For messages (`phase …`) only. */
  phase: string;
  host: string;
  port: number;
  /** Connections opened by the first prepare and kept for later phases (a later prepare must ask for the same). */
  connections: number;
  /** First seed to try; seeds whose synthetic baby NHS number the generator has already used (in any phase) are skipped. */
  seedStart: number;
  count: number;
  controlIdPrefix: string;
  mode: SendMode;
  /** Epoch ms of the run's deadline. */
  deadlineAt: number;
  /**
   * FHIR mode: the phase's messages are FHIR R4 birth message Bundles posted to `POST /v1/fhir/$process-message` on this
   * HTTP port with this bearer key, over `mode.connections` keep-alive connections of their own (one request in flight
   * on each, as HTTP/1.1 allows); `host`, `port` and `connections` still name the MLLP connections kept for later phases.
   * A result's `codes` are then the HTTP statuses (`HTTP 200`, …).
   */
  fhir?: { httpPort: number; apiKey: string };
}

export interface RunCommand {
  type: 'run';
}

export interface StopCommand {
  type: 'stop';
}

export type GeneratorCommand = PrepareCommand | RunCommand | StopCommand;

export interface ReadyReply {
  type: 'ready';
}

export interface PreparedReply {
  type: 'prepared';
  count: number;
  /** The seed after the last one tried: the next phase's `seedStart`. */
  nextSeed: number;
  generateMs: number;
}

export interface ResultReply {
  type: 'result';
  /** ACK latency of message i (send → ACK or failure), in ms. */
  latenciesMs: Float64Array;
  /** MSA-1 of the ACKs ('(none)' when an ACK had none). */
  codes: Record<string, number>;
  /** Sends that failed, by MllpClientError code (or message). */
  errors: Record<string, number>;
  firstSendEpochMs: number;
  lastAckEpochMs: number;
  /** Epoch ms at which the ACK_MILESTONE_EVERY-th, 2×-th, … message settled (ACK or failure). */
  ackMilestonesEpochMs: number[];
  /** `rate` mode only. */
  achievedRate: number | null;
  /** `rate` mode only: the most a due message waited for its timer tick. */
  maxLagMs: number | null;
  /** The generator's own CPU (process.cpuUsage) from the first send to the last ACK, in µs. */
  cpuUserMicros: number;
  cpuSystemMicros: number;
}

export interface FailedReply {
  type: 'failed';
  message: string;
  deadline: boolean;
}

export type GeneratorReply = ReadyReply | PreparedReply | ResultReply | FailedReply;

// ---------------------------------------------------------------------------------------------------
// Guards: what crosses the IPC channel is checked, not cast.

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const isNum = (x: unknown): x is number => typeof x === 'number';
const isPosInt = (x: unknown): x is number => Number.isInteger(x) && (x as number) > 0;

function isCounts(x: unknown): x is Record<string, number> {
  return isRecord(x) && Object.values(x).every(isNum);
}

function isSendMode(x: unknown): x is SendMode {
  if (!isRecord(x)) return false;
  if (x.kind === 'fast') return isPosInt(x.inFlightPerConnection) && (x.connections === undefined || isPosInt(x.connections));
  if (x.kind === 'rate') return isNum(x.rate) && x.rate > 0;
  return false;
}

export function isGeneratorCommand(x: unknown): x is GeneratorCommand {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'run':
    case 'stop':
      return true;
    case 'prepare':
      return (
        typeof x.phase === 'string' &&
        typeof x.host === 'string' &&
        isPosInt(x.port) &&
        isPosInt(x.connections) &&
        Number.isInteger(x.seedStart) &&
        Number.isInteger(x.count) &&
        (x.count as number) >= 0 &&
        (x.fhir === undefined || (isRecord(x.fhir) && isPosInt(x.fhir.httpPort) && typeof x.fhir.apiKey === 'string')) &&
        typeof x.controlIdPrefix === 'string' &&
        isSendMode(x.mode) &&
        isNum(x.deadlineAt)
      );
    default:
      return false;
  }
}

export function isGeneratorReply(x: unknown): x is GeneratorReply {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'ready':
      return true;
    case 'prepared':
      return isNum(x.count) && isNum(x.nextSeed) && isNum(x.generateMs);
    case 'result':
      return (
        x.latenciesMs instanceof Float64Array &&
        isCounts(x.codes) &&
        isCounts(x.errors) &&
        isNum(x.firstSendEpochMs) &&
        isNum(x.lastAckEpochMs) &&
        Array.isArray(x.ackMilestonesEpochMs) &&
        (x.ackMilestonesEpochMs as unknown[]).every(isNum) &&
        (x.achievedRate === null || isNum(x.achievedRate)) &&
        (x.maxLagMs === null || isNum(x.maxLagMs)) &&
        isNum(x.cpuUserMicros) &&
        isNum(x.cpuSystemMicros)
      );
    case 'failed':
      return typeof x.message === 'string' && typeof x.deadline === 'boolean';
    default:
      return false;
  }
}
