import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MeshClient } from '../../adapters/mesh/mesh-client.js';
import { MeshError } from '../../src/ports/mesh-mailbox.js';
import { meshAuthorization } from '../../adapters/mesh/mesh-auth.js';
import { MeshServer } from '../support/mesh-server.js';

const SHARED_KEY = 'tls-test-shared-key';
const MAILBOX = 'X26TLS01';
const PASSWORD = 'tls-mailbox-password';

/** A CA, a server certificate for 127.0.0.1 and a client certificate it signed, and a second CA that signed nothing here. */
function certificates(dir: string): Record<'ca' | 'otherCa' | 'serverKey' | 'serverCert' | 'clientKey' | 'clientCert', Buffer> {
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/CN=Test MESH CA', '-days', '1');
  openssl('req', '-x509', ...ec, '-keyout', f('other.key'), '-out', f('other.pem'), '-subj', '/CN=Another CA', '-days', '1');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, cn, ext] of [
    ['server', '/CN=127.0.0.1', ['-extfile', f('san.ext')]],
    ['client', `/CN=${MAILBOX}`, []],
  ] as const) {
    openssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', cn);
    openssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${name}.pem`),
      '-days',
      '1',
      ...ext,
    );
  }
  const read = (name: string) => readFileSync(f(name));
  return {
    ca: read('ca.pem'),
    otherCa: read('other.pem'),
    serverKey: read('server.key'),
    serverCert: read('server.pem'),
    clientKey: read('client.key'),
    clientCert: read('client.pem'),
  };
}

/**
 * MESH over TLS with client certificates, as the national service requires: the client presents the feed's
 * certificate and verifies the server's against the configured CA, always. A server it cannot verify, or that
 * refuses it for want of a certificate, is a failed call, never a silent downgrade.
 */
describe('MESH client certificates', () => {
  let dir: string;
  let certs: ReturnType<typeof certificates>;
  let server: MeshServer;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'stork-mesh-tls-'));
    certs = certificates(dir);
    server = await new MeshServer({
      sharedKey: SHARED_KEY,
      mailboxes: { [MAILBOX]: PASSWORD },
      tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca },
    }).start();
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (tls: { cert?: Buffer; key?: Buffer; ca?: Buffer }) =>
    new MeshClient({
      baseUrl: server.url,
      credentials: { mailbox: MAILBOX, password: PASSWORD, sharedKey: SHARED_KEY },
      tls,
      maxMessageBytes: 65536,
      maxChunks: 5,
      requestTimeoutMs: 5000,
      clientVersion: 'stork-test',
    });
  const failure = async (c: MeshClient): Promise<MeshError> => {
    try {
      await c.handshake(new AbortController().signal);
    } catch (err) {
      if (err instanceof MeshError) return err;
      throw err;
    } finally {
      c.close();
    }
    throw new Error('expected the handshake to fail');
  };

  test('with the feed certificate and the CA: handshake and listing work', async () => {
    const c = client({ cert: certs.clientCert, key: certs.clientKey, ca: certs.ca });
    try {
      const signal = new AbortController().signal;
      await c.handshake(signal);
      expect(await c.listInbox('BIRTHNOTIFICATION_1', undefined, signal)).toEqual({ messageIds: [] });
      expect(server.calls.map((x) => x.status)).toEqual([200, 200]);
    } finally {
      c.close();
    }
  });

  test('without a client certificate the server refuses the connection', async () => {
    expect((await failure(client({ ca: certs.ca }))).kind).toBe('network');
  });

  test('a server whose certificate the configured CA did not sign is refused (verification is never off)', async () => {
    expect((await failure(client({ cert: certs.clientCert, key: certs.clientKey, ca: certs.otherCa }))).kind).toBe('network');
    // Nor trusted by default: the system CAs did not sign it either.
    expect((await failure(client({ cert: certs.clientCert, key: certs.clientKey }))).kind).toBe('network');
    expect(server.calls.length).toBe(2); // only the first test's calls reached the server
  });
});

/** Every MESH call has a deadline: a server that stops sending mid-body cannot hold a poll for ever. */
describe('MESH call timeout', () => {
  test('a download whose body stalls fails with kind timeout after requestTimeoutMs', async () => {
    const server = await new MeshServer({ sharedKey: SHARED_KEY, mailboxes: { [MAILBOX]: PASSWORD } }).start();
    const c = new MeshClient({
      baseUrl: server.url,
      credentials: { mailbox: MAILBOX, password: PASSWORD, sharedKey: SHARED_KEY },
      maxMessageBytes: 65536,
      maxChunks: 5,
      requestTimeoutMs: 300,
      clientVersion: 'stork-test',
    });
    try {
      const id = server.putHostile(MAILBOX, 'BIRTHNOTIFICATION_1', 'stall');
      const started = Date.now();
      const err = await c.download(id, new AbortController().signal).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MeshError);
      expect((err as MeshError).kind).toBe('timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      // Stopping aborts a call at once, reported as such (not as a failure of MESH).
      const stop = new AbortController();
      const pending = c.download(id, stop.signal).then(
        () => undefined,
        (e: unknown) => e,
      );
      stop.abort();
      expect(((await pending) as MeshError).kind).toBe('aborted');
    } finally {
      c.close();
      await server.stop();
    }
  });
});

/** The inbox listing, page by page: `max_results`, the next link's `continue_from`, and the workflow filter. */
describe('MESH inbox listing', () => {
  test('pages through continue_from in order and lists only the workflow asked for', async () => {
    const SENDER = 'X26SEND01';
    const server = await new MeshServer({ sharedKey: SHARED_KEY, mailboxes: { [MAILBOX]: PASSWORD, [SENDER]: 'sender-pw' } }).start();
    const c = new MeshClient({
      baseUrl: server.url,
      credentials: { mailbox: MAILBOX, password: PASSWORD, sharedKey: SHARED_KEY },
      maxMessageBytes: 65536,
      maxChunks: 5,
      requestTimeoutMs: 5000,
      clientVersion: 'stork-test',
      pageSize: 2,
    });
    try {
      const send = (workflowId: string, body: string) =>
        server.send({ from: SENDER, to: MAILBOX, workflowId, body }, (m) =>
          meshAuthorization({ mailbox: m, password: 'sender-pw', sharedKey: SHARED_KEY }),
        );
      const births: string[] = [];
      for (let i = 0; i < 5; i++) {
        births.push(await send('BIRTHNOTIFICATION_1', `birth ${i}`));
        await send('PATHOLOGY_RESULT', `other ${i}`);
      }
      const signal = new AbortController().signal;
      const pages: string[][] = [];
      let from: string | undefined;
      do {
        const page = await c.listInbox('BIRTHNOTIFICATION_1', from, signal);
        pages.push(page.messageIds);
        from = page.continueFrom;
      } while (from !== undefined && pages.length < 10);
      expect(pages).toEqual([births.slice(0, 2), births.slice(2, 4), births.slice(4)]);
      // Downloaded and acknowledged, a message leaves the listing and is gone (410).
      const first = births[0] ?? '';
      expect(await c.download(first, signal)).toEqual({
        kind: 'message',
        bytes: Buffer.from('birth 0'),
        workflowId: 'BIRTHNOTIFICATION_1',
        chunks: 1,
      });
      await c.acknowledge(first, signal);
      expect(await c.download(first, signal)).toEqual({ kind: 'gone', status: 410 });
      expect((await c.listInbox('BIRTHNOTIFICATION_1', undefined, signal)).messageIds).toEqual(births.slice(1, 3));
    } finally {
      c.close();
      await server.stop();
    }
  });
});
