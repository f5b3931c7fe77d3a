/**
 * Antenatal notifications (issue 17 item 1): a maternity booking tells the children's centre that covers the
 * mother's home about a pregnancy (mother, estimated due date, address, language, GP), so it can offer antenatal
 * contact; a pregnancy loss reported later withdraws it. Pregnancy data is sensitive: it is shared only under the
 * antenatal agreement (src/pipeline/antenatal/antenatal-agreement.ts), by default only with the mother's recorded
 * consent. Every format's mapping makes one of the canonical events below; processing
 * (src/processing/antenatal-bookings.ts) decides and saves. Pure types and functions, no I/O.
 */
import type { Address, Confidentiality, GpPractice, LocalIdentifier, PersonName } from './birth-notification.js';
import { boundedKey } from './bounded-key.js';
import type { ConsentStatement } from './consent.js';

/** The pregnant woman, as the booking gives her (the booking's patient is the mother). */
export interface ExpectingMother {
  /** Required: a booking without the mother's NHS number is refused (the consent register and families key on it). */
  nhsNumber: string;
  localIdentifiers: LocalIdentifier[];
  name?: PersonName;
  /** YYYY-MM-DD */
  birthDate?: string;
  address?: Address;
  phone?: string;
  preferredLanguage?: string;
}

/** Where an antenatal event came from. */
export interface AntenatalSource {
  feedId: string;
  format: 'hl7v2' | 'fhir-r4';
  /** MSH-10 or the FHIR resource id. */
  messageControlId: string;
  /** As sent, e.g. `SIU^S12`, `ADT^A05`. */
  event: string;
}

/** A maternity booking: the canonical record of one pregnancy. */
export interface AntenatalBooking {
  mother: ExpectingMother;
  /** The estimated date of delivery (YYYY-MM-DD): LOINC 11778-8 "Delivery date Estimated". */
  estimatedDueDate: string;
  /** The sender's id of the pregnancy (an episode or visit number), when the mapping names one. */
  pregnancyId?: string;
  gpPractice?: GpPractice;
  confidentiality: Confidentiality;
  source: AntenatalSource;
}

/** The message kinds stored in a message's canonical column for antenatal work (beside births and identity events). */
export type AntenatalEvent =
  | { kind: 'antenatal-booking'; booking: AntenatalBooking; consents?: ConsentStatement[] }
  /** The pregnancy ended without a live birth (a miscarriage, a termination, a stillbirth): its notification is withdrawn. */
  | { kind: 'pregnancy-loss'; motherNhsNumber: string; pregnancyId?: string; source: AntenatalSource };

/** Whether a stored canonical value is an antenatal event (births have a `baby`, identity events other kinds). */
export function isAntenatalEvent(value: unknown): value is AntenatalEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (v.kind === 'antenatal-booking' && typeof v.booking === 'object') ||
    (v.kind === 'pregnancy-loss' && typeof v.motherNhsNumber === 'string')
  );
}

/**
 * The key that makes one pregnancy one antenatal notification whatever message brings it again: the mother's NHS
 * number and the sender's pregnancy id, else the mother's NHS number and the due date. Bounded (`boundedKey`): the
 * pregnancy id and the due date are the sender's text, and the key goes into a unique index.
 */
export function pregnancyKey(b: Pick<AntenatalBooking, 'mother' | 'pregnancyId' | 'estimatedDueDate' | 'source'>): string {
  return boundedKey(
    b.pregnancyId !== undefined
      ? `nhs:${b.mother.nhsNumber}:${b.source.feedId}:${b.pregnancyId}`
      : `nhs:${b.mother.nhsNumber}:edd:${b.estimatedDueDate}`,
  );
}

/** What a centre sees of an antenatal notification (the `antenatal` dataset): nothing clinical beyond the due date. */
export interface DisclosedAntenatal {
  mother: {
    nhsNumber: string;
    name?: PersonName;
    birthDate?: string;
    phone?: string;
    preferredLanguage?: string;
  };
  estimatedDueDate: string;
  address?: Address;
  gpPractice?: GpPractice;
}

/** The `antenatal` dataset: the mother, the due date, her address, language and GP. */
export function minimiseBooking(b: AntenatalBooking): DisclosedAntenatal {
  const m = b.mother;
  return {
    mother: {
      nhsNumber: m.nhsNumber,
      ...(m.name !== undefined ? { name: m.name } : {}),
      ...(m.birthDate !== undefined ? { birthDate: m.birthDate } : {}),
      ...(m.phone !== undefined ? { phone: m.phone } : {}),
      ...(m.preferredLanguage !== undefined ? { preferredLanguage: m.preferredLanguage } : {}),
    },
    estimatedDueDate: b.estimatedDueDate,
    ...(m.address !== undefined ? { address: m.address } : {}),
    ...(b.gpPractice !== undefined ? { gpPractice: b.gpPractice } : {}),
  };
}

/** The NHS number an antenatal event's receipt is audited under: the mother's. */
export function antenatalSubject(e: AntenatalEvent | undefined): string | undefined {
  if (e === undefined) return undefined;
  return e.kind === 'antenatal-booking' ? e.booking.mother.nhsNumber : e.motherNhsNumber;
}
