import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';

interface JsonItem {
  notificationId: string;
  status: string;
  record?: {
    dataset: string;
    baby: { nhsNumber?: string; name?: { family?: string; given?: string[] } };
    familyAddress?: { postcode?: string };
  };
}
type FhirObject = Record<string, unknown>;
interface FhirBundle {
  resourceType: string;
  type: string;
  link?: { relation: string; url: string }[];
  entry?: { fullUrl: string; search?: { mode: string }; extension?: FhirObject[]; resource: FhirObject }[];
}

const OSM = 'demo-osmondthorpe-key';
const FHIR = { accept: 'application/fhir+json' };
const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;

const patients = (b: FhirBundle) => (b.entry ?? []).filter((e) => e.resource.resourceType === 'Patient');
const nhsNumberOf = (p: FhirObject) =>
  (p.identifier as { system: string; value: string }[]).find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value;

/** Cheap structure check of a Bundle from the API: resource types, fullUrls, and references resolving inside it. */
function checkBundle(b: FhirBundle, type: string): void {
  expect(b.resourceType).toBe('Bundle');
  expect(b.type).toBe(type);
  const urls = (b.entry ?? []).map((e) => e.fullUrl);
  for (const e of b.entry ?? []) {
    expect(e.fullUrl).toMatch(/^urn:uuid:/);
    expect(typeof e.resource.resourceType).toBe('string');
    if (e.resource.resourceType === 'Patient') {
      expect((e.resource.meta as { profile: string[] }).profile).toEqual(['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient']);
    }
    if (e.resource.resourceType === 'RelatedPerson') {
      expect(urls).toContain((e.resource.patient as { reference: string }).reference);
      expect(JSON.stringify(e.resource.relationship)).toContain('"MTH"');
    }
  }
}

describe('FHIR out: a centre reads its inbox as FHIR R4 by content negotiation, minimised as the JSON is', () => {
  let t: TestHub;
  let client: MllpClient;

  beforeAll(async () => {
    t = await startTestHub();
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  test('the same newborn as JSON and as FHIR; paging with next links; 403/404/400 as OperationOutcome; reads audited', async () => {
    const babies = [
      describeNewborn({ ...RX1, messageTime: new Date(), seed: 9101, controlId: 'FHIROUT-1', postcodes: ['LS9 7AB'] }),
      describeNewborn({ ...RX1, messageTime: new Date(), seed: 9102, controlId: 'FHIROUT-2', postcodes: ['LS9 7AB'] }),
    ];
    for (const b of babies) expect((await client.send(b.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    const nhs = babies.map((b) => b.baby.nhsNumber);

    // Wait in FHIR form, so the first read of each notification is a FHIR read.
    const fhirPage = await pollUntil(async () => {
      const res = await api(t.http, OSM, '/v1/centres/osmondthorpe/notifications?status=new', { headers: FHIR });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
      expect(res.headers.get('vary')).toMatch(/Accept/i);
      const b = (await res.json()) as FhirBundle;
      return patients(b).length === 2 ? b : undefined;
    }, 'both babies in Osmondthorpe, in FHIR form');
    checkBundle(fhirPage, 'searchset');
    expect(fhirPage.link?.find((l) => l.relation === 'next')).toBeUndefined();
    expect(patients(fhirPage).map((e) => e.search?.mode)).toEqual(['match', 'match']);

    // The same inbox as JSON: NHS number, name and postcode match the FHIR form's.
    const jsonRes = await api(t.http, OSM, '/v1/centres/osmondthorpe/notifications?status=new');
    expect(jsonRes.headers.get('content-type')).toMatch(/^application\/json/);
    const json = (await jsonRes.json()) as { items: JsonItem[]; next?: string };
    expect(json.items.map((i) => i.record?.baby.nhsNumber).sort()).toEqual([...nhs].sort());
    for (const item of json.items) {
      const patientEntry = patients(fhirPage).find((e) => JSON.stringify(e.extension).includes(item.notificationId));
      const patient = patientEntry?.resource ?? {};
      expect(nhsNumberOf(patient)).toBe(item.record?.baby.nhsNumber);
      const name = (patient.name as { family?: string; given?: string[] }[])[0];
      expect({ family: name?.family, given: name?.given }).toEqual({
        family: item.record?.baby.name?.family,
        given: item.record?.baby.name?.given,
      });
      expect((patient.address as { postalCode?: string }[])[0]?.postalCode).toBe(item.record?.familyAddress?.postcode);
      expect(item.record?.familyAddress?.postcode).toBe('LS9 7AB');
      // offer-of-support: no clinical details in either form, although the message carried birth weight.
      expect(item.record?.dataset).toBe('offer-of-support');
      expect(JSON.stringify(item)).not.toContain('birthDetails');
    }
    expect((fhirPage.entry ?? []).some((e) => e.resource.resourceType === 'Observation')).toBe(false);

    // Negotiation: the older FHIR media type is FHIR too; an Accept naming neither gets JSON as before (no 406).
    const legacy = await api(t.http, OSM, '/v1/centres/osmondthorpe/notifications?status=new', {
      headers: { accept: 'application/json+fhir' },
    });
    expect(((await legacy.json()) as FhirBundle).resourceType).toBe('Bundle');
    const html = await api(t.http, OSM, '/v1/centres/osmondthorpe/notifications?status=new', { headers: { accept: 'text/html' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await html.json()) as { items: unknown[] }).items).toHaveLength(2);

    // One notification as a collection Bundle.
    const first = json.items[0];
    const one = await api(t.http, OSM, `/v1/centres/osmondthorpe/notifications/${first?.notificationId ?? ''}`, { headers: FHIR });
    expect(one.status).toBe(200);
    const oneBundle = (await one.json()) as FhirBundle;
    checkBundle(oneBundle, 'collection');
    expect(patients(oneBundle).map((e) => nhsNumberOf(e.resource))).toEqual([first?.record?.baby.nhsNumber]);

    // Paging in FHIR form: limit=1, the next link carries the same cursor as JSON's next.
    const page1 = (await (
      await api(t.http, OSM, '/v1/centres/osmondthorpe/notifications?status=new&limit=1', { headers: FHIR })
    ).json()) as FhirBundle;
    const jsonPage1 = (await (await api(t.http, OSM, '/v1/centres/osmondthorpe/notifications?status=new&limit=1')).json()) as {
      next?: string;
    };
    const next = page1.link?.find((l) => l.relation === 'next')?.url;
    expect(next).toBeDefined();
    expect(new URL(next ?? '', t.http).searchParams.get('after')).toBe(jsonPage1.next);
    const page2 = (await (await api(t.http, OSM, next ?? '', { headers: FHIR })).json()) as FhirBundle;
    checkBundle(page2, 'searchset');
    const paged = [...patients(page1), ...patients(page2)].map((e) => nhsNumberOf(e.resource));
    expect(paged.sort()).toEqual([...nhs].sort());

    // A key without the centre role: 403, as an OperationOutcome in FHIR form and as a problem in JSON form. Another
    // centre's key: 404, as an inbox that does not exist.
    const forbidden = await api(t.http, 'demo-northgate-feed-key', '/v1/centres/osmondthorpe/notifications', { headers: FHIR });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(await forbidden.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden' }] });
    const forbiddenJson = await api(t.http, 'demo-northgate-feed-key', '/v1/centres/osmondthorpe/notifications');
    expect(forbiddenJson.status).toBe(403);
    expect(forbiddenJson.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const otherCentre = await api(t.http, 'demo-harehills-key', '/v1/centres/osmondthorpe/notifications', { headers: FHIR });
    expect(otherCentre.status).toBe(404);
    expect(await otherCentre.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
    const notFound = await api(t.http, OSM, '/v1/centres/osmondthorpe/notifications/00000000-0000-4000-8000-000000000000', {
      headers: FHIR,
    });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
    const badCursor = await api(t.http, OSM, '/v1/centres/osmondthorpe/notifications?after=nonsense', { headers: FHIR });
    expect(badCursor.status).toBe(400);
    const badCursorOutcome = (await badCursor.json()) as { resourceType: string; issue: { code: string; diagnostics: string }[] };
    expect(badCursorOutcome.resourceType).toBe('OperationOutcome');
    expect(badCursorOutcome.issue.map((i) => i.code)).toContain('invalid');
    expect(badCursorOutcome.issue.some((i) => i.diagnostics.startsWith('after:'))).toBe(true);

    // Reads are audited as before: each read in FHIR form adds one `read` event for that notification.
    const reads = async (n: string): Promise<number> => {
      const audit = await api(t.http, 'demo-ig-key', `/v1/audit?subject=${n}`);
      expect(audit.status).toBe(200);
      const events = ((await audit.json()) as { items: { action: string; recipient?: string }[] }).items;
      return events.filter((e) => e.action === 'read' && e.recipient === 'osmondthorpe').length;
    };
    for (const item of json.items) {
      const n = item.record?.baby.nhsNumber ?? '';
      const before = await reads(n);
      expect(before).toBeGreaterThanOrEqual(2); // the FHIR and JSON listings above
      const read = await api(t.http, OSM, `/v1/centres/osmondthorpe/notifications/${item.notificationId}`, { headers: FHIR });
      expect(read.status).toBe(200);
      expect(await reads(n)).toBe(before + 1);
    }
  });
});
