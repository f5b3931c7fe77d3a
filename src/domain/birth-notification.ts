/**
 * The canonical new-birth notification: every feed format (HL7 v2 ADT, FHIR R4, NEMS) is mapped to this
 * one shape, and everything downstream (validation, matching, consent, routing, delivery) reads only it.
 * The JSON Schema in `birth-notification.schema.ts` is the contract; this type is checked against it.
 */

import type { ConsentStatement } from './consent.js';

export type NhsNumberStatus = '01' | '02' | '03' | '04' | '05' | '06' | '07' | '08';
export type AdministrativeSex = 'male' | 'female' | 'other' | 'unknown';
export type Confidentiality = 'normal' | 'restricted' | 'very-restricted';
export type SourceFormat = 'hl7v2' | 'fhir-r4' | 'nems-stu3';

export interface LocalIdentifier {
  value: string;
  /** Assigning authority, usually the trust's ODS code (CX.4). */
  assigner?: string;
  /** Identifier type code (CX.5), e.g. `MR`. */
  type?: string;
}

export interface PersonName {
  family?: string;
  given?: string[];
  prefix?: string;
}

export interface Address {
  lines: string[];
  city?: string;
  county?: string;
  /** Normalised: upper case, one space before the inward code. */
  postcode?: string;
  country?: string;
}

export interface Baby {
  nhsNumber?: string;
  nhsNumberStatus?: NhsNumberStatus;
  localIdentifiers: LocalIdentifier[];
  name?: PersonName;
  sex?: AdministrativeSex;
  /** YYYY-MM-DD, the date as recorded locally. */
  birthDate: string;
  /** ISO 8601 instant with offset, when the time of birth is known. */
  birthTime?: string;
  multipleBirth?: boolean;
  /** 1 for the first (or only) baby, 2 for the second twin, … */
  birthOrder?: number;
  birthPlace?: string;
  address?: Address;
  deceased: boolean;
  /** ISO 8601 date or instant of death, when reported. */
  deceasedAt?: string;
}

export interface Mother {
  nhsNumber?: string;
  /**
   * The NHS Number Status Indicator (01 = present and verified), where the source carries it (HL7 v2 PID-32,
   * FHIR's NHS Number Verification Status extension). Family matching treats a verified (or unstated) number as
   * decisive and any other status as strong evidence only (src/pipeline/family-match.ts).
   */
  nhsNumberStatus?: NhsNumberStatus;
  localIdentifiers: LocalIdentifier[];
  name?: PersonName;
  /** YYYY-MM-DD */
  birthDate?: string;
  address?: Address;
  phone?: string;
  /** As sent (e.g. ISO 639 or the NHS data dictionary code), for the centre to offer an interpreter. */
  preferredLanguage?: string;
}

export interface GpPractice {
  /** ODS code of the registered practice, e.g. `B86001`. */
  odsCode: string;
  name?: string;
}

/** Clinical details: only disclosed with recorded consent for them. */
export interface BirthDetails {
  weightGrams?: number;
  gestationWeeks?: number;
}

export interface NotificationSource {
  format: SourceFormat;
  feedId: string;
  /** The sender's own message id (MSH-10, Bundle.id). */
  messageControlId: string;
  /** The event as the sender named it, e.g. `ADT^A28`. */
  event: string;
  /**
   * The message is an update about a baby (HL7 v2 A08/A31, a FHIR update event): about a baby already notified,
   * its values replace the notification's; it never makes a notification of its own.
   */
  update?: boolean;
}

export interface BirthNotification {
  baby: Baby;
  mother?: Mother;
  gpPractice?: GpPractice;
  birthDetails?: BirthDetails;
  confidentiality: Confidentiality;
  source: NotificationSource;
  /**
   * Consents and objections the message carried (a FHIR Consent, an HL7 v2 CON or Z-segment), about this
   * baby or mother. Processing records them in the consent register; they are never part of what is disclosed.
   */
  consents?: ConsentStatement[];
}

/** The family's home address: the mother's where known, else the baby's. */
export function familyAddress(n: BirthNotification): Address | undefined {
  return n.mother?.address ?? n.baby.address;
}
