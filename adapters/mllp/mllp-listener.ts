import net from 'node:net';
import type { Logger } from '../../src/logger.js';
import type { Hl7v2Intake } from '../../src/intake/hl7v2-intake.js';
import { frame, MllpFramer, type FrameEvent } from './mllp-framer.js';

export interface MllpListenerOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  /** Messages in flight on one connection before reading pauses (backpressure). */
  maxInFlight?: number;
}

/**
 * The MLLP (TCP) listener. Each connection carries many messages; their ACKs go back in the order the
 * messages came, each only after intake has committed it. One bad frame never closes the connection.
 */
export class MllpListener {
  private server: net.Server | undefined;
  private readonly sockets = new Map<net.Socket, Promise<void>>();
  private closing = false;

  constructor(
    private readonly intake: Hl7v2Intake,
    private readonly options: MllpListenerOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
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
    await Promise.all([...this.sockets.values()]);
    for (const socket of this.sockets.keys()) socket.end();
    await closed;
  }

  private accept(socket: net.Socket): void {
    const framer = new MllpFramer(this.options.maxMessageBytes);
    const maxInFlight = this.options.maxInFlight ?? 512;
    const remoteAddress = socket.remoteAddress;
    let inFlight = 0;
    let tail: Promise<void> = Promise.resolve();
    this.sockets.set(socket, tail);
    const connection = { remotePort: socket.remotePort };
    this.logger.debug(connection, 'mllp connection opened');
    socket.setNoDelay(true);
    socket.setTimeout(this.options.idleTimeoutMs, () => {
      this.logger.info({ ...connection, idleMs: this.options.idleTimeoutMs }, 'mllp connection idle: closing');
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
      if (event.kind === 'abandoned') {
        this.logger.warn({ ...connection, bytes: event.sizeBytes }, 'mllp frame abandoned: a new frame started before it ended');
        return;
      }
      if (this.closing) return;
      inFlight++;
      if (inFlight >= maxInFlight) socket.pause();
      const delivery =
        event.kind === 'message'
          ? { bytes: event.bytes, channel: 'mllp' as const, ...(remoteAddress ? { remoteAddress } : {}) }
          : {
              bytes: event.head,
              channel: 'mllp' as const,
              oversize: { sizeBytes: event.sizeBytes, limitBytes: this.options.maxMessageBytes },
              ...(remoteAddress ? { remoteAddress } : {}),
            };
      const result = this.intake.receive(delivery);
      tail = tail.then(async () => {
        try {
          const r = await result;
          if (r.ack !== undefined && !socket.destroyed) writeAck(frame(r.ack));
        } catch (err) {
          this.logger.error({ err }, 'mllp intake failed unexpectedly');
        } finally {
          inFlight--;
          if (inFlight < maxInFlight && socket.isPaused() && !this.closing) socket.resume();
        }
      });
      this.sockets.set(socket, tail);
    };
    socket.on('data', (chunk: Buffer) => {
      for (const event of framer.push(chunk)) handle(event);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.logger.debug({ ...connection, code: err.code }, 'mllp socket error'));
    socket.on('close', () => {
      if (framer.skippedBytes > 0)
        this.logger.warn({ ...connection, bytes: framer.skippedBytes }, 'mllp bytes outside frames were ignored');
      void tail.then(() => this.sockets.delete(socket));
    });
  }
}
