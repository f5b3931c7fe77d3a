import path from 'node:path';
import { repoRoot } from '../../../../src/config/env.js';
import { loadFhirMappings } from '../../../../src/config/fhir-mappings.js';
import type { JsonObject } from '../../../../src/pipeline/fhir/fhir-xml.js';
import { mapFhirBirth, type FhirMapOutcome } from '../../../../src/pipeline/fhir/map-fhir-r4.js';
import { fhirControlId, readMessageBundle } from '../../../../src/pipeline/fhir/message-bundle.js';
import { asJson, fhirBirthBundle, type FhirBirthOptions } from '../../../support/synthetic/fhir-birth.js';
import { assessFhirMessage } from '../../../../src/pipeline/fhir/assess-fhir.js';
import { FhirMappingSet, type FhirMapping } from '../../../../src/pipeline/fhir/fhir-mapping.js';
import { FeedDirectory } from '../../../../src/pipeline/hl7v2/feed-directory.js';

const mapping = loadFhirMappings(path.join(repoRoot, 'mappings', 'fhir')).get('uk-core-birth');
const receivedAt = new Date('2026-11-20T10:15:00Z');
const base: FhirBirthOptions = {
  bundleId: 'unit-1',
  timestamp: '2026-11-20T10:14:00Z',
  birthDate: '2026-11-19',
  babyNhsNumber: '9990001561',
};

function map(b: JsonObject, at = receivedAt): FhirMapOutcome {
  const read = readMessageBundle(b);
  if (!read.ok) throw new Error(JSON.stringify(read.issues));
  return mapFhirBirth(read.message, mapping, { feedId: 'northgate-fhir', receivedAt: at });
}
const birth = (o: FhirMapOutcome) => {
  if (o.kind !== 'birth') throw new Error(`expected a birth, got ${JSON.stringify(o)}`);
  return o;
};
const entries = (b: JsonObject) => b.entry as { resource: JsonObject; fullUrl?: string }[];

describe('readMessageBundle: the envelope of a FHIR message', () => {
  it('needs a Bundle of type message whose first entry is a MessageHeader, with ids and a source endpoint', () => {
    expect(readMessageBundle({ resourceType: 'Patient' })).toMatchObject({
      ok: false,
      issues: [{ code: 'not-supported', expression: 'resourceType' }],
    });
    expect(readMessageBundle({ resourceType: 'Bundle', type: 'batch' })).toMatchObject({
      ok: false,
      issues: [{ expression: 'Bundle.type' }],
    });
    const b = fhirBirthBundle(base);
    entries(b).reverse();
    expect(readMessageBundle(b)).toMatchObject({ ok: false, issues: [{ code: 'structure', expression: 'Bundle.entry[0].resource' }] });
    const noIds = fhirBirthBundle(base);
    delete noIds.id;
    const header = entries(noIds)[0]?.resource;
    if (!header) throw new Error('no header');
    delete header.id;
    delete header.source;
    expect(readMessageBundle(noIds)).toMatchObject({
      ok: false,
      issues: [
        { expression: 'Bundle.id' },
        { expression: 'Bundle.entry[0].resource.id' },
        { expression: 'Bundle.entry[0].resource.source.endpoint' },
      ],
    });
  });

  it('keys a message by Bundle.id and MessageHeader.id (or its entry’s urn:uuid)', () => {
    const read = readMessageBundle(fhirBirthBundle(base));
    expect(read.ok && fhirControlId(read.message)).toBe('unit-1/unit-1-h');
    const b = fhirBirthBundle(base);
    const first = entries(b)[0] as { resource: JsonObject; fullUrl?: string };
    delete first.resource.id;
    first.fullUrl = 'urn:uuid:844ebe20-78f0-4d77-8890-44d588717ca9';
    const r = readMessageBundle(b);
    expect(r.ok && r.message.headerId).toBe('844ebe20-78f0-4d77-8890-44d588717ca9');
  });
});

describe('mapFhirBirth', () => {
  it('mother as both Patient and RelatedPerson: the Patient’s identity, the RelatedPerson’s phone and language', () => {
    const out = birth(map(fhirBirthBundle({ ...base, motherAs: 'both', motherNhsNumber: '9990009503' })));
    expect(out.notification.mother).toMatchObject({
      nhsNumber: '9990009503',
      name: { prefix: 'MRS' },
      phone: '07700900123',
      preferredLanguage: 'en',
    });
  });

  it('no mother in the bundle: a birth without one', () => {
    expect(birth(map(fhirBirthBundle({ ...base, motherAs: 'none' }))).notification.mother).toBeUndefined();
  });

  it('one baby per message: a focus on two Patients is refused at MessageHeader.focus', () => {
    const b = fhirBirthBundle({ ...base, motherAs: 'patient' });
    (entries(b)[0]?.resource.focus as JsonObject[]).push({ reference: entries(b)[2]?.fullUrl ?? '' });
    expect(map(b)).toMatchObject({ kind: 'invalid', issues: [{ code: 'not-supported', expression: 'Bundle.entry[0].resource.focus' }] });
  });

  it('birth weight in kg becomes grams; an unknown unit is a warning and the value is dropped; another subject’s Observation is ignored', () => {
    const b = fhirBirthBundle({ ...base, weightGrams: 3.42, gestationDays: 280 });
    const obs = entries(b).filter((e) => e.resource.resourceType === 'Observation');
    (obs[0]?.resource.valueQuantity as JsonObject).code = 'kg';
    (obs[1]?.resource.valueQuantity as JsonObject).code = 'mo';
    const out = birth(map(b));
    expect(out.notification.birthDetails).toEqual({ weightGrams: 3420 });
    expect(out.issues).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'code-invalid',
        expression: 'Bundle.entry[4].resource.valueQuantity.code',
        path: 'birthDetails.gestationWeeks',
      }),
    ]);
    const weight = obs[0];
    if (!weight) throw new Error('no weight Observation');
    weight.resource.subject = { reference: 'Patient/someone-else' };
    expect(birth(map(b)).notification.birthDetails).toBeUndefined();
  });

  it('deceasedBoolean is a death; a death is looked for beyond the newborn window, a birth is not', () => {
    expect(birth(map(fhirBirthBundle({ ...base, deceased: true }))).notification.baby).toMatchObject({ deceased: true });
    const older = { ...base, birthDate: '2026-09-01', timestamp: '2026-11-20T10:14:00Z' };
    expect(map(fhirBirthBundle(older))).toEqual({ kind: 'not-relevant', reason: 'subject is not a newborn', issues: [] });
    expect(birth(map(fhirBirthBundle({ ...older, deceased: '2026-11-19' }))).notification.baby).toMatchObject({
      deceased: true,
      deceasedAt: '2026-11-19',
    });
  });

  it('a birth that was a newborn at Bundle.timestamp but not at receipt is late: not relevant', () => {
    const out = map(fhirBirthBundle({ ...base, birthDate: '2026-10-01', timestamp: '2026-10-02T09:00:00Z' }));
    expect(out).toMatchObject({
      kind: 'not-relevant',
      reason: expect.stringMatching(
        /^subject was a newborn at the message time \(Bundle.timestamp\) but is not at receipt, 49 days later/,
      ) as unknown,
    });
  });

  it('a missing birthDate is refused at its element', () => {
    const b = fhirBirthBundle(base);
    delete entries(b)[1]?.resource.birthDate;
    expect(map(b)).toMatchObject({
      kind: 'invalid',
      issues: [{ code: 'required', expression: 'Bundle.entry[1].resource.birthDate', path: 'baby.birthDate' }],
    });
  });

  it('an unreadable postcode is a warning at its element and is dropped; a confidentiality label on the baby counts too', () => {
    const b = fhirBirthBundle({ ...base, postcode: 'NOT A POSTCODE' });
    const babyEntry = entries(b)[1];
    if (!babyEntry) throw new Error('no baby');
    babyEntry.resource.meta = { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'V' }] };
    const out = birth(map(b));
    expect(out.notification.baby.address?.postcode).toBeUndefined();
    expect(out.notification.confidentiality).toBe('very-restricted');
    expect(out.issues).toContainEqual(
      expect.objectContaining({ severity: 'warning', expression: 'Bundle.entry[1].resource.address[0].postalCode' }),
    );
  });
});

describe('assessFhirMessage: a bug while mapping', () => {
  it('is answered 500 with an exception issue, quarantined, and hands the error to intake to log and count', () => {
    const broken: FhirMapping = Object.defineProperty<FhirMapping>({ ...mapping }, 'file', {
      get(): never {
        throw new TypeError('a bug');
      },
    });
    const feeds = new FeedDirectory(
      [],
      [
        {
          id: 'northgate-fhir',
          kind: 'fhir',
          name: 'x',
          sourceEndpoint: 'https://maternity.northgate.example/fhir',
          apiClient: 'c',
          mapping: 'uk-core-birth',
        },
      ],
    );
    const a = assessFhirMessage(Buffer.from(asJson(fhirBirthBundle(base))), 'json', {
      feeds,
      mappings: new FhirMappingSet(new Map([['uk-core-birth', broken]])),
      receivedAt,
      apiClientId: 'c',
      maxBytes: 1 << 20,
    });
    expect(a).toMatchObject({ status: 'quarantined', httpStatus: 500, senderVerified: true, issues: [{ code: 'exception' }] });
    expect(a.internalError).toBeInstanceOf(TypeError);
  });
});
