import net from 'node:net';
import tls from 'node:tls';
import type { PeerCertificate } from '../../src/pipeline/hl7v2/feed-directory.js';
import type { Logger } from '../../src/logger.js';
import type { Hl7v2Intake } from '../../src/intake/hl7v2-intake.js';
import { frame, MllpFramer, type FrameEvent } from './mllp-framer.js';
import { FaultLog, type ConnectionFaults } from './fault-log.js';

export interface MllpListenerOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  /**
   * A frame begun (VT received) must end within this long; otherwise the connection is closed (a slowloris
   * sender keeps the idle timeout from firing by trickling bytes). Default: no deadline.
   */
  frameTimeoutMs?: number;
  /** Messages in flight on one connection before reading pauses (backpressure). */
  maxInFlight?: number;
  /** Connections open at once; more are closed as soon as they are accepted (default: unlimited). */
  maxConnections?: number;
  /** Connections open at once from one source address (default: unlimited). */
  maxConnectionsPerAddress?: number;
  /**
   * Bytes of unfinished frames held across all connections (default: unlimited). Past it, the connections
   * that have held a partial frame longest are closed until the total is back within it. The same budget
   * bounds the bytes of received messages not yet answered: past it, reading pauses until they are.
   */
  maxBufferedBytes?: number;
  /**
   * MLLP over TLS: the server's certificate and key (PEM). With `ca`, every client must present a certificate
   * that CA issued (`requestCert` and `rejectUnauthorized`): its subject CN and fingerprint are the connection's
   * identity, checked against the feed each message names. Absent: plain TCP.
   */
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; handshakeTimeoutMs?: number };
  /** Fault log rate limit: one line per connection and kind per interval (default 60 s)… */
  faultLogIntervalMs?: number;
  /** …and at most this many fault lines in all per interval (default 100). */
  faultLogMaxLines?: number;
}

/** What the listener knows about one open connection. */
interface Connection {
  socket: net.Socket;
  /** Source address without an IPv4-mapped prefix ('' when unknown). */
  address: string;
  framer: MllpFramer;
  faults: ConnectionFaults;
  /** Framer counters already reported. */
  seenAbandoned: number;
  seenAbandonedBytes: number;
  seenSkipped: number;
  /** Bytes of an unfinished frame this connection holds (as last counted in the listener's total). */
  buffered: number;
  /** When its current partial frame started holding bytes, and a sequence number to break ties. */
  partialSince?: { at: number; seq: number };
  inFlight: number;
  inFlightBytes: number;
  tail: Promise<void>;
  /** Closed by the hub over the buffered-bytes budget. */
  shed?: boolean;
  /** The deadline of the frame in progress (frameTimeoutMs). */
  frameDeadline?: NodeJS.Timeout;
  seenAbandonedForDeadline: number;
}

/** The verified client certificate of a TLS connection, if it presented one. */
function peerCertificate(socket: tls.TLSSocket): { certificate?: PeerCertificate } {
  if (!socket.authorized) return {};
  const cert = socket.getPeerCertificate();
  if (!cert.fingerprint256) return {};
  const cn = cert.subject.CN;
  const subjectCN = Array.isArray(cn) ? cn[0] : cn;
  return { certificate: { sha256Fingerprint: cert.fingerprint256, ...(subjectCN !== undefined ? { subjectCN } : {}) } };
}

const plainAddress = (a: string | undefined): string => (a === undefined ? '' : a.startsWith('::ffff:') ? a.slice(7) : a);

/**
 * The MLLP (TCP) listener. Each connection carries many messages; their ACKs go back in the order the
 * messages came, each only after intake has committed it. One bad frame never closes the connection.
 *
 * No sender can exhaust the hub: connections are capped (in all and per source address), the bytes of
 * unfinished frames are capped in all (the connections holding a partial frame longest are closed first),
 * received messages waiting for their ACK hold reading back once they pass the same budget, and framing
 * faults are logged per connection and kind with counts, rate-limited.
 */
export class MllpListener {
  private server: net.Server | undefined;
  private readonly connections = new Map<net.Socket, Connection>();
  private readonly perAddress = new Map<string, number>();
  private readonly paused = new Set<Connection>();
  /** Sockets open now (a closed one may stay in `connections` until its last ACK is settled). */
  private openConnections = 0;
  private bufferedBytes = 0;
  private inFlightBytes = 0;
  private partialSeq = 0;
  private closing = false;
  private readonly faultLog: FaultLog;

  constructor(
    private readonly intake: Hl7v2Intake,
    private readonly options: MllpListenerOptions,
    private readonly logger: Logger,
  ) {
    this.faultLog = new FaultLog(logger, {
      intervalMs: options.faultLogIntervalMs ?? 60_000,
      maxLinesPerInterval: options.faultLogMaxLines ?? 100,
    });
  }

  async start(): Promise<number> {
    const t = this.options.tls;
    const server = t
      ? tls.createServer(
          {
            cert: t.cert,
            key: t.key,
            minVersion: 'TLSv1.2',
            handshakeTimeout: t.handshakeTimeoutMs ?? 10_000,
            ...(t.ca ? { ca: t.ca, requestCert: true, rejectUnauthorized: true } : {}),
          },
          (socket) => this.accept(socket),
        )
      : net.createServer((socket) => this.accept(socket));
    if (t) {
      // Handshakes count against the connection limit too (a flood of half-open handshakes is capped).
      if (this.options.maxConnections !== undefined) server.maxConnections = this.options.maxConnections;
      server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
        this.faultLog.listener.note('tls-refused', 1, 0, { remoteAddress: plainAddress(socket.remoteAddress), code: err.code });
      });
    }
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  /** Stops accepting, lets every connection finish acknowledging what it has received, then closes them. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await Promise.all([...this.connections.values()].map((c) => c.tail));
    for (const socket of this.connections.keys()) socket.end();
    await closed;
    this.faultLog.close();
  }

  private get budget(): number {
    return this.options.maxBufferedBytes ?? Number.POSITIVE_INFINITY;
  }

  private accept(socket: net.Socket): void {
    const address = plainAddress(socket.remoteAddress);
    const connection = { ...(socket instanceof tls.TLSSocket ? peerCertificate(socket) : {}) };
    if (this.openConnections >= (this.options.maxConnections ?? Number.POSITIVE_INFINITY)) {
      this.refuse(socket, 'refused-total', this.options.maxConnections);
      return;
    }
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= (this.options.maxConnectionsPerAddress ?? Number.POSITIVE_INFINITY)) {
      this.refuse(socket, 'refused-per-address', this.options.maxConnectionsPerAddress);
      return;
    }
    this.perAddress.set(address, fromAddress + 1);
    this.openConnections++;
    const context = { remotePort: socket.remotePort, remoteAddress: address };
    const conn: Connection = {
      socket,
      address,
      framer: new MllpFramer(this.options.maxMessageBytes),
      faults: this.faultLog.connection(context),
      seenAbandoned: 0,
      seenAbandonedBytes: 0,
      seenSkipped: 0,
      buffered: 0,
      inFlight: 0,
      inFlightBytes: 0,
      tail: Promise.resolve(),
      seenAbandonedForDeadline: 0,
    };
    this.connections.set(socket, conn);
    const remoteAddress = socket.remoteAddress;
    this.logger.debug(context, 'mllp connection opened');
    socket.setNoDelay(true);
    socket.setTimeout(this.options.idleTimeoutMs, () => {
      this.logger.info({ ...context, idleMs: this.options.idleTimeoutMs }, 'mllp connection idle: closing');
      socket.end();
    });
    // A group commit answers many messages of a connection at once: their ACKs go out in one write
    // (cork, then uncork once this turn's ACKs are written) instead of one system call each.
    let corked = false;
    const writeAck = (bytes: Buffer): void => {
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(() => {
          corked = false;
          socket.uncork();
        });
      }
      socket.write(bytes);
    };
    const handle = (event: FrameEvent): void => {
      if (this.closing) return;
      const bytes = event.kind === 'message' ? event.bytes : event.head;
      conn.inFlight++;
      conn.inFlightBytes += bytes.length;
      this.inFlightBytes += bytes.length;
      if (this.overloaded(conn) && !socket.isPaused()) {
        socket.pause();
        this.paused.add(conn);
      }
      const inbound =
        event.kind === 'message'
          ? { bytes: event.bytes, channel: 'mllp' as const, connection, ...(remoteAddress ? { remoteAddress } : {}) }
          : {
              bytes: event.head,
              channel: 'mllp' as const,
              connection,
              oversize: { sizeBytes: event.sizeBytes, limitBytes: this.options.maxMessageBytes },
              ...(remoteAddress ? { remoteAddress } : {}),
            };
      const result = this.intake.receive(inbound);
      conn.tail = conn.tail.then(async () => {
        try {
          const r = await result;
          if (r.ack !== undefined && !socket.destroyed) writeAck(frame(r.ack));
        } catch (err) {
          this.logger.error({ err }, 'mllp intake failed unexpectedly');
        } finally {
          conn.inFlight--;
          conn.inFlightBytes -= bytes.length;
          this.inFlightBytes -= bytes.length;
          this.resumePaused();
        }
      });
    };
    const frameTimeoutMs = this.options.frameTimeoutMs;
    const frameDeadline = (framesEnded: boolean): void => {
      if (frameTimeoutMs === undefined) return;
      // A frame ended: the next one (if it began in this chunk) gets a deadline of its own.
      if (framesEnded || !conn.framer.inPartialFrame) {
        clearTimeout(conn.frameDeadline);
        conn.frameDeadline = undefined;
      }
      if (!conn.framer.inPartialFrame || conn.frameDeadline !== undefined) return;
      conn.frameDeadline = setTimeout(() => {
        conn.frameDeadline = undefined;
        if (socket.destroyed || !conn.framer.inPartialFrame) return;
        conn.faults.note('frame-timeout', 1, conn.framer.partialFrameBytes, { frameTimeoutMs });
        conn.shed = true; // its unfinished frame is this fault, not also an 'unfinished-frame'
        socket.destroy();
      }, frameTimeoutMs);
      conn.frameDeadline.unref();
    };
    socket.on('data', (chunk: Buffer) => {
      const events = conn.framer.push(chunk);
      this.account(conn, events.length > 0);
      frameDeadline(events.length > 0 || conn.framer.abandonedFrames !== conn.seenAbandonedForDeadline);
      conn.seenAbandonedForDeadline = conn.framer.abandonedFrames;
      for (const event of events) handle(event);
      if (this.bufferedBytes > this.budget) this.shed();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.logger.debug({ ...context, code: err.code }, 'mllp socket error'));
    socket.on('close', () => {
      clearTimeout(conn.frameDeadline);
      const left = conn.framer.partialFrameBytes;
      if (conn.framer.inPartialFrame && !conn.shed) conn.faults.note('unfinished-frame', 1, left);
      conn.faults.close();
      this.bufferedBytes -= conn.buffered;
      conn.buffered = 0;
      conn.partialSince = undefined;
      this.paused.delete(conn);
      this.openConnections--;
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n > 0) this.perAddress.set(address, n);
      else this.perAddress.delete(address);
      void conn.tail.then(() => this.connections.delete(socket));
      this.logger.debug(context, 'mllp connection closed');
    });
  }

  /** Closes a connection over a limit at once; the refusals are counted and logged, rate-limited. */
  private refuse(socket: net.Socket, fault: 'refused-total' | 'refused-per-address', limit: number | undefined): void {
    socket.on('error', () => undefined);
    socket.destroy();
    this.faultLog.listener.note(fault, 1, 0, { limit });
  }

  /** Takes the framer's counters into the fault log and its buffered bytes into the listener's total. */
  private account(conn: Connection, framesEnded: boolean): void {
    const f = conn.framer;
    conn.faults.note('abandoned-frame', f.abandonedFrames - conn.seenAbandoned, f.abandonedBytes - conn.seenAbandonedBytes);
    conn.faults.note('bytes-outside-frames', f.skippedBytes - conn.seenSkipped);
    const abandoned = f.abandonedFrames !== conn.seenAbandoned;
    conn.seenAbandoned = f.abandonedFrames;
    conn.seenAbandonedBytes = f.abandonedBytes;
    conn.seenSkipped = f.skippedBytes;
    const now = f.bufferedBytes;
    this.bufferedBytes += now - conn.buffered;
    conn.buffered = now;
    if (now === 0) conn.partialSince = undefined;
    else if (conn.partialSince === undefined || framesEnded || abandoned)
      conn.partialSince = { at: performance.now(), seq: this.partialSeq++ };
  }

  /** Over the budget: closes the connections that have held a partial frame longest until the total fits. */
  private shed(): void {
    const holding = [...this.connections.values()]
      .filter((c) => c.partialSince !== undefined && c.buffered > 0 && !c.socket.destroyed)
      .sort((a, b) => (a.partialSince?.seq ?? 0) - (b.partialSince?.seq ?? 0));
    const now = performance.now();
    for (const c of holding) {
      if (this.bufferedBytes <= this.budget) break;
      const heldMs = Math.round(now - (c.partialSince?.at ?? now));
      // Counted for the listener, not the connection: a flood of partial frames gives one line per interval.
      this.faultLog.listener.note('shed', 1, c.framer.partialFrameBytes, {
        remotePort: c.socket.remotePort,
        remoteAddress: c.address,
        heldMs,
        budgetBytes: this.budget,
      });
      c.shed = true;
      // Its bytes leave the total now, so one pass closes just enough connections.
      this.bufferedBytes -= c.buffered;
      c.buffered = 0;
      c.partialSince = undefined;
      c.socket.destroy();
    }
  }

  /**
   * Whether reading from a connection must wait for ACKs: too many of its messages, or too many of their
   * bytes (four of the largest), are waiting, or the listener's waiting bytes are over the budget.
   */
  private overloaded(c: Connection): boolean {
    return (
      c.inFlight >= (this.options.maxInFlight ?? 512) ||
      c.inFlightBytes >= 4 * this.options.maxMessageBytes ||
      this.inFlightBytes >= this.budget
    );
  }

  /** Resumes the connections paused for backpressure once neither they nor the listener are over their limits. */
  private resumePaused(): void {
    if (this.closing || this.paused.size === 0) return;
    for (const c of this.paused) {
      if (this.overloaded(c)) continue;
      this.paused.delete(c);
      if (!c.socket.destroyed) c.socket.resume();
    }
  }
}
