import net from 'node:net';
import pg from 'pg';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { INTAKE_CONCURRENT_BATCHES } from '../../src/intake/receipt-committer.js';
import { newbornAdt } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { storeKind } from '../support/test-database.js';
import { readFileSync } from 'node:fs';
import { OPENAPI_FILE } from '../../adapters/http/routes/openapi.js';
import { ResponseChecker, type OpenApiDocument } from '../support/openapi.js';

const checker = new ResponseChecker(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument);

/**
 * Issue 8, defects 4 and 6: API readers must not starve intake, one API client must not crowd out another,
 * and malformed requests (cursors, repeated filters, unknown methods, oversized headers) get a 4xx
 * problem+json naming what was wrong, never a 503 "retry later" and an error log.
 */

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;
/** A newborn in original acknowledgement mode (AA/AE/AR), living in Osmondthorpe's catchment. */
const adt = (seed: number, controlId: string) =>
  newbornAdt({ ...RX1, seed, controlId, messageTime: new Date(), postcodes: ['LS9 7AB'] }).replace('|AL|NE|', '|||');
const msa = (ack: string) => ack.split('\r')[1]?.split('|') ?? [];
const HL7 = { 'content-type': 'x-application/hl7-v2+er7' };
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const UUID0 = '00000000-0000-4000-8000-000000000000';
/** The answer's media type without its parameters (`; charset=utf-8`). */
const mediaType = (res: Response): string | null => res.headers.get('content-type')?.split(';')[0]?.trim() ?? null;

interface Problem {
  status: number;
  title: string;
  errors?: { field: string; message: string }[];
}

/** Log records at error level or above (pino: 50 = error, 60 = fatal). */
const errorLines = (t: TestHub) => t.sink.records().filter((r) => typeof r.level === 'number' && r.level >= 50);

/** Sends raw bytes over a TCP connection to the HTTP port and returns everything the server answered before it closed. */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.setTimeout(15000, () => socket.destroy(new Error('no answer from the server')));
    socket.end(request);
  });
}

describe('Malformed requests get a 4xx problem+json naming what was wrong, never 503 or an error log', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => t.stop());

  const cursors: [string, string][] = [
    ['junk base64', b64('\u0000\u00ff junk that is not a cursor')],
    ['base64 of a timestamp and a non-uuid', b64('2026-11-29T00:00:00.000Z|not-a-uuid')],
    ['base64 of an impossible date', b64(`2026-02-30T00:00:00.000Z|${UUID0}`)],
    ['base64 of year zero', b64(`0000-01-01T00:00:00.000Z|${UUID0}`)],
    ['a huge number', '99999999999999999999999'],
    ['a negative number', '-1'],
    ['SQL text', "' OR 1=1; DROP TABLE messages; --"],
    ['SQL inside a base64 cursor', b64(`2026-11-29T00:00:00.000Z|${UUID0}'); DROP TABLE messages; --`)],
    ['wrong shape: three parts', b64(`2026-11-29T00:00:00.000Z|${UUID0}|x`)],
    ['wrong shape: an id alone', b64(UUID0)],
    ['wrong shape: not base64url', 'abc+/=='],
    ['empty', ''],
  ];
  const listings: [string, string, string][] = [
    ['/v1/messages', 'demo-admin-key', '/v1/messages?after='],
    ['/v1/audit', 'demo-ig-key', '/v1/audit?subject=9000000009&after='],
    ['the inbox', 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?status=new&after='],
  ];

  test('(c) every malformed paging cursor on /v1/messages, /v1/audit and the inbox is 400 problem+json naming `after`, with no error logged', async () => {
    const before = t.sink.lines.length;
    const answers: { where: string; cursor: string; status: number; type: string | null; fields: string[] }[] = [];
    for (const [where, key, path] of listings) {
      for (const [name, cursor] of cursors) {
        const res = await api(t.http, key, path + encodeURIComponent(cursor));
        const body = (await res.json()) as Problem;
        answers.push({
          where,
          cursor: name,
          status: res.status,
          type: mediaType(res),
          fields: (body.errors ?? []).map((e) => e.field),
        });
      }
    }
    for (const a of answers) expect(a).toEqual({ ...a, status: 400, type: 'application/problem+json', fields: ['after'] });
    expect(errorLines(t)).toEqual([]);
    expect(t.sink.lines.slice(before).filter((l) => l.includes('request failed'))).toEqual([]);
  });

  test('(c) the cursors the hub hands out still page: /v1/messages, the inbox and the audit, one item a page', async () => {
    const ids: string[] = [];
    for (const [i, id] of ['PAGE-1', 'PAGE-2', 'PAGE-3'].entries()) {
      const res = await api(t.http, 'demo-northgate-feed-key', '/v1/hl7v2', { method: 'POST', headers: HL7, body: adt(700 + i, id) });
      expect(msa(await res.text())[1]).toBe('AA');
      ids.push(res.headers.get('x-stork-message-id') ?? '');
    }
    const walk = async (key: string, path: string, expected: number): Promise<number> => {
      let next: string | undefined;
      let pages = 0;
      do {
        const res = await api(t.http, key, `${path}${next !== undefined ? `&after=${encodeURIComponent(next)}` : ''}`);
        expect(res.status).toBe(200);
        const page = (await res.json()) as { items: unknown[]; next?: string };
        pages += page.items.length;
        next = page.next;
      } while (next !== undefined && pages <= expected);
      return pages;
    };
    expect(await walk('demo-admin-key', '/v1/messages?limit=1', 3)).toBe(3);
    await pollUntil(async () => {
      const res = await api(t.http, 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?limit=10');
      const page = (await res.json()) as { items: unknown[] };
      return page.items.length >= 3 ? true : undefined;
    }, 'three notifications in the inbox');
    expect(await walk('demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?status=new&limit=1', 3)).toBe(3);
    // The audit's cursor is a seq: paged one event at a time, the walk finds every event one page of 500 holds.
    const all = (await (await api(t.http, 'demo-ig-key', `/v1/audit?message=${ids[0] ?? ''}&limit=500`)).json()) as { items: unknown[] };
    expect(all.items.length).toBeGreaterThanOrEqual(1);
    expect(await walk('demo-ig-key', `/v1/audit?message=${ids[0] ?? ''}&limit=1`, all.items.length)).toBe(all.items.length);
  });

  test('(d) a repeated filter is refused: 400 naming the parameter, not silently ignored', async () => {
    const cases: [string, string, string][] = [
      ['demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?status=new&status=withdrawn', 'status'],
      ['demo-admin-key', '/v1/messages?status=queued&status=quarantined', 'status'],
      ['demo-admin-key', '/v1/messages?feed=northgate&feed=northvale', 'feed'],
      ['demo-admin-key', '/v1/messages?limit=1&limit=2', 'limit'],
      ['demo-ig-key', '/v1/audit?subject=9000000009&subject=9000000017', 'subject'],
      [
        'demo-osmondthorpe-key',
        `/v1/centres/osmondthorpe/notifications?after=${b64(`2026-11-29T00:00:00.000Z|${UUID0}`)}&after=x`,
        'after',
      ],
    ];
    for (const [key, path, field] of cases) {
      const res = await api(t.http, key, path);
      const body = (await res.json()) as Problem;
      expect({ path, status: res.status, type: mediaType(res), fields: (body.errors ?? []).map((e) => e.field) }).toEqual({
        path,
        status: 400,
        type: 'application/problem+json',
        fields: [field],
      });
    }
  });

  test('(e) an unknown method on a known path is 405 problem+json with Allow; an unknown path is still 404', async () => {
    const cases: [string, string, string, string][] = [
      ['DELETE', 'demo-admin-key', '/v1/messages', 'GET, HEAD'],
      ['PUT', 'demo-admin-key', `/v1/messages/${UUID0}`, 'GET, HEAD'],
      ['GET', 'demo-admin-key', `/v1/messages/${UUID0}/replay`, 'POST'],
      ['PUT', 'demo-northgate-feed-key', '/v1/hl7v2', 'POST'],
      ['GET', 'demo-northgate-feed-key', '/v1/hl7v2', 'POST'],
      ['DELETE', 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications', 'GET, HEAD'],
      ['PUT', 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${UUID0}`, 'GET, HEAD'],
      ['DELETE', 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${UUID0}/ack`, 'POST'],
      ['DELETE', 'demo-ig-key', '/v1/audit', 'GET, HEAD'],
      ['POST', 'demo-ig-key', '/healthz', 'GET, HEAD'],
      ['DELETE', 'demo-ig-key', '/readyz', 'GET, HEAD'],
    ];
    for (const [method, key, path, allow] of cases) {
      const res = await api(t.http, key, path, { method });
      const body = (await res.json()) as Problem;
      expect({
        method,
        path,
        status: res.status,
        allow: res.headers.get('allow'),
        type: mediaType(res),
        title: body.title,
      }).toEqual({
        method,
        path,
        status: 405,
        allow,
        type: 'application/problem+json',
        title: 'Method not allowed',
      });
    }
    const options = await api(t.http, 'demo-admin-key', '/v1/messages', { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow')]).toEqual([200, 'GET, HEAD']);
    const unknown = await api(t.http, 'demo-admin-key', '/v1/nothing-here', { method: 'DELETE' });
    expect(unknown.status).toBe(404);
    // The 405 does not skip authentication: without a key it is still 401.
    expect((await api(t.http, undefined, '/v1/messages', { method: 'DELETE' })).status).toBe(401);
  });

  test('these answers are the ones the OpenAPI description documents (400 for a cursor or a repeated filter, 405, 431)', async () => {
    const problems: string[] = [];
    const check = async (method: string, template: string, path: string, key: string) => {
      const res = await api(t.http, key, path, { method });
      problems.push(...checker.check(method, template, res.status, res.headers.get('content-type'), await res.json()));
      return res.status;
    };
    expect(await check('GET', '/v1/messages', `/v1/messages?after=${b64('junk')}`, 'demo-admin-key')).toBe(400);
    expect(await check('GET', '/v1/audit', '/v1/audit?message=' + UUID0 + '&after=99999999999999999999999', 'demo-ig-key')).toBe(400);
    const inbox = '/v1/centres/{centreId}/notifications';
    expect(await check('GET', inbox, '/v1/centres/osmondthorpe/notifications?status=new&status=withdrawn', 'demo-osmondthorpe-key')).toBe(
      400,
    );
    const notAllowed = await api(t.http, 'demo-admin-key', '/v1/messages', { method: 'DELETE' });
    expect(notAllowed.status).toBe(405);
    problems.push(...checker.checkComponent('MethodNotAllowed', notAllowed.headers.get('content-type'), await notAllowed.json()));
    const big = await rawHttp(
      Number(new URL(t.http).port),
      `GET /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(40_000)}\r\n\r\n`,
    );
    const [head = '', body = ''] = big.split('\r\n\r\n');
    problems.push(...checker.checkComponent('HeadersTooLarge', /content-type: ([^\r]+)/i.exec(head)?.[1] ?? null, JSON.parse(body)));
    expect(problems).toEqual([]);
    // The checker is not vacuous: a 405 body without its status fails it.
    expect(checker.checkComponent('MethodNotAllowed', 'application/problem+json', { title: 'x' }).length).toBeGreaterThan(0);
  });

  test('(f) an oversized header gets 431 with a problem+json body; a malformed request line gets 400 problem+json', async () => {
    const port = Number(new URL(t.http).port);
    const big = await rawHttp(port, `GET /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(40_000)}\r\n\r\n`);
    const [head = '', body = ''] = big.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(head.toLowerCase()).toContain('content-type: application/problem+json');
    expect(JSON.parse(body)).toMatchObject({ status: 431, title: 'Request header fields too large' });

    const garbled = await rawHttp(port, 'NOT A REQUEST\r\n\r\n');
    const [head2 = '', body2 = ''] = garbled.split('\r\n\r\n');
    expect(head2.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(head2.toLowerCase()).toContain('content-type: application/problem+json');
    expect(JSON.parse(body2)).toMatchObject({ status: 400 });
    // The server still answers normally afterwards.
    expect((await fetch(`${t.http}/healthz`)).status).toBe(200);
  });
});

describe('Readers cannot starve intake, and one API client cannot crowd out another (PostgreSQL: a pool per purpose)', () => {
  // The pool split needs PostgreSQL: PGlite is one in-process connection that intake, API and workers share.
  if (storeKind() !== 'postgres') return;

  const LIMIT = 4;
  let t: TestHub;
  let admin: pg.Client;
  let locker: pg.Client;

  beforeAll(async () => {
    // DATABASE_URL as well as the test's own database: the hub opens its intake and API pools from it.
    t = await startTestHub({
      env: { STORK_API_CLIENT_CONCURRENCY: String(LIMIT), STORK_API_DB_CONNECTIONS: '8' },
      databaseUrlToo: true,
    });
    admin = new pg.Client({ connectionString: t.database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await t.stop();
  });

  /**
   * Makes every inbox read slow for as long as it is held: an ACCESS EXCLUSIVE lock on inbox_items, so each
   * read holds its connection waiting in PostgreSQL (what a heavy inbox or a slow disk does), with no timing.
   */
  async function holdInbox(): Promise<void> {
    locker = new pg.Client({ connectionString: t.database.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE inbox_items IN ACCESS EXCLUSIVE MODE');
  }
  async function releaseInbox(): Promise<void> {
    await locker.query('COMMIT');
    await locker.end();
  }
  /** API connections (application_name stork-api) waiting on the lock: the workers' deliveries may wait on it too. */
  const waitingOnTheLock = async () =>
    Number(
      (
        await admin.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'stork-api' AND wait_event_type = 'Lock'`,
        )
      ).rows[0]?.n ?? 0,
    );

  const connections = async (applicationName: string) =>
    Number(
      (
        await admin.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
          [applicationName],
        )
      ).rows[0]?.n ?? 0,
    );

  interface Answer {
    status: number;
    retryAfter: string | null;
    type: string | null;
  }
  const read = async (key: string, centre: string): Promise<Answer> => {
    const res = await api(t.http, key, `/v1/centres/${centre}/notifications?status=new`);
    const body: unknown = await res.json();
    if (res.status === 429) {
      const problems = checker.check('GET', '/v1/centres/{centreId}/notifications', 429, res.headers.get('content-type'), body);
      if (problems.length > 0) throw new Error(`429 does not match the OpenAPI description: ${problems.join('; ')}`);
    }
    return { status: res.status, retryAfter: res.headers.get('retry-after'), type: res.headers.get('content-type') };
  };

  test('(a) 300 concurrent inbox reads from one centre key while a genuine MLLP sender sends: every message AA, every read 200 or 429 with Retry-After', async () => {
    await holdInbox();
    let released = false;
    try {
      const answers: Answer[] = [];
      const reads = Array.from({ length: 300 }, () => read('demo-osmondthorpe-key', 'osmondthorpe').then((a) => (answers.push(a), a)));
      // The reads the limit admits are now holding API connections, waiting in PostgreSQL.
      await pollUntil(async () => ((await waitingOnTheLock()) >= LIMIT ? true : undefined), 'inbox reads waiting in PostgreSQL');

      // Intake's connections were all opened at start and are kept open: no answer waits for a handshake.
      expect(await connections('stork-intake')).toBe(INTAKE_CONCURRENT_BATCHES + 1);
      const sender = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 20000 });
      const acks = await Promise.all(Array.from({ length: 40 }, (_, i) => sender.send(adt(900 + i, `STARVE-${i}`))));
      await sender.close();
      expect(acks.map((a) => msa(a)[1])).toEqual(Array.from({ length: 40 }, () => 'AA'));
      // They were committed through intake's own pool.
      expect(await connections('stork-intake')).toBeGreaterThanOrEqual(1);
      // The reads over the limit were answered at once, while the admitted ones still wait.
      await pollUntil(() => (answers.length >= 300 - LIMIT ? true : undefined), 'the reads over the limit to be answered');

      await releaseInbox();
      released = true;
      const all = await Promise.all(reads);
      const byStatus = new Map<number, number>();
      for (const a of all) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
      expect([...byStatus.keys()].sort()).toEqual([200, 429]);
      expect(byStatus.get(200)).toBe(LIMIT);
      for (const a of all.filter((x) => x.status === 429)) {
        expect(a.retryAfter).toMatch(/^\d+$/);
        expect(a.type).toContain('application/problem+json');
      }
      expect(errorLines(t)).toEqual([]);
    } finally {
      if (!released) await releaseInbox();
    }
  });

  test('(b) the limit is per client: client A flooding gets 429s, client B under its limit gets none', async () => {
    await holdInbox();
    let released = false;
    try {
      const flood = Array.from({ length: 60 }, () => read('demo-osmondthorpe-key', 'osmondthorpe'));
      const answeredA: Answer[] = [];
      for (const p of flood) void p.then((a) => answeredA.push(a));
      await pollUntil(async () => ((await waitingOnTheLock()) >= LIMIT ? true : undefined), "A's reads waiting in PostgreSQL");
      await pollUntil(() => (answeredA.length >= 60 - LIMIT ? true : undefined), "A's reads over the limit to be answered");
      expect(answeredA.every((a) => a.status === 429)).toBe(true);

      // B asks while A is at its limit: B's reads are admitted (they too wait on the lock, not a 429).
      const b = Array.from({ length: LIMIT }, () => read('demo-east-end-park-key', 'east-end-park'));
      await pollUntil(
        async () => ((await waitingOnTheLock()) >= 2 * LIMIT ? true : undefined),
        "B's reads admitted and waiting in PostgreSQL",
      );
      // The API's pool is bounded: A's and B's admitted reads are all the connections it has.
      expect(await connections('stork-api')).toBe(8);
      await releaseInbox();
      released = true;
      expect((await Promise.all(b)).map((a) => a.status)).toEqual(Array.from({ length: LIMIT }, () => 200));
      const a = await Promise.all(flood);
      expect(a.filter((x) => x.status === 200)).toHaveLength(LIMIT);
      expect(a.filter((x) => x.status === 429)).toHaveLength(60 - LIMIT);
      // Once A's reads are done, A is admitted again.
      expect((await read('demo-osmondthorpe-key', 'osmondthorpe')).status).toBe(200);
    } finally {
      if (!released) await releaseInbox();
    }
  });
});
