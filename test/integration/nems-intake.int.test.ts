import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseFhirXml } from '../../src/pipeline/fhir/fhir-xml.js';
import { corpusPath } from '../support/corpus.js';
import { pollUntil } from '../support/poll.js';
import { nemsAsXml, nemsBirthBundle } from '../support/synthetic/nems-birth.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';

const NEMS_KEY = 'demo-nems-key';
const FHIR_XML = { 'content-type': 'application/fhir+xml' };
const FHIR_JSON = { 'content-type': 'application/fhir+json' };
const PATH = '/v1/fhir/$process-message';

interface Item {
  status: string;
  record?: { baby: { nhsNumber?: string; birthPlace?: string }; mother?: { nhsNumber?: string; name?: unknown } };
}

/**
 * The published NEMS example with its mother (read from the corpus, never copied), moved to today: born an hour
 * ago, notified now, living in Osmondthorpe (LS9 7AB) instead of Leeds (the example's own dates are 2017, long
 * past a newborn's 28 days). Its mother's NHS number, 1112223330, fails the Modulus 11 check, as published.
 */
function todaysCorpusBirth(bundleId: string): string {
  const now = new Date();
  const born = new Date(now.getTime() - 60 * 60 * 1000);
  const birthTime = `${born.toISOString().slice(0, 19)}+00:00`;
  return readFileSync(corpusPath('fhir', 'nems-stu3', 'BirthNotificationWithMother.xml'), 'utf8')
    .replaceAll('85b9d933-b3e2-41a7-a8f2-f5ee7be4ee82', bundleId)
    .replaceAll('2017-10-02T20:12:00+00:00', birthTime)
    .replaceAll('2017-10-02T20:20:00+00:00', `${now.toISOString().slice(0, 19)}+00:00`)
    .replaceAll('2017-10-02', birthTime.slice(0, 10))
    .replaceAll('LS17 7DF', 'LS9 7AB');
}

/**
 * NHS national birth notifications (FHIR STU3) through the real hub (HTTP, Redis, the store of this run), posted
 * by the sample NEMS feed's client: the published example reaches the centre's inbox with the mother's invalid
 * NHS number reported on the stored message; a re-send is recognised; a stillborn baby is never offered.
 */
describe('NEMS birth notifications over $process-message', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => t.stop());

  const post = async (body: string, headers = FHIR_XML) => {
    const res = await api(t.http, NEMS_KEY, PATH, { method: 'POST', headers, body });
    return { status: res.status, text: await res.text(), id: res.headers.get('x-stork-message-id') ?? '' };
  };
  const inbox = async (): Promise<Item[]> => {
    const res = await api(t.http, 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?status=new');
    return ((await res.json()) as { items: Item[] }).items;
  };
  const message = async (id: string) =>
    (
      await t.database.db.query<{
        status: string;
        format: string;
        feed_id: string;
        sender_key: string;
        issues: unknown;
        control_id: string;
      }>(`SELECT status, format, feed_id, sender_key, issues, control_id FROM messages WHERE id = $1`, [id])
    ).rows[0];

  test('the published example reaches Osmondthorpe; the invalid mother NHS number is reported, the baby processed', async () => {
    const res = await post(todaysCorpusBirth('nems-int-0001'));
    expect(res.status).toBe(200);
    expect(res.text).toContain('<code value="ok"/>');
    // The answer is an STU3 response message (MessageHeader.event, not R4's eventCoding).
    const answer = parseFhirXml(Buffer.from(res.text), 1 << 20, 'stu3');
    expect(answer.ok && answer.resource.resourceType).toBe('Bundle');
    const item = await pollUntil(
      async () => (await inbox()).find((i) => i.record?.baby.nhsNumber === '9912003888'),
      'the NEMS baby in the inbox',
    );
    expect(item.record?.mother?.nhsNumber).toBeUndefined();
    expect(item.record?.mother?.name).toBeDefined();
    const row = await message(res.id);
    expect(row).toMatchObject({
      format: 'fhir-stu3+xml',
      feed_id: 'nems-births',
      sender_key: '|fhir|feed:nems-births',
      control_id: 'nems-int-0001/7165ecd5-4abb-4dbe-922b-7c7db71accd4',
    });
    expect(row?.issues).toEqual([
      expect.objectContaining({
        severity: 'warning',
        path: 'mother.nhsNumber',
        expression: 'Bundle.entry[2].resource.identifier[0].value',
      }),
    ]);
  });

  test('a re-send gets the original answer and creates nothing', async () => {
    const body = todaysCorpusBirth('nems-int-0002').replaceAll('9912003888', '9990001545');
    const first = await post(body);
    expect(first.status).toBe(200);
    await pollUntil(async () => (await inbox()).find((i) => i.record?.baby.nhsNumber === '9990001545'), 'the first send in the inbox');
    const again = await post(body);
    expect(again).toEqual(first);
    const rows = await t.database.db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM messages WHERE control_id LIKE 'nems-int-0002/%'`,
    );
    expect(Number(rows.rows[0]?.n)).toBe(1);
    const notes = await t.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM notifications WHERE message_id = $1`, [
      first.id,
    ]);
    expect(Number(notes.rows[0]?.n)).toBe(1);
  });

  test('without HTTP (the entry point MESH calls): bytes and the feed id; a mother without an NHS number is no obstacle', async () => {
    const now = new Date();
    const bundle = nemsBirthBundle({
      bundleId: 'nems-int-0004',
      timestamp: now.toISOString(),
      birthDate: now.toISOString().slice(0, 10),
      babyNhsNumber: '9990001553',
    });
    const receive = t.hub.receiveNems;
    if (!receive) throw new Error('the test hub has the intake role: receiveNems must be there');
    // The channel is the transport's: MESH (issue 10 item 3) adds its own; until then this stands in for it.
    const result = await receive({ bytes: Buffer.from(nemsAsXml(bundle)), feedId: 'nems-births', channel: 'http' });
    expect(result).toMatchObject({ httpStatus: 200, stored: true, duplicate: false });
    const item = await pollUntil(
      async () => (await inbox()).find((i) => i.record?.baby.nhsNumber === '9990001553'),
      'the baby in the inbox',
    );
    expect(item.record?.mother?.name).toBeDefined();
    expect(item.record?.mother?.nhsNumber).toBeUndefined();
    expect(await message(result.messageId ?? '')).toMatchObject({ format: 'fhir-stu3+xml', feed_id: 'nems-births' });
    // The same bytes again, as MESH would after a restart before its acknowledgement: recognised.
    const again = await receive({ bytes: Buffer.from(nemsAsXml(bundle)), feedId: 'nems-births', channel: 'http' });
    expect(again).toMatchObject({ duplicate: true, messageId: result.messageId });
  });

  test('a 10,000-character bundle id is refused naming Bundle.id, every time, stored each time; the feed is unaffected', async () => {
    const now = new Date();
    const birth = (bundleId: string) =>
      JSON.stringify(
        nemsBirthBundle({ bundleId, timestamp: now.toISOString(), birthDate: now.toISOString().slice(0, 10), babyNhsNumber: '9990001588' }),
      );
    // Random base64url (FHIR id characters, incompressible): far over a btree index row, and over a FHIR id's 64.
    const body = birth(randomBytes(7_500).toString('base64url').replace(/_/g, '.'));
    const first = await post(body, FHIR_JSON);
    expect(first.status).toBe(422);
    expect(JSON.parse(first.text)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ expression: ['Bundle.id'] }] });
    // Refused messages have no re-send key: the same bytes again are answered the same and stored again.
    const again = await post(body, FHIR_JSON);
    expect([again.status, again.text]).toEqual([first.status, first.text]);
    expect(again.id).not.toBe(first.id);
    for (const id of [first.id, again.id]) {
      expect(await message(id)).toMatchObject({ status: 'quarantined', feed_id: 'nems-births', control_id: null });
    }
    // Another client sending it is refused too; the NEMS feed's next message is processed as ever.
    const other = await api(t.http, 'demo-northgate-fhir-key', PATH, { method: 'POST', headers: FHIR_JSON, body });
    expect(other.status).toBe(422);
    const valid = await post(birth('nems-int-0005'), FHIR_JSON);
    expect(valid.status).toBe(200);
    await pollUntil(async () => (await inbox()).find((i) => i.record?.baby.nhsNumber === '9990001588'), 'the baby in the inbox');
  });

  test('a stillborn baby (JSON) is stored and processed but never offered', async () => {
    const now = new Date();
    const bundle = nemsBirthBundle({
      bundleId: 'nems-int-0003',
      timestamp: now.toISOString(),
      birthDate: now.toISOString().slice(0, 10),
      babyNhsNumber: '9990001510',
      motherNhsNumber: '9990009503',
      stillbornIndicator: '2',
    });
    const res = await post(JSON.stringify(bundle), FHIR_JSON);
    expect(res.status).toBe(200);
    await pollUntil(async () => ((await message(res.id))?.status === 'processed' ? true : undefined), 'the stillbirth processed');
    expect((await message(res.id))?.format).toBe('fhir-stu3+json');
    const offered = await t.database.db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM notifications WHERE message_id = $1 AND status <> 'withheld'`,
      [res.id],
    );
    expect((await inbox()).some((i) => i.record?.baby.nhsNumber === '9990001510')).toBe(false);
    expect(Number(offered.rows[0]?.n)).toBe(0);
  });
});
