/**
 * Synthetic FHIR R4 birth messages (UK Core style) for the tests: a message Bundle with a MessageHeader
 * focusing on the baby's Patient, the mother as a RelatedPerson (MTH) and/or a Patient, and birth weight and
 * gestation Observations. Deterministic: everything comes from the options. Fictional people and places.
 */
import type { JsonObject, JsonValue } from '../../../src/pipeline/fhir/fhir-xml.js';
import { toFhirXml } from '../../../src/pipeline/fhir/fhir-response.js';

export const NORTHGATE_FHIR_ENDPOINT = 'https://maternity.northgate.example/fhir';
export const NORTHGATE_FHIR_KEY = 'demo-northgate-fhir-key';

export interface FhirBirthOptions {
  bundleId: string;
  headerId?: string;
  sourceEndpoint?: string;
  /** Bundle.timestamp (ISO instant). */
  timestamp: string;
  birthDate: string;
  /** patient-birthTime extension (dateTime with offset). */
  birthTime?: string;
  babyNhsNumber?: string;
  babyGiven?: string;
  family?: string;
  sex?: string;
  motherNhsNumber?: string;
  motherAs?: 'related-person' | 'patient' | 'both' | 'none';
  /** meta.security confidentiality on the Bundle. */
  confidentiality?: 'R' | 'V' | 'N';
  deceased?: true | string;
  birthOrder?: number;
  numberOfBirths?: number;
  weightGrams?: number;
  /** Gestation in days (UCUM d), as the UK Core example sends it. */
  gestationDays?: number;
  postcode?: string;
  event?: { system: string; code: string };
}

const BABY = 'urn:uuid:5b0e5f0a-0000-4000-8000-00000000b0b1';
const MOTHER_RP = 'urn:uuid:5b0e5f0a-0000-4000-8000-0000000000a1';
const MOTHER_PT = 'urn:uuid:5b0e5f0a-0000-4000-8000-0000000000a2';

export function fhirBirthBundle(o: FhirBirthOptions): JsonObject {
  const family = o.family ?? 'OKONKWO-BRIGGS';
  const address: JsonObject = {
    use: 'home',
    line: ['12 Wykebeck Mount'],
    city: 'Leeds',
    district: 'West Yorkshire',
    postalCode: o.postcode ?? 'LS9 7AB',
    country: 'GBR',
  };
  const nhsId = (value: string, status = '01'): JsonObject => ({
    extension: [
      {
        url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
        valueCodeableConcept: {
          coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland', code: status }],
        },
      },
    ],
    system: 'https://fhir.nhs.uk/Id/nhs-number',
    value: value,
  });
  const baby: JsonObject = {
    resourceType: 'Patient',
    id: 'baby',
    meta: { profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'] },
    extension: [
      {
        url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace',
        valueAddress: { text: 'Northgate General Infirmary' },
      },
    ],
    identifier: [
      ...(o.babyNhsNumber !== undefined ? [nhsId(o.babyNhsNumber)] : []),
      {
        system: 'https://fhir.northgate.example/Id/mrn',
        value: `MRN${o.bundleId.slice(0, 6).toUpperCase()}`,
        assigner: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX1' } },
      },
    ],
    name: [{ use: 'official', family, given: [o.babyGiven ?? 'AMARA'] }],
    gender: o.sex ?? 'female',
    birthDate: o.birthDate,
    ...(o.birthTime !== undefined
      ? { _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: o.birthTime }] } }
      : {}),
    ...(o.deceased === true ? { deceasedBoolean: true } : typeof o.deceased === 'string' ? { deceasedDateTime: o.deceased } : {}),
    address: [address],
    ...(o.birthOrder !== undefined ? { multipleBirthInteger: o.birthOrder } : {}),
    generalPractitioner: [
      { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'B86001' }, display: 'Wykebeck Medical Practice' },
    ],
  };
  const motherAs = o.motherAs ?? 'related-person';
  const entries: JsonValue[] = [];
  const header: JsonObject = {
    resourceType: 'MessageHeader',
    id: o.headerId ?? `${o.bundleId}-h`,
    eventCoding: o.event ?? { system: 'https://fhir.nhs.uk/CodeSystem/message-event', code: 'birth-notification' },
    sender: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX1' } },
    source: { endpoint: o.sourceEndpoint ?? NORTHGATE_FHIR_ENDPOINT },
    focus: [{ reference: BABY }],
  };
  entries.push({ fullUrl: `urn:uuid:${o.bundleId}-header`, resource: header });
  entries.push({ fullUrl: BABY, resource: baby });
  if (motherAs === 'patient' || motherAs === 'both') {
    entries.push({
      fullUrl: MOTHER_PT,
      resource: {
        resourceType: 'Patient',
        id: 'mother',
        identifier: o.motherNhsNumber !== undefined ? [nhsId(o.motherNhsNumber)] : [],
        name: [{ use: 'official', family, given: ['GRACE'], prefix: ['MRS'] }],
        gender: 'female',
        birthDate: '1993-04-17',
        address: [address],
      },
    });
  }
  if (motherAs === 'related-person' || motherAs === 'both') {
    entries.push({
      fullUrl: MOTHER_RP,
      resource: {
        resourceType: 'RelatedPerson',
        id: 'mother-rp',
        ...(o.motherNhsNumber !== undefined && motherAs === 'related-person' ? { identifier: [nhsId(o.motherNhsNumber)] } : {}),
        patient: { reference: BABY },
        relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH', display: 'mother' }] }],
        name: [{ use: 'official', family, given: ['GRACE'] }],
        telecom: [{ system: 'phone', value: '07700900123', use: 'mobile' }],
        birthDate: '1993-04-17',
        address: [address],
        communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en' }] }, preferred: true }],
      },
    });
  }
  const observation = (id: string, code: JsonObject, value: JsonObject): JsonValue => ({
    fullUrl: `urn:uuid:5b0e5f0a-0000-4000-8000-0000000000${id}`,
    resource: {
      resourceType: 'Observation',
      id: `obs-${id}`,
      status: 'final',
      code: { coding: [code] },
      subject: { reference: BABY },
      valueQuantity: value,
    },
  });
  if (o.weightGrams !== undefined)
    entries.push(
      observation(
        'c1',
        { system: 'http://snomed.info/sct', code: '364589006', display: 'Birth weight' },
        { value: o.weightGrams, unit: 'gram', system: 'http://unitsofmeasure.org', code: 'g' },
      ),
    );
  if (o.gestationDays !== undefined)
    entries.push(
      observation(
        'c2',
        { system: 'http://snomed.info/sct', code: '412726003', display: 'Length of gestation at birth' },
        { value: o.gestationDays, unit: 'day', system: 'http://unitsofmeasure.org', code: 'd' },
      ),
    );
  if (o.numberOfBirths !== undefined)
    entries.push(
      observation(
        'c3',
        { system: 'http://snomed.info/sct', code: '382341000000101', display: 'Total number of registerable births at delivery' },
        { value: o.numberOfBirths },
      ),
    );
  return {
    resourceType: 'Bundle',
    id: o.bundleId,
    ...(o.confidentiality !== undefined
      ? { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: o.confidentiality }] } }
      : {}),
    type: 'message',
    timestamp: o.timestamp,
    entry: entries,
  };
}

export const asJson = (b: JsonObject): string => JSON.stringify(b, null, 2);
export const asXml = (b: JsonObject): string => toFhirXml(b);
