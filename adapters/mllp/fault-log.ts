import type { Logger } from '../../src/logger.js';

/** What can go wrong on an MLLP connection that is worth an operator's attention, but not a line per byte. */
export type MllpFault =
  /** A new frame (VT) started before the last one ended: the unfinished one was never acknowledged. */
  | 'abandoned-frame'
  /** Bytes that were not inside any frame (noise, or a sender that does not frame). */
  | 'bytes-outside-frames'
  /** The connection closed in the middle of a frame. */
  | 'unfinished-frame'
  /** Connections closed by the hub: a frame did not end within the frame deadline (a sender trickling bytes). */
  | 'frame-timeout'
  /** Connections closed by the hub: unfinished frames passed the buffered-bytes budget, and they held a partial frame longest. */
  | 'shed'
  /** Connections refused: over the total connection limit. */
  | 'refused-total'
  /** Connections refused: over the limit per source address. */
  | 'refused-per-address'
  /** TLS handshakes that failed (no client certificate, one the CA did not issue, a protocol error, a timeout). */
  | 'tls-refused';

const MESSAGES: Readonly<Record<MllpFault, string>> = {
  'abandoned-frame': 'mllp frames abandoned: a new frame started before they ended',
  'bytes-outside-frames': 'mllp bytes outside frames were ignored',
  'unfinished-frame': 'mllp connection closed in the middle of a frame',
  'frame-timeout': 'mllp connection closed: a frame did not end within the frame deadline',
  shed: 'mllp connections closed: unfinished frames passed the buffered-bytes budget, and they held a partial frame longest',
  'refused-total': 'mllp connections refused: over the connection limit',
  'refused-per-address': 'mllp connections refused: over the connection limit per source address',
  'tls-refused': 'mllp tls handshakes refused (no client certificate, an untrusted one, or a protocol error)',
};

export interface FaultLogOptions {
  /** At most one line per connection and kind of fault in this time (the first comes at once). */
  intervalMs: number;
  /** At most this many fault lines in all per interval; the rest are counted and summarised in one line. */
  maxLinesPerInterval: number;
  now?: () => number;
}

interface Tally {
  count: number;
  bytes: number;
  /** Not yet in a log line. */
  pendingCount: number;
  pendingBytes: number;
  lastLineAt?: number;
}

/**
 * Logs MLLP faults per connection and per kind, with counts, never per byte: the first occurrence of a
 * kind on a connection is logged at once, later ones are added up and logged at most once per interval,
 * and what is left when the connection closes is logged then. Over all connections, at most
 * `maxLinesPerInterval` lines are written per interval; past that, lines are dropped and one line per
 * interval says how many were dropped and what they counted. So the log grows with time, not with input.
 */
export class FaultLog {
  private readonly now: () => number;
  private windowStart: number;
  private linesInWindow = 0;
  private suppressedLines = 0;
  private readonly suppressedCounts = new Map<MllpFault, number>();
  private summaryTimer: NodeJS.Timeout | undefined;
  /** Faults that belong to no one connection (refusals). */
  readonly listener: ConnectionFaults;

  constructor(
    private readonly logger: Logger,
    private readonly options: FaultLogOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.windowStart = this.now();
    this.listener = new ConnectionFaults(this, {});
  }

  /** The fault tally of one connection; `context` (ids, port, address: no message content) goes on each line. */
  connection(context: Record<string, unknown>): ConnectionFaults {
    return new ConnectionFaults(this, context);
  }

  get intervalMs(): number {
    return this.options.intervalMs;
  }

  clock(): number {
    return this.now();
  }

  /** Writes one line if the listener-wide budget allows; false when it was dropped (and counted in the summary). */
  write(fault: MllpFault, fields: Record<string, unknown>): boolean {
    this.roll();
    if (this.linesInWindow >= this.options.maxLinesPerInterval) {
      this.suppressedLines++;
      this.suppressedCounts.set(fault, (this.suppressedCounts.get(fault) ?? 0) + ((fields.count as number | undefined) ?? 0));
      if (this.summaryTimer === undefined) {
        const wait = Math.max(0, this.windowStart + this.options.intervalMs - this.now());
        this.summaryTimer = setTimeout(() => {
          this.summaryTimer = undefined;
          this.roll();
        }, wait);
        this.summaryTimer.unref();
      }
      return false;
    }
    this.linesInWindow++;
    this.logger.warn({ fault, ...fields }, MESSAGES[fault]);
    return true;
  }

  /** Writes the summary of dropped lines, if any (listener close). */
  close(): void {
    if (this.summaryTimer !== undefined) clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    this.listener.close();
    this.summarise();
  }

  private roll(): void {
    const now = this.now();
    if (now - this.windowStart < this.options.intervalMs) return;
    this.summarise();
    this.windowStart = now;
    this.linesInWindow = 0;
  }

  private summarise(): void {
    if (this.suppressedLines === 0) return;
    this.logger.warn(
      { suppressedLines: this.suppressedLines, counts: Object.fromEntries(this.suppressedCounts), intervalMs: this.options.intervalMs },
      'mllp fault lines dropped: over the fault log rate limit',
    );
    this.suppressedLines = 0;
    this.suppressedCounts.clear();
  }
}

/** One connection's (or the listener's) tally of faults by kind. */
export class ConnectionFaults {
  private readonly tallies = new Map<MllpFault, Tally>();

  constructor(
    private readonly log: FaultLog,
    private readonly context: Record<string, unknown>,
  ) {}

  /** Counts `count` faults of a kind (and the bytes they concerned), logging when the rate limit allows. */
  note(fault: MllpFault, count = 1, bytes = 0, extra: Record<string, unknown> = {}): void {
    if (count <= 0) return;
    let t = this.tallies.get(fault);
    if (t === undefined) {
      t = { count: 0, bytes: 0, pendingCount: 0, pendingBytes: 0 };
      this.tallies.set(fault, t);
    }
    t.count += count;
    t.bytes += bytes;
    t.pendingCount += count;
    t.pendingBytes += bytes;
    if (t.lastLineAt === undefined || this.log.clock() - t.lastLineAt >= this.log.intervalMs) this.report(fault, t, extra);
  }

  /** Total counted so far of one kind. */
  count(fault: MllpFault): number {
    return this.tallies.get(fault)?.count ?? 0;
  }

  /** Logs what was counted and not yet logged (the connection closed). */
  close(): void {
    for (const [fault, t] of this.tallies) if (t.pendingCount > 0) this.report(fault, t, { final: true });
  }

  private report(fault: MllpFault, t: Tally, extra: Record<string, unknown>): void {
    // Written or dropped, these counts are accounted for: in this line, or in the summary of dropped lines.
    this.log.write(fault, {
      ...this.context,
      count: t.pendingCount,
      ...(t.pendingBytes > 0 ? { bytes: t.pendingBytes } : {}),
      totalCount: t.count,
      ...extra,
    });
    t.lastLineAt = this.log.clock();
    t.pendingCount = 0;
    t.pendingBytes = 0;
  }
}
