/**
 * FHIR out: a centre's inbox as FHIR R4, built from the DISCLOSED record only (the dataset the consent rule
 * allowed, made by `minimise`), never from the canonical record, so the FHIR form cannot hold more than the
 * JSON form: every value below is read from `DisclosedRecord` or from the inbox item's own metadata. Pure.
 *
 * Shape (the decisions, also in the README):
 * - A page of the inbox is a Bundle of type `searchset`; one notification is a Bundle of type `collection`
 *   with the same entries, so a client reads both the same way.
 * - Each notification with a record gives a UK Core Patient for the baby (search.mode `match`), then, when
 *   any of the mother's fields were disclosed, a UK Core RelatedPerson (relationship MTH, search.mode
 *   `include`), and, only when birth details were disclosed, Observations for birth weight and gestation.
 * - The inbox item's metadata (notification id, status, delivered/read/acknowledged/withdrawn times) is an
 *   extension on the Patient's Bundle entry (`entry.extension`, INBOX_ITEM_URL), not on the Patient: it
 *   describes the delivery, not the baby.
 * - A withdrawn notification has no record, as in JSON: its entry is an OperationOutcome (search.mode
 *   `outcome`, issue code `deleted`) carrying the same inbox item extension, telling the centre not to act.
 * - The mother's phone and preferred language go on the RelatedPerson (telecom, communication): they are
 *   hers, not the baby's.
 */
import { createHash } from 'node:crypto';
import type { Address, LocalIdentifier, PersonName } from '../../domain/birth-notification.js';
import type { DisclosedRecord } from '../consent/datasets.js';
import type { JsonObject, JsonValue } from './fhir-xml.js';

export const UK_CORE_PATIENT = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient';
export const UK_CORE_RELATED_PERSON = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-RelatedPerson';
export const UK_CORE_OBSERVATION = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation';
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const NHS_NUMBER_STATUS_URL = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus';
const NHS_NUMBER_STATUS_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland';
const BIRTH_TIME_URL = 'http://hl7.org/fhir/StructureDefinition/patient-birthTime';
const BIRTH_PLACE_URL = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const ROLE_CODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const SNOMED = 'http://snomed.info/sct';
/** Stork's extension on a Bundle entry: the inbox item's delivery metadata. */
export const INBOX_ITEM_URL = 'https://stork.nhs.example/fhir/StructureDefinition/inbox-item';
/** Stork's extension on the Patient: where the notification came from (the `source` field, when disclosed). */
export const NOTIFICATION_SOURCE_URL = 'https://stork.nhs.example/fhir/StructureDefinition/notification-source';

/** What the mapping reads of an inbox item (the port's InboxItem fits this shape). */
export interface InboxEntryInput {
  notificationId: string;
  inbox: string;
  status: 'new' | 'acknowledged' | 'withdrawn';
  deliveredAt: string;
  updatedAt?: string;
  firstReadAt?: string;
  acknowledgedAt?: string;
  withdrawnAt?: string;
  /** When retention purged its content (issue 14). */
  purgedAt?: string;
  record?: DisclosedRecord;
}

const CONFIDENTIALITY_CODE = { normal: 'N', restricted: 'R', 'very-restricted': 'V' } as const;

function humanName(n: PersonName): JsonObject {
  return {
    use: 'official',
    ...(n.family !== undefined ? { family: n.family } : {}),
    ...(n.given !== undefined && n.given.length > 0 ? { given: [...n.given] } : {}),
    ...(n.prefix !== undefined ? { prefix: [n.prefix] } : {}),
  };
}

function address(a: Address, use?: 'home'): JsonObject {
  return {
    ...(use ? { use } : {}),
    ...(a.lines.length > 0 ? { line: [...a.lines] } : {}),
    ...(a.city !== undefined ? { city: a.city } : {}),
    ...(a.county !== undefined ? { district: a.county } : {}),
    ...(a.postcode !== undefined ? { postalCode: a.postcode } : {}),
    ...(a.country !== undefined ? { country: a.country } : {}),
  };
}

function localIdentifier(id: LocalIdentifier): JsonObject {
  return {
    use: 'usual',
    ...(id.type !== undefined ? { type: { coding: [{ system: V2_0203, code: id.type }] } } : {}),
    value: id.value,
    ...(id.assigner !== undefined ? { assigner: { identifier: { system: ODS_SYSTEM, value: id.assigner } } } : {}),
  };
}

function nhsNumberIdentifier(value: string, status?: string): JsonObject {
  return {
    ...(status !== undefined
      ? {
          extension: [
            { url: NHS_NUMBER_STATUS_URL, valueCodeableConcept: { coding: [{ system: NHS_NUMBER_STATUS_SYSTEM, code: status }] } },
          ],
        }
      : {}),
    system: NHS_NUMBER_SYSTEM,
    value,
  };
}

/** A BCP 47-looking code is coded as such; anything else (e.g. a data dictionary code) is kept as text only. */
function language(code: string): JsonObject {
  return /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(code) ? { coding: [{ system: 'urn:ietf:bcp:47', code }] } : { text: code };
}

function inboxItemExtension(item: InboxEntryInput): JsonObject {
  const parts: [string, JsonObject][] = [
    ['notificationId', { valueString: item.notificationId }],
    ['inbox', { valueString: item.inbox }],
    ['status', { valueCode: item.status }],
    ['deliveredAt', { valueDateTime: item.deliveredAt }],
  ];
  if (item.updatedAt !== undefined) parts.push(['updatedAt', { valueDateTime: item.updatedAt }]);
  if (item.firstReadAt !== undefined) parts.push(['firstReadAt', { valueDateTime: item.firstReadAt }]);
  if (item.acknowledgedAt !== undefined) parts.push(['acknowledgedAt', { valueDateTime: item.acknowledgedAt }]);
  if (item.withdrawnAt !== undefined) parts.push(['withdrawnAt', { valueDateTime: item.withdrawnAt }]);
  return { url: INBOX_ITEM_URL, extension: parts.map(([url, value]) => ({ url, ...value })) };
}

/** The baby as a UK Core Patient: only the fields present in the disclosed record. */
export function babyPatient(id: string, r: DisclosedRecord): JsonObject {
  const b = r.baby;
  const identifier: JsonValue[] = [];
  if (b.nhsNumber !== undefined) identifier.push(nhsNumberIdentifier(b.nhsNumber, b.nhsNumberStatus));
  for (const l of b.localIdentifiers ?? []) identifier.push(localIdentifier(l));
  const addresses: JsonValue[] = [];
  if (r.familyAddress !== undefined) addresses.push(address(r.familyAddress, 'home'));
  if (b.address !== undefined && JSON.stringify(b.address) !== JSON.stringify(r.familyAddress)) addresses.push(address(b.address));
  const extension: JsonValue[] = [];
  if (b.birthPlace !== undefined) extension.push({ url: BIRTH_PLACE_URL, valueAddress: { text: b.birthPlace } });
  if (r.source !== undefined) {
    extension.push({
      url: NOTIFICATION_SOURCE_URL,
      extension: [
        { url: 'format', valueCode: r.source.format },
        { url: 'feedId', valueString: r.source.feedId },
        { url: 'messageControlId', valueString: r.source.messageControlId },
        { url: 'event', valueString: r.source.event },
      ],
    });
  }
  const meta: JsonObject = {
    profile: [UK_CORE_PATIENT],
    ...(r.confidentiality !== undefined ? { security: [{ system: CONFIDENTIALITY, code: CONFIDENTIALITY_CODE[r.confidentiality] }] } : {}),
  };
  const deceased: JsonObject =
    b.deceasedAt !== undefined ? { deceasedDateTime: b.deceasedAt } : b.deceased !== undefined ? { deceasedBoolean: b.deceased } : {};
  const multipleBirth: JsonObject =
    b.birthOrder !== undefined
      ? { multipleBirthInteger: b.birthOrder }
      : b.multipleBirth !== undefined
        ? { multipleBirthBoolean: b.multipleBirth }
        : {};
  return {
    resourceType: 'Patient',
    id,
    meta,
    ...(extension.length > 0 ? { extension } : {}),
    ...(identifier.length > 0 ? { identifier } : {}),
    ...(b.name !== undefined ? { name: [humanName(b.name)] } : {}),
    ...(b.sex !== undefined ? { gender: b.sex } : {}),
    ...(b.birthDate !== undefined ? { birthDate: b.birthDate } : {}),
    ...(b.birthTime !== undefined ? { _birthDate: { extension: [{ url: BIRTH_TIME_URL, valueDateTime: b.birthTime }] } } : {}),
    ...deceased,
    ...(addresses.length > 0 ? { address: addresses } : {}),
    ...multipleBirth,
    ...(r.gpPractice !== undefined
      ? {
          generalPractitioner: [
            {
              type: 'Organization',
              identifier: { system: ODS_SYSTEM, value: r.gpPractice.odsCode },
              ...(r.gpPractice.name !== undefined ? { display: r.gpPractice.name } : {}),
            },
          ],
        }
      : {}),
  };
}

/** The mother as a UK Core RelatedPerson of the baby, or undefined when none of her fields were disclosed. */
export function motherRelatedPerson(id: string, patientRef: string, r: DisclosedRecord): JsonObject | undefined {
  const m = r.mother;
  if (m === undefined || Object.keys(m).length === 0) return undefined;
  const identifier: JsonValue[] = [];
  if (m.nhsNumber !== undefined) identifier.push(nhsNumberIdentifier(m.nhsNumber));
  for (const l of m.localIdentifiers ?? []) identifier.push(localIdentifier(l));
  return {
    resourceType: 'RelatedPerson',
    id,
    meta: { profile: [UK_CORE_RELATED_PERSON] },
    ...(identifier.length > 0 ? { identifier } : {}),
    patient: { reference: patientRef },
    relationship: [{ coding: [{ system: ROLE_CODE, code: 'MTH', display: 'mother' }] }],
    ...(m.name !== undefined ? { name: [humanName(m.name)] } : {}),
    ...(m.phone !== undefined ? { telecom: [{ system: 'phone', value: m.phone }] } : {}),
    ...(m.birthDate !== undefined ? { birthDate: m.birthDate } : {}),
    ...(m.address !== undefined ? { address: [address(m.address, 'home')] } : {}),
    ...(m.preferredLanguage !== undefined ? { communication: [{ language: language(m.preferredLanguage), preferred: true }] } : {}),
  };
}

interface Coding {
  system: string;
  code: string;
  display: string;
}
/** The codes Stork's own FHIR intake recognises (mappings/fhir/uk-core-birth.json), so the output reads back in. */
const BIRTH_WEIGHT: Coding[] = [
  { system: SNOMED, code: '364589006', display: 'Birth weight' },
  { system: LOINC, code: '8339-4', display: 'Birth weight Measured' },
];
const GESTATION: Coding[] = [{ system: SNOMED, code: '412726003', display: 'Length of gestation at birth' }];

function observation(id: string, patientRef: string, coding: Coding[], value: number, unit: string, ucum: string): JsonObject {
  return {
    resourceType: 'Observation',
    id,
    meta: { profile: [UK_CORE_OBSERVATION] },
    status: 'final',
    code: { coding: coding.map((c) => ({ ...c })) },
    subject: { reference: patientRef },
    valueQuantity: { value, unit, system: UCUM, code: ucum },
  };
}

/**
 * A stable `urn:uuid:` for one resource of a notification: a name-based (version 5 layout) UUID of the
 * notification id and the resource's role, so the same notification always gives the same fullUrls.
 */
export function resourceUrn(notificationId: string, role: string): string {
  const h = createHash('sha1').update(`${notificationId}/${role}`).digest('hex');
  const variant = ((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

type Mode = 'match' | 'include' | 'outcome';

/** The Bundle entries for one inbox item (searchset modes are dropped by the caller for a collection). */
function entriesFor(item: InboxEntryInput): { mode: Mode; entry: JsonObject }[] {
  const meta = inboxItemExtension(item);
  const n = item.notificationId;
  const r = item.record;
  if (item.status === 'withdrawn' || r === undefined) {
    const outcome: JsonObject = {
      resourceType: 'OperationOutcome',
      id: `withdrawn-${n}`,
      issue: [
        {
          severity: 'warning',
          code: 'deleted',
          diagnostics:
            item.status === 'withdrawn'
              ? 'This notification was withdrawn: do not act on it'
              : item.purgedAt !== undefined
                ? `This notification's record is no longer held: purged under retention on ${item.purgedAt.slice(0, 10)}`
                : 'This notification holds no record',
        },
      ],
    };
    return [{ mode: 'outcome', entry: { extension: [meta], fullUrl: resourceUrn(n, 'withdrawn'), resource: outcome } }];
  }
  const patientRef = resourceUrn(n, 'baby');
  const out: { mode: Mode; entry: JsonObject }[] = [
    { mode: 'match', entry: { extension: [meta], fullUrl: patientRef, resource: babyPatient(`baby-${n}`, r) } },
  ];
  const mother = motherRelatedPerson(`mother-${n}`, patientRef, r);
  if (mother) out.push({ mode: 'include', entry: { fullUrl: resourceUrn(n, 'mother'), resource: mother } });
  const d = r.birthDetails;
  if (d?.weightGrams !== undefined) {
    const id = `birth-weight-${n}`;
    out.push({
      mode: 'include',
      entry: {
        fullUrl: resourceUrn(n, 'birth-weight'),
        resource: observation(id, patientRef, BIRTH_WEIGHT, d.weightGrams, 'g', 'g'),
      },
    });
  }
  if (d?.gestationWeeks !== undefined) {
    const id = `gestation-${n}`;
    out.push({
      mode: 'include',
      entry: {
        fullUrl: resourceUrn(n, 'gestation'),
        resource: observation(id, patientRef, GESTATION, d.gestationWeeks, 'weeks', 'wk'),
      },
    });
  }
  return out;
}

/** A page of a centre's inbox as a searchset Bundle; `links.next` (the same cursor as JSON's `next`) when there is more. */
export function inboxPageBundle(items: readonly InboxEntryInput[], links: { self: string; next?: string }): JsonObject {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    link: [{ relation: 'self', url: links.self }, ...(links.next !== undefined ? [{ relation: 'next', url: links.next }] : [])],
    entry: items.flatMap((item) => entriesFor(item).map(({ mode, entry }) => ({ ...entry, search: { mode } }))),
  };
}

/** One notification as a collection Bundle: the same entries as in a page, without search modes. */
export function inboxItemBundle(item: InboxEntryInput): JsonObject {
  return { resourceType: 'Bundle', type: 'collection', entry: entriesFor(item).map(({ entry }) => entry) };
}
