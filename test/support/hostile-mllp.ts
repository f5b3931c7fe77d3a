import net from 'node:net';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFileSync } from '@swc/core';
import { newbornAdt } from './synthetic/newborn-adt.js';
import { pollUntil } from './poll.js';
import type { HostileOrders, HostileReport } from './hostile-load.js';

/** MSA-1, MSA-2 and the ERR segments of an ACK. */
export function parseAck(ack: string): { code: string; controlId: string; errs: string[] } {
  const segments = ack.split('\r').filter(Boolean);
  const msa = segments.find((s) => s.startsWith('MSA'))?.split('|') ?? [];
  return { code: msa[1] ?? '', controlId: msa[2] ?? '', errs: segments.filter((s) => s.startsWith('ERR')) };
}

/** Sets MSH-15 (empty: original acknowledgement mode, so the answers are AA / AE / AR). */
function withMsh15(message: string, value: string): string {
  const [msh, ...rest] = message.split('\r');
  const fields = (msh ?? '').split('|');
  while (fields.length < 16) fields.push('');
  fields[14] = value;
  return [fields.join('|'), ...rest].join('\r');
}

/** A genuine newborn from the sample Northgate feed (RX1), original acknowledgement mode. */
export function genuineNewborn(controlId: string, seed = 1): string {
  return withMsh15(newbornAdt({ seed, controlId, sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: new Date() }), '');
}

/**
 * A genuine sender's newborn with one field (PID-3) repeated `repetitions` times: 500,000 repetitions
 * make a frame of about 500 KB, the shape that blocked the event loop.
 */
export function repeatedFieldNewborn(controlId: string, repetitions: number, seed = 2): string {
  const base = genuineNewborn(controlId, seed);
  return base.replace(/\rPID\|([^|\r]*)\|([^|\r]*)\|([^|\r]*)\|/, (_m, a: string, b: string, c: string) => {
    return `\rPID|${a}|${b}|${c}${'~'.repeat(repetitions - 1 - (c.split('~').length - 1))}|`;
  });
}

/** A raw TCP connection from a chosen loopback address (127.0.0.0/8 all reach the hub on 127.0.0.1). */
export async function connectFrom(port: number, localAddress = '127.0.0.1'): Promise<RawConnection> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  const conn = new RawConnection(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return conn;
}

/** A connection the test drives byte by byte, collecting the ACK frames it receives and noticing when it closes. */
export class RawConnection {
  readonly acks: string[] = [];
  closed = false;
  private buffer = Buffer.alloc(0);

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      for (;;) {
        const end = this.buffer.indexOf(Buffer.from([0x1c, 0x0d]));
        if (end === -1) break;
        this.acks.push(this.buffer.subarray(1, end).toString('utf8'));
        this.buffer = this.buffer.subarray(end + 2);
      }
    });
    // A connection the hub closes (refused, shed) may see a reset: that is the expected outcome, not a failure.
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }

  /** Writes and resolves once the bytes are handed to the kernel (false if the connection died meanwhile). */
  write(bytes: Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) {
        resolve(false);
        return;
      }
      this.socket.write(bytes, (err) => resolve(err === undefined || err === null));
    });
  }

  async waitForAcks(n: number, what: string, timeoutMs = 15000): Promise<string[]> {
    await pollUntil(() => (this.acks.length >= n ? true : undefined), what, timeoutMs);
    return this.acks.slice(0, n);
  }

  async waitClosed(what: string, timeoutMs = 10000): Promise<void> {
    await pollUntil(() => (this.closed ? true : undefined), what, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Runs the hostile side of a test (hostile-load.ts) in a child process for `orders.durationMs`, and
 * resolves with what it did. The module is transpiled with swc (as jest does) to a temporary file.
 */
export async function runHostileLoad(orders: HostileOrders, timeoutMs = orders.durationMs + 60000): Promise<HostileReport> {
  const source = fileURLToPath(new URL('./hostile-load.ts', import.meta.url));
  const { code } = transformFileSync(source, {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-hostile-'));
  const script = path.join(dir, 'hostile-load.mjs');
  writeFileSync(script, code);
  const child = fork(script, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    return await new Promise<HostileReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the hostile load did not report within ${timeoutMs} ms`)), timeoutMs);
      child.once('message', (m: { report?: HostileReport; error?: string }) => {
        clearTimeout(timer);
        if (m.report) resolve(m.report);
        else reject(new Error(`the hostile load failed: ${m.error ?? 'no reason given'}`));
      });
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        reject(new Error(`the hostile load exited (${String(exitCode)}) without a report`));
      });
      child.send(orders);
    });
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
