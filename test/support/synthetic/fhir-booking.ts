/**
 * Synthetic FHIR R4 maternity bookings and pregnancy outcomes (issue 17 item 1) as the sample `uk-core-birth` mapping's
 * `antenatal` section reads them: a message Bundle (event `antenatal-booking` or `pregnancy-outcome`) with the mother's
 * Patient (UK Core NHS number with verification status, name, address, language, GP), an EpisodeOfCare typed SNOMED
 * 424525001 Antenatal care for the pregnancy, a Condition SNOMED 77386006 Pregnancy, the estimated due date as an
 * Observation LOINC 11778-8 (valueDateTime) and optionally her Consent to antenatal contact. Deterministic: everything
 * comes from the options. Fictional people and places.
 */
import type { JsonObject } from '../../../src/pipeline/fhir/fhir-xml.js';
import { CONSENT_SCOPE_SYSTEM } from '../../../src/pipeline/fhir/map-consent.js';
import { NORTHGATE_FHIR_ENDPOINT } from './fhir-birth.js';

const EVENTS = 'https://fhir.nhs.uk/CodeSystem/message-event';
const SNOMED = 'http://snomed.info/sct';
export const NORTHGATE_EPISODE_SYSTEM = 'https://fhir.northgate.example/Id/pregnancy-episode';

export interface FhirMotherFixture {
  nhs: string;
  family: string;
  given: string;
  /** YYYY-MM-DD */
  birthDate: string;
  postcode: string;
  /** communication language code (default `pl`). */
  language?: string;
}

export interface FhirBookingOptions {
  bundleId: string;
  sourceEndpoint?: string;
  /** Observation LOINC 11778-8 valueDateTime; omitted: no due date Observation. */
  dueDate?: string;
  /** The Northgate estimated-due-date extension on the Condition, instead of (or as well as) the Observation. */
  dueDateExtension?: string;
  /** EpisodeOfCare.identifier (the pregnancy id). */
  pregnancyId?: string;
  /** An active Consent (Stork consent-scope `antenatal`, permit) about her. */
  consent?: boolean;
  /** Leave out her NHS number identifier. */
  noNhsNumber?: boolean;
  /** Bundle meta.security (v3 Confidentiality). */
  confidentiality?: 'R' | 'V';
  /** Leave out the EpisodeOfCare (the Condition alone names the pregnancy). */
  noEpisode?: boolean;
}

const nhsIdentifier = (value: string): JsonObject => ({
  extension: [
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
      valueCodeableConcept: {
        coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland', code: '01' }],
      },
    },
  ],
  system: 'https://fhir.nhs.uk/Id/nhs-number',
  value,
});

const uuid = (n: number): string => `urn:uuid:a17e0000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const PATIENT = uuid(1);
const EPISODE = uuid(2);
const PREGNANCY = uuid(3);

function header(id: string, code: string, endpoint: string, focus: string): { fullUrl: string; resource: JsonObject } {
  return {
    fullUrl: uuid(9),
    resource: {
      resourceType: 'MessageHeader',
      id: `${id}-h`,
      eventCoding: { system: EVENTS, code },
      source: { endpoint },
      focus: [{ reference: focus }],
    },
  };
}

function patient(m: FhirMotherFixture, noNhs: boolean): { fullUrl: string; resource: JsonObject } {
  return {
    fullUrl: PATIENT,
    resource: {
      resourceType: 'Patient',
      identifier: [
        ...(noNhs ? [] : [nhsIdentifier(m.nhs)]),
        { system: 'https://fhir.northgate.example/Id/mrn', value: `M${m.nhs.slice(0, 6)}` },
      ],
      name: [{ use: 'official', family: m.family, given: [m.given], prefix: ['Mrs'] }],
      gender: 'female',
      birthDate: m.birthDate,
      telecom: [{ system: 'phone', value: '07700 900777', use: 'mobile' }],
      address: [
        { use: 'home', line: ['2 Booking Road'], city: 'Leeds', district: 'West Yorkshire', postalCode: m.postcode, country: 'GBR' },
      ],
      communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: m.language ?? 'pl' }] }, preferred: true }],
      generalPractitioner: [
        { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'B86001' }, display: 'Leeds Road Surgery' },
      ],
    },
  };
}

const episode = (status: string, pregnancyId: string | undefined, diagnosis?: string): { fullUrl: string; resource: JsonObject } => ({
  fullUrl: EPISODE,
  resource: {
    resourceType: 'EpisodeOfCare',
    ...(pregnancyId !== undefined ? { identifier: [{ system: NORTHGATE_EPISODE_SYSTEM, value: pregnancyId }] } : {}),
    status,
    type: [{ coding: [{ system: SNOMED, code: '424525001', display: 'Antenatal care' }] }],
    patient: { reference: PATIENT },
    managingOrganization: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX1' } },
    ...(diagnosis !== undefined ? { diagnosis: [{ condition: { reference: diagnosis } }] } : {}),
  },
});

/** A maternity booking message. */
export function fhirBookingBundle(m: FhirMotherFixture, o: FhirBookingOptions): JsonObject {
  const endpoint = o.sourceEndpoint ?? NORTHGATE_FHIR_ENDPOINT;
  return {
    resourceType: 'Bundle',
    id: o.bundleId,
    ...(o.confidentiality !== undefined
      ? { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: o.confidentiality }] } }
      : {}),
    type: 'message',
    timestamp: '2026-11-29T10:15:00Z',
    entry: [
      header(o.bundleId, 'antenatal-booking', endpoint, o.noEpisode === true ? PREGNANCY : EPISODE),
      patient(m, o.noNhsNumber === true),
      ...(o.noEpisode === true ? [] : [episode('active', o.pregnancyId)]),
      {
        fullUrl: PREGNANCY,
        resource: {
          resourceType: 'Condition',
          ...(o.noEpisode === true && o.pregnancyId !== undefined
            ? { identifier: [{ system: NORTHGATE_EPISODE_SYSTEM, value: o.pregnancyId }] }
            : {}),
          ...(o.dueDateExtension !== undefined
            ? {
                extension: [
                  { url: 'https://fhir.northgate.example/StructureDefinition/estimated-due-date', valueDate: o.dueDateExtension },
                ],
              }
            : {}),
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
          verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
          code: { coding: [{ system: SNOMED, code: '77386006', display: 'Pregnancy' }] },
          subject: { reference: PATIENT },
        },
      },
      ...(o.dueDate !== undefined
        ? [
            {
              fullUrl: uuid(4),
              resource: {
                resourceType: 'Observation',
                status: 'final',
                code: { coding: [{ system: 'http://loinc.org', code: '11778-8', display: 'Delivery date Estimated' }] },
                subject: { reference: PATIENT },
                valueDateTime: o.dueDate,
              },
            },
          ]
        : []),
      ...(o.consent === true
        ? [
            {
              fullUrl: uuid(5),
              resource: {
                resourceType: 'Consent',
                status: 'active',
                scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
                category: [{ coding: [{ system: CONSENT_SCOPE_SYSTEM, code: 'antenatal' }] }],
                patient: { reference: PATIENT },
                provision: { type: 'permit' },
              },
            },
          ]
        : []),
    ],
  };
}

export interface FhirLossOptions {
  bundleId: string;
  sourceEndpoint?: string;
  pregnancyId?: string;
  /**
   * How the loss is told: a Condition with the SNOMED CT code (default, on a `pregnancy-outcome` message), an outcome
   * Observation LOINC 63893-2 whose value is the code, or the antenatal EpisodeOfCare `finished` with the Condition as
   * its diagnosis (on an `antenatal-booking` message, as a booking system updating the episode sends it).
   */
  as?: 'condition' | 'observation' | 'ended-episode';
  /** SNOMED CT outcome code (default 17369002 miscarriage). */
  code?: string;
}

/** A pregnancy outcome message (a loss unless `code` is not a loss code). */
export function fhirLossBundle(m: FhirMotherFixture, o: FhirLossOptions): JsonObject {
  const endpoint = o.sourceEndpoint ?? NORTHGATE_FHIR_ENDPOINT;
  const as = o.as ?? 'condition';
  const code = { coding: [{ system: SNOMED, code: o.code ?? '17369002' }] };
  const outcome: JsonObject =
    as === 'observation'
      ? {
          fullUrl: uuid(6),
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { coding: [{ system: 'http://loinc.org', code: '63893-2', display: 'Outcome of pregnancy' }] },
            subject: { reference: PATIENT },
            valueCodeableConcept: code,
          },
        }
      : {
          fullUrl: uuid(6),
          resource: {
            resourceType: 'Condition',
            verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
            code,
            subject: { reference: PATIENT },
          },
        };
  return {
    resourceType: 'Bundle',
    id: o.bundleId,
    type: 'message',
    timestamp: '2026-11-29T10:15:00Z',
    entry: [
      header(o.bundleId, as === 'ended-episode' ? 'antenatal-booking' : 'pregnancy-outcome', endpoint, EPISODE),
      patient(m, false),
      episode(as === 'ended-episode' ? 'finished' : 'active', o.pregnancyId, as === 'ended-episode' ? uuid(6) : undefined),
      outcome,
    ],
  };
}
