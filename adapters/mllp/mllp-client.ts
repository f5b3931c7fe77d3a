import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { frame, MllpFramer, type FrameEvent } from './mllp-framer.js';

/** Where to connect, and how long to wait for the connection and for each message's ACK. */
export interface MllpClientOptions {
  host: string;
  port: number;
  /** Connect timeout, and the per-message wait for its ACK, in milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Largest ACK frame accepted, in bytes (default 1 MiB); a longer one is cut and still settles its message. */
  maxAckBytes?: number;
}

/** Why a send or connect failed: `connect` (could not connect), `timeout` (no ACK in time), `closed` (connection ended or failed), `no-ack` (the peer acknowledged a later message instead). */
export type MllpClientErrorCode = 'connect' | 'timeout' | 'closed' | 'no-ack';

/** The error every MllpClient promise rejects with; `cause` holds the socket error, if any. */
export class MllpClientError extends Error {
  override readonly name = 'MllpClientError';
  constructor(
    readonly code: MllpClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Pending {
  /** MSH-10 of the message sent; '' when it could not be read. */
  controlId: string;
  deadline: number;
  resolve(ack: string): void;
  reject(err: MllpClientError): void;
}

/** Late ACKs of timed-out messages are recognised by control id; how many ids to remember. */
const MAX_EXPIRED_IDS = 1024;

/**
 * An MLLP client on one TCP connection. `send` may be called many times without waiting: the messages
 * are pipelined and the ACKs, which an MLLP peer returns in order, settle a FIFO of pending sends.
 * Each ACK's MSA-2 is checked against the head's MSH-10 so that an ACK arriving after its message timed
 * out (or a message the peer chose not to acknowledge) never settles the wrong send. One data listener
 * and one timer serve every message. The client only reads ACKs: it never acknowledges them.
 */
export class MllpClient {
  private readonly pending: Pending[] = [];
  /** Index of the first live entry in `pending` (entries before it are settled; compacted in batches). */
  private head = 0;
  private readonly expiredIds = new Set<string>();
  private readonly framer: MllpFramer;
  private timer: NodeJS.Timeout | undefined;
  private corked = false;
  private failure: MllpClientError | undefined;
  private readonly closed: Promise<void>;
  private idleWaiters: (() => void)[] = [];

  private constructor(
    private readonly socket: net.Socket,
    private readonly timeoutMs: number,
    maxAckBytes: number,
  ) {
    this.framer = new MllpFramer(maxAckBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const event of this.framer.push(chunk)) this.onFrame(event);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.failure ??= new MllpClientError('closed', `MLLP connection failed (${err.code ?? err.message})`, { cause: err });
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.failure ??= new MllpClientError('closed', 'MLLP connection closed before the ACK arrived');
        this.rejectAll(this.failure);
        resolve();
      }),
    );
  }

  /** Opens a connection; rejects with code `connect` (the socket error as `cause`) if it cannot within `timeoutMs`. */
  static connect(options: MllpClientOptions): Promise<MllpClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const where = `${options.host}:${options.port}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port });
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        const code = (err as NodeJS.ErrnoException).code;
        reject(new MllpClientError('connect', `could not connect to ${where} (${code ?? err.message})`, { cause: err }));
      };
      const timer = setTimeout(() => fail(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve(new MllpClient(socket, timeoutMs, options.maxAckBytes ?? 1024 * 1024));
      });
    });
  }

  /** Messages sent and not yet settled. */
  get inFlight(): number {
    return this.pending.length - this.head;
  }

  /**
   * Frames and sends one message; resolves with the text of its ACK. Rejects with code `timeout` if no
   * ACK comes within `timeoutMs`, `closed` if the connection ends first, `no-ack` if the peer acknowledged
   * a later message instead of this one.
   */
  send(message: string | Buffer): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.socket.destroyed || this.socket.writableEnded) {
      return Promise.reject(new MllpClientError('closed', 'the MLLP client is closed'));
    }
    return new Promise<string>((resolve, reject) => {
      const deadline = performance.now() + this.timeoutMs;
      this.pending.push({ controlId: controlIdOf(message), deadline, resolve, reject });
      if (!this.corked) {
        // Batch the writes of one tick into one syscall: pipelined senders call send() in a loop.
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork();
        });
      }
      this.socket.write(frame(message));
      if (this.timer === undefined) this.arm(deadline);
    });
  }

  /** Whether messages can still be sent on this connection (the peer has not closed it, e.g. for being idle). */
  get isOpen(): boolean {
    return this.failure === undefined && !this.socket.destroyed && !this.socket.writableEnded;
  }

  /** Waits until every message sent has its ACK (or has failed), then closes the connection. */
  async close(): Promise<void> {
    if (this.inFlight > 0 && !this.socket.destroyed) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.socket.end();
    await this.closed;
  }

  /** Closes the connection at once; sends still waiting are rejected with code `closed`. */
  async destroy(): Promise<void> {
    this.failure ??= new MllpClientError('closed', 'the MLLP client was destroyed before the ACK arrived');
    this.socket.destroy();
    await this.closed;
  }

  private onFrame(event: FrameEvent): void {
    const ack = (event.kind === 'message' ? event.bytes : event.head).toString('utf8');
    if (this.inFlight === 0) return; // unsolicited, or the late ACK of a message that already timed out
    const acked = ackedControlId(ack);
    const first = this.headPending();
    if (acked === '' || first.controlId === '' || first.controlId === acked) {
      this.settleHead().resolve(ack);
    } else if (this.expiredIds.delete(acked)) {
      return; // the late ACK of a message that already timed out
    } else {
      let k = this.head + 1;
      while (k < this.pending.length && this.pending[k]?.controlId !== acked) k++;
      if (k < this.pending.length) {
        while (this.head < k) {
          const skipped = this.settleHead();
          skipped.reject(
            new MllpClientError(
              'no-ack',
              `no ACK for message ${skipped.controlId}: the peer acknowledged a later message (${acked}) first`,
            ),
          );
        }
      }
      // Not found: the peer rewrote the id (or filled MSA-2 oddly): trust the order, as MLLP promises.
      this.settleHead().resolve(ack);
    }
    this.afterSettle();
  }

  private headPending(): Pending {
    const p = this.pending[this.head];
    if (p === undefined) throw new Error('MLLP client: no message in flight');
    return p;
  }

  private settleHead(): Pending {
    const p = this.headPending();
    this.head++;
    return p;
  }

  private afterSettle(): void {
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    if (this.inFlight === 0) {
      this.pending.length = 0;
      this.head = 0;
      this.disarm();
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** One timer for all messages: it fires for the head's deadline and re-arms for the next. */
  private arm(at: number): void {
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, at - performance.now()));
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onTimer(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.inFlight > 0 && this.headPending().deadline <= now) {
      const p = this.settleHead();
      if (p.controlId !== '') {
        const oldest = this.expiredIds.values().next();
        if (this.expiredIds.size >= MAX_EXPIRED_IDS && oldest.done !== true) this.expiredIds.delete(oldest.value);
        this.expiredIds.add(p.controlId);
      }
      p.reject(new MllpClientError('timeout', `no ACK for message ${p.controlId} within ${this.timeoutMs} ms`));
    }
    this.afterSettle();
    if (this.inFlight > 0) this.arm(this.headPending().deadline);
  }

  private rejectAll(err: MllpClientError): void {
    while (this.inFlight > 0) this.settleHead().reject(err);
    this.afterSettle();
  }
}

/** MSH-10 of an outgoing message, read from its first segment; '' if absent. */
function controlIdOf(message: string | Buffer): string {
  const head = typeof message === 'string' ? message.slice(0, 4096) : message.subarray(0, 4096).toString('utf8');
  const end = head.search(/[\r\n]/);
  const msh = end === -1 ? head : head.slice(0, end);
  if (!msh.startsWith('MSH') || msh.length < 4) return '';
  return msh.split(msh.charAt(3))[9] ?? '';
}

/** MSA-2 of an ACK (the control id it acknowledges); '' if absent. */
function ackedControlId(ack: string): string {
  const fs = ack.charAt(3);
  const at = ack.search(/(^|[\r\n])MSA/);
  if (fs === '' || at === -1) return '';
  const start = ack.charAt(at) === 'M' ? at : at + 1;
  const rest = ack.slice(start);
  const end = rest.search(/[\r\n]/);
  const id = (end === -1 ? rest : rest.slice(0, end)).split(fs)[2] ?? '';
  // The peer escapes delimiters in MSA-2 (`A\S\B` for `A^B`): undo that so the id matches MSH-10 as sent.
  const [cs, rs, ec, ss] = [ack.charAt(4) || '^', ack.charAt(5) || '~', ack.charAt(6) || '\\', ack.charAt(7) || '&'];
  if (!id.includes(ec)) return id;
  const map: Record<string, string> = { F: fs, S: cs, R: rs, E: ec, T: ss };
  return id.replace(new RegExp(`${escapeRegExp(ec)}([FSRET])${escapeRegExp(ec)}`, 'g'), (_m, c: string) => map[c] ?? '');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
