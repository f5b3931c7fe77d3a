import { readFileSync } from 'node:fs';
import { OPENAPI_FILE } from '../../adapters/http/routes/openapi.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { ResponseChecker, type OpenApiDocument } from '../support/openapi.js';

const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
const HL7 = { 'content-type': 'x-application/hl7-v2+er7' };
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

/**
 * The real hub's answers to the main calls, successes and errors, checked against the OpenAPI document:
 * each status must be documented for its operation, with that content type, and each JSON body must
 * match the documented schema (ajv, JSON Schema 2020-12).
 */
describe('Responses of the running hub match the OpenAPI description', () => {
  let t: TestHub;
  const checker = new ResponseChecker(doc);
  const problems: string[] = [];

  beforeAll(async () => {
    t = await startTestHub({ env: { STORK_MLLP_MAX_BYTES: '4096' } });
  });
  afterAll(async () => t.stop());

  /** Calls `template` (the document's path) with `values` filled in, checks the answer, returns status and body. */
  async function call(
    method: string,
    template: string,
    opts: { key?: string; values?: Record<string, string>; query?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    const p = template.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(opts.values?.[k] ?? ''));
    const res = await api(t.http, opts.key, `${p}${opts.query ?? ''}`, {
      method,
      ...(opts.body !== undefined ? { body: opts.body } : {}),
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
    const type = res.headers.get('content-type');
    const text = await res.text();
    const body: unknown = (type ?? '').includes('json') ? JSON.parse(text) : text;
    problems.push(...checker.check(method, template, res.status, type, body));
    return { status: res.status, body, headers: res.headers };
  }

  test('the description is served without a key, as it is in the repository', async () => {
    const res = await call('GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(doc);
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('GET', '/readyz')).status).toBe(200);
    expect(problems).toEqual([]);
  });

  test('intake, messages, the inbox and the audit: successes and their errors', async () => {
    const baby = describeNewborn({
      seed: 7001,
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      controlId: 'OAS-1',
      messageTime: new Date(),
      postcodes: ['LS9 7AB'],
    });
    const feed = 'demo-northgate-feed-key';
    const sent = await call('POST', '/v1/hl7v2', { key: feed, body: baby.text, headers: HL7 });
    expect(sent.status).toBe(200);
    const messageId = sent.headers.get('x-stork-message-id') ?? '';
    expect((await call('POST', '/v1/hl7v2', { key: feed, body: '', headers: HL7 })).status).toBe(400);
    expect((await call('POST', '/v1/hl7v2', { key: feed, body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(415);
    expect((await call('POST', '/v1/hl7v2', { key: feed, body: baby.text.padEnd(5000, 'x'), headers: HL7 })).status).toBe(413);
    expect((await call('POST', '/v1/hl7v2', { body: baby.text, headers: HL7 })).status).toBe(401);
    expect((await call('POST', '/v1/hl7v2', { key: 'demo-osmondthorpe-key', body: baby.text, headers: HL7 })).status).toBe(403);
    const otherTrust = describeNewborn({ seed: 7002, sendingFacility: 'RX9', controlId: 'OAS-2', messageTime: new Date() });
    const forbidden = await call('POST', '/v1/hl7v2', { key: feed, body: otherTrust.text, headers: HL7 });
    expect([forbidden.status, typeof forbidden.body]).toEqual([403, 'string']);

    const admin = 'demo-admin-key';
    expect((await call('GET', '/v1/messages', { key: admin, query: '?limit=5' })).status).toBe(200);
    expect((await call('GET', '/v1/messages', { key: feed })).status).toBe(200);
    expect((await call('GET', '/v1/messages', { key: admin, query: '?limit=0' })).status).toBe(400);
    expect((await call('GET', '/v1/messages', { key: 'demo-ig-key' })).status).toBe(403);
    const detail = await call('GET', '/v1/messages/{id}', { key: admin, values: { id: messageId } });
    expect([detail.status, (detail.body as { raw?: string }).raw]).toEqual([200, baby.text]);
    expect((await call('GET', '/v1/messages/{id}', { key: feed, values: { id: messageId } })).status).toBe(200);
    expect((await call('GET', '/v1/messages/{id}', { key: admin, values: { id: UNKNOWN } })).status).toBe(404);
    expect((await call('POST', '/v1/messages/{id}/replay', { key: admin, values: { id: messageId } })).status).toBe(409);
    expect((await call('POST', '/v1/messages/{id}/replay', { key: admin, values: { id: UNKNOWN } })).status).toBe(404);

    const centre = 'demo-osmondthorpe-key';
    const inbox = { centreId: 'osmondthorpe' };
    const item = await pollUntil(async () => {
      const page = await call('GET', '/v1/centres/{centreId}/notifications', { key: centre, values: inbox, query: '?status=new' });
      expect(page.status).toBe(200);
      return (page.body as { items: { notificationId: string; inbox: string; record?: { baby: { nhsNumber?: string } } }[] }).items.find(
        (i) => i.record?.baby.nhsNumber === baby.baby.nhsNumber,
      );
    }, 'the baby in the inbox');
    // The inbox item names its inbox (the field was `queue` before issue 9).
    expect(item.inbox).toBe('osmondthorpe');
    const ids = { ...inbox, id: item.notificationId };
    expect((await call('GET', '/v1/centres/{centreId}/notifications', { key: centre, values: inbox, query: '?status=lost' })).status).toBe(
      400,
    );
    expect((await call('GET', '/v1/centres/{centreId}/notifications', { key: 'demo-harehills-key', values: inbox })).status).toBe(404);
    expect((await call('GET', '/v1/centres/{centreId}/notifications/{id}', { key: centre, values: ids })).status).toBe(200);
    expect(
      (await call('GET', '/v1/centres/{centreId}/notifications/{id}', { key: centre, values: { ...inbox, id: UNKNOWN } })).status,
    ).toBe(404);
    // The same reads in FHIR form (Accept: application/fhir+json): Bundles, and OperationOutcomes for the errors.
    const fhir = { accept: 'application/fhir+json' };
    const fhirPage = await call('GET', '/v1/centres/{centreId}/notifications', {
      key: centre,
      values: inbox,
      query: '?limit=1',
      headers: fhir,
    });
    expect(fhirPage.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(fhirPage.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    const fhirOne = await call('GET', '/v1/centres/{centreId}/notifications/{id}', { key: centre, values: ids, headers: fhir });
    expect(fhirOne.body).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    for (const [opts, status] of [
      [{ key: centre, values: inbox, query: '?status=lost', headers: fhir }, 400],
      [{ key: 'demo-harehills-key', values: inbox, headers: fhir }, 404],
    ] as const) {
      const r = await call('GET', '/v1/centres/{centreId}/notifications', opts);
      expect({ status: r.status, body: r.body }).toMatchObject({ status, body: { resourceType: 'OperationOutcome' } });
    }
    const fhir404 = await call('GET', '/v1/centres/{centreId}/notifications/{id}', {
      key: centre,
      values: { ...inbox, id: UNKNOWN },
      headers: fhir,
    });
    expect({ status: fhir404.status, body: fhir404.body }).toMatchObject({ status: 404, body: { resourceType: 'OperationOutcome' } });
    expect((await call('POST', '/v1/centres/{centreId}/notifications/{id}/ack', { key: centre, values: ids })).status).toBe(200);
    expect(
      (await call('POST', '/v1/centres/{centreId}/notifications/{id}/ack', { key: centre, values: { ...inbox, id: UNKNOWN } })).status,
    ).toBe(404);

    const ig = 'demo-ig-key';
    const audit = await call('GET', '/v1/audit', { key: ig, query: `?message=${messageId}` });
    expect(audit.status).toBe(200);
    expect((audit.body as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(5);
    expect((await call('GET', '/v1/audit', { key: ig, query: `?subject=${baby.baby.nhsNumber}&limit=2` })).status).toBe(200);
    expect((await call('GET', '/v1/audit', { key: ig })).status).toBe(400);
    expect((await call('GET', '/v1/audit', { key: admin, query: `?message=${messageId}` })).status).toBe(403);
    const events = await call('GET', '/v1/audit/events', { key: ig, query: `?subject=${baby.baby.nhsNumber}&limit=2` });
    expect(events.status).toBe(200);
    const next = (events.body as { next?: string }).next ?? '';
    expect((await call('GET', '/v1/audit/events', { key: ig, query: `?cursor=${next}&subject=${baby.baby.nhsNumber}` })).status).toBe(200);
    const auditFhir = await call('GET', '/v1/audit/events', {
      key: ig,
      query: '?action=received&limit=3',
      headers: { accept: 'application/fhir+json' },
    });
    expect(auditFhir.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    expect((await call('GET', '/v1/audit/events', { key: ig, query: '?action=nope' })).status).toBe(400);
    expect((await call('GET', '/v1/audit/events', { key: centre })).status).toBe(403);
    expect(problems).toEqual([]);
  });

  test('the checker fails a body that does not match, and a status the document does not list', () => {
    expect(checker.check('GET', '/v1/messages', 200, 'application/json', { items: [{ id: 'not-a-uuid' }] }).length).toBeGreaterThan(0);
    expect(checker.check('GET', '/healthz', 418, 'application/json', {})).toEqual(['GET /healthz: status 418 is not documented']);
    expect(checker.check('GET', '/v1/audit', 400, 'text/html', '<p>')).toHaveLength(1);
  });
});
