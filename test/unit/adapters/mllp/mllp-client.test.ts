import { setImmediate as nextTurn } from 'node:timers/promises';
import { frame } from '../../../../adapters/mllp/mllp-framer.js';
import { MllpClient, MllpClientError } from '../../../../adapters/mllp/mllp-client.js';
import { closedPort, startMllpPeer, type MllpPeer } from '../../../support/mllp-peer.js';

function message(id: string): string {
  return `MSH|^~\\&|MATERNITY|RX1|STORK|STORK|20261118093512||ADT^A28^ADT_A05|${id}|P|2.4\rEVN||20261118093500\rPID|1||9990047219^^^NHS^NH\r`;
}

function controlIdOf(msg: string): string {
  return msg.split('\r', 1)[0]?.split('|')[9] ?? '';
}

function ackFor(msg: string, code = 'AA'): string {
  const id = controlIdOf(msg);
  const escaped = id.replace(/\^/g, '\\S\\'); // as a hub echoes MSA-2
  return `MSH|^~\\&|STORK|STORK|MATERNITY|RX1|20261118093513+0000||ACK^A28^ACK|ACK|P|2.4\rMSA|${code}|${escaped}|Message accepted\r`;
}

async function until(condition: () => boolean, what: string, deadlineMs = 5000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await nextTurn();
  }
}

describe('MllpClient', () => {
  const servers: MllpPeer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('pipelines many messages on one connection and gives each send its own ACK, in order', async () => {
    // Answer in bursts: several ACK frames in one TCP write.
    let batch: string[] = [];
    const server = await startMllpPeer((msg, socket) => {
      batch.push(ackFor(msg));
      if (batch.length === 7 || msg.includes('|MSG-199|')) {
        socket.write(Buffer.concat(batch.map((a) => frame(a))));
        batch = [];
      }
    });
    servers.push(server);
    const client = await MllpClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 5000 });
    const ids = Array.from({ length: 200 }, (_, i) => `MSG-${i}`);
    const settledOrder: string[] = [];
    const acks = await Promise.all(
      ids.map((id) =>
        client.send(message(id)).then((ack) => {
          settledOrder.push(id);
          return ack;
        }),
      ),
    );
    expect(acks.map((a) => a.split('\r')[1])).toEqual(ids.map((id) => `MSA|AA|${id}|Message accepted`));
    expect(settledOrder).toEqual(ids);
    expect(client.inFlight).toBe(0);
    await client.close();
  });

  it('reads an ACK that arrives one byte per TCP write', async () => {
    const server = await startMllpPeer(async (msg, socket) => {
      socket.setNoDelay(true);
      for (const byte of frame(ackFor(msg))) {
        await new Promise<void>((resolve) => socket.write(Buffer.from([byte]), () => resolve()));
        await nextTurn();
      }
    });
    servers.push(server);
    const client = await MllpClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 5000 });
    const [a, b] = await Promise.all([client.send(message('SPLIT-1')), client.send(Buffer.from(message('SPLIT-2')))]);
    expect(a).toBe(ackFor(message('SPLIT-1')));
    expect(b).toBe(ackFor(message('SPLIT-2')));
    await client.close();
  });

  it('rejects a send whose ACK does not come in time, and a late ACK never settles a later send', async () => {
    const held: string[] = [];
    const server = await startMllpPeer((msg, socket) => {
      held.push(msg);
      if (held.length === 2) for (const m of held) socket.write(frame(ackFor(m))); // the first ACK comes late
    });
    servers.push(server);
    const client = await MllpClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 150 });
    const first = client.send(message('SLOW^1')); // its ACK echoes the id escaped: SLOW\S\1
    await expect(first).rejects.toMatchObject({ name: 'MllpClientError', code: 'timeout' });
    const second = await client.send(message('SLOW-2'));
    expect(second.split('\r')[1]).toBe('MSA|AA|SLOW-2|Message accepted');
    await client.close();
  });

  it('rejects every pending send when the server closes the connection', async () => {
    const server = await startMllpPeer((msg, socket) => {
      if (msg.includes('|CLOSE-3|')) socket.destroy();
    });
    servers.push(server);
    const client = await MllpClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 5000 });
    const sends = ['CLOSE-1', 'CLOSE-2', 'CLOSE-3'].map((id) => client.send(message(id)));
    const results = await Promise.allSettled(sends);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as MllpClientError;
      expect(reason).toBeInstanceOf(MllpClientError);
      expect(reason.code).toBe('closed');
    }
    await expect(client.send(message('AFTER'))).rejects.toMatchObject({ code: 'closed' });
  });

  it('rejects a send the peer skipped when a later message is acknowledged first', async () => {
    const server = await startMllpPeer((msg, socket) => {
      if (!msg.includes('|SKIP-1|')) socket.write(frame(ackFor(msg)));
    });
    servers.push(server);
    const client = await MllpClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 5000 });
    const [skipped, acked] = await Promise.allSettled([client.send(message('SKIP-1')), client.send(message('SKIP-2'))]);
    expect(skipped).toMatchObject({ status: 'rejected', reason: { code: 'no-ack' } });
    expect(acked).toMatchObject({ status: 'fulfilled' });
    expect((acked as PromiseFulfilledResult<string>).value).toContain('MSA|AA|SKIP-2|');
    await client.close();
  });

  it('never writes anything back for an ACK it receives', async () => {
    const server = await startMllpPeer((msg, socket) => {
      // An extra ACK nobody waits for, in the same write so that it arrives before the next send.
      socket.write(Buffer.concat([frame(ackFor(msg)), frame(ackFor(message('UNSOLICITED')))]));
    });
    servers.push(server);
    const client = await MllpClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 5000 });
    await client.send(message('ONLY'));
    const second = await client.send(message('NEXT'));
    expect(second).toContain('MSA|AA|NEXT|');
    await client.close();
    await until(() => server.received.length === 2, 'both frames at the server');
    expect(server.rawBytes()).toEqual(Buffer.concat([frame(message('ONLY')), frame(message('NEXT'))]));
  });

  it('rejects connect with code "connect" when nothing listens', async () => {
    const port = await closedPort();
    const err = await MllpClient.connect({ host: '127.0.0.1', port, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MllpClientError);
    expect((err as MllpClientError).code).toBe('connect');
    expect(((err as MllpClientError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});
