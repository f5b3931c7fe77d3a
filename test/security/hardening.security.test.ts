import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { generateKeyPair } from 'jose';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { VT } from '../../adapters/mllp/mllp-framer.js';
import { genuineNewborn, parseAck } from '../support/hostile-mllp.js';
import { pollUntil } from '../support/poll.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { startTestIssuer, type TestIssuer } from './support/jwt-issuer.js';

/**
 * Issue 16 item 4, hardening: per-client rate limits on every HTTP door (429 + Retry-After), helmet's headers on
 * the web app with Stork's stricter CSP, slow clients cut off on both listeners without holding up others, and
 * error answers that never carry a stack trace, a file path, a driver's message or personal data.
 */

const RATE = { perSecond: 5, burst: 10 };
const DEADLINE_MS = 1500;
const ENV = {
  STORK_ROLES: 'intake',
  STORK_HTTP_RATE_PER_SECOND: String(RATE.perSecond),
  STORK_HTTP_RATE_BURST: String(RATE.burst),
  STORK_HTTP_HEADERS_TIMEOUT_MS: String(DEADLINE_MS),
  STORK_HTTP_REQUEST_TIMEOUT_MS: String(DEADLINE_MS),
  STORK_MLLP_FRAME_TIMEOUT_MS: String(DEADLINE_MS),
};

interface Dripped {
  /** ms from connecting until the server closed the connection. */
  closedAfterMs: number;
  /** Bytes sent before the close. */
  sent: number;
  answer: string;
}

/**
 * A slowloris client: sends `head`, then one byte of `drip` a second (never finishing), until the server closes the
 * connection or `giveUpMs` passes (then the test fails: the server let it hold on).
 */
function slowloris(port: number, head: Buffer, drip: Buffer, giveUpMs: number): Promise<Dripped> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the slow connection after ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('connect', () => {
      socket.write(head);
      sent += head.length;
      timer = setInterval(() => {
        if (socket.writable) socket.write(drip.subarray(sent % drip.length, (sent % drip.length) + 1));
        sent++;
      }, 1000);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: performance.now() - started, sent, answer: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

/** What an error answer must never hold: stack frames, source paths, driver messages, SQL, Node internals. */
const LEAKS = [
  /\bat \S+ \(/,
  /\.ts:\d+/,
  /\.js:\d+/,
  /node_modules/,
  /\/work\//,
  /Error:/,
  /stack/i,
  /relation "/,
  /SELECT /i,
  /syntax error/i,
];

describe('Hardening: rate limits, headers, slow clients, error answers', () => {
  let t: TestHub;
  let issuer: TestIssuer;
  beforeAll(async () => {
    // The sample configuration with an OAuth 2.0 issuer added (static key made here): the JWT clients' buckets.
    issuer = await startTestIssuer();
    t = await startTestHub({ configDir: issuer.configDir, env: ENV });
  });
  afterAll(async () => {
    await t.stop();
    issuer.remove();
  });

  test('slowloris on HTTP (headers, then a body) and on MLLP (a frame) is cut off at the deadline; other clients are served meanwhile', async () => {
    const port = Number(new URL(t.http).port);
    const giveUp = DEADLINE_MS + 4000;
    const headers = slowloris(port, Buffer.from('GET /healthz HTTP/1.1\r\nHost: stork\r\nX-Slow: '), Buffer.from('abcdefgh'), giveUp);
    const body = slowloris(
      port,
      Buffer.from(
        'POST /v1/hl7v2 HTTP/1.1\r\nHost: stork\r\nAuthorization: Bearer demo-admin-key\r\nContent-Type: x-application/hl7-v2+er7\r\nContent-Length: 5000\r\n\r\nMSH|',
      ),
      Buffer.from('^~\\&|'),
      giveUp,
    );
    const mllp = slowloris(t.mllpPort, Buffer.from([VT, ...Buffer.from('MSH|^~\\&|')]), Buffer.from('MATERNITY|RX1|'), giveUp);

    // While the three trickle, another HTTP client and another MLLP sender are answered at once.
    const t0 = performance.now();
    expect((await fetch(`${t.http}/healthz`)).status).toBe(200);
    const client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 5000 });
    expect(parseAck(await client.send(genuineNewborn('SLOW-OTHER-1'))).code).toBe('AA');
    await client.close();
    expect(performance.now() - t0).toBeLessThan(DEADLINE_MS);

    const [h, b, m] = await Promise.all([headers, body, mllp]);
    for (const d of [h, b, m]) {
      expect(d.closedAfterMs).toBeGreaterThanOrEqual(DEADLINE_MS - 100);
      expect(d.closedAfterMs).toBeLessThan(DEADLINE_MS + 2500);
    }
    expect(h.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(b.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(h.answer).toContain('application/problem+json');
    expect(m.answer).toBe(''); // an unfinished frame has no MSH-10 to acknowledge: a clean close
    expect(t.sink.records().some((r) => r.msg === 'mllp connection closed: a frame did not end within the frame deadline')).toBe(true);
  });

  test('the web app carries helmet headers with Stork’s stricter CSP; the queue dashboard keeps its own policy', async () => {
    const res = await fetch(`${t.http}/app/signed-out`);
    expect(res.status).toBe(200);
    const h: Record<string, string> = {};
    res.headers.forEach((value, name) => (h[name] = value));
    expect(h).toMatchObject({
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
      'cache-control': 'no-store',
    });
    expect(h['strict-transport-security']).toMatch(/max-age=\d+/);
    const csp = h['content-security-policy'] ?? '';
    expect(csp).toMatch(/^default-src 'none'; script-src 'self' 'nonce-[A-Za-z0-9+/=]+'; style-src 'self'; /);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    // Signed out, the dashboard sends the person to sign in; its own CSP is checked in queue-dashboard.browser.test.ts.
    const dashboard = await fetch(`${t.http}/app/admin/queues`, { redirect: 'manual' });
    expect(dashboard.status).toBe(303);
    expect(dashboard.headers.get('x-frame-options')).toBe('DENY');
  });

  test('no error answer carries a stack trace, a file path, a driver message or personal data', async () => {
    const admin = 'demo-admin-key';
    const centre = 'demo-osmondthorpe-key';
    const nhs = '9434765919';
    const cases: [string, Promise<Response>, number][] = [
      [
        'malformed JSON',
        api(t.http, centre, '/v1/consents', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `{"nhsNumber":"${nhs}",`,
        }),
        400,
      ],
      [
        'a huge JSON body',
        api(t.http, centre, '/v1/consents', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `{"nhsNumber":"${nhs}","x":"${'A'.repeat(3_000_000)}"}`,
        }),
        413,
      ],
      [
        'a huge HL7 v2 body',
        api(t.http, admin, '/v1/hl7v2', {
          method: 'POST',
          headers: { 'content-type': 'x-application/hl7-v2+er7' },
          body: 'MSH|'.repeat(600_000),
        }),
        413,
      ],
      [
        'a bad content type',
        api(t.http, admin, '/v1/hl7v2', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<x/>' }),
        415,
      ],
      ['an unknown route', api(t.http, admin, `/v1/patients/${nhs}`), 404],
      ['an unknown route, no key', api(t.http, undefined, `/nothing/${nhs}`), 404],
      ['an id that is no message', api(t.http, admin, `/v1/messages/${nhs}`), 404],
      ['a bad percent-encoding', api(t.http, admin, '/v1/messages/%E0%A4%A'), 400],
      [
        'JSON of the wrong shape',
        api(t.http, centre, '/v1/consents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `["${nhs}"]` }),
        400,
      ],
      ['an unknown web page', fetch(`${t.http}/app/nothing/${nhs}`), 404],
    ];
    for (const [name, pending, status] of cases) {
      const res = await pending;
      const text = await res.text();
      expect({ name, status: res.status }).toEqual({ name, status });
      for (const leak of LEAKS) expect({ name, leak: leak.test(text) ? text.slice(0, 300) : false }).toEqual({ name, leak: false });
      expect({ name, personal: text.includes(nhs) }).toEqual({ name, personal: false });
    }
  });

  test('a thrown internal error is answered 503 problem+json, without its message or stack', async () => {
    // Break the store under the API: its queries now throw with PostgreSQL's message naming the table.
    await t.database.db.query('ALTER TABLE messages RENAME TO messages_hidden');
    try {
      const res = await api(t.http, 'demo-admin-key', '/v1/messages?limit=1');
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('retry-after')).toBe('5');
      for (const leak of LEAKS) expect({ leak: leak.test(text) ? text : false }).toEqual({ leak: false });
      expect(text).not.toContain('messages');
    } finally {
      await t.database.db.query('ALTER TABLE messages_hidden RENAME TO messages');
    }
  });

  test('JWT clients have their own buckets once verified; forged and garbage tokens share their address’s bucket, however many', async () => {
    const centreToken = (sub: string, scope: string) =>
      issuer.sign({ sub, stork_role: 'children-centre', stork_scope: scope }, { exp: '1h' });
    const flooder = await centreToken('flood-a', 'harehills');
    const calm = await centreToken('calm-b', 'osmondthorpe');
    const ask = (token: string, centre: string) =>
      fetch(`${t.http}/v1/centres/${centre}/notifications?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    // A new token's first request counts against the address's bucket, which earlier tests may have emptied: asked
    // again until it has refilled (a poll, not a sleep).
    await pollUntil(async () => ((await ask(calm, 'osmondthorpe')).status === 200 ? true : undefined), 'the calm client served');

    // One JWT client floods, one request after another: over its own limit, 429 + Retry-After.
    const flood: Response[] = [];
    const started = performance.now();
    for (let i = 0; i < RATE.burst + 10; i++) flood.push(await ask(flooder, 'harehills'));
    const refilled = Math.ceil(((performance.now() - started) / 1000) * RATE.perSecond);
    const served = flood.filter((r) => r.status === 200).length;
    // Its first request counted against the address; every later one against the client's own bucket.
    expect(served).toBeGreaterThanOrEqual(RATE.burst);
    expect(served).toBeLessThanOrEqual(RATE.burst + 1 + refilled);
    expect(flood.filter((r) => r.status === 429).length).toBe(flood.length - served);
    expect(Number(flood.at(-1)?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another JWT client from the same address (127.0.0.1) is served meanwhile: its bucket is its own.
    expect((await ask(calm, 'osmondthorpe')).status).toBe(200);

    // A flood of different invalid tokens (another key's signature, garbage, a valid token cut short): each is one
    // request against the address's one bucket, never a bucket of its own, so most are refused before being verified.
    const otherKey = (await generateKeyPair('ES256')).privateKey;
    const garbageStarted = performance.now();
    const garbage = await Promise.all(
      Array.from({ length: RATE.burst + 20 }, async (_, i) => {
        const token =
          i % 3 === 0
            ? await issuer.sign({ sub: `forged-${i}`, stork_role: 'children-centre', stork_scope: 'harehills' }, { key: otherKey })
            : i % 3 === 1
              ? `${randomBytes(12).toString('base64url')}.${randomBytes(24).toString('base64url')}.${randomBytes(32).toString('base64url')}`
              : flooder.slice(0, -2 - (i % 5));
        return ask(token, 'harehills');
      }),
    );
    const garbageRefilled = Math.ceil(((performance.now() - garbageStarted) / 1000) * RATE.perSecond);
    const limited = garbage.filter((r) => r.status === 429).length;
    expect(garbage.filter((r) => r.status !== 429).every((r) => r.status === 401)).toBe(true);
    expect(limited).toBeGreaterThanOrEqual(1);
    expect(garbage.length - limited).toBeLessThanOrEqual(RATE.burst + garbageRefilled);
    // A verified JWT client is still served: the garbage was counted against the address, not against it.
    expect((await ask(calm, 'osmondthorpe')).status).toBe(200);
  });

  test('per-client rate limits: one API client over its limit gets 429 + Retry-After while another client and unauthenticated callers go on', async () => {
    // One after another (the concurrency limit, 4 in progress, is not what is tested here).
    const flood: Response[] = [];
    const started = performance.now();
    for (let i = 0; i < RATE.burst + 10; i++)
      flood.push(await api(t.http, 'demo-harehills-key', '/v1/centres/harehills/notifications?limit=1'));
    const refilled = Math.ceil(((performance.now() - started) / 1000) * RATE.perSecond);
    const served = flood.filter((r) => r.status === 200).length;
    const refused = flood.filter((r) => r.status === 429);
    expect(served).toBeGreaterThanOrEqual(RATE.burst);
    expect(served).toBeLessThanOrEqual(RATE.burst + refilled);
    expect(refused.length).toBe(flood.length - served);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    const problems = (await Promise.all(refused.map((r) => r.json()))) as { title: string; status: number; detail: string }[];
    expect(problems.some((p) => p.status === 429 && p.detail.includes(`${RATE.perSecond} requests a second`))).toBe(true);
    // Another client is not held up by the first one's limit.
    expect((await api(t.http, 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?limit=1')).status).toBe(200);

    // Unauthenticated (no key, a wrong key): limited by source address, on every door.
    const doors = ['/healthz', '/readyz', '/v1/openapi.json', '/v1/fhir/metadata', '/app/signed-out', '/v1/messages', '/metrics'];
    const anonymousStarted = performance.now();
    const anonymous = await Promise.all(
      Array.from({ length: RATE.burst + 15 }, (_, i) => {
        const door = doors[i % doors.length] ?? '/healthz';
        return i % 2 === 0 ? fetch(`${t.http}${door}`) : api(t.http, 'not-a-key', door);
      }),
    );
    const anonymousRefused = anonymous.filter((r) => r.status === 429);
    const anonymousRefilled = Math.ceil(((performance.now() - anonymousStarted) / 1000) * RATE.perSecond);
    expect(anonymousRefused.length).toBeGreaterThanOrEqual(1);
    expect(anonymous.length - anonymousRefused.length).toBeLessThanOrEqual(RATE.burst + anonymousRefilled);
    for (const r of anonymousRefused) expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The known client's own bucket is separate from its address's.
    expect((await api(t.http, 'demo-admin-key', '/v1/messages?limit=1')).status).toBe(200);
  });
});
