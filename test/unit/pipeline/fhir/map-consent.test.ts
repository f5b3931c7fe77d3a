import path from 'node:path';
import { repoRoot } from '../../../../src/config/env.js';
import { loadFhirMappings } from '../../../../src/config/fhir-mappings.js';
import type { JsonObject } from '../../../../src/pipeline/fhir/fhir-xml.js';
import { CONSENT_SCOPE_SYSTEM } from '../../../../src/pipeline/fhir/map-consent.js';
import { mapFhirBirth, type FhirMapOutcome } from '../../../../src/pipeline/fhir/map-fhir-r4.js';
import { readMessageBundle } from '../../../../src/pipeline/fhir/message-bundle.js';
import { fhirBirthBundle } from '../../../support/synthetic/fhir-birth.js';

const mapping = loadFhirMappings(path.join(repoRoot, 'mappings', 'fhir')).get('uk-core-birth');
const BABY_NHS = '9990001561';
const MOTHER_NHS = '9990009503';

function withConsents(...consents: JsonObject[]): JsonObject {
  const b = fhirBirthBundle({
    bundleId: 'unit-consent',
    timestamp: '2026-11-20T10:14:00Z',
    birthDate: '2026-11-19',
    babyNhsNumber: BABY_NHS,
    motherNhsNumber: MOTHER_NHS,
    motherAs: 'both',
  });
  const entries = b.entry as { fullUrl?: string; resource: JsonObject }[];
  consents.forEach((resource, i) => entries.push({ fullUrl: `urn:uuid:00000000-0000-4000-8000-c0000000000${i}`, resource }));
  return b;
}
const refs = (b: JsonObject) => {
  const entries = b.entry as { fullUrl?: string; resource: JsonObject }[];
  const header = entries[0]?.resource as { focus: { reference: string }[] };
  const mother = entries.find((e) => e.resource.resourceType === 'Patient' && e.fullUrl !== header.focus[0]?.reference)?.fullUrl ?? '';
  return { baby: header.focus[0]?.reference ?? '', mother };
};
const consent = (patient: string, o: Partial<Record<'status' | 'type' | 'scope' | 'start' | 'end', string>> = {}): JsonObject => ({
  resourceType: 'Consent',
  status: o.status ?? 'active',
  category: [{ coding: [{ system: CONSENT_SCOPE_SYSTEM, code: o.scope ?? 'offer-of-support' }] }],
  patient: { reference: patient },
  provision: {
    ...(o.type !== '' ? { type: o.type ?? 'deny' } : {}),
    period: { ...(o.start !== undefined ? { start: o.start } : {}), ...(o.end !== undefined ? { end: o.end } : {}) },
  },
});
function map(b: JsonObject): FhirMapOutcome {
  const read = readMessageBundle(b);
  if (!read.ok) throw new Error(JSON.stringify(read.issues));
  return mapFhirBirth(read.message, mapping, { feedId: 'northgate-fhir', receivedAt: new Date('2026-11-20T10:15:00Z') });
}
/** A bundle whose consents refer to its own baby and mother. */
function bundle(make: (r: { baby: string; mother: string }) => JsonObject[]): JsonObject {
  const probe = withConsents();
  return withConsents(...make(refs(probe)));
}

describe('FHIR Consent resources in a birth message', () => {
  it('maps an active Consent about the baby: deny is an objection, its period kept, both NHS numbers named', () => {
    const out = map(bundle(({ baby }) => [consent(baby, { start: '2026-11-01', end: '2027-11-01T00:00:00Z' })]));
    if (out.kind !== 'birth') throw new Error(JSON.stringify(out));
    expect(out.notification.consents).toEqual([
      {
        kind: 'objection',
        scope: 'offer-of-support',
        recipient: 'any',
        from: '2026-11-01',
        to: '2027-11-01',
        source: 'fhir',
        motherNhsNumber: MOTHER_NHS,
        babyNhsNumber: BABY_NHS,
      },
    ]);
  });

  it('maps a permit about the mother to a consent naming only her, and skips Consents that are not active', () => {
    const out = map(
      bundle(({ baby, mother }) => [
        consent(mother, { type: 'permit', scope: 'clinical-details' }),
        consent(baby, { status: 'inactive' }),
        consent(baby, { status: 'proposed' }),
      ]),
    );
    if (out.kind !== 'birth') throw new Error(JSON.stringify(out));
    expect(out.notification.consents).toEqual([
      { kind: 'consent', scope: 'clinical-details', recipient: 'any', source: 'fhir', motherNhsNumber: MOTHER_NHS },
    ]);
    const none = map(withConsents());
    expect(none.kind === 'birth' && none.notification.consents).toBe(undefined);
  });

  it('refuses a Consent it cannot read, naming the element', () => {
    const issues = (c: (r: { baby: string; mother: string }) => JsonObject) => {
      const out = map(bundle((r) => [c(r)]));
      if (out.kind !== 'invalid') throw new Error(`expected invalid, got ${out.kind}`);
      return out.issues.map((i) => i.expression);
    };
    expect(issues(({ baby }) => consent(baby, { scope: 'something-else' }))).toEqual(['Bundle.entry[4].resource.category']);
    // A Consent about something else (no category in Stork's system) is ignored, with a warning.
    const other = map(
      bundle(({ baby }) => [{ ...consent(baby), category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }] }]),
    );
    if (other.kind !== 'birth') throw new Error(JSON.stringify(other));
    expect(other.notification.consents).toBeUndefined();
    expect(other.issues.map((i) => [i.severity, i.expression])).toContainEqual(['warning', 'Bundle.entry[4].resource.category']);
    expect(issues(({ baby }) => consent(baby, { type: '' }))).toEqual(['Bundle.entry[4].resource.provision.type']);
    expect(issues(({ baby }) => consent(baby, { start: 'soon' }))).toEqual(['Bundle.entry[4].resource.provision.period.start']);
    expect(issues(({ baby }) => consent(baby, { start: '2027-01-01', end: '2026-01-01' }))).toEqual([
      'Bundle.entry[4].resource.provision.period',
    ]);
    expect(issues(() => consent('Patient/elsewhere'))).toEqual(['Bundle.entry[4].resource.patient']);
  });
});
