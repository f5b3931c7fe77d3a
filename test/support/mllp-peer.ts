import net from 'node:net';
import { MllpFramer } from '../../adapters/mllp/mllp-framer.js';

/** A real MLLP peer on 127.0.0.1 for client-side tests: it records every frame and lets the test answer. */
export interface MllpPeer {
  port: number;
  /** Every message received, as text, in order. */
  received: string[];
  /** Every byte received, as sent. */
  rawBytes(): Buffer;
  /** Destroys the open connections and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a peer that calls `onMessage` for each frame it receives, one at a time per connection (the next
 * waits for the previous answer), on a free port.
 */
export async function startMllpPeer(onMessage: (message: string, socket: net.Socket) => void | Promise<void>): Promise<MllpPeer> {
  const received: string[] = [];
  const raw: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const framer = new MllpFramer(1024 * 1024);
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      raw.push(chunk);
      for (const event of framer.push(chunk)) {
        if (event.kind !== 'message') continue;
        const text = event.bytes.toString('utf8');
        received.push(text);
        chain = chain.then(() => onMessage(text, socket));
      }
    });
  });
  const port = await listenOnFreePort(server);
  return {
    port,
    received,
    rawBytes: () => Buffer.concat(raw),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago): for "connection refused" tests. */
export async function closedPort(): Promise<number> {
  const probe = net.createServer();
  const port = await listenOnFreePort(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function listenOnFreePort(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the test peer has no TCP address');
  return address.port;
}
