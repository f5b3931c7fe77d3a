import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OPENAPI_FILE } from '../../adapters/http/routes/openapi.js';
import { repoRoot } from '../../src/config/env.js';
import { localDateOf } from '../../src/domain/hl7-datetime.js';
import { FORBIDDEN_FHIR_SENDER } from '../../src/pipeline/fhir/assess-fhir.js';
import { pollUntil } from '../support/poll.js';
import { ResponseChecker, type OpenApiDocument } from '../support/openapi.js';
import { copySampleConfig } from '../support/sample-config.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { asJson, asXml, fhirBirthBundle, NORTHGATE_FHIR_KEY } from '../support/synthetic/fhir-birth.js';
import { nemsAsXml, nemsBirthBundle } from '../support/synthetic/nems-birth.js';
import { pseudo } from '../support/data-keys.js';

const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
const PATH = '/v1/fhir/$process-message';
const FHIR_JSON = { 'content-type': 'application/fhir+json' };
const FHIR_XML = { 'content-type': 'application/fhir+xml' };
const ADMIN = 'demo-admin-key';

/** Removes one event from a FHIR mapping of the config copy `dir` (the operator's mistake the replay follows). */
function dropEvent(dir: string, mapping: string, code: string): void {
  const file = path.join(dir, 'mappings', 'fhir', `${mapping}.json`);
  const m = JSON.parse(readFileSync(file, 'utf8')) as { events: { code: string }[] };
  const kept = m.events.filter((e) => e.code !== code);
  if (kept.length !== m.events.length - 1) throw new Error(`${mapping} has no event ${code}`);
  writeFileSync(file, JSON.stringify({ ...m, events: kept }));
}

/**
 * Replay of stored FHIR messages, as of HL7 v2 ones: a FHIR R4 (JSON, XML) or NEMS STU3 (over HTTP, or by the MESH entry
 * point) message quarantined because its mapping did not accept its event is processed once the mapping is fixed and an
 * operator replays it; the client that sent it is checked again (a client that may not send for the feed stays refused);
 * each replay is audited and answered with what it made of the message.
 */
describe('Replay of FHIR R4 and NEMS messages once their mapping is fixed', () => {
  let database: TestDatabase;
  let dir: string;
  let t: TestHub;
  const checker = new ResponseChecker(doc);
  const problems: string[] = [];
  const ids: Record<'r4Json' | 'r4Xml' | 'forbidden' | 'nemsHttp' | 'nemsMesh', string> = {
    r4Json: '',
    r4Xml: '',
    forbidden: '',
    nemsHttp: '',
    nemsMesh: '',
  };

  const r4 = (bundleId: string, babyNhsNumber: string) =>
    fhirBirthBundle({
      bundleId,
      babyNhsNumber,
      timestamp: new Date().toISOString(),
      birthDate: localDateOf(new Date()),
      motherNhsNumber: '9990009503',
    });
  const nems = (bundleId: string, babyNhsNumber: string) => {
    const now = new Date();
    return nemsBirthBundle({
      bundleId,
      babyNhsNumber,
      timestamp: now.toISOString(),
      birthDate: now.toISOString().slice(0, 10),
      motherNhsNumber: '9990009503',
      event: 'PDS003',
    });
  };
  const post = async (key: string, body: string, headers: Record<string, string>) => {
    const res = await api(t.http, key, PATH, { method: 'POST', headers, body });
    await res.arrayBuffer();
    return { status: res.status, id: res.headers.get('x-stork-message-id') ?? '' };
  };
  const replay = async (id: string) => {
    const res = await api(t.http, ADMIN, `/v1/messages/${id}/replay`, { method: 'POST' });
    const type = res.headers.get('content-type');
    const body: unknown = await res.json();
    problems.push(...checker.check('POST', '/v1/messages/{id}/replay', res.status, type, body));
    return { status: res.status, body };
  };
  const row = async (id: string) =>
    (
      await t.database.db.query<{ status: string; format: string; channel: string; feed_id: string | null; reason: string | null }>(
        `SELECT status, format, channel, feed_id, reason FROM messages WHERE id = $1`,
        [id],
      )
    ).rows[0];

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = copySampleConfig('stork-fhir-replay-');
    // The operator's mistake: the R4 feed's mapping lacks the birth-notification event, the NEMS one lacks PDS003.
    dropEvent(dir, 'uk-core-birth', 'birth-notification');
    dropEvent(dir, 'nems-birth-notification', 'PDS003');
    t = await startTestHub({ configDir: dir, database });
    const json = await post(NORTHGATE_FHIR_KEY, asJson(r4('fhir-replay-1', '9990001618')), FHIR_JSON);
    const xml = await post(NORTHGATE_FHIR_KEY, asXml(r4('fhir-replay-2', '9990001626')), FHIR_XML);
    // An HL7 v2 feed's client sending a FHIR message for the FHIR feed: refused (403) and quarantined.
    const forbidden = await post('demo-northgate-feed-key', asJson(r4('fhir-replay-3', '9990001634')), FHIR_JSON);
    const nemsHttp = await post('demo-nems-key', nemsAsXml(nems('nems-replay-1', '9990001642')), FHIR_XML);
    const receive = t.hub.receiveNems;
    if (!receive) throw new Error('the test hub has the intake role: receiveNems must be there');
    const nemsMesh = await receive({
      bytes: Buffer.from(JSON.stringify(nems('nems-replay-2', '9990001650'))),
      feedId: 'nems-births',
      channel: 'mesh',
    });
    expect([json.status, xml.status, forbidden.status, nemsHttp.status, nemsMesh.httpStatus]).toEqual([422, 422, 403, 422, 422]);
    Object.assign(ids, {
      r4Json: json.id,
      r4Xml: xml.id,
      forbidden: forbidden.id,
      nemsHttp: nemsHttp.id,
      nemsMesh: nemsMesh.messageId ?? '',
    });
    await t.hub.stop();
    // The mistake put right: the sample mappings as they are.
    for (const m of ['uk-core-birth', 'nems-birth-notification'])
      writeFileSync(path.join(dir, 'mappings', 'fhir', `${m}.json`), readFileSync(path.join(repoRoot, 'mappings', 'fhir', `${m}.json`)));
    t = await startTestHub({ configDir: dir, database });
    // Two hubs start one after the other (before and after the fix): twice one hub's start-up.
  }, 120_000);
  afterAll(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('each was stored in quarantine with its format and channel', async () => {
    expect(await row(ids.r4Json)).toMatchObject({
      status: 'quarantined',
      format: 'fhir-r4+json',
      channel: 'http',
      feed_id: 'northgate-fhir',
    });
    expect(await row(ids.r4Xml)).toMatchObject({ status: 'quarantined', format: 'fhir-r4+xml', channel: 'http' });
    expect(await row(ids.forbidden)).toMatchObject({ status: 'quarantined', format: 'fhir-r4+json', reason: FORBIDDEN_FHIR_SENDER });
    expect(await row(ids.nemsHttp)).toMatchObject({
      status: 'quarantined',
      format: 'fhir-stu3+xml',
      channel: 'http',
      feed_id: 'nems-births',
    });
    expect(await row(ids.nemsMesh)).toMatchObject({
      status: 'quarantined',
      format: 'fhir-stu3+json',
      channel: 'mesh',
      feed_id: 'nems-births',
    });
  });

  test('FHIR R4, JSON and XML: replayed once the mapping is fixed, processed, audited; a second replay is refused', async () => {
    for (const id of [ids.r4Json, ids.r4Xml]) {
      expect(await replay(id)).toEqual({ status: 200, body: { id, status: 'queued' } });
      await pollUntil(async () => ((await row(id))?.status === 'processed' ? true : undefined), `message ${id} processed`);
      const notifications = await t.database.db.query<{ n: string | number }>(
        `SELECT count(*) AS n FROM notifications WHERE message_id = $1`,
        [id],
      );
      expect(Number(notifications.rows[0]?.n)).toBe(1);
      expect((await replay(id)).status).toBe(409);
    }
    const audit = await t.database.db.query<{ actor: string; outcome: string; details: { format?: string; previousReason?: string } }>(
      `SELECT actor, outcome, details FROM audit_events WHERE action = 'replayed' AND message_id = $1`,
      [ids.r4Xml],
    );
    expect(audit.rows.map((a) => [a.actor, a.outcome, a.details.format])).toEqual([['client:operator', 'queued', 'fhir-r4+xml']]);
    expect(audit.rows[0]?.details.previousReason).toContain('not accepted');
    expect(problems).toEqual([]);
  });

  test('the sending client is checked again: a client that may not send for the FHIR feed stays refused', async () => {
    expect(await replay(ids.forbidden)).toEqual({
      status: 200,
      body: { id: ids.forbidden, status: 'quarantined', reason: FORBIDDEN_FHIR_SENDER },
    });
    expect(await row(ids.forbidden)).toMatchObject({ status: 'quarantined', reason: FORBIDDEN_FHIR_SENDER });
    const notifications = await t.database.db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM notifications WHERE message_id = $1`,
      [ids.forbidden],
    );
    expect(Number(notifications.rows[0]?.n)).toBe(0);
    expect(problems).toEqual([]);
  });

  test('NEMS (STU3), over HTTP and by the MESH entry point: replayed for its feed once the mapping is fixed, processed', async () => {
    for (const id of [ids.nemsHttp, ids.nemsMesh]) {
      expect(await replay(id)).toEqual({ status: 200, body: { id, status: 'queued' } });
      await pollUntil(async () => ((await row(id))?.status === 'processed' ? true : undefined), `message ${id} processed`);
    }
    const audit = await t.database.db.query<{ message_id: string; outcome: string; subject_nhs_number: string }>(
      `SELECT message_id, outcome, subject_nhs_number FROM audit_events WHERE action = 'replayed' AND message_id = ANY($1::uuid[]) ORDER BY seq`,
      [[ids.nemsHttp, ids.nemsMesh]],
    );
    expect(audit.rows).toEqual([
      { message_id: ids.nemsHttp, outcome: 'queued', subject_nhs_number: pseudo('9990001642') },
      { message_id: ids.nemsMesh, outcome: 'queued', subject_nhs_number: pseudo('9990001650') },
    ]);
    expect(problems).toEqual([]);
  });
});
