import { readFileSync } from 'node:fs';
import { OPENAPI_FILE } from '../../adapters/http/routes/openapi.js';
import { localDateOf } from '../../src/domain/hl7-datetime.js';
import { parseFhirXml, type JsonObject } from '../../src/pipeline/fhir/fhir-xml.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { ResponseChecker, type OpenApiDocument } from '../support/openapi.js';
import { asJson, asXml, fhirBirthBundle, NORTHGATE_FHIR_KEY, type FhirBirthOptions } from '../support/synthetic/fhir-birth.js';

const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
const FHIR_JSON = { 'content-type': 'application/fhir+json' };
const FHIR_XML = { 'content-type': 'application/fhir+xml' };
const PATH = '/v1/fhir/$process-message';

interface Item {
  notificationId: string;
  status: string;
  record?: { baby: { nhsNumber?: string }; familyAddress?: unknown };
}
interface Outcome {
  resourceType: string;
  issue: { severity: string; code: string; expression?: string[] }[];
}

/**
 * FHIR R4 messaging intake on the real hub (HTTP, Redis, the store of this run): a birth Bundle in JSON or XML
 * reaches the centre's inbox through the same pipeline as HL7 v2; a re-send gets the original answer and creates
 * nothing; a bad Bundle is stored in quarantine and answered with an OperationOutcome naming the element; a
 * client sending for another feed is refused and cannot take the genuine sender's re-send key.
 */
describe('FHIR $process-message intake', () => {
  let t: TestHub;
  const checker = new ResponseChecker(doc);
  const problems: string[] = [];
  const today = () => localDateOf(new Date());
  const bundle = (o: Partial<FhirBirthOptions> & { bundleId: string; babyNhsNumber: string }) =>
    fhirBirthBundle({ timestamp: new Date().toISOString(), birthDate: today(), motherNhsNumber: '9990009503', ...o });

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => t.stop());

  async function post(body: string, opts: { key?: string; headers?: Record<string, string> } = {}) {
    const res = await api(t.http, opts.key ?? NORTHGATE_FHIR_KEY, PATH, { method: 'POST', headers: opts.headers ?? FHIR_JSON, body });
    const type = res.headers.get('content-type');
    const text = await res.text();
    const parsed: unknown = (type ?? '').includes('json') ? JSON.parse(text) : text;
    problems.push(...checker.check('POST', PATH, res.status, type, parsed));
    return { status: res.status, type, text, body: parsed, id: res.headers.get('x-stork-message-id') ?? '' };
  }
  const inbox = async (centre: string, key: string): Promise<Item[]> => {
    const res = await api(t.http, key, `/v1/centres/${centre}/notifications?status=new`);
    return ((await res.json()) as { items: Item[] }).items;
  };
  const waitForBaby = (centre: string, key: string, nhs: string) =>
    pollUntil(async () => (await inbox(centre, key)).find((i) => i.record?.baby.nhsNumber === nhs), `baby ${nhs} in ${centre}'s inbox`);
  const messages = async (controlId: string) =>
    (
      await t.database.db.query<{
        id: string;
        status: string;
        format: string;
        feed_id: string | null;
        sender_key: string | null;
        issues: unknown;
      }>(`SELECT id, status, format, feed_id, sender_key, issues FROM messages WHERE control_id = $1 ORDER BY received_at, id`, [controlId])
    ).rows;
  const notificationsOf = async (messageId: string) =>
    Number(
      (await t.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM notifications WHERE message_id = $1`, [messageId]))
        .rows[0]?.n,
    );

  test('a JSON birth bundle is answered with a response message and reaches Osmondthorpe, audited as the feed', async () => {
    const res = await post(asJson(bundle({ bundleId: 'fhir-int-1', babyNhsNumber: '9990001545' })));
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/fhir\+json/);
    const answer = res.body as JsonObject & {
      entry: { resource: { resourceType: string; response?: { identifier: string; code: string } } }[];
    };
    expect(answer).toMatchObject({ resourceType: 'Bundle', type: 'message' });
    expect(answer.entry[0]?.resource).toMatchObject({
      resourceType: 'MessageHeader',
      response: { identifier: 'fhir-int-1-h', code: 'ok' },
    });
    const item = await waitForBaby('osmondthorpe', 'demo-osmondthorpe-key', '9990001545');
    expect(item.status).toBe('new');
    const [row] = await messages('fhir-int-1/fhir-int-1-h');
    expect(row).toMatchObject({ id: res.id, format: 'fhir-r4+json', feed_id: 'northgate-fhir', sender_key: '|fhir|feed:northgate-fhir' });
    const audit = await t.database.db.query<{ action: string; actor: string }>(
      `SELECT action, actor FROM audit_events WHERE message_id = $1 ORDER BY seq`,
      [res.id],
    );
    // The receipt's rows (one statement writes them; their order within it is the store's).
    const receipt = audit.rows.filter((r) => ['received', 'mapped', 'validated', 'rejected'].includes(r.action));
    expect(receipt.map((r) => `${r.action} by ${r.actor}`).sort()).toEqual([
      'mapped by feed:northgate-fhir',
      'received by feed:northgate-fhir',
      'validated by feed:northgate-fhir',
    ]);
    expect(problems).toEqual([]);
  });

  test('an XML birth bundle is answered in XML and reaches the inbox too', async () => {
    const res = await post(asXml(bundle({ bundleId: 'fhir-int-2', babyNhsNumber: '9990001553' })), { headers: FHIR_XML });
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/fhir\+xml/);
    const parsed = parseFhirXml(Buffer.from(res.text), 1 << 20);
    expect(parsed.ok && parsed.resource).toMatchObject({ resourceType: 'Bundle', type: 'message' });
    await waitForBaby('osmondthorpe', 'demo-osmondthorpe-key', '9990001553');
    expect((await messages('fhir-int-2/fhir-int-2-h'))[0]?.format).toBe('fhir-r4+xml');
    // Accept asks for the other encoding.
    const json = await post(asXml(bundle({ bundleId: 'fhir-int-2b', babyNhsNumber: '9990001588' })), {
      headers: { ...FHIR_XML, accept: 'application/fhir+json' },
    });
    expect(json.type).toMatch(/^application\/fhir\+json/);
    expect(problems).toEqual([]);
  });

  test('a re-send (same Bundle.id and MessageHeader.id) gets the original answer and creates nothing', async () => {
    const body = asJson(bundle({ bundleId: 'fhir-int-3', babyNhsNumber: '9990001561' }));
    const first = await post(body);
    expect(first.status).toBe(200);
    await waitForBaby('osmondthorpe', 'demo-osmondthorpe-key', '9990001561');
    const again = await post(body);
    expect(again).toMatchObject({ status: 200, text: first.text, id: first.id });
    // Re-sent as XML: still the original answer (in its original encoding), still nothing new.
    const asXmlToo = await post(asXml(JSON.parse(body) as JsonObject), { headers: FHIR_XML });
    expect(asXmlToo).toMatchObject({ status: 200, text: first.text, id: first.id });
    const rows = await messages('fhir-int-3/fhir-int-3-h');
    expect(rows).toHaveLength(1);
    expect(await notificationsOf(first.id)).toBe(1);
    expect(problems).toEqual([]);
  });

  test('a bad bundle is stored in quarantine and answered with an OperationOutcome naming the element', async () => {
    const res = await post(asJson(bundle({ bundleId: 'fhir-int-4', babyNhsNumber: '9990001562' })));
    expect(res.status).toBe(422);
    const outcome = res.body as Outcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue).toEqual([
      expect.objectContaining({ severity: 'error', code: 'value', expression: ['Bundle.entry[1].resource.identifier[0].value'] }),
    ]);
    expect(JSON.stringify(outcome)).not.toContain('9990001562');
    const [row] = await messages('fhir-int-4/fhir-int-4-h');
    expect(row).toMatchObject({ id: res.id, status: 'quarantined', format: 'fhir-r4+json' });
    expect(row?.issues).toEqual([
      expect.objectContaining({ fhirCode: 'value', expression: 'Bundle.entry[1].resource.identifier[0].value', path: 'baby.nhsNumber' }),
    ]);
    // The feed's own client sees it in its messages, another feed's does not.
    expect((await api(t.http, NORTHGATE_FHIR_KEY, `/v1/messages/${res.id}`)).status).toBe(200);
    expect((await api(t.http, 'demo-northgate-feed-key', `/v1/messages/${res.id}`)).status).toBe(404);
    // The operator sees it, with its format; replayed unchanged, it is refused again for the same reason.
    const listed = (await (await api(t.http, 'demo-admin-key', `/v1/messages/${res.id}`)).json()) as { reason?: string };
    expect(listed).toMatchObject({ id: res.id, format: 'fhir-r4+json', status: 'quarantined' });
    expect(listed.reason).toContain('NHS number');
    const replay = await api(t.http, 'demo-admin-key', `/v1/messages/${res.id}/replay`, { method: 'POST' });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ id: res.id, status: 'quarantined', reason: listed.reason });
    expect(problems).toEqual([]);
  });

  test('XML with a DOCTYPE is refused (400) and still stored; an unknown sender is 422', async () => {
    const evil = `<?xml version="1.0"?><!DOCTYPE b [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Bundle xmlns="http://hl7.org/fhir"><id value="&b;"/></Bundle>`;
    const res = await post(evil, { headers: FHIR_XML });
    expect(res.status).toBe(400);
    expect(parseFhirXml(Buffer.from(res.text), 1 << 20)).toMatchObject({
      ok: true,
      resource: { resourceType: 'OperationOutcome', issue: [{ code: 'security' }] },
    });
    const stored = await t.database.db.query<{ status: string; format: string }>(`SELECT status, format FROM messages WHERE id = $1`, [
      res.id,
    ]);
    expect(stored.rows[0]).toEqual({ status: 'quarantined', format: 'fhir-r4+xml' });
    const unknown = await post(
      asJson(bundle({ bundleId: 'fhir-int-5', babyNhsNumber: '9990001596', sourceEndpoint: 'https://nowhere.example/fhir' })),
    );
    expect(unknown.status).toBe(422);
    expect((unknown.body as Outcome).issue[0]).toMatchObject({
      code: 'not-found',
      expression: ['Bundle.entry[0].resource.source.endpoint'],
    });
    expect(problems).toEqual([]);
  });

  test("a forged bundle (another client's key) is refused and cannot occupy the genuine sender's re-send key", async () => {
    const forged = await post(asJson(bundle({ bundleId: 'fhir-int-6', babyNhsNumber: '9990001502' })), { key: 'demo-northvale-feed-key' });
    expect(forged.status).toBe(403);
    expect((forged.body as Outcome).issue[0]).toMatchObject({ code: 'forbidden' });
    const genuine = await post(asJson(bundle({ bundleId: 'fhir-int-6', babyNhsNumber: '9990001510' })));
    expect(genuine.status).toBe(200);
    expect(genuine.id).not.toBe(forged.id);
    await waitForBaby('osmondthorpe', 'demo-osmondthorpe-key', '9990001510');
    const rows = await messages('fhir-int-6/fhir-int-6-h');
    expect(rows.map((r) => [r.status === 'quarantined' ? 'quarantined' : 'accepted', r.sender_key])).toEqual([
      ['quarantined', '|fhir|client:northvale-feed|https://maternity.northgate.example/fhir'],
      ['accepted', '|fhir|feed:northgate-fhir'],
    ]);
    // The forger's re-send is recognised in its own space (the same refusal), and the genuine one's in the feed's.
    expect(
      (await post(asJson(bundle({ bundleId: 'fhir-int-6', babyNhsNumber: '9990001502' })), { key: 'demo-northvale-feed-key' })).id,
    ).toBe(forged.id);
    expect(problems).toEqual([]);
  });

  test('a restricted bundle (meta.security R) goes to safeguarding review without an address', async () => {
    const res = await post(asJson(bundle({ bundleId: 'fhir-int-7', babyNhsNumber: '9990001529', confidentiality: 'R' })));
    expect(res.status).toBe(200);
    const item = await waitForBaby('safeguarding-review', 'demo-safeguarding-review-key', '9990001529');
    expect(item.record?.familyAddress).toBeUndefined();
    expect((await inbox('osmondthorpe', 'demo-osmondthorpe-key')).some((i) => i.record?.baby.nhsNumber === '9990001529')).toBe(false);
  });

  test('a deceased baby: a later bundle with Patient.deceased withdraws the notification already delivered', async () => {
    await post(asJson(bundle({ bundleId: 'fhir-int-8', babyNhsNumber: '9990001537' })));
    const item = await waitForBaby('osmondthorpe', 'demo-osmondthorpe-key', '9990001537');
    const death = await post(asJson(bundle({ bundleId: 'fhir-int-9', babyNhsNumber: '9990001537', deceased: true })));
    expect(death.status).toBe(200);
    const withdrawn = await pollUntil(async () => {
      const res = await api(t.http, 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${item.notificationId}`);
      const body = (await res.json()) as Item;
      return body.status === 'withdrawn' ? body : undefined;
    }, 'notification withdrawn');
    expect(withdrawn.record).toBeUndefined();
  });

  test('GET /v1/fhir/metadata: a CapabilityStatement, without a key, in JSON or XML', async () => {
    const res = await api(t.http, undefined, '/v1/fhir/metadata');
    expect(res.status).toBe(200);
    const body = (await res.json()) as JsonObject;
    problems.push(...checker.check('GET', '/v1/fhir/metadata', res.status, res.headers.get('content-type'), body));
    expect(body).toMatchObject({
      resourceType: 'CapabilityStatement',
      fhirVersion: '4.0.1',
      format: ['application/fhir+json', 'application/fhir+xml'],
    });
    expect(JSON.stringify(body)).toContain('process-message');
    // The events the feeds' mappings accept, maternity bookings and outcomes (issue 17) among them.
    const accepted = (body.extension as { valueCoding: { code: string } }[]).map((e) => e.valueCoding.code);
    expect(accepted).toEqual(
      expect.arrayContaining(['birth-notification', 'emergency-attendance', 'antenatal-booking', 'pregnancy-outcome']),
    );
    const xml = await api(t.http, undefined, '/v1/fhir/metadata', { headers: { accept: 'application/fhir+xml' } });
    expect(xml.headers.get('content-type')).toMatch(/^application\/fhir\+xml/);
    expect(parseFhirXml(Buffer.from(await xml.text()), 1 << 20)).toMatchObject({
      ok: true,
      resource: { resourceType: 'CapabilityStatement' },
    });
    expect((await api(t.http, NORTHGATE_FHIR_KEY, '/v1/fhir/metadata', { method: 'DELETE' })).status).toBe(405);
    expect(problems).toEqual([]);
  });

  test('a body that is not a FHIR media type is 415, an empty one 400, an oversize one 413 (none stored)', async () => {
    expect((await post('{}', { headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await post('', {})).status).toBe(400);
    // Over the size limit (STORK_MLLP_MAX_BYTES, 1 MiB here): 413 with an OperationOutcome.
    const big = await post(`{"resourceType":"Bundle","id":"${'x'.repeat(1_100_000)}"}`);
    expect(big.status).toBe(413);
    expect((big.body as Outcome).issue[0]).toMatchObject({ code: 'too-costly' });
    expect(problems).toEqual([]);
  });

  test("the README's sample (test/fixtures/sample-fhir-birth.json, dates filled in as the README's sed does) reaches Osmondthorpe", async () => {
    const now = new Date();
    const text = readFileSync(new URL('../fixtures/sample-fhir-birth.json', import.meta.url), 'utf8')
      .replaceAll('__TODAY__', today())
      .replaceAll('__NOW__', now.toISOString().replace(/\.\d{3}Z$/, 'Z'))
      .replaceAll('__ID__', String(Math.floor(now.getTime() / 1000)));
    const res = await post(text);
    expect(res.status).toBe(200);
    await waitForBaby('osmondthorpe', 'demo-osmondthorpe-key', '9990002002');
  });
});
