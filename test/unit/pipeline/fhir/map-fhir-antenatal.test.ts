import path from 'node:path';
import { repoRoot } from '../../../../src/config/env.js';
import { loadFhirMappings } from '../../../../src/config/fhir-mappings.js';
import { assessFhirMessage } from '../../../../src/pipeline/fhir/assess-fhir.js';
import { FhirMappingSet } from '../../../../src/pipeline/fhir/fhir-mapping.js';
import type { JsonObject } from '../../../../src/pipeline/fhir/fhir-xml.js';
import { mapFhirAntenatal, NO_LOSS_REASON, type FhirAntenatalOutcome } from '../../../../src/pipeline/fhir/map-fhir-antenatal.js';
import { readMessageBundle } from '../../../../src/pipeline/fhir/message-bundle.js';
import { FeedDirectory } from '../../../../src/pipeline/hl7v2/feed-directory.js';
import { asJson, asXml } from '../../../support/synthetic/fhir-birth.js';
import { fhirBookingBundle, fhirLossBundle, type FhirMotherFixture } from '../../../support/synthetic/fhir-booking.js';

const mapping = loadFhirMappings(path.join(repoRoot, 'mappings', 'fhir')).get('uk-core-birth');
const mother: FhirMotherFixture = { nhs: '9990001561', family: 'KOWALSKA', given: 'AGATA', birthDate: '1993-04-02', postcode: 'ls9 7ab' };
const entries = (b: JsonObject) => b.entry as { resource: JsonObject; fullUrl?: string }[];
const resourceOf = (b: JsonObject, type: string): JsonObject => {
  const r = entries(b).find((e) => e.resource.resourceType === type)?.resource;
  if (!r) throw new Error(`no ${type}`);
  return r;
};

function map(b: JsonObject): FhirAntenatalOutcome {
  const read = readMessageBundle(b);
  if (!read.ok) throw new Error(JSON.stringify(read.issues));
  return mapFhirAntenatal(read.message, mapping, { feedId: 'northgate-fhir' });
}

describe('mapFhirAntenatal: a FHIR R4 maternity booking', () => {
  it('becomes the canonical booking: mother from the EpisodeOfCare patient, due date from LOINC 11778-8, pregnancy id, GP, language', () => {
    const out = map(fhirBookingBundle(mother, { bundleId: 'b1', dueDate: '2027-05-02', pregnancyId: 'EP-1' }));
    expect(out).toEqual({
      kind: 'antenatal',
      issues: [],
      event: {
        kind: 'antenatal-booking',
        booking: {
          mother: {
            nhsNumber: '9990001561',
            localIdentifiers: [{ value: 'M999000' }],
            name: { family: 'KOWALSKA', given: ['AGATA'], prefix: 'Mrs' },
            birthDate: '1993-04-02',
            address: { lines: ['2 Booking Road'], city: 'Leeds', county: 'West Yorkshire', country: 'GBR', postcode: 'LS9 7AB' },
            phone: '07700 900777',
            preferredLanguage: 'pl',
          },
          estimatedDueDate: '2027-05-02',
          pregnancyId: 'EP-1',
          gpPractice: { odsCode: 'B86001', name: 'Leeds Road Surgery' },
          confidentiality: 'normal',
          source: { feedId: 'northgate-fhir', format: 'fhir-r4', messageControlId: 'b1', event: 'FHIR^antenatal-booking' },
        },
      },
    });
  });

  it('takes a dateTime due date by its date, the Condition alone, the due-date extension, her Consent and a restriction', () => {
    const withTime = map(fhirBookingBundle(mother, { bundleId: 'b2', dueDate: '2027-05-02T00:00:00+01:00' }));
    expect(withTime.kind === 'antenatal' && withTime.event.kind === 'antenatal-booking' && withTime.event.booking.estimatedDueDate).toBe(
      '2027-05-02',
    );
    const conditionOnly = map(
      fhirBookingBundle(mother, {
        bundleId: 'b3',
        dueDateExtension: '2027-06-01',
        noEpisode: true,
        pregnancyId: 'C-7',
        consent: true,
        confidentiality: 'R',
      }),
    );
    expect(conditionOnly).toMatchObject({
      kind: 'antenatal',
      event: {
        kind: 'antenatal-booking',
        booking: { estimatedDueDate: '2027-06-01', pregnancyId: 'C-7', confidentiality: 'restricted' },
        consents: [{ kind: 'consent', scope: 'antenatal', source: 'fhir', motherNhsNumber: '9990001561', recipient: 'any' }],
      },
    });
  });

  it('refuses a booking without a due date, or her NHS number, naming the element', () => {
    expect(map(fhirBookingBundle(mother, { bundleId: 'b4' }))).toEqual({
      kind: 'invalid',
      issues: [
        expect.objectContaining({
          severity: 'error',
          code: 'required',
          expression: 'Bundle.entry.resource.ofType(Observation).valueDateTime',
          path: 'estimatedDueDate',
        }),
      ],
    });
    expect(map(fhirBookingBundle(mother, { bundleId: 'b5b', dueDate: '2027-02-30' }))).toMatchObject({
      kind: 'invalid',
      issues: [{ code: 'value', path: 'estimatedDueDate' }],
    });
    expect(map(fhirBookingBundle(mother, { bundleId: 'b5c', dueDateExtension: '2027-06', noEpisode: true }))).toMatchObject({
      kind: 'invalid',
      issues: [{ code: 'value', expression: 'Bundle.entry[2].resource.extension[0].valueDate', path: 'estimatedDueDate' }],
    });
    expect(map(fhirBookingBundle(mother, { bundleId: 'b5', dueDate: '2027-05' }))).toMatchObject({
      kind: 'invalid',
      issues: [{ code: 'value', expression: 'Bundle.entry[4].resource.valueDateTime', path: 'estimatedDueDate' }],
    });
    expect(map(fhirBookingBundle(mother, { bundleId: 'b6', dueDate: '2027-05-02', noNhsNumber: true }))).toMatchObject({
      kind: 'invalid',
      issues: [{ code: 'required', expression: 'Bundle.entry[1].resource.identifier', path: 'mother.nhsNumber' }],
    });
    const badCheck = fhirBookingBundle({ ...mother, nhs: '9990001562' }, { bundleId: 'b7', dueDate: '2027-05-02' });
    expect(map(badCheck)).toMatchObject({
      kind: 'invalid',
      issues: [{ code: 'value', expression: 'Bundle.entry[1].resource.identifier[0].value', path: 'mother.nhsNumber' }],
    });
  });

  it('needs the mother as a Patient the pregnancy names when the Bundle holds more than one', () => {
    const b = fhirBookingBundle(mother, { bundleId: 'b8', dueDate: '2027-05-02' });
    resourceOf(b, 'EpisodeOfCare').patient = { reference: 'Patient/nowhere' };
    resourceOf(b, 'Condition').subject = { reference: 'Patient/nowhere' };
    (resourceOf(b, 'MessageHeader').focus as JsonObject[]) = [];
    entries(b).push({ fullUrl: 'urn:uuid:a17e0000-0000-4000-8000-000000000099', resource: { resourceType: 'Patient' } });
    expect(map(b)).toMatchObject({ kind: 'invalid', issues: [{ code: 'required', expression: 'Bundle.entry[2].resource.patient' }] });
  });

  it('a Consent it cannot read refuses the booking (an objection is never dropped)', () => {
    const b = fhirBookingBundle(mother, { bundleId: 'b9', dueDate: '2027-05-02', consent: true });
    const consent = resourceOf(b, 'Consent');
    consent.provision = { type: 'maybe' };
    expect(map(b)).toMatchObject({
      kind: 'invalid',
      issues: [{ code: 'required', expression: 'Bundle.entry[5].resource.provision.type' }],
    });
  });

  it('an earlier miscarriage in her history on a booking is not a loss', () => {
    const b = fhirBookingBundle(mother, { bundleId: 'b10', dueDate: '2027-05-02' });
    entries(b).push({
      fullUrl: 'urn:uuid:a17e0000-0000-4000-8000-000000000077',
      resource: {
        resourceType: 'Condition',
        code: { coding: [{ system: 'http://snomed.info/sct', code: '17369002' }] },
        subject: { reference: 'urn:uuid:a17e0000-0000-4000-8000-000000000001' },
      },
    });
    expect(map(b)).toMatchObject({ kind: 'antenatal', event: { kind: 'antenatal-booking' } });
  });
});

describe('mapFhirAntenatal: a FHIR R4 pregnancy loss', () => {
  const loss = (pregnancyId?: string) => ({
    kind: 'antenatal',
    issues: [],
    event: {
      kind: 'pregnancy-loss',
      motherNhsNumber: '9990001561',
      ...(pregnancyId !== undefined ? { pregnancyId } : {}),
      source: expect.objectContaining({ format: 'fhir-r4' }) as unknown,
    },
  });
  it('a loss-coded Condition, an outcome Observation or an ended episode with a loss diagnosis is a loss of the pregnancy', () => {
    expect(map(fhirLossBundle(mother, { bundleId: 'l1', pregnancyId: 'EP-1' }))).toEqual(loss('EP-1'));
    expect(map(fhirLossBundle(mother, { bundleId: 'l2', as: 'observation', code: '237364002' }))).toEqual(loss());
    expect(map(fhirLossBundle(mother, { bundleId: 'l3', as: 'ended-episode', pregnancyId: 'EP-3', code: '57797005' }))).toEqual(
      loss('EP-3'),
    );
  });

  it('an outcome that is not a loss code is not relevant; an entered-in-error loss Condition is no loss', () => {
    expect(map(fhirLossBundle(mother, { bundleId: 'l4', as: 'observation', code: '281050002' }))).toEqual({
      kind: 'not-relevant',
      reason: NO_LOSS_REASON,
      issues: [],
    });
    const b = fhirLossBundle(mother, { bundleId: 'l5' });
    const c = entries(b)[3]?.resource;
    if (!c) throw new Error('no Condition');
    c.verificationStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] };
    expect(map(b)).toMatchObject({ kind: 'not-relevant' });
  });

  it('a loss without her NHS number is refused naming it', () => {
    const b = fhirLossBundle(mother, { bundleId: 'l6' });
    const p = entries(b)[1]?.resource;
    if (!p) throw new Error('no Patient');
    p.identifier = [];
    expect(map(b)).toMatchObject({ kind: 'invalid', issues: [{ code: 'required', expression: 'Bundle.entry[1].resource.identifier' }] });
  });
});

describe('assessFhirMessage: antenatal messages on the Northgate FHIR feed', () => {
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
  const ctx = {
    feeds,
    mappings: new FhirMappingSet(new Map([['uk-core-birth', mapping]])),
    receivedAt: new Date(),
    apiClientId: 'c',
    maxBytes: 1 << 20,
  };
  it('queues a booking (JSON or XML) with its antenatal event; answers a bad one with an OperationOutcome (422)', () => {
    const b = fhirBookingBundle(mother, { bundleId: 'a1', dueDate: '2027-05-02', pregnancyId: 'EP-1' });
    for (const [bytes, enc] of [
      [asJson(b), 'json'],
      [asXml(b), 'xml'],
    ] as const) {
      const a = assessFhirMessage(Buffer.from(bytes), enc, ctx);
      expect(a).toMatchObject({
        status: 'queued',
        httpStatus: 200,
        antenatalEvent: { kind: 'antenatal-booking', booking: { estimatedDueDate: '2027-05-02' } },
      });
      expect(a.notification).toBeUndefined();
    }
    const bad = assessFhirMessage(Buffer.from(asJson(fhirBookingBundle(mother, { bundleId: 'a2', pregnancyId: 'EP-1' }))), 'json', ctx);
    expect(bad).toMatchObject({ status: 'quarantined', httpStatus: 422, issues: [{ code: 'required', path: 'estimatedDueDate' }] });
    const loss = assessFhirMessage(Buffer.from(asJson(fhirLossBundle(mother, { bundleId: 'a3', pregnancyId: 'EP-1' }))), 'json', ctx);
    expect(loss).toMatchObject({ status: 'queued', antenatalEvent: { kind: 'pregnancy-loss', pregnancyId: 'EP-1' } });
  });
});
