/**
 * The hostile side of the hostile-mix test, run in a child process of its own (as hostile senders are
 * other machines): its sockets' work then does not share the hub's event loop, and its memory is not
 * counted in the hub's RSS. Self-contained (Node built-ins only), because it is transpiled on its own by
 * `runHostileLoad` (hostile-mllp.ts) and forked; orders and the report go over IPC.
 */
import net from 'node:net';

export interface HostileOrders {
  port: number;
  durationMs: number;
  /** Frames that never end: this many connections from each address, each sending `partialBytes`. */
  partial: { addresses: string[]; perAddress: number; bytes: number };
  /** After the mix, how long to wait for the hub to read what is buffered for it and close partial frames. */
  settleMs: number;
  /** Connections each writing this many 0x0B bytes, as fast as the hub reads them. */
  stray: { address: string; connections: number; bytes: number };
  /** Connections sending these messages one after another, each waiting for the ACK of the last. */
  huge: { address: string; messages: string[] };
  /** Connections that open and say nothing; `extraFromFirst` more from the first address (over its cap). */
  idle: { addresses: string[]; perAddress: number; extraFromFirst: number };
}

export interface HostileReport {
  partialBytesSent: number;
  /** Partial-frame connections the hub closed before the end. */
  partialClosedByHub: number;
  strayBytesSent: number;
  /** MSA-1 of each ACK the huge senders got, counted by code. */
  hugeAcks: Record<string, number>;
  idleOpened: number;
  /** Idle connections the hub closed (refused) before the end. */
  idleClosedByHub: number;
}

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

function frame(message: string): Buffer {
  return Buffer.concat([Buffer.from([VT]), Buffer.from(message, 'utf8'), Buffer.from([FS, CR])]);
}

class Conn {
  closed = false;
  acks: string[] = [];
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      for (;;) {
        const end = this.buffer.indexOf(Buffer.from([FS, CR]));
        if (end === -1) break;
        this.acks.push(this.buffer.subarray(1, end).toString('utf8'));
        this.buffer = this.buffer.subarray(end + 2);
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Resolves on the next ACK or close. */
  next(): Promise<void> {
    return new Promise((resolve) => (this.waiter = resolve));
  }

  write(bytes: Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) resolve(false);
      else this.socket.write(bytes, (err) => resolve(err === undefined || err === null));
    });
  }
}

function connect(port: number, localAddress: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const conn = new Conn(socket);
    socket.once('connect', () => resolve(conn));
    socket.once('error', reject);
  });
}

async function run(o: HostileOrders): Promise<HostileReport> {
  const deadline = Date.now() + o.durationMs;
  const running = (): boolean => Date.now() < deadline;
  const all: Conn[] = [];
  const report: HostileReport = {
    partialBytesSent: 0,
    partialClosedByHub: 0,
    strayBytesSent: 0,
    hugeAcks: {},
    idleOpened: 0,
    idleClosedByHub: 0,
  };
  /** An actor: opens its connection, says so (`opened`), then does its work until the deadline. */
  type Actor = (opened: () => void) => Promise<void>;
  const open = async (from: string, opened: () => void): Promise<Conn> => {
    try {
      const c = await connect(o.port, from);
      all.push(c);
      return c;
    } finally {
      opened();
    }
  };

  const block = Buffer.alloc(62_500, 0x41);
  const partials: Conn[] = [];
  const partialHolder =
    (from: string): Actor =>
    async (opened) => {
      const c = await open(from, opened);
      partials.push(c);
      if (!(await c.write(Buffer.from([VT])))) return;
      for (let sent = 0; sent < o.partial.bytes && running(); sent += block.length) {
        if (!(await c.write(block))) return;
        report.partialBytesSent += block.length;
      }
    };
  const stray =
    (from: string): Actor =>
    async (opened) => {
      const c = await open(from, opened);
      const vts = Buffer.alloc(64 * 1024, VT);
      for (let sent = 0; sent < o.stray.bytes && running(); sent += vts.length) {
        if (!(await c.write(vts))) return;
        report.strayBytesSent += vts.length;
      }
    };
  const hugeSender =
    (from: string, message: string): Actor =>
    async (opened) => {
      const c = await open(from, opened);
      const bytes = frame(message);
      for (let k = 0; running(); k++) {
        if (!(await c.write(bytes))) return;
        while (c.acks.length <= k && !c.closed) await c.next();
        if (c.closed) return;
        const code =
          c.acks[k]
            ?.split('\r')
            .find((s) => s.startsWith('MSA'))
            ?.split('|')[1] ?? '?';
        report.hugeAcks[code] = (report.hugeAcks[code] ?? 0) + 1;
      }
    };
  const idles: Conn[] = [];
  const idle =
    (from: string): Actor =>
    async (opened) => {
      idles.push(await open(from, opened));
      report.idleOpened++;
    };

  // Connections are opened 50 at a time, each batch once the last is connected: hundreds of simultaneous
  // connects overflow the listen backlog and wait in the kernel's retry back-off, which tests the kernel,
  // not the hub. Each actor then runs on its own until the deadline.
  const work: Promise<void>[] = [];
  const start = async (actors: Actor[]): Promise<void> => {
    for (let i = 0; i < actors.length && running(); i += 50) {
      const connected = actors.slice(i, i + 50).map(
        (actor) =>
          new Promise<void>((resolve) => {
            work.push(actor(resolve).catch(() => resolve()));
          }),
      );
      await Promise.all(connected);
    }
  };
  const idleActors: Actor[] = [];
  for (const a of o.idle.addresses) for (let i = 0; i < o.idle.perAddress; i++) idleActors.push(idle(a));
  for (let i = 0; i < o.idle.extraFromFirst; i++) idleActors.push(idle(o.idle.addresses[0] ?? '127.0.0.1'));
  await start(idleActors);
  await start([
    ...Array.from({ length: o.stray.connections }, () => stray(o.stray.address)),
    ...o.huge.messages.map((m) => hugeSender(o.huge.address, m)),
  ]);
  const partialActors: Actor[] = [];
  for (const a of o.partial.addresses) for (let i = 0; i < o.partial.perAddress; i++) partialActors.push(partialHolder(a));
  await start(partialActors);
  await Promise.all(work);
  // Hold what was opened until the end of the mix, then count what the hub closed.
  await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())));
  // What the partial senders wrote may still sit in the kernel's socket buffers: the hub reads it at its own pace
  // (slower on a loaded machine), and closes the oldest partial frames only once what it has read passes its budget.
  // So wait, with a deadline, for that to happen, rather than count at an instant that depends on the machine's load.
  const settle = Date.now() + o.settleMs;
  while (report.partialBytesSent > 0 && !partials.some((c) => c.closed) && Date.now() < settle)
    await new Promise<void>((resolve) => setTimeout(resolve, 50));
  report.partialClosedByHub = partials.filter((c) => c.closed).length;
  report.idleClosedByHub = idles.filter((c) => c.closed).length;
  for (const c of all) c.socket.destroy();
  return report;
}

process.once('message', (orders: HostileOrders) => {
  run(orders).then(
    (report) => process.send?.({ report }, () => process.exit(0)),
    (err: unknown) => process.send?.({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1)),
  );
});
