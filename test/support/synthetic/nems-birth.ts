/**
 * Synthetic NHS national birth notifications (NEMS, FHIR STU3 PDS birth notification event message), built
 * like the published examples (nhsconnect/Events-Management BirthNotificationWithMother.xml): a MessageHeader
 * (event pds-birth-notification-1) focused on a Communication about the mother, the mother's Patient linked
 * to a RelatedPerson whose patient is the baby, Observations for birth weight, gestation, number of births
 * (about the mother) and the stillbirth indicator, and the delivery-place EpisodeOfCare and Organization.
 * Every person is made up; NHS numbers are from the 999 test range.
 */
import type { JsonObject } from '../../../src/pipeline/fhir/fhir-xml.js';
import { toFhirXml } from '../../../src/pipeline/fhir/fhir-response.js';

export interface NemsBirthOptions {
  bundleId: string;
  headerId?: string;
  /** MessageHeader.timestamp. */
  timestamp: string;
  birthDate: string;
  birthTime?: string;
  babyNhsNumber?: string;
  babyGiven?: string;
  /** The baby's Patient.gender (default male). */
  sex?: 'male' | 'female';
  /** Absent: the mother's Patient has no NHS number. */
  motherNhsNumber?: string;
  /** The mother's name and date of birth (default OKONKWO-HART, ADAEZE, 1994-03-17). */
  motherFamily?: string;
  motherGiven?: string;
  motherBirthDate?: string;
  /** The RelatedPerson's coding: PersonRelationshipType-1 code 12 (default) or v3 RoleCode NMTH. */
  relationship?: '12' | 'NMTH';
  birthOrder?: number;
  numberOfBirths?: number;
  /** The stillbirth indicator: 1 live (default), 2–4 stillborn. */
  stillbornIndicator?: string;
  /** meta.security R or V on the baby's Patient (the PDS sensitive flag). */
  security?: 'R' | 'V';
  weightGrams?: number;
  gestationWeeks?: number;
  postcode?: string;
  event?: string;
}

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const SNOMED = 'http://snomed.info/sct';
const VERIFIED = {
  url: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1',
  valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/STU3/CareConnect-NHSNumberVerificationStatus-1', code: '01' }] },
};

const uuid = (n: number, id: string): string => {
  const hex = Array.from(Buffer.from(id, 'utf8'))
    .reduce((h, c) => (h * 31 + c) >>> 0, n * 2654435761)
    .toString(16)
    .padStart(8, '0');
  return `${hex.slice(0, 8)}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
};

export function nemsBirthBundle(o: NemsBirthOptions): JsonObject {
  const id = (n: number) => uuid(n, o.bundleId);
  const url = (n: number) => `urn:uuid:${id(n)}`;
  const [HEADER, COMM, MOTHER, REL, BABY, WEIGHT, GEST, BIRTHS, STILL, EPISODE, PLACE] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const entry = (n: number, resource: JsonObject): JsonObject => ({ fullUrl: url(n), resource: { ...resource, id: id(n) } });
  const babyRef = { reference: url(BABY) };
  const observation = (n: number, code: string, value: JsonObject, subject = babyRef): JsonObject =>
    entry(n, { resourceType: 'Observation', status: 'final', code: { coding: [{ system: SNOMED, code }] }, subject, ...value });
  const baby: JsonObject = {
    resourceType: 'Patient',
    ...(o.security ? { meta: { security: [{ system: 'http://hl7.org/fhir/v3/Confidentiality', code: o.security }] } } : {}),
    ...(o.babyNhsNumber !== undefined ? { identifier: [{ extension: [VERIFIED], system: NHS, value: o.babyNhsNumber }] } : {}),
    name: [{ use: 'official', family: 'OKONKWO-HART', given: [o.babyGiven ?? 'CHIDI'] }],
    gender: o.sex ?? 'male',
    birthDate: o.birthDate,
    ...(o.birthTime !== undefined
      ? { _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: o.birthTime }] } }
      : {}),
    address: [{ use: 'home', line: ['12 Wykebeck Mount', 'Osmondthorpe'], city: 'Northgate', postalCode: o.postcode ?? 'LS9 7AB' }],
    multipleBirthInteger: o.birthOrder ?? 1,
  };
  return {
    resourceType: 'Bundle',
    id: o.bundleId,
    type: 'message',
    entry: [
      entry(HEADER, {
        resourceType: 'MessageHeader',
        ...(o.headerId !== undefined ? { id: o.headerId } : {}),
        event: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/EventType-1', code: o.event ?? 'pds-birth-notification-1' },
        timestamp: o.timestamp,
        source: { endpoint: 'urn:nhs:addressing:asid:999000000001' },
        focus: { reference: url(COMM) },
      }),
      entry(COMM, { resourceType: 'Communication', status: 'completed', subject: { reference: url(MOTHER) } }),
      entry(MOTHER, {
        resourceType: 'Patient',
        ...(o.motherNhsNumber !== undefined ? { identifier: [{ extension: [VERIFIED], system: NHS, value: o.motherNhsNumber }] } : {}),
        name: [{ use: 'official', family: o.motherFamily ?? 'OKONKWO-HART', given: [o.motherGiven ?? 'ADAEZE'] }],
        birthDate: o.motherBirthDate ?? '1994-03-17',
        generalPractitioner: [
          { reference: 'https://directory.spineservices.nhs.uk/STU3/Organization/Y99901', display: 'WYKEBECK MEDICAL PRACTICE' },
        ],
        link: [{ other: { reference: url(REL) }, type: 'seealso' }],
      }),
      entry(REL, {
        resourceType: 'RelatedPerson',
        patient: babyRef,
        relationship: {
          coding: [
            o.relationship === 'NMTH'
              ? { system: 'http://hl7.org/fhir/v3/RoleCode', code: 'NMTH' }
              : { system: 'https://fhir.nhs.uk/STU3/CodeSystem/PersonRelationshipType-1', code: '12' },
          ],
        },
      }),
      entry(BABY, baby),
      observation(WEIGHT, '364589006', {
        valueQuantity: { value: o.weightGrams ?? 3310, unit: 'gram', system: 'http://unitsofmeasure.org', code: 'g' },
      }),
      observation(GEST, '412726003', {
        valueQuantity: { value: o.gestationWeeks ?? 39, unit: 'week', system: 'http://unitsofmeasure.org', code: 'wk' },
      }),
      observation(BIRTHS, '382341000000101', { valueQuantity: { value: o.numberOfBirths ?? 1 } }, { reference: url(MOTHER) }),
      observation(STILL, '237364002', {
        valueCodeableConcept: {
          coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-StillBornIndicator-1', code: o.stillbornIndicator ?? '1' }],
        },
      }),
      entry(EPISODE, {
        resourceType: 'EpisodeOfCare',
        status: 'active',
        type: [{ coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/BirthEpisodeCategory-1', code: 'delivery-place' }] }],
        patient: babyRef,
        managingOrganization: { reference: url(PLACE) },
      }),
      entry(PLACE, {
        resourceType: 'Organization',
        identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX1' }],
        name: 'NORTHGATE GENERAL MATERNITY UNIT',
      }),
    ],
  };
}

export const nemsAsXml = (b: JsonObject): string => toFhirXml(b);
