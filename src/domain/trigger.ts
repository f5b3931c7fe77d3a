/**
 * Triggers (issue 17 item 2): conditions over incoming events that are not births, declared by an information-sharing
 * agreement, that send a minimum dataset about a parent's children to a named recipient (a local authority's
 * early-help front door). The first kind of event is an A&E attendance whose coded reason is in a value set. Pure
 * types and functions, no I/O.
 */
import type { Confidentiality, NhsNumberStatus, PersonName } from './birth-notification.js';

export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';
export const SNOMED_SYSTEM = 'http://snomed.info/sct';

/** A coded reason as a message gives it: the system (a URI) and the code. The display text is never kept. */
export interface Coding {
  system: string;
  code: string;
}

/** Where an event came from (as an identity event's source). */
export interface EventSource {
  feedId: string;
  /** MSH-10. */
  messageControlId: string;
  /** As the sender named it, e.g. `ADT^A04`. */
  event: string;
}

/**
 * An emergency-department attendance (HL7 v2 ADT^A04 with PV1-2 `E`): the patient, when, the coded reasons
 * (PV2-3, DG1-3) and whether the patient's record is restricted. Stored in the message's canonical column;
 * `kind` tells it from a birth (which has no `kind`) and from an identity event.
 */
export interface Attendance {
  kind: 'attendance';
  setting: 'emergency';
  patient: {
    nhsNumber?: string;
    nhsNumberStatus?: NhsNumberStatus;
    name?: PersonName;
    /** YYYY-MM-DD */
    birthDate?: string;
  };
  /** ISO 8601 instant of the attendance (PV1-44, else EVN-2, else MSH-7). */
  occurredAt: string;
  reasons: Coding[];
  confidentiality: Confidentiality;
  source: EventSource;
}

/** Whether a stored canonical value is an attendance. */
export function isAttendance(value: unknown): value is Attendance {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'attendance';
}

/** One entry of a value set: a code, or (with `descendants`) the code and every code under it (ICD-10 `F10` → `F10.2`). */
export interface ValueSetCode {
  system: string;
  code: string;
  descendants?: boolean;
  /** What the code means, for the IG lead; never sent to a recipient. */
  display?: string;
}

export interface ValueSet {
  id: string;
  name: string;
  codes: ValueSetCode[];
}

/** ICD-10 codes compare without their dot and in upper case (`f10.2` = `F102`); other systems as written. */
function normalCode(system: string, code: string): string {
  const c = code.trim();
  return system === ICD10_SYSTEM ? c.replace(/\./g, '').toUpperCase() : c;
}

/** Whether the value set holds the coding. */
export function valueSetHolds(set: ValueSet, coding: Coding): boolean {
  const code = normalCode(coding.system, coding.code);
  return set.codes.some((c) => {
    if (c.system !== coding.system) return false;
    const want = normalCode(c.system, c.code);
    return c.descendants === true ? code.startsWith(want) : code === want;
  });
}

/** Whether any of the codings is in the value set. */
export const valueSetHoldsAny = (set: ValueSet, codings: readonly Coding[]): boolean => codings.some((c) => valueSetHolds(set, c));

/** The kinds of event a trigger may watch. */
export type TriggerEventKind = 'ae-attendance';

/** Who receives a trigger's firings: an inbox worked in the web app (its own role, `early-help-worker`). */
export interface TriggerRecipient {
  inbox: string;
  name: string;
}

export interface Trigger {
  id: string;
  /** Shown to the recipient as the only clinical fact: e.g. "A parent attended A&E for an alcohol-related reason". */
  name: string;
  description: string;
  event: TriggerEventKind;
  valueSet: ValueSet;
  recipient: TriggerRecipient;
  lawfulBasis: string;
  /**
   * `verified-or-unstated` (default): the patient's NHS number must be verified (PID-32 `01`) when the message says
   * its status; `verified`: the status must be given and verified.
   */
  nhsNumber?: 'verified' | 'verified-or-unstated';
}

/** An agreement declaring triggers (`consent-rules/triggers/<id>.json`), chosen per local authority in agreements.json. */
export interface TriggerAgreement {
  id: string;
  version: string;
  purpose: string;
  parties: { name: string; role: string; odsCode?: string }[];
  /** When the agreement is next reviewed (ISO date): required of every agreement, as of the birth rulebooks. */
  reviewDate: string;
  triggers: Trigger[];
  /** SHA-256 of its canonical content (set on load). */
  hash: string;
}

/** A child as the minimum dataset names it (from Stork's family record). */
export interface TriggerChild {
  name?: PersonName;
  birthDate?: string;
  nhsNumber?: string;
}

/**
 * What a recipient receives: who (the parent), which children, when, which trigger. Never the code that matched,
 * the diagnosis or any free text of the message.
 */
export interface TriggerDataset {
  trigger: { id: string; name: string };
  parent: { name?: PersonName; nhsNumber: string; birthDate?: string };
  children: TriggerChild[];
  /** The London date of the attendance (YYYY-MM-DD): the day, not the time. */
  occurredOn: string;
  /** The family's address as Stork's family record holds it (for the front door to act on). */
  familyAddress?: { lines: string[]; city?: string; postcode?: string };
}

/** Why a trigger did not fire (audited as `trigger-not-fired`). */
export type NotFiredReason =
  /** No NHS number on the attendance: a parent cannot be known safely. */
  | 'no-nhs-number'
  /** The NHS number's status is given and not verified (or the trigger requires a verified one). */
  | 'nhs-number-not-verified'
  /** No family led by the patient, or a family with no children. */
  | 'no-known-children'
  /** The family's local authority has no agreement declaring a trigger whose value set holds the code. */
  | 'no-lawful-basis';

export const NOT_FIRED_WORDS: Record<NotFiredReason, string> = {
  'no-nhs-number': 'the attendance carries no NHS number',
  'nhs-number-not-verified': 'the NHS number is not verified',
  'no-known-children': 'the patient is not known to Stork as a parent',
  'no-lawful-basis': "no agreement of the family's area declares this trigger (no lawful basis)",
};

/** Firings' statuses: delivered to the recipient, held for safeguarding review (restricted), or closed at review. */
export type FiringStatus = 'delivered' | 'held' | 'closed';
