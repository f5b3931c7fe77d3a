import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import express from 'express';
import { createHttpServer } from '../../adapters/http/http-app.js';
import { createLogger } from '../../src/logger.js';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK } from 'jose';
import { frame } from '../../adapters/mllp/mllp-framer.js';
import { localDateOf } from '../../src/domain/hl7-datetime.js';
import { copySampleConfig } from '../support/sample-config.js';
import { pollUntil } from '../support/poll.js';
import { storeKind } from '../support/test-database.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { asJson, fhirBirthBundle, NORTHGATE_FHIR_KEY } from '../support/synthetic/fhir-birth.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';

const ISSUER = 'https://idp.test.example';
const STATIC_ISSUER = 'https://static-idp.test.example';
const AUDIENCE = 'stork-api';
const HL7 = 'x-application/hl7-v2+er7';

/** A CA, a server certificate for 127.0.0.1, two client certificates it signed, and one another CA signed. */
function certificates(dir: string): void {
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/CN=Test feed CA', '-days', '1');
  openssl('req', '-x509', ...ec, '-keyout', f('other.key'), '-out', f('other.pem'), '-subj', '/CN=Another CA', '-days', '1');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, cn, ca] of [
    ['server', '/CN=127.0.0.1', 'ca'],
    ['northgate', '/CN=northgate-mllp', 'ca'],
    ['unmapped', '/CN=unmapped-client', 'ca'],
    ['stranger', '/CN=northgate-mllp', 'other'],
  ] as const) {
    openssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', cn);
    const ext = name === 'server' ? ['-extfile', f('san.ext')] : [];
    openssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f(`${ca}.pem`),
      '-CAkey',
      f(`${ca}.key`),
      '-CAcreateserial',
      '-out',
      f(`${name}.pem`),
      '-days',
      '1',
      ...ext,
    );
  }
}

const fhirMessage = (): string =>
  asJson(
    fhirBirthBundle({
      bundleId: randomUUID(),
      headerId: randomUUID(),
      babyNhsNumber: '9990009511',
      motherNhsNumber: '9990009503',
      timestamp: new Date().toISOString(),
      birthDate: localDateOf(new Date()),
    }),
  );

/** MSA-1 of an ACK. */
const msa1 = (ack: string): string =>
  ack
    .split('\r')
    .find((s) => s.startsWith('MSA'))
    ?.split('|')[1] ?? '';

function hl7(facility: 'RX1' | 'RX9', controlId: string): string {
  const m = describeNewborn({
    seed: Number.parseInt(randomUUID().slice(0, 6), 16),
    controlId,
    ...(facility === 'RX9'
      ? { northvale: true, sendingFacility: 'RX9', sendingApplication: 'PAS' }
      : { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' }),
    messageTime: new Date(),
  });
  return m.text.replace('|AL|NE|', '|||');
}

/** An HTTP request from a chosen local (loopback) address: a second loopback address stands for another host. */
function request(
  base: string,
  o: { method?: string; path: string; token?: string; type?: string; body?: string; from?: string },
): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  const url = new URL(o.path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: o.method ?? 'GET',
        ...(o.from ? { localAddress: o.from } : {}),
        headers: {
          ...(o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {}),
          ...(o.type ? { 'content-type': o.type } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Sends one framed message over TLS with a client certificate and returns the ACK (or throws when the handshake fails). */
function sendTls(port: number, dir: string, client: string, message: string): Promise<string> {
  const read = (n: string) => readFileSync(path.join(dir, n));
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: read('ca.pem'), cert: read(`${client}.pem`), key: read(`${client}.key`) });
    let buffer = Buffer.alloc(0);
    socket.once('secureConnect', () => socket.write(frame(message)));
    socket.on('data', (d: Buffer) => {
      buffer = Buffer.concat([buffer, d]);
      const end = buffer.indexOf(Buffer.from([0x1c, 0x0d]));
      if (end !== -1) {
        resolve(buffer.subarray(1, end).toString('utf8'));
        socket.destroy();
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before an ACK')));
  });
}

/**
 * Issue 16 items 1 and 3: machine identity. OAuth 2.0 bearer JWTs from a configured issuer (a real JWKS server on
 * loopback; keys made here by jose), their rotation and every refusal; MLLP over TLS with client certificates;
 * source address allow-lists; and "feed X may not send as feed Y" on MLLP, HTTP HL7 v2 and FHIR: refused, stored,
 * audited. Store-agnostic and a little heavy (openssl, a hub with TLS): on PostgreSQL only.
 */
(storeKind() === 'postgres' ? describe : describe.skip)('Machine identity: bearer JWTs, client certificates, sender checks', () => {
  let t: TestHub;
  let dir: string;
  let certs: string;
  let jwks: http.Server;
  let jwksHits = 0;
  let served: JWK[] = [];
  const keys = new Map<string, Awaited<ReturnType<typeof generateKeyPair>>>();
  let staticKey: Awaited<ReturnType<typeof generateKeyPair>>;

  const newKey = async (kid: string): Promise<JWK> => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    keys.set(kid, pair);
    return { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' };
  };
  const token = async (
    kid: string,
    claims: Record<string, unknown> = {},
    o: { iss?: string; aud?: string; exp?: number | string; nbf?: number | string } = {},
  ) => {
    const pair = keys.get(kid);
    if (!pair) throw new Error(`no key ${kid}`);
    const jwt = new SignJWT({ stork_role: 'hospital-feed', stork_scope: 'RX1', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(o.iss ?? ISSUER)
      .setAudience(o.aud ?? AUDIENCE)
      .setSubject('northgate-engine')
      .setIssuedAt()
      .setExpirationTime(o.exp ?? '5m');
    if (o.nbf !== undefined) jwt.setNotBefore(o.nbf);
    return jwt.sign(pair.privateKey);
  };
  const rows = async (id: string) =>
    (await t.database.db.query<{ status: string; reason: string | null }>(`SELECT status, reason FROM messages WHERE id = $1`, [id])).rows;
  const actors = async (id: string) =>
    (await t.database.db.query<{ actor: string }>(`SELECT DISTINCT actor FROM audit_events WHERE message_id = $1`, [id])).rows.map(
      (r) => r.actor,
    );
  const storedByControlId = (controlId: string) =>
    pollUntil(
      async () =>
        (
          await t.database.db.query<{ id: string; status: string; reason: string | null }>(
            `SELECT id, status, reason FROM messages WHERE control_id = $1`,
            [controlId],
          )
        ).rows[0],
      `message ${controlId} stored`,
    );

  beforeAll(async () => {
    served = [await newKey('k1')];
    jwks = http.createServer((_req, res) => {
      jwksHits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const jwksPort = (jwks.address() as { port: number }).port;

    dir = copySampleConfig();
    certs = mkdtempSync(path.join(os.tmpdir(), 'stork-certs-'));
    certificates(certs);
    staticKey = await generateKeyPair('ES256', { extractable: true });
    writeFileSync(path.join(dir, 'mappings', 'static-idp.pem'), await exportSPKI(staticKey.publicKey));

    const clientsFile = path.join(dir, 'mappings', 'api-clients.json');
    const clients = JSON.parse(readFileSync(clientsFile, 'utf8')) as Record<string, unknown>;
    const claims = {
      role: 'stork_role',
      roles: { 'hospital-feed': 'feed', 'children-centre': 'centre', auditor: 'ig' },
      scope: 'stork_scope',
    };
    clients.issuers = [
      { id: 'test-idp', issuer: ISSUER, audience: AUDIENCE, jwksUrl: `http://127.0.0.1:${jwksPort}/jwks`, jwksCooldownSeconds: 1, claims },
      { id: 'static-idp', issuer: STATIC_ISSUER, audience: AUDIENCE, publicKeyFiles: ['mappings/static-idp.pem'], claims },
    ];
    writeFileSync(clientsFile, JSON.stringify(clients));

    const feedsFile = path.join(dir, 'mappings', 'feeds.json');
    const feeds = JSON.parse(readFileSync(feedsFile, 'utf8')) as { feeds: Record<string, unknown>[] };
    for (const f of feeds.feeds) {
      if (f.id === 'northgate-maternity') f.clientCertificates = [{ subjectCN: 'northgate-mllp' }];
      if (f.id === 'northvale-adt') f.sourceAddresses = ['127.0.0.1', '10.0.0.0/8'];
      if (f.id === 'northgate-fhir') f.sourceAddresses = ['127.0.0.0/30'];
    }
    writeFileSync(feedsFile, JSON.stringify(feeds));

    t = await startTestHub({
      configDir: dir,
      env: {
        STORK_MLLP_TLS_CERT_FILE: path.join(certs, 'server.pem'),
        STORK_MLLP_TLS_KEY_FILE: path.join(certs, 'server.key'),
        STORK_MLLP_TLS_CLIENT_CA_FILE: path.join(certs, 'ca.pem'),
      },
    });
  }, 60000);
  afterAll(async () => {
    await t.stop();
    await new Promise<void>((r) => jwks.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
    rmSync(certs, { recursive: true, force: true });
  });

  const post = (tok: string | undefined, body: string, o: { path?: string; type?: string; from?: string } = {}) =>
    request(t.http, {
      method: 'POST',
      path: o.path ?? '/v1/hl7v2',
      type: o.type ?? HL7,
      body,
      ...(tok !== undefined ? { token: tok } : {}),
      ...(o.from ? { from: o.from } : {}),
    });

  test('a JWT feed client sends its own feed’s message (AA); naming another feed it is refused 403 AR, stored and audited as itself', async () => {
    const ok = await post(await token('k1'), hl7('RX1', `JWT-OK-${Date.now()}`));
    expect(ok.status).toBe(200);
    expect(msa1(ok.text)).toBe('AA');
    const forged = await post(await token('k1'), hl7('RX9', 'JWT-FORGE'));
    expect(forged.status).toBe(403);
    expect(msa1(forged.text)).toBe('AR');
    expect(forged.text).toContain('ERR|');
    const id = String(forged.headers['x-stork-message-id']);
    expect(await rows(id)).toEqual([{ status: 'quarantined', reason: 'This API client may not send for this sending facility' }]);
    expect(await actors(id)).toEqual(['client:test-idp:northgate-engine']);
  });

  test('replay of a JWT client’s message: held to what its token granted at receipt, while its issuer is configured', async () => {
    const replay = (id: string) => request(t.http, { method: 'POST', path: `/v1/messages/${id}/replay`, token: 'demo-admin-key' });
    const processed = (id: string) =>
      pollUntil(async () => ((await rows(id))[0]?.status === 'processed' ? true : undefined), `message ${id} processed`);
    // Its own facility's message, accepted; then quarantined as a broken mapping would have (set here): replayed, queued.
    const ok = await post(await token('k1'), hl7('RX1', `JWT-REPLAY-${Date.now()}`));
    expect(msa1(ok.text)).toBe('AA');
    const okId = String(ok.headers['x-stork-message-id']);
    await processed(okId);
    const grant = await t.database.db.query<{ api_client: string; api_client_grant: unknown }>(
      `SELECT api_client, api_client_grant FROM messages WHERE id = $1`,
      [okId],
    );
    expect(grant.rows).toEqual([{ api_client: 'test-idp:northgate-engine', api_client_grant: { role: 'feed', scope: 'RX1' } }]);
    const quarantine = (id: string) =>
      t.database.db.query(`UPDATE messages SET status = 'quarantined', reason = 'mapping error (test)' WHERE id = $1`, [id]);
    await quarantine(okId);
    const replayed = await replay(okId);
    expect([replayed.status, JSON.parse(replayed.text)]).toEqual([200, { id: okId, status: 'queued' }]);
    await processed(okId);
    expect(await actors(okId)).toContain('client:operator');

    // Naming another trust's facility (RX9): refused at receipt, and refused again on replay for the same reason.
    const forged = await post(await token('k1'), hl7('RX9', `JWT-REPLAY-FORGE-${Date.now()}`));
    expect(forged.status).toBe(403);
    const forgedId = String(forged.headers['x-stork-message-id']);
    const again = await replay(forgedId);
    expect([again.status, JSON.parse(again.text)]).toEqual([
      200,
      { id: forgedId, status: 'quarantined', reason: 'This API client may not send for this sending facility' },
    ]);

    // A message whose issuer is no longer configured (its id renamed here): 409, as for an API key no longer in the file.
    await quarantine(okId);
    await t.database.db.query(`UPDATE messages SET api_client = 'gone-idp:northgate-engine' WHERE id = $1`, [okId]);
    const gone = await replay(okId);
    expect(gone.status).toBe(409);
    expect(JSON.parse(gone.text)).toMatchObject({ detail: expect.stringContaining('may no longer send messages') as unknown });
  });

  test('claims map to roles and scope: a centre token reads its inbox, an ig token may not send, an unmapped role is 401', async () => {
    const centre = await token('k1', { stork_role: 'children-centre', stork_scope: 'osmondthorpe' });
    expect((await request(t.http, { path: '/v1/centres/osmondthorpe/notifications', token: centre })).status).toBe(200);
    expect((await request(t.http, { path: '/v1/centres/harehills/notifications', token: centre })).status).toBe(404);
    const ig = await token('k1', { stork_role: 'auditor' });
    expect((await post(ig, hl7('RX1', 'JWT-IG'))).status).toBe(403);
    for (const claims of [
      { stork_role: 'superuser' },
      { stork_role: 'children-centre', stork_scope: 'no-such-centre' },
      { stork_scope: undefined },
    ]) {
      const res = await request(t.http, { path: '/v1/notifications', token: await token('k1', claims) });
      expect(res.status).toBe(401);
    }
  });

  test('every bad token is 401 with the same JSON problem and no detail: missing, malformed, expired, not yet valid, wrong issuer, audience, signature, alg none, HS256 with the public key', async () => {
    const now = Math.floor(Date.now() / 1000);
    const pem = await exportSPKI(keys.get('k1')?.publicKey ?? staticKey.publicKey);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'x', exp: now + 300, stork_role: 'admin' };
    const liar = await generateKeyPair('ES256');
    const cases: Record<string, string | undefined> = {
      missing: undefined,
      malformed: 'eyJhbGciOi.not-base64!.x',
      garbage: 'aaaa.bbbb.cccc',
      expired: await token('k1', {}, { exp: now - 3600 }),
      notYetValid: await token('k1', {}, { nbf: now + 3600 }),
      wrongIssuer: await token('k1', {}, { iss: 'https://evil.example' }),
      wrongAudience: await token('k1', {}, { aud: 'someone-else' }),
      wrongSignature: await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(liar.privateKey),
      algNone: `${b64({ alg: 'none', kid: 'k1' })}.${b64(payload)}.`,
      hsWithPublicKey: await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(pem)),
      hsStaticIssuer: await new SignJWT({ ...payload, iss: STATIC_ISSUER })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(await exportSPKI(staticKey.publicKey))),
      huge: `${'a'.repeat(9000)}.b.c`,
    };
    for (const [name, tok] of Object.entries(cases)) {
      const res = await request(t.http, { path: '/v1/notifications', ...(tok !== undefined ? { token: tok } : {}) });
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
      expect(res.headers['content-type']).toContain('application/problem+json');
      const body = JSON.parse(res.text) as { detail: string };
      if (name !== 'missing' && name !== 'huge' && name !== 'malformed')
        expect({ name, detail: body.detail }).toEqual({ name, detail: 'The bearer token is not valid' });
      expect(res.text).not.toMatch(/expired|signature|audience|issuer|alg|nbf|exp/i);
    }
  });

  test('static public keys from a file: a token signed with that key is accepted (no kid needed)', async () => {
    const tok = await new SignJWT({ stork_role: 'children-centre', stork_scope: 'harehills' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(STATIC_ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('harehills-system')
      .setExpirationTime('5m')
      .sign(staticKey.privateKey);
    expect((await request(t.http, { path: '/v1/centres/harehills/notifications', token: tok })).status).toBe(200);
  });

  test('key rotation without a restart: a new key is fetched on its first token, the old one works until removed; random kids cannot flood the JWKS', async () => {
    const first = await token('k1', { stork_role: 'auditor' });
    expect((await request(t.http, { path: '/v1/notifications', token: first })).status).not.toBe(401);
    served = [...served, await newKey('k2')];
    const second = await token('k2', { stork_role: 'auditor' });
    // The first try may fall inside the cooldown of the last fetch: then it is refused and a later one passes.
    await pollUntil(
      async () => ((await request(t.http, { path: '/v1/notifications', token: second })).status !== 401 ? true : undefined),
      'the new key',
    );
    expect((await request(t.http, { path: '/v1/notifications', token: first })).status).not.toBe(401);

    // A flood of tokens naming unknown key ids: at most one JWKS fetch per cooldown (1 s), not one per token.
    await newKey('k-random');
    const before = jwksHits;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        const pair = keys.get('k-random');
        if (!pair) throw new Error('no key');
        const tok = await new SignJWT({ stork_role: 'admin' })
          .setProtectedHeader({ alg: 'ES256', kid: randomUUID() })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject('attacker')
          .setExpirationTime('5m')
          .sign(pair.privateKey);
        expect((await request(t.http, { path: '/v1/notifications', token: tok })).status).toBe(401);
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(jwksHits - before).toBeLessThanOrEqual(Math.ceil(seconds) + 1);

    // k1 removed: once the JWKS is fetched again (an unknown kid after the cooldown), k1's tokens are refused.
    served = served.filter((k) => k.kid !== 'k1');
    const probe = await token('k-random');
    await pollUntil(async () => {
      await request(t.http, { path: '/v1/notifications', token: probe });
      return (await request(t.http, { path: '/v1/notifications', token: first })).status === 401 ? true : undefined;
    }, 'the old key to be dropped');
    expect((await request(t.http, { path: '/v1/notifications', token: second })).status).not.toBe(401);
  });

  test('MLLP over TLS: the feed’s certificate sends its own messages (AA); sending as another feed is AR with ERR, stored and audited', async () => {
    const own = await sendTls(t.mllpPort, certs, 'northgate', hl7('RX1', 'TLS-OWN'));
    expect(msa1(own)).toBe('AA');
    const forged = await sendTls(t.mllpPort, certs, 'northgate', hl7('RX9', 'TLS-FORGE'));
    expect(msa1(forged)).toBe('AR');
    expect(forged).toContain('ERR|');
    const row = await storedByControlId('TLS-FORGE');
    expect(row).toMatchObject({
      status: 'quarantined',
      reason: "The message's sender (MSH-4/MSH-3) is not the feed this connection is identified as",
    });
    expect(await actors(row.id)).toEqual(['sender:unknown']);
    // A certificate the CA issued that no feed lists may not send for a feed that requires its certificate.
    const unmapped = await sendTls(t.mllpPort, certs, 'unmapped', hl7('RX1', 'TLS-UNMAPPED'));
    expect(msa1(unmapped)).toBe('AR');
    expect((await storedByControlId('TLS-UNMAPPED')).reason).toBe('The feed must connect with one of its client certificates');
    // A certificate from another CA (even with the right CN) never gets past the handshake.
    await expect(sendTls(t.mllpPort, certs, 'stranger', hl7('RX1', 'TLS-STRANGER'))).rejects.toThrow();
    // Replay of the forged message is refused: its sender's identity cannot be proved again.
    const replay = await request(t.http, { method: 'POST', path: `/v1/messages/${row.id}/replay`, token: 'demo-admin-key' });
    expect(replay.status).toBe(409);
  });

  test('source address allow-lists hold on HTTP HL7 v2 and FHIR: another address is refused 403, stored and audited', async () => {
    const fromElsewhere = await post('demo-northvale-feed-key', hl7('RX9', 'ADDR-HTTP'), { from: '127.0.0.3' });
    expect(fromElsewhere.status).toBe(403);
    expect(msa1(fromElsewhere.text)).toBe('AR');
    expect(await rows(String(fromElsewhere.headers['x-stork-message-id']))).toEqual([
      { status: 'quarantined', reason: 'The feed may not send from this network address' },
    ]);
    expect((await post('demo-northvale-feed-key', hl7('RX9', `ADDR-OK-${Date.now()}`), { from: '127.0.0.1' })).status).toBe(200);

    const fhir = fhirMessage();
    const far = await post(NORTHGATE_FHIR_KEY, fhir, {
      path: '/v1/fhir/$process-message',
      type: 'application/fhir+json',
      from: '127.0.0.5',
    });
    expect(far.status).toBe(403);
    expect(JSON.parse(far.text)).toMatchObject({ resourceType: 'OperationOutcome' });
    const farId = String(far.headers['x-stork-message-id']);
    expect(await rows(farId)).toEqual([{ status: 'quarantined', reason: 'The feed may not send from this network address' }]);
    expect(await actors(farId)).toEqual(['client:northgate-fhir-feed']);
  });

  test('FHIR: a JWT feed client for RX1 posting the northgate-fhir feed’s message is refused 403, stored and audited', async () => {
    const fhir = fhirMessage();
    const res = await post(await token('k2'), fhir, { path: '/v1/fhir/$process-message', type: 'application/fhir+json' });
    expect(res.status).toBe(403);
    const id = String(res.headers['x-stork-message-id']);
    expect((await rows(id))[0]?.status).toBe('quarantined');
    expect(await actors(id)).toEqual(['client:test-idp:northgate-engine']);
    // A JWT client whose scope is that feed may send for it.
    const own = await post(await token('k2', { stork_scope: 'northgate-fhir' }), fhirMessage(), {
      path: '/v1/fhir/$process-message',
      type: 'application/fhir+json',
    });
    expect(own.status).toBe(200);
  });

  test('the HTTP listener serves HTTPS with the configured certificate (plain HTTP stays the default)', async () => {
    const read = (n: string) => readFileSync(path.join(certs, n));
    const server = createHttpServer(
      express().get('/healthz', (_req, res) => res.json({ ok: true })),
      createLogger('silent'),
      { cert: read('server.pem'), key: read('server.key') },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const status = await new Promise<number>((resolve, reject) =>
        https
          .get({ host: '127.0.0.1', port, path: '/healthz', ca: read('ca.pem') }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject),
      );
      expect(status).toBe(200);
      expect(t.http.startsWith('http://')).toBe(true);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
