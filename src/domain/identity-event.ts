/**
 * Identity events (issue 12 item 5): what a sender says about who a patient is, rather than about a birth.
 * HL7 v2 A40 (merge patient, patient identifier list; also A34/A35/A36/A39) says the records under the prior
 * identifiers are the patient under the surviving ones; A24 (link patient information) says two patients are
 * related (mother and baby, or siblings); A37 undoes an A24. Every format's mapping makes one of these
 * canonical shapes; processing (src/processing/identity-events.ts) decides what they do to notifications and
 * families. Pure types and functions, no I/O.
 */
import type { LocalIdentifier } from './birth-notification.js';
import { boundedKey } from './bounded-key.js';

/** The identifiers of one patient as a message gives them: the NHS number (if any) and the local ones. */
export interface PatientIdentifiers {
  nhsNumber?: string;
  /** Local identifiers (MRN and the like): value, assigning authority (CX.4), type (CX.5). */
  local: LocalIdentifier[];
}

export interface IdentitySource {
  feedId: string;
  /** MSH-10. */
  messageControlId: string;
  /** As the sender named it, e.g. `ADT^A40`. */
  event: string;
}

/** One merge: the records under `merged` are the patient under `surviving`. */
export interface MergePair {
  surviving: PatientIdentifiers;
  merged: PatientIdentifiers;
}

export type IdentityEvent =
  /** A40 and kin: one pair per PID/MRG group of the message (most senders send one). */
  | { kind: 'merge'; merges: MergePair[]; source: IdentitySource }
  /** A24: the patients of the first and second PID are linked. */
  | { kind: 'link'; first: PatientIdentifiers; second: PatientIdentifiers; source: IdentitySource }
  /** A37: the link between them is undone. */
  | { kind: 'unlink'; first: PatientIdentifiers; second: PatientIdentifiers; source: IdentitySource };

export type IdentityEventKind = IdentityEvent['kind'];

/**
 * Whether a stored canonical value is an identity event (it has a `kind` and no `baby`); a birth notification has
 * a `baby` and no `kind`. Message bodies hold one or the other in the same column.
 */
export function isIdentityEvent(value: unknown): value is IdentityEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (v.kind === 'merge' || v.kind === 'link' || v.kind === 'unlink') && !('baby' in v);
}

/**
 * The identity keys of a patient, in the form notifications' subject keys take (src/pipeline/plan-delivery.ts):
 * `nhs:<NHS number>`, and `local:<feed>:<assigner>:<value>` for each local identifier. Local identifiers are
 * scoped by the feed that sent them, as subject keys are: an A40 from one trust never touches another's ids. A key
 * over 512 bytes is its SHA-256 (boundedKey), as subjectKey makes it.
 */
export function identityKeys(ids: PatientIdentifiers, feedId: string): string[] {
  const keys = ids.nhsNumber !== undefined ? [`nhs:${ids.nhsNumber}`] : [];
  for (const l of ids.local) keys.push(boundedKey(`local:${feedId}:${l.assigner ?? ''}:${l.value}`));
  return [...new Set(keys)];
}

/** The key that stands for the patient: the NHS number's, else the first local identifier's (as subjectKey does). */
export function primaryIdentityKey(ids: PatientIdentifiers, feedId: string): string | undefined {
  return identityKeys(ids, feedId)[0];
}

/**
 * What the audit may say about identifiers: their kinds only (`nhs-number`, and each local identifier's assigning
 * authority and type), never a value.
 */
export function identifierKinds(ids: PatientIdentifiers): string[] {
  const out = ids.nhsNumber !== undefined ? ['nhs-number'] : [];
  for (const l of ids.local) out.push(`local:${l.assigner ?? '?'}/${l.type ?? '?'}`);
  return [...new Set(out)];
}

/** True when the two share an NHS number or a local identifier (same value and assigner). */
export function sharesIdentifier(a: PatientIdentifiers, b: PatientIdentifiers): boolean {
  if (a.nhsNumber !== undefined && a.nhsNumber === b.nhsNumber) return true;
  return a.local.some((x) => b.local.some((y) => x.value === y.value && (x.assigner ?? '') === (y.assigner ?? '')));
}

/** The NHS number an identity event's receipt is audited under (the audit's subject column): the surviving or first patient's. */
export function identitySubject(e: IdentityEvent | undefined): string | undefined {
  if (e === undefined) return undefined;
  return e.kind === 'merge' ? e.merges[0]?.surviving.nhsNumber : e.first.nhsNumber;
}
