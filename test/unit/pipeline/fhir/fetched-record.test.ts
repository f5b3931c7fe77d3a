import { loadHubConfig } from '../../../../src/config/hub-config.js';
import { localDateOf } from '../../../../src/domain/hl7-datetime.js';
import { assembleFetchedRecord, assessFetchedRecord, fetchedControlId } from '../../../../src/pipeline/fhir/fetched-record.js';
import type { JsonObject } from '../../../../src/pipeline/fhir/fhir-xml.js';
import { copySampleConfig } from '../../../support/sample-config.js';

const config = loadHubConfig(copySampleConfig('stork-fetched-'));
const feed = config.feeds.fhirFeeds[0];
const mapping = config.fhirMappings.get('uk-core-birth');
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const BASE = 'https://fhir.northgate.example/R4';

function record(birthDate: string): { baby: JsonObject; related: JsonObject[] } {
  const baby: JsonObject = {
    resourceType: 'Patient',
    id: 'baby-1',
    meta: { versionId: '3', lastUpdated: '2026-11-28T10:00:00Z' },
    identifier: [{ system: NHS, value: '9990001545' }],
    birthDate,
    gender: 'female',
    address: [{ line: ['1 Test Street'], postalCode: 'LS9 7AB' }],
  };
  const related: JsonObject[] = [
    {
      resourceType: 'RelatedPerson',
      id: 'rp-1',
      patient: { reference: 'Patient/baby-1' },
      identifier: [{ system: NHS, value: '9990009503' }],
      relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'GESTM' }] }],
    },
    {
      resourceType: 'Observation',
      id: 'obs-1',
      status: 'final',
      subject: { reference: 'Patient/baby-1' },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '364589006' }] },
      valueQuantity: { value: 3.3, system: 'http://unitsofmeasure.org', code: 'kg' },
    },
    { resourceType: 'RelatedPerson', id: 'rp-1' }, // fetched twice: kept once
  ];
  return { baby, related };
}

describe('A record fetched from a FHIR server', () => {
  if (!feed) throw new Error('the sample has no FHIR feed');

  it('is keyed by the baby’s id and version, and assembled baby first with server URLs, each resource once', () => {
    const { baby, related } = record('2026-11-28');
    expect(fetchedControlId(baby)).toBe('Patient/baby-1/_history/3');
    expect(fetchedControlId({ resourceType: 'Patient', id: 'x', meta: { lastUpdated: '2026-11-28T10:00:00Z' } })).toBe(
      'Patient/x/_history/2026-11-28T10:00:00Z',
    );
    expect(fetchedControlId({ resourceType: 'Patient', id: 'bad/id' })).toBeUndefined();
    const bundle = assembleFetchedRecord(baby, related, { baseUrl: BASE, id: 'b-1', at: new Date('2026-11-28T11:00:00Z') });
    expect(bundle).toMatchObject({ resourceType: 'Bundle', id: 'b-1', type: 'collection', timestamp: '2026-11-28T11:00:00.000Z' });
    expect((bundle.entry as { fullUrl: string }[]).map((e) => e.fullUrl)).toEqual([
      `${BASE}/Patient/baby-1`,
      `${BASE}/RelatedPerson/rp-1`,
      `${BASE}/Observation/obs-1`,
    ]);
  });

  it('is read through the feed’s R4 mapping: the baby, the mother (GESTM), the birth weight', () => {
    const now = new Date();
    const { baby, related } = record(localDateOf(now));
    const bundle = assembleFetchedRecord(baby, related, { baseUrl: BASE, id: 'b-2', at: now });
    const a = assessFetchedRecord(bundle, { feed, mapping, receivedAt: now });
    expect(a.status).toBe('queued');
    expect(a.notification?.baby.nhsNumber).toBe('9990001545');
    expect(a.notification?.mother?.nhsNumber).toBe('9990009503');
    expect(a.notification?.birthDetails?.weightGrams).toBe(3300);
    expect(a.notification?.source).toMatchObject({ format: 'fhir-r4', feedId: 'northgate-fhir', messageControlId: 'b-2' });
  });

  it('an old baby is not relevant; a record without a Patient first is refused, never a crash', () => {
    const now = new Date();
    const old = record('2020-01-01');
    const a = assessFetchedRecord(assembleFetchedRecord(old.baby, old.related, { baseUrl: BASE, id: 'b-3', at: now }), {
      feed,
      mapping,
      receivedAt: now,
    });
    expect(a.status).toBe('not-relevant');
    const none = assessFetchedRecord(
      { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Observation' } }] },
      {
        feed,
        mapping,
        receivedAt: now,
      },
    );
    expect(none).toMatchObject({ status: 'quarantined', issues: [{ code: 'required', expression: 'Bundle.entry[0].resource' }] });
  });
});
