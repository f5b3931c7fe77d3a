import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BirthNotification } from '../../../../src/domain/birth-notification.js';
import { DATASETS, isDatasetName, minimise, type DatasetName, type DisclosedField } from '../../../../src/pipeline/consent/datasets.js';
import {
  inboxItemBundle,
  inboxPageBundle,
  INBOX_ITEM_URL,
  NHS_NUMBER_SYSTEM,
  ODS_SYSTEM,
  UK_CORE_PATIENT,
  UK_CORE_RELATED_PERSON,
  type InboxEntryInput,
} from '../../../../src/pipeline/fhir/disclosed-to-fhir.js';
import type { JsonObject, JsonValue } from '../../../../src/pipeline/fhir/fhir-xml.js';

/** A canonical record with every field set to a value found nowhere else, so each can be traced. */
const FULL: BirthNotification = {
  baby: {
    nhsNumber: '9990000018',
    nhsNumberStatus: '02',
    localIdentifiers: [{ value: 'BABY-MRN-77', assigner: 'RXBABY', type: 'MRBABY' }],
    name: { family: 'Babyfamily', given: ['Babygiven'], prefix: 'Babyprefix' },
    sex: 'female',
    birthDate: '2026-11-01',
    birthTime: '2026-11-01T04:05:00+00:00',
    multipleBirth: true,
    birthOrder: 2,
    birthPlace: 'Babyplace Ward',
    address: { lines: ['1 Babyaddress Row'], city: 'Babytown', postcode: 'LS1 1BB' },
    deceased: false,
    deceasedAt: '2026-11-09',
  },
  mother: {
    nhsNumber: '9990000026',
    localIdentifiers: [{ value: 'MUM-MRN-88', assigner: 'RXMUM', type: 'MRMUM' }],
    name: { family: 'Mumfamily', given: ['Mumgiven', 'Mumsecond'], prefix: 'Mumprefix' },
    birthDate: '1990-05-06',
    address: { lines: ['2 Mumaddress Street', 'Mumdistrict'], city: 'Mumcity', county: 'Mumshire', postcode: 'LS9 7AB', country: 'GBR' },
    phone: '07700900123',
    preferredLanguage: 'pl',
  },
  gpPractice: { odsCode: 'B86001', name: 'Gpname Surgery' },
  birthDetails: { weightGrams: 3456, gestationWeeks: 39 },
  confidentiality: 'restricted',
  source: { format: 'hl7v2', feedId: 'feed-marker', messageControlId: 'MSGCTRL-55', event: 'ADT^A28' },
};

const mumAddress = ['2 Mumaddress Street', 'Mumdistrict', 'Mumcity', 'Mumshire', 'LS9 7AB', 'GBR'];
/** The values each field carries (in both forms); familyAddress is the mother's address here. */
const MARKERS: Record<DisclosedField, (string | number)[]> = {
  'baby.nhsNumber': ['9990000018'],
  'baby.nhsNumberStatus': ['02'],
  'baby.localIdentifiers': ['BABY-MRN-77', 'RXBABY', 'MRBABY'],
  'baby.name': ['Babyfamily', 'Babygiven', 'Babyprefix'],
  'baby.sex': ['female'],
  'baby.birthDate': ['2026-11-01'],
  'baby.birthTime': ['2026-11-01T04:05:00+00:00'],
  'baby.multipleBirth': [],
  'baby.birthOrder': [2],
  'baby.birthPlace': ['Babyplace Ward'],
  'baby.deceased': [],
  'baby.deceasedAt': ['2026-11-09'],
  'baby.address': ['1 Babyaddress Row', 'Babytown', 'LS1 1BB'],
  'mother.nhsNumber': ['9990000026'],
  'mother.localIdentifiers': ['MUM-MRN-88', 'RXMUM', 'MRMUM'],
  'mother.name': ['Mumfamily', 'Mumgiven', 'Mumsecond', 'Mumprefix'],
  'mother.birthDate': ['1990-05-06'],
  'mother.address': mumAddress,
  'mother.phone': ['07700900123'],
  'mother.preferredLanguage': ['pl'],
  familyAddress: mumAddress,
  gpPractice: ['B86001', 'Gpname Surgery'],
  birthDetails: [3456, 39],
  confidentiality: [],
  source: ['feed-marker', 'MSGCTRL-55', 'ADT^A28', 'hl7v2'],
};

/** Words of FHIR's own structure and Stork's metadata names: the only strings allowed that are not record values. */
const STRUCTURE = new Set([
  'Bundle',
  'collection',
  'searchset',
  'Patient',
  'RelatedPerson',
  'Observation',
  'OperationOutcome',
  'Organization',
  'official',
  'usual',
  'home',
  'phone',
  'MTH',
  'mother',
  'final',
  '364589006',
  'Birth weight',
  '8339-4',
  'Birth weight Measured',
  '412726003',
  'Length of gestation at birth',
  'g',
  'weeks',
  'wk',
  'match',
  'include',
  'outcome',
  'self',
  'next',
  'R',
  'notificationId',
  'inbox',
  'status',
  'deliveredAt',
  'updatedAt',
  'firstReadAt',
  'acknowledgedAt',
  'withdrawnAt',
  'format',
  'feedId',
  'messageControlId',
  'event',
]);

const ITEM = {
  notificationId: '6f0d8c8e-1f7a-4a3b-9b1e-0c8f2d9e4a11',
  inbox: 'osmondthorpe',
  status: 'new',
  deliveredAt: '2026-11-01T05:00:00.000Z',
  firstReadAt: '2026-11-01T06:00:00.000Z',
} as const;

function leaves(v: JsonValue | undefined, out: (string | number | boolean)[] = []): (string | number | boolean)[] {
  if (v === null || v === undefined) return out;
  if (Array.isArray(v)) for (const x of v) leaves(x, out);
  else if (typeof v === 'object') for (const x of Object.values(v)) leaves(x, out);
  else out.push(v);
  return out;
}

const asJson = (x: unknown): JsonValue => JSON.parse(JSON.stringify(x)) as JsonValue;
const entries = (b: JsonObject): JsonObject[] => (b.entry ?? []) as JsonObject[];
const resources = (b: JsonObject): JsonObject[] => entries(b).map((e) => e.resource as JsonObject);
const ofType = (b: JsonObject, t: string): JsonObject[] => resources(b).filter((r) => r.resourceType === t);

/** Cheap structural checks of a Bundle: types, required elements, fullUrls, and references that resolve inside it. */
function checkBundle(b: JsonObject, type: 'searchset' | 'collection'): void {
  expect(b.resourceType).toBe('Bundle');
  expect(b.type).toBe(type);
  const urls = entries(b).map((e) => e.fullUrl);
  for (const u of urls) expect(u).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(new Set(urls).size).toBe(urls.length);
  for (const e of entries(b)) {
    const r = e.resource as JsonObject;
    expect(typeof r.resourceType).toBe('string');
    if (type === 'searchset') expect(['match', 'include', 'outcome']).toContain((e.search as JsonObject).mode);
    else expect(e.search).toBeUndefined();
    if (r.resourceType === 'Patient') {
      expect((r.meta as JsonObject).profile).toEqual([UK_CORE_PATIENT]);
      expect(r.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
      expect(e.extension).toEqual([expect.objectContaining({ url: INBOX_ITEM_URL })]);
    }
    if (r.resourceType === 'RelatedPerson') {
      expect((r.meta as JsonObject).profile).toEqual([UK_CORE_RELATED_PERSON]);
      expect(urls).toContain((r.patient as JsonObject).reference); // RelatedPerson.patient is 1..1
      expect(r.relationship).toEqual([{ coding: [expect.objectContaining({ code: 'MTH' })] }]);
    }
    if (r.resourceType === 'Observation') {
      expect(r.status).toBe('final');
      expect(urls).toContain((r.subject as JsonObject).reference);
      expect((r.code as { coding: unknown[] }).coding.length).toBeGreaterThan(0);
    }
    if (r.resourceType === 'OperationOutcome') expect((r.issue as unknown[]).length).toBeGreaterThan(0);
  }
}

const rulebookDatasets = (
  JSON.parse(readFileSync(join(process.cwd(), 'consent-rules', 'offer-of-support.json'), 'utf8')) as { rules: { dataset?: string }[] }
).rules.flatMap((r) => (r.dataset !== undefined ? [r.dataset] : []));

describe('FHIR out: the disclosed record as UK Core Patient and RelatedPerson', () => {
  it('the rulebook names only known datasets, and every dataset is tested below', () => {
    expect(rulebookDatasets.length).toBeGreaterThanOrEqual(3);
    for (const d of rulebookDatasets) expect(isDatasetName(d)).toBe(true);
    expect(Object.keys(DATASETS).sort()).toEqual(expect.arrayContaining([...new Set(rulebookDatasets)].sort()));
  });

  describe.each(Object.keys(DATASETS) as DatasetName[])('dataset %s', (dataset) => {
    const disclosed = minimise(FULL, dataset);
    const jsonLeaves = leaves(asJson({ ...ITEM, record: disclosed }));
    const fhir = inboxItemBundle({ ...ITEM, record: disclosed });
    const fhirLeaves = leaves(fhir);
    const fields = DATASETS[dataset] as readonly DisclosedField[];
    const allowedMarkers = new Set(fields.flatMap((f) => MARKERS[f]));
    const forbidden = (Object.keys(MARKERS) as DisclosedField[])
      .filter((f) => !fields.includes(f))
      .flatMap((f) => MARKERS[f].filter((m) => !allowedMarkers.has(m)).map((marker) => ({ field: f, marker })));

    it('no value of a field outside the dataset appears in the JSON form or the FHIR form', () => {
      expect(forbidden.length).toBeGreaterThan(0); // every dataset leaves something out
      const leak = (ls: unknown[]) => forbidden.filter(({ marker }) => ls.includes(marker));
      expect({ json: leak(jsonLeaves), fhir: leak(fhirLeaves) }).toEqual({ json: [], fhir: [] });
    });

    it('every value of a field inside the dataset appears in both forms (nothing disclosed is dropped from FHIR)', () => {
      const missing = (ls: unknown[]) => [...allowedMarkers].filter((m) => !ls.includes(m));
      expect({ json: missing(jsonLeaves), fhir: missing(fhirLeaves) }).toEqual({ json: [], fhir: [] });
    });

    it('every leaf of the FHIR Bundle is a disclosed value, the inbox item metadata, or FHIR structure', () => {
      const fromRecord = new Set<unknown>([...leaves(asJson(disclosed)), ...leaves(asJson(ITEM))]);
      const ids = [
        `baby-${ITEM.notificationId}`,
        `mother-${ITEM.notificationId}`,
        `birth-weight-${ITEM.notificationId}`,
        `gestation-${ITEM.notificationId}`,
      ];
      const stray = fhirLeaves.filter(
        (l) =>
          typeof l !== 'boolean' &&
          !fromRecord.has(l) &&
          !(typeof l === 'string' && (STRUCTURE.has(l) || ids.includes(l) || /^(https?:\/\/|urn:)/.test(l))),
      );
      expect(stray).toEqual([]);
    });

    it('is a well-formed collection Bundle with the baby as a UK Core Patient', () => {
      checkBundle(fhir, 'collection');
      const [patient] = ofType(fhir, 'Patient');
      expect((patient?.identifier as JsonObject[])[0]).toMatchObject({ system: NHS_NUMBER_SYSTEM, value: '9990000018' });
      expect(patient?.gender).toBe('female');
      expect(patient?.birthDate).toBe('2026-11-01');
      expect(ofType(fhir, 'Patient')).toHaveLength(1);
    });
  });

  it('offer of support: family address and GP on the Patient, name, phone and language on the mother; no clinical details', () => {
    const fhir = inboxItemBundle({ ...ITEM, record: minimise(FULL, 'offer-of-support') });
    const [patient] = ofType(fhir, 'Patient');
    const [mother] = ofType(fhir, 'RelatedPerson');
    expect(patient?.address).toEqual([
      {
        use: 'home',
        line: ['2 Mumaddress Street', 'Mumdistrict'],
        city: 'Mumcity',
        district: 'Mumshire',
        postalCode: 'LS9 7AB',
        country: 'GBR',
      },
    ]);
    expect(patient?.generalPractitioner).toEqual([
      { type: 'Organization', identifier: { system: ODS_SYSTEM, value: 'B86001' }, display: 'Gpname Surgery' },
    ]);
    expect(patient?.multipleBirthInteger).toBe(2);
    expect(mother?.name).toEqual([{ use: 'official', family: 'Mumfamily', given: ['Mumgiven', 'Mumsecond'], prefix: ['Mumprefix'] }]);
    expect(mother?.telecom).toEqual([{ system: 'phone', value: '07700900123' }]);
    expect(mother?.communication).toEqual([{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'pl' }] }, preferred: true }]);
    expect(mother?.identifier).toBeUndefined();
    expect(mother?.address).toBeUndefined();
    expect(ofType(fhir, 'Observation')).toEqual([]);
  });

  it('with clinical consent: birth weight and gestation as Observations of the baby', () => {
    const fhir = inboxItemBundle({ ...ITEM, record: minimise(FULL, 'offer-of-support-with-clinical') });
    const values = ofType(fhir, 'Observation').map((o) => o.valueQuantity);
    expect(values).toEqual([
      { value: 3456, unit: 'g', system: 'http://unitsofmeasure.org', code: 'g' },
      { value: 39, unit: 'weeks', system: 'http://unitsofmeasure.org', code: 'wk' },
    ]);
  });

  it('safeguarding review (restricted): no address and no phone anywhere, the restriction in meta.security', () => {
    const disclosed = minimise(FULL, 'safeguarding-review');
    const fhir = inboxItemBundle({ ...ITEM, record: disclosed });
    const text = JSON.stringify(fhir);
    for (const m of [...mumAddress, '1 Babyaddress Row', 'LS1 1BB', '07700900123']) {
      expect(text).not.toContain(m);
      expect(JSON.stringify(disclosed)).not.toContain(m);
    }
    expect(text).not.toContain('"address"');
    expect(text).not.toContain('"telecom"');
    const [patient] = ofType(fhir, 'Patient');
    expect((patient?.meta as JsonObject).security).toEqual([
      { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' },
    ]);
    expect((ofType(fhir, 'RelatedPerson')[0]?.identifier as JsonObject[])[0]).toEqual({ system: NHS_NUMBER_SYSTEM, value: '9990000026' });
  });

  it('a withdrawn notification gives no record in FHIR either: an OperationOutcome entry with the inbox metadata', () => {
    const withdrawn: InboxEntryInput = { ...ITEM, status: 'withdrawn', withdrawnAt: '2026-11-02T00:00:00.000Z' };
    const page = inboxPageBundle([withdrawn], { self: '/v1/centres/osmondthorpe/notifications?limit=50' });
    checkBundle(page, 'searchset');
    expect(entries(page)).toHaveLength(1);
    expect(entries(page)[0]?.search).toEqual({ mode: 'outcome' });
    expect(resources(page)[0]).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'deleted' }] });
    expect(leaves(entries(page)[0]?.extension)).toEqual(expect.arrayContaining(['withdrawn', '2026-11-02T00:00:00.000Z']));
  });

  it('a page is a searchset: one match per notification with its includes, and a next link only when there is more', () => {
    const second = { ...ITEM, notificationId: '0b7e4a52-3d1c-4c9e-8f6a-2e5d7c9b1a33' };
    const record = minimise(FULL, 'offer-of-support');
    const links = {
      self: '/v1/centres/osmondthorpe/notifications?limit=2',
      next: '/v1/centres/osmondthorpe/notifications?limit=2&after=abc',
    };
    const page = inboxPageBundle(
      [
        { ...ITEM, record },
        { ...second, record },
      ],
      links,
    );
    checkBundle(page, 'searchset');
    expect(entries(page).map((e) => [(e.resource as JsonObject).resourceType, (e.search as JsonObject).mode])).toEqual([
      ['Patient', 'match'],
      ['RelatedPerson', 'include'],
      ['Patient', 'match'],
      ['RelatedPerson', 'include'],
    ]);
    expect(page.link).toEqual([
      { relation: 'self', url: links.self },
      { relation: 'next', url: links.next },
    ]);
    expect(inboxPageBundle([], { self: links.self }).link).toEqual([{ relation: 'self', url: links.self }]);
    // The same notification always gives the same fullUrls (a client can de-duplicate across pages).
    expect(inboxItemBundle({ ...ITEM, record }).entry).toEqual(inboxItemBundle({ ...ITEM, record }).entry);
  });

  test('a notification enriched after delivery by a later message (another route) carries updatedAt in its inbox item', () => {
    const fhir = inboxItemBundle({ ...ITEM, updatedAt: '2026-11-01T07:00:00.000Z', record: minimise(FULL, 'offer-of-support') });
    const item = (entries(fhir)[0]?.extension as JsonObject[] | undefined)?.[0];
    expect(item?.extension).toEqual(expect.arrayContaining([{ url: 'updatedAt', valueDateTime: '2026-11-01T07:00:00.000Z' }]));
    const plain = inboxItemBundle({ ...ITEM, record: minimise(FULL, 'offer-of-support') });
    expect(JSON.stringify(plain)).not.toContain('updatedAt');
  });
});
