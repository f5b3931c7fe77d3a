import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OPENAPI_FILE } from '../../adapters/http/routes/openapi.js';
import { localDateOf } from '../../src/domain/hl7-datetime.js';
import { nhsCheckDigit } from '../../src/domain/nhs-number.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { plainRaw } from '../support/data-keys.js';
import { pollUntil } from '../support/poll.js';
import { ResponseChecker, type OpenApiDocument } from '../support/openapi.js';
import { copySampleConfig } from '../support/sample-config.js';
import { FhirTestServer } from '../support/fhir-server.js';

const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
const SOURCE = 'https://maternity.northgate.example/fhir';
const KEY = 'demo-northgate-fhir-key';
const TOKEN = 'fetch-test-token';
const OSMONDTHORPE_KEY = 'demo-osmondthorpe-key';

let serial = 0;
/** A fresh valid NHS number (999 test range) for each baby and mother. */
function nhsNumber(): string {
  for (;;) {
    const first9 = `9${String(Date.now() % 100000).padStart(5, '0')}${String(++serial % 1000).padStart(3, '0')}`;
    const check = nhsCheckDigit(first9);
    if (check !== undefined) return `${first9}${check}`;
  }
}

/** The sample configuration with the Northgate FHIR feed fetching from `server` (and polling it when `poll` is given). */
function configFor(server: FhirTestServer, fetch: Record<string, unknown> = {}): string {
  const dir = copySampleConfig('stork-fetch-');
  const file = path.join(dir, 'mappings', 'feeds.json');
  const feeds = JSON.parse(readFileSync(file, 'utf8')) as { feeds: Record<string, unknown>[] };
  const feed = feeds.feeds.find((f) => f.id === 'northgate-fhir');
  if (!feed) throw new Error('sample has no northgate-fhir feed');
  feed.fetch = {
    baseUrl: server.base,
    tokenEnv: 'STORK_FHIR_TOKEN_NORTHGATE',
    ratePerSecond: 500,
    timeoutMs: 1000,
    retries: 2,
    retryBaseMs: 10,
    maxResponseBytes: 262144,
    ...fetch,
  };
  writeFileSync(file, JSON.stringify(feeds));
  return dir;
}

const hubEnv = { STORK_FHIR_TOKEN_NORTHGATE: TOKEN, STORK_EVENT_FETCH_INTERVAL_MS: '50' };

interface Item {
  notificationId: string;
  record?: { baby: { nhsNumber?: string } };
}
async function inbox(t: TestHub): Promise<Item[]> {
  const res = await api(t.http, OSMONDTHORPE_KEY, '/v1/centres/osmondthorpe/notifications?status=new&limit=200');
  return ((await res.json()) as { items: Item[] }).items;
}
const waitForBaby = (t: TestHub, nhs: string) =>
  pollUntil(async () => (await inbox(t)).find((i) => i.record?.baby.nhsNumber === nhs), `baby ${nhs} in Osmondthorpe's inbox`);

async function fetchedMessages(t: TestHub): Promise<{ id: string; control_id: string; status: string }[]> {
  return (
    await t.database.db.query<{ id: string; control_id: string; status: string }>(
      `SELECT id, control_id, status FROM messages WHERE channel = 'fhir-fetch' ORDER BY received_at`,
    )
  ).rows;
}

describe('Event, then fetch (POST /v1/events)', () => {
  let t: TestHub;
  let server: FhirTestServer;
  const checker = new ResponseChecker(doc);
  const problems: string[] = [];
  const today = () => localDateOf(new Date());

  beforeAll(async () => {
    server = await new FhirTestServer(TOKEN).start();
    t = await startTestHub({ configDir: configFor(server), env: hubEnv });
  });
  afterAll(async () => {
    await t.stop();
    await server.close();
  });
  afterEach(() => {
    expect(problems).toEqual([]);
    problems.length = 0;
  });

  async function post(body: unknown, opts: { key?: string; type?: string } = {}) {
    const res = await api(t.http, opts.key ?? KEY, '/v1/events', {
      method: 'POST',
      headers: { 'content-type': opts.type ?? 'application/cloudevents+json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const type = res.headers.get('content-type');
    const parsed = (await res.json()) as Record<string, unknown>;
    problems.push(...checker.check('POST', '/v1/events', res.status, type, parsed));
    return { status: res.status, type, body: parsed, location: res.headers.get('location') };
  }
  async function eventState(id: string, key = KEY) {
    const res = await api(t.http, key, `/v1/events/${id}`);
    const type = res.headers.get('content-type');
    const body = (await res.json()) as Record<string, unknown>;
    problems.push(...checker.check('GET', '/v1/events/{id}', res.status, type, body));
    return { status: res.status, body };
  }
  const waitForEvent = (id: string, status: string) =>
    pollUntil(async () => {
      const s = await eventState(id);
      return s.body.status === status ? s.body : undefined;
    }, `event ${id} ${status}`);
  const cloudEvent = (id: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    specversion: '1.0',
    id,
    source: SOURCE,
    type: 'uk.nhs.maternity.birth-recorded',
    datacontenttype: 'application/json',
    data,
    ...extra,
  });

  test('a CloudEvents event is stored and answered 202; the record is fetched, stored, and the baby reaches the centre, audited end to end', async () => {
    const birth = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
    const res = await post(cloudEvent('ce-1', { nhsNumber: birth.babyNhsNumber, patient: `Patient/${birth.babyId}` }));
    expect(res.status).toBe(202);
    const id = String(res.body.id);
    expect(res.location).toBe(`/v1/events/${id}`);
    expect(res.body).toMatchObject({ eventId: 'ce-1', feed: 'northgate-fhir', status: 'pending', duplicate: false });
    // Stored before it was answered.
    const stored = await t.database.db.query<{ status: string }>(`SELECT status FROM fhir_events WHERE id = $1`, [id]);
    expect(stored.rows[0]?.status).toMatch(/pending|fetched/);

    const item = await waitForBaby(t, birth.babyNhsNumber);
    const done = await waitForEvent(id, 'fetched');
    const messageId = String(done.messageId);
    const message = await t.database.db.query<{
      channel: string;
      format: string;
      feed_id: string;
      control_id: string;
      raw: Uint8Array;
      key_id: string | null;
    }>(
      `SELECT m.channel, m.format, m.feed_id, m.control_id, b.raw, b.key_id FROM messages m JOIN message_bodies b ON b.message_id = m.id WHERE m.id = $1`,
      [messageId],
    );
    const row = message.rows[0];
    expect(row).toMatchObject({
      channel: 'fhir-fetch',
      format: 'fhir-r4+json',
      feed_id: 'northgate-fhir',
      control_id: `Patient/${birth.babyId}/_history/1`,
    });
    // Stored encrypted with the sample configuration's demo key.
    const bundle = JSON.parse(plainRaw(messageId, row).toString('utf8')) as {
      type: string;
      entry: { fullUrl: string; resource: { resourceType: string } }[];
    };
    expect(bundle.type).toBe('collection');
    expect(bundle.entry[0]?.fullUrl).toBe(`${server.base}/Patient/${birth.babyId}`);
    const types = bundle.entry.map((e) => e.resource.resourceType);
    expect(types).toEqual(expect.arrayContaining(['Patient', 'RelatedPerson', 'Observation']));
    expect(bundle.entry.filter((e) => e.resource.resourceType === 'Patient')).toHaveLength(2); // the baby and the mother
    // Every request carried the feed's token.
    expect(server.requests.every((r) => r.auth === `Bearer ${TOKEN}`)).toBe(true);
    // The audit links the event and the fetched record.
    const audit = await t.database.db.query<{ action: string; message_id: string | null; details: Record<string, unknown> }>(
      `SELECT action, message_id, details FROM audit_events WHERE details->>'event' = $1 ORDER BY seq`,
      [id],
    );
    expect(audit.rows.map((a) => a.action)).toEqual(['event-received', 'received', 'event-fetched']);
    expect(audit.rows[1]?.message_id).toBe(messageId);
    expect(audit.rows[2]?.message_id).toBe(messageId);
    expect(item.notificationId).toBeDefined();
  });

  test('a FHIR Parameters event naming only the NHS number is fetched by an identifier search', async () => {
    const birth = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
    const res = await post(
      {
        resourceType: 'Parameters',
        id: 'fhir-evt-1',
        parameter: [
          { name: 'source', valueUri: SOURCE },
          { name: 'type', valueCode: 'birth' },
          { name: 'subject', valueReference: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: birth.babyNhsNumber } } },
        ],
      },
      { type: 'application/fhir+json' },
    );
    expect(res.status).toBe(202);
    await waitForBaby(t, birth.babyNhsNumber);
    expect(server.requests.some((r) => r.path === '/fhir/Patient' && r.query.includes('identifier='))).toBe(true);
  });

  test('a re-sent event id is recognised: the original event, nothing stored or fetched again', async () => {
    const birth = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
    const first = await post(cloudEvent('ce-resend', { patient: `Patient/${birth.babyId}` }));
    await waitForBaby(t, birth.babyNhsNumber);
    const reads = server.asked(`/fhir/Patient/${birth.babyId}`);
    const again = await post(cloudEvent('ce-resend', { patient: `Patient/${birth.babyId}` }));
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: first.body.id, duplicate: true, status: 'fetched' });
    const n = await t.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM fhir_events WHERE event_id = 'ce-resend'`);
    expect(Number(n.rows[0]?.n)).toBe(1);
    expect(server.asked(`/fhir/Patient/${birth.babyId}`)).toBe(reads);
  });

  test('bad input is refused naming the field: problem+json for CloudEvents, OperationOutcome with expression for FHIR; stored all the same', async () => {
    const bad = await post(cloudEvent('ce-bad', { nhsNumber: '1234567890' }));
    expect(bad.status).toBe(400);
    expect(bad.type).toMatch(/^application\/problem\+json/);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'data.nhsNumber' })]);
    const noSpec = await post({ id: 'x', source: SOURCE, type: 't', data: { patient: 'Patient/1' } });
    expect(noSpec.status).toBe(400);
    expect((noSpec.body.errors as { field: string }[]).map((e) => e.field)).toContain('specversion');
    const elsewhere = await post(cloudEvent('ce-elsewhere', { patient: 'https://evil.example/fhir/Patient/1' }));
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.errors).toEqual([expect.objectContaining({ field: 'data.patient' })]);
    const fhirBad = await post(
      { resourceType: 'Parameters', id: 'p-bad', parameter: [{ name: 'source', valueUri: SOURCE }] },
      { type: 'application/fhir+json' },
    );
    expect(fhirBad.status).toBe(400);
    expect(fhirBad.body.resourceType).toBe('OperationOutcome');
    expect(fhirBad.body.issue).toEqual([expect.objectContaining({ expression: ["Parameters.parameter.where(name='subject')"] })]);
    // A 10,000-character id (the store would bound it too: long-event-ids.int.test.ts) is refused naming `id`.
    const longId = await post(cloudEvent(randomBytes(7_500).toString('base64url'), { patient: 'Patient/1' }));
    expect(longId.status).toBe(400);
    expect(longId.body.errors).toEqual([expect.objectContaining({ field: 'id' })]);
    const refused = await t.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM fhir_events WHERE status = 'refused'`);
    expect(Number(refused.rows[0]?.n)).toBeGreaterThanOrEqual(5);
  });

  test("an event forged for another feed is refused (403), stored under the client's own key, and never fetched", async () => {
    const birth = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
    const before = server.requests.length;
    const res = await post(cloudEvent('ce-forged', { patient: `Patient/${birth.babyId}` }), { key: 'demo-northgate-feed-key' });
    expect(res.status).toBe(403);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'source' })]);
    const row = await t.database.db.query<{ status: string; sender_key: string }>(
      `SELECT status, sender_key FROM fhir_events WHERE event_id = 'ce-forged'`,
    );
    expect(row.rows).toEqual([{ status: 'refused', sender_key: 'client:northgate-feed' }]);
    // The genuine feed can still use that event id.
    const genuine = await post(cloudEvent('ce-forged', { patient: `Patient/${birth.babyId}` }));
    expect(genuine.status).toBe(202);
    expect(genuine.body.duplicate).toBe(false);
    await waitForBaby(t, birth.babyNhsNumber);
    expect(server.requests.length).toBeGreaterThan(before);
    // A centre may not post events at all.
    const centre = await api(t.http, OSMONDTHORPE_KEY, '/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(centre.status).toBe(403);
    // And a feed client cannot read another client's event.
    const other = await eventState(String(genuine.body.id), 'demo-northgate-feed-key');
    expect(other.status).toBe(404);
  });

  test('a FHIR server failing for a while (5xx, then a hang) is retried with backoff until it recovers', async () => {
    const birth = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
    server.faults.fail = 4; // more than one attempt's three requests: the event is tried again later
    server.faults.failStatus = 503;
    server.faults.hang = 1;
    const res = await post(cloudEvent('ce-flaky', { patient: `Patient/${birth.babyId}` }));
    expect(res.status).toBe(202);
    await waitForBaby(t, birth.babyNhsNumber);
    const done = await waitForEvent(String(res.body.id), 'fetched');
    expect(Number(done.attempts)).toBeGreaterThanOrEqual(2);
    expect(server.faults.fail).toBe(0);
    expect(server.faults.hang).toBe(0);
  });

  test('an event whose Patient reference and NHS number disagree is given up, never stored as that Patient', async () => {
    const birth = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
    const res = await post(cloudEvent('ce-mismatch', { nhsNumber: nhsNumber(), patient: `Patient/${birth.babyId}` }));
    expect(res.status).toBe(202);
    const failed = await waitForEvent(String(res.body.id), 'failed');
    expect(String(failed.reason)).toMatch(/^refused: the Patient does not have the NHS number/);
    const stored = await t.database.db.query(`SELECT id FROM messages WHERE control_id LIKE $1`, [`Patient/${birth.babyId}/%`]);
    expect(stored.rows).toHaveLength(0);
  });

  test("a fetched record that was quarantined is replayed through its feed's mapping: audited, still refused while invalid; a processed one is not replayed", async () => {
    const bad = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: 'not-a-date' });
    const res = await post(cloudEvent('ce-replay', { nhsNumber: bad.babyNhsNumber, patient: `Patient/${bad.babyId}` }));
    expect(res.status).toBe(202);
    const done = await waitForEvent(String(res.body.id), 'fetched');
    const messageId = String(done.messageId);
    const stored = await t.database.db.query<{ status: string; reason: string }>(`SELECT status, reason FROM messages WHERE id = $1`, [
      messageId,
    ]);
    expect(stored.rows[0]?.status).toBe('quarantined');

    const replay = async (id: string) => {
      const r = await api(t.http, 'demo-admin-key', `/v1/messages/${id}/replay`, { method: 'POST' });
      const body = (await r.json()) as Record<string, unknown>;
      problems.push(...checker.check('POST', '/v1/messages/{id}/replay', r.status, r.headers.get('content-type'), body));
      return { status: r.status, body };
    };
    const again = await replay(messageId);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: messageId, status: 'quarantined' });
    expect(String(again.body.reason)).toMatch(/birthDate/);
    const audit = await t.database.db.query<{ actor: string; outcome: string; details: Record<string, unknown> }>(
      `SELECT actor, outcome, details FROM audit_events WHERE message_id = $1 AND action = 'replayed'`,
      [messageId],
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({ actor: 'client:operator', outcome: 'quarantined', details: { format: 'fhir-r4+json' } });

    // A record that was processed is not quarantined, so there is nothing to replay.
    const good = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
    const ok = await post(cloudEvent('ce-replay-ok', { nhsNumber: good.babyNhsNumber, patient: `Patient/${good.babyId}` }));
    await waitForBaby(t, good.babyNhsNumber);
    const fetched = await waitForEvent(String(ok.body.id), 'fetched');
    expect((await replay(String(fetched.messageId))).status).toBe(409);
  });

  test('a hostile server sending an endless answer is cut off at the size limit; the event fails, the hub carries on', async () => {
    const birth = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
    server.faults.endless = 1;
    const res = await post(cloudEvent('ce-endless', { patient: `Patient/${birth.babyId}` }));
    const failed = await waitForEvent(String(res.body.id), 'failed');
    expect(String(failed.reason)).toMatch(/^too-large/);
    expect(t.sink.text).toContain('"failure":"too-large"');
    // The hub still fetches the next one.
    const next = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
    await post(cloudEvent('ce-after-endless', { patient: `Patient/${next.babyId}` }));
    await waitForBaby(t, next.babyNhsNumber);
  });

  test('the event and fetch logs carry no personal data', () => {
    const babies = [...server.resources.values()]
      .flatMap((r) => ((r.identifier as { value?: unknown }[] | undefined) ?? []).map((i) => i.value))
      .filter((v): v is string => typeof v === 'string' && /^\d{10}$/.test(v));
    expect(babies.length).toBeGreaterThan(5);
    for (const nhs of babies) expect(t.sink.text).not.toContain(nhs);
    expect(t.sink.text).not.toContain('Testbirth');
  });
});

describe('The per-feed FHIR poller', () => {
  let server: FhirTestServer;
  let foreign: FhirTestServer;
  const today = () => localDateOf(new Date());
  const hubs: TestHub[] = [];

  beforeAll(async () => {
    server = await new FhirTestServer(TOKEN).start();
    foreign = await new FhirTestServer().start();
  });
  afterAll(async () => {
    for (const h of hubs) await h.hub.stop().catch(() => undefined);
    await hubs[0]?.database.drop();
    await server.close();
    await foreign.close();
  });

  const cursorOf = async (t: TestHub) =>
    (
      await t.database.db.query<{ last_updated: string | null; ids_at_cursor: string[] }>(
        `SELECT last_updated, ids_at_cursor FROM fhir_poll_cursors WHERE feed_id = 'northgate-fhir'`,
      )
    ).rows[0];

  test('polls over several pages, keeps its cursor in the store, and after a restart neither misses nor repeats (a tie at the cursor included)', async () => {
    const config = configFor(server, { poll: { intervalMs: 100, since: 'P28D', pageSize: 2 } });
    const births = [1, 2, 3].map(() => server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() }));
    const t1 = await startTestHub({ configDir: config, env: hubEnv });
    hubs.push(t1);
    for (const b of births) await waitForBaby(t1, b.babyNhsNumber);
    expect(server.requests.some((r) => r.path === '/fhir/Patient' && r.query.includes('_offset=2'))).toBe(true); // a second page was followed
    const cursor = await pollUntil(async () => {
      const c = await cursorOf(t1);
      return c?.ids_at_cursor.includes(births[2]?.babyId ?? '') === true ? c : undefined;
    }, 'the cursor at the third baby');
    expect(cursor.last_updated).toBe(server.lastUpdatedOf(`Patient/${births[2]?.babyId ?? ''}`));
    // The PDS example Patient (born 2010) is never asked for: the search has the birthdate filter.
    expect((await fetchedMessages(t1)).length).toBe(3);
    await t1.hub.stop();

    // While Stork is down: one baby updated at exactly the cursor's instant, and one later.
    const tie = server.addBirth({
      babyNhsNumber: nhsNumber(),
      motherNhsNumber: nhsNumber(),
      birthDate: today(),
      lastUpdated: cursor.last_updated ?? '',
    });
    const later = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
    const t2 = await startTestHub({ configDir: config, env: hubEnv, database: t1.database });
    hubs.push(t2);
    await waitForBaby(t2, tie.babyNhsNumber);
    await waitForBaby(t2, later.babyNhsNumber);
    const searches = server.requests.filter((r) => r.path === '/fhir/Patient' && r.query.includes('birthdate='));
    expect(searches.at(-1)?.query).toContain('_lastUpdated=ge');
    const fetched = await fetchedMessages(t2);
    expect(fetched).toHaveLength(5);
    expect(new Set(fetched.map((m) => m.control_id)).size).toBe(5);
    const notifications = await t2.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM notifications`);
    expect(Number(notifications.rows[0]?.n)).toBe(5);
    await t2.hub.stop();
  });

  test('a next link to another origin is refused and logged without personal data; a failing server stops rounds without moving the cursor, until it recovers', async () => {
    const own = await new FhirTestServer(TOKEN).start();
    const t3 = await startTestHub({ configDir: configFor(own, { poll: { intervalMs: 100, since: 'P28D', pageSize: 1 } }), env: hubEnv });
    try {
      own.faults.foreignNextOrigin = new URL(foreign.base).origin;
      const a = own.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
      const b = own.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
      // The first page (one Patient) is stored; its next link, to another origin, is not followed.
      await waitForBaby(t3, a.babyNhsNumber);
      const line = await pollUntil(
        () => t3.sink.records().find((r) => r.msg === 'FHIR server gave a next link outside its base URL: not followed'),
        'the refusal logged',
      );
      expect(line).toMatchObject({ feed: 'northgate-fhir', origin: new URL(foreign.base).origin });
      expect(JSON.stringify(line)).not.toMatch(/\d{10}/);
      expect(foreign.requests).toHaveLength(0);
      expect((await cursorOf(t3))?.last_updated).toBe(own.lastUpdatedOf(`Patient/${a.babyId}`));
      expect(await fetchedMessages(t3)).toHaveLength(1);
      // Its own links again: the second baby, on the next page.
      own.faults.foreignNextOrigin = undefined;
      await waitForBaby(t3, b.babyNhsNumber);
      const atB = own.lastUpdatedOf(`Patient/${b.babyId}`);
      await pollUntil(async () => ((await cursorOf(t3))?.last_updated === atB ? true : undefined), 'the cursor at the last baby');
      // The server fails for a while: each round stops where it was, the cursor stays, then it recovers.
      own.faults.fail = 12;
      own.faults.failStatus = 500;
      const c = own.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: today() });
      await pollUntil(() => (t3.sink.text.includes('FHIR poll round stopped') ? true : undefined), 'a round stopped by the failures');
      expect((await cursorOf(t3))?.last_updated).toBe(atB);
      await waitForBaby(t3, c.babyNhsNumber);
      expect(own.faults.fail).toBe(0);
      expect(await fetchedMessages(t3)).toHaveLength(3);
      expect(t3.sink.text).not.toContain(c.babyNhsNumber);
    } finally {
      await t3.stop();
      await own.close();
    }
  });
});

describe('Signal events survive a restart', () => {
  let server: FhirTestServer;
  beforeAll(async () => {
    server = await new FhirTestServer(TOKEN).start();
  });
  afterAll(async () => server.close());

  test('an event stored by an intake-only process is fetched by the next process with a worker, once', async () => {
    const config = configFor(server);
    const intakeOnly = await startTestHub({ configDir: config, env: { ...hubEnv, STORK_ROLES: 'intake' } });
    const birth = server.addBirth({ babyNhsNumber: nhsNumber(), motherNhsNumber: nhsNumber(), birthDate: localDateOf(new Date()) });
    const res = await api(intakeOnly.http, KEY, '/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'ce-restart',
        source: SOURCE,
        type: 'birth',
        data: { patient: `Patient/${birth.babyId}` },
      }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await intakeOnly.hub.stop();
    expect(server.asked('/fhir/Patient')).toBe(0); // nothing fetched: no worker ran
    const state = await intakeOnly.database.db.query<{ status: string }>(`SELECT status FROM fhir_events WHERE id = $1`, [id]);
    expect(state.rows[0]?.status).toBe('pending');

    const worker = await startTestHub({ configDir: config, env: hubEnv, database: intakeOnly.database });
    try {
      await waitForBaby(worker, birth.babyNhsNumber);
      const done = await pollUntil(async () => {
        const r = await worker.database.db.query<{ status: string; message_id: string | null }>(
          `SELECT status, message_id FROM fhir_events WHERE id = $1`,
          [id],
        );
        return r.rows[0]?.status === 'fetched' ? r.rows[0] : undefined;
      }, 'the event fetched');
      expect(done.message_id).not.toBeNull();
      expect(await fetchedMessages(worker)).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  });
});
