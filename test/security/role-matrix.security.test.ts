import type { Database } from '../../src/ports/database.js';
import { londonDateOf } from '../../src/domain/offer-outcome.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { defined } from '../support/defined.js';
import { doorsOf, outcomeOf, readMatrix, rowCovers, type MatrixRow } from './support/matrix.js';
import { anonymous, BAD_CREDENTIALS, BAD_JWTS, newSession, principals, type Presented, type Principal } from './support/principals.js';
import { startTestIssuer, type TestIssuer } from './support/jwt-issuer.js';

const HL7 = 'x-application/hl7-v2+er7';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const matrix = readMatrix();

/**
 * The README's role matrix, cell by cell, against one real hub (PostgreSQL): every door of the API and the web app,
 * every kind of caller, broken credentials on every protected door, and the cross-centre attempts the table cannot
 * hold (filters and paging cursors).
 */
describe('Least privilege: the README role matrix', () => {
  let t: TestHub;
  let who: Record<string, Principal>;
  let issuer: TestIssuer;
  const values: Record<string, string> = { unknown: UNKNOWN };
  const babies = [1601, 1602].map((seed, i) =>
    describeNewborn({
      seed,
      controlId: `MATRIX-${i}`,
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
      postcodes: ['LS9 7AB'],
    }),
  );
  const baby = defined(babies[0], 'the first newborn');
  const db = (): Database => t.hub.db;
  const apps = (): NonNullable<TestHub['hub']['apps']> => defined(t.hub.apps, 'the hub’s apps');
  const anonymousCaller = anonymous();

  beforeAll(async () => {
    // A copy of the sample configuration with one OAuth 2.0 issuer added (a static public key made here): the JWT columns.
    issuer = await startTestIssuer();
    // API keys and (once verified) JWT clients have buckets of their own, but the anonymous caller, the web sessions,
    // each JWT's first request and the broken credentials (hundreds at once) all count against one source address,
    // 127.0.0.1, in the per-address rate limit: raised so that it is never what answers. The limits themselves are
    // hardening.security.test.ts's subject.
    t = await startTestHub({
      configDir: issuer.configDir,
      env: { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0', STORK_HTTP_RATE_PER_SECOND: '100000', STORK_HTTP_RATE_BURST: '100000' },
    });
    who = principals(db, issuer);
    for (const b of babies) {
      const sent = await api(t.http, 'demo-northgate-feed-key', '/v1/hl7v2', {
        method: 'POST',
        headers: { 'content-type': HL7 },
        body: b.text,
      });
      expect(sent.status).toBe(200);
      if (b === baby) values.message = sent.headers.get('x-stork-message-id') ?? '';
    }
    const items = await pollUntil(async () => {
      const r = await api(t.http, 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications');
      const body = (await r.json()) as { items: { notificationId: string; babyNhsNumber?: string }[] };
      return body.items.length === babies.length ? body.items : undefined;
    }, 'both newborns delivered to Osmondthorpe');
    values.notification = items.find((i) => JSON.stringify(i).includes(baby.baby.nhsNumber))?.notificationId ?? '';
    const item = (await (
      await api(t.http, 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${values.notification}`)
    ).json()) as {
      familyId?: string;
    };
    values.family = item.familyId ?? '';
    values.nhs = baby.baby.nhsNumber;
    values.consent = await freshConsent();
    const event = await api(t.http, 'demo-northgate-fhir-key', '/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'matrix-event-1',
        source: 'https://maternity.northgate.example/fhir',
        type: 'uk.nhs.maternity.birth-recorded',
        data: { nhsNumber: baby.baby.nhsNumber },
      }),
    });
    // The sample FHIR feed has no server to fetch from (422), but the refused event is stored, under feed B's key.
    expect([202, 422]).toContain(event.status);
    const stored = await t.hub.db.query<{ id: string }>(`SELECT id FROM fhir_events WHERE api_client = 'northgate-fhir-feed'`);
    values.event = stored.rows[0]?.id ?? '';
    expect(Object.entries(values).filter(([, v]) => v.length === 0)).toEqual([]);
  });
  afterAll(async () => {
    await t.stop();
    issuer.remove();
  });

  /** A consent Osmondthorpe records about the baby, live: each row naming `{consent}` starts with a new one (a row may withdraw it). */
  async function freshConsent(): Promise<string> {
    const consent = await api(t.http, 'demo-osmondthorpe-key', '/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'consent',
        scope: 'offer-of-support',
        recipient: 'centre:osmondthorpe',
        source: 'parent-by-phone',
        babyNhsNumber: baby.baby.nhsNumber,
      }),
    });
    expect(consent.status).toBe(201);
    return ((await consent.json()) as { id: string }).id;
  }

  /** The row's request for this caller: placeholders filled, the body it sends (real ones where cheap). */
  function requestOf(
    row: MatrixRow,
    principal: Principal,
    ids: Record<string, string> = values,
  ): { path: string; init: RequestInit; form: boolean } {
    const path = row.target.replace(/\{(\w+)\}/g, (_, k: string) =>
      encodeURIComponent(k === 'self' ? (principal.scope ?? 'osmondthorpe') : (ids[k] ?? `{${k}}`)),
    );
    const key = `${row.method} ${row.target}`;
    if (path.startsWith('/app/')) return { path, init: { method: row.method }, form: row.method === 'POST' };
    if (key === 'POST /v1/hl7v2') return { path, init: { method: 'POST', headers: { 'content-type': HL7 }, body: baby.text }, form: false };
    if (key.endsWith('/named-worker') && row.method === 'PUT')
      return {
        path,
        init: { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"name":"Wendy Worker"}' },
        form: false,
      };
    if (key.endsWith('/outcomes') && row.method === 'POST') {
      // A whole, valid outcome: the notification is looked up only once the body is sound.
      const outcome = { outcome: 'contacted', date: londonDateOf(new Date()), worker: 'Wendy Worker' };
      return {
        path,
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(outcome) },
        form: false,
      };
    }
    if (row.method === 'POST' && (key === 'POST /v1/consents' || key === 'POST /v1/events' || key.startsWith('POST /v1/match-reviews')))
      return { path, init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, form: false };
    return { path, init: { method: row.method }, form: false };
  }

  async function ask(path: string, init: RequestInit, presented: Presented, form: boolean): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(presented.headers)) headers.set(k, v);
    if (form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      return fetch(`${t.http}${path}`, {
        ...init,
        headers,
        redirect: 'manual',
        body: new URLSearchParams(presented.csrf !== undefined ? { _csrf: presented.csrf } : {}).toString(),
      });
    }
    return fetch(`${t.http}${path}`, { ...init, headers, redirect: 'manual' });
  }

  test('every door the hub has registered (API and web app) has a row, and every row is a door', () => {
    const doors = [...doorsOf(apps().api), ...doorsOf(defined(apps().web, 'the web app'), '/app')];
    expect(doors.length).toBeGreaterThan(60);
    const missing = doors.filter((d) => !matrix.rows.some((r) => rowCovers(r, d)));
    expect({ 'doors with no row in the README role matrix': missing }).toEqual({ 'doors with no row in the README role matrix': [] });
    const stale = matrix.rows.filter((r) => !doors.some((d) => rowCovers(r, d))).map((r) => `${r.method} ${r.target}`);
    expect({ 'rows that are no door': stale }).toEqual({ 'rows that are no door': [] });
    expect(matrix.columns.filter((c) => who[c] === undefined)).toEqual([]);
  });

  test('every cell: each caller gets exactly the outcome the table says', async () => {
    const wrong: string[] = [];
    // Four rows at a time, the callers of a row at once: each caller has at most 4 requests in progress (the
    // per-client limit). A row naming {consent} gets a live consent of its own (a row may withdraw it); no other row
    // changes what another finds.
    const one = async (row: MatrixRow): Promise<void> => {
      const ids = row.target.includes('{consent}') ? { ...values, consent: await freshConsent() } : values;
      await Promise.all(
        matrix.columns.map(async (column) => {
          const principal = who[column];
          if (!principal) return;
          const { path, init, form } = requestOf(row, principal, ids);
          const res = await ask(path, init, await principal.present({ fresh: row.target === '/app/sign-out' }), form);
          await res.arrayBuffer();
          const got = outcomeOf(res.status, res.headers.get('location'), path);
          if (got !== row.cells[column])
            wrong.push(`${row.method} ${row.target} as ${column}: ${got} (${res.status}), the table says ${row.cells[column]}`);
        }),
      );
    };
    for (let i = 0; i < matrix.rows.length; i += 4) await Promise.all(matrix.rows.slice(i, i + 4).map(one));
    expect(wrong.sort()).toEqual([]);
  });

  test('broken credentials on every protected door are no credentials: 401, sign-in, or 403 for a form post', async () => {
    const wrong: string[] = [];
    const protectedRows = matrix.rows.filter((r) => r.cells.anonymous !== 'ok');
    // Nothing here gets in, so nothing changes: each broken credential tries every door of its channel at once.
    for (const bad of BAD_CREDENTIALS) {
      await Promise.all(
        protectedRows
          .filter((row) => row.target.startsWith('/app/') === (bad.channel === 'web'))
          .map(async (row) => {
            const { path, init, form } = requestOf(row, anonymousCaller);
            const res = await ask(path, init, await bad.present({ db: db(), issuer }), form);
            const text = await res.text();
            const got = outcomeOf(res.status, res.headers.get('location'), path);
            if (got !== row.cells.anonymous)
              wrong.push(`${row.method} ${row.target} with ${bad.name}: ${got}, expected ${row.cells.anonymous}`);
            // A refused token's answer says nothing of why (expired, signature, audience…): a forger learns nothing.
            if (BAD_JWTS.includes(bad) && /expired|signature|audience|issuer|alg|nbf|exp|kid|jwt|jws|jose/i.test(text))
              wrong.push(`${row.method} ${row.target} with ${bad.name}: the answer tells why: ${text}`);
          }),
      );
    }
    expect(wrong.sort()).toEqual([]);
  });

  test('a form post with a valid session but a missing, wrong or another session’s CSRF token is 403 and changes nothing', async () => {
    const olivia = await newSession(db(), { sub: 'olivia', name: 'Olivia Demo', role: 'centre-worker', scope: 'osmondthorpe' });
    const other = await newSession(db(), { sub: 'harry', name: 'Harry Demo', role: 'centre-worker', scope: 'harehills' });
    const before = await db().query<{ n: string }>('SELECT count(*) AS n FROM audit_events');
    for (const body of ['', '_csrf=', `_csrf=${olivia.csrf}x`, `_csrf=${other.csrf}`, `_csrf=${olivia.csrf.slice(1)}`, 'name=Wendy']) {
      const res = await fetch(`${t.http}/app/households/${values.family}/named-worker`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: olivia.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: `${body}&name=Mallory`,
      });
      expect({ body, status: res.status }).toEqual({ body, status: 403 });
      expect(await res.text()).toContain('This form has expired');
    }
    const after = await db().query<{ n: string }>('SELECT count(*) AS n FROM audit_events');
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  });

  test('another centre never sees Osmondthorpe’s notifications: not through any filter, limit or paging cursor', async () => {
    const ours = babies.map((b) => b.baby.nhsNumber);
    const first = (await (await api(t.http, 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?limit=1')).json()) as {
      next?: string;
    };
    expect(first.next).toEqual(expect.any(String));
    const cursors = [undefined, first.next ?? '', values.notification ?? ''];
    const leaks: string[] = [];
    const queries: [string, string][] = [];
    for (const status of [undefined, 'new', 'acknowledged', 'withdrawn'])
      for (const after of cursors)
        for (const limit of [undefined, '1', '500'])
          for (const extra of ['', '&centreId=osmondthorpe&inbox=osmondthorpe&scope=osmondthorpe'])
            for (const accept of ['application/json', 'application/fhir+json']) {
              const q = new URLSearchParams();
              if (status) q.set('status', status);
              if (after !== undefined) q.set('after', after);
              if (limit) q.set('limit', limit);
              queries.push([`${q.toString()}${extra}`, accept]);
            }
    // Four at a time: one client may have STORK_API_CLIENT_CONCURRENCY (4) requests in progress.
    for (let i = 0; i < queries.length; i += 4)
      await Promise.all(
        queries.slice(i, i + 4).map(async ([query, accept]) => {
          const res = await api(t.http, 'demo-harehills-key', `/v1/centres/harehills/notifications?${query}`, { headers: { accept } });
          const text = await res.text();
          if (![200, 400].includes(res.status) || ours.some((n) => text.includes(n)) || text.includes(values.notification ?? '-'))
            leaks.push(`${query} (${accept}): ${res.status}`);
        }),
      );
    // Harry's worklist, likewise.
    for (const status of ['', 'new', 'acknowledged', 'withdrawn']) {
      const harry = await newSession(db(), { sub: 'harry', name: 'Harry Demo', role: 'centre-worker', scope: 'harehills' });
      for (const after of ['', first.next ?? '']) {
        const res = await fetch(`${t.http}/app/families?status=${status}&after=${encodeURIComponent(after)}`, {
          headers: { cookie: harry.cookie },
          redirect: 'manual',
        });
        const text = await res.text();
        // 404: a cursor that is not one of this worklist's pages.
        if (![200, 400, 404].includes(res.status) || ours.some((n) => text.includes(n)) || text.includes(values.notification ?? '-'))
          leaks.push(`/app/families?status=${status}&after=${after}: ${res.status}`);
      }
    }
    expect(leaks).toEqual([]);
    // Recording a consent about Osmondthorpe's baby as Harehills: the family is not Harehills', so 404.
    const consent = await api(t.http, 'demo-harehills-key', '/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'objection',
        scope: 'offer-of-support',
        recipient: 'centre:harehills',
        source: 'parent-by-phone',
        babyNhsNumber: baby.baby.nhsNumber,
      }),
    });
    expect(consent.status).toBe(404);
  });

  test('raw messages: admins only, or the IG role with a recorded purpose (audited)', async () => {
    const raw = (key: string, query = ''): Promise<Response> => api(t.http, key, `/v1/messages/${values.message}/raw${query}`);
    const asIgNoPurpose = await raw('demo-ig-key');
    expect(asIgNoPurpose.status).toBe(400);
    expect(((await asIgNoPurpose.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['purpose']);
    expect((await raw('demo-ig-key', `?purpose=${'x'.repeat(201)}`)).status).toBe(400);
    expect((await raw('demo-ig-key', '?purpose=%20%20')).status).toBe(400);
    const asIg = await raw('demo-ig-key', '?purpose=Subject%20access%20request%2042');
    expect(asIg.status).toBe(200);
    expect(((await asIg.json()) as { raw: string }).raw).toContain(baby.baby.nhsNumber);
    expect((await raw('demo-ig-key', '?purpose=x&purpose=y')).status).toBe(400);
    // The metadata read gives IG no body, and feeds and centres get no raw body at all.
    expect((await api(t.http, 'demo-ig-key', `/v1/messages/${values.message}`)).status).toBe(403);
    for (const key of ['demo-northgate-feed-key', 'demo-osmondthorpe-key']) expect((await raw(key, '?purpose=x')).status).toBe(403);
    const asFeed = (await (await api(t.http, 'demo-northgate-feed-key', `/v1/messages/${values.message}`)).json()) as Record<
      string,
      unknown
    >;
    expect(asFeed.raw).toBeUndefined();
    expect(await raw('demo-ig-key', `?purpose=x`.replace('x', 'y')).then((r) => r.status)).toBe(200);
    const audited = await db().query<{ actor: string; purpose: string; role: string }>(
      `SELECT actor, details ->> 'purpose' AS purpose, details ->> 'role' AS role FROM audit_events
        WHERE action = 'raw-read' AND message_id = $1 AND actor = 'client:ig-lead' AND details ->> 'purpose' <> 'matrix' ORDER BY seq`,
      [values.message],
    );
    expect(audited.rows).toEqual([
      { actor: 'client:ig-lead', purpose: 'Subject access request 42', role: 'ig' },
      { actor: 'client:ig-lead', purpose: 'y', role: 'ig' },
    ]);
    expect(t.sink.text).not.toContain('Subject access request 42');
  });

  test('nobody can change the audit: every door onto it only reads (the database side: database-roles.int.test.ts)', () => {
    const doors = [...doorsOf(apps().api), ...doorsOf(defined(apps().web, 'the web app'), '/app')];
    const auditDoors = doors.filter((d) => /^\S+ (\/v1|\/app)\/audit(\/|$)/.test(d));
    expect(auditDoors.length).toBeGreaterThanOrEqual(6);
    expect(auditDoors.filter((d) => !d.startsWith('GET '))).toEqual([]);
  });
});
