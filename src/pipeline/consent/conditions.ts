/**
 * The named conditions a consent rulebook may use. Rulebooks stay declarative: a rule lists condition
 * names, and each name is a small, reviewed TypeScript predicate here. There is deliberately no
 * expression language, so an information-governance lead can read a rule without reading code, and
 * a new kind of condition is a code change that goes through review.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';

/**
 * What the hub knows about consent beyond the notification itself. Both default to "not recorded":
 * an objection source (e.g. an antenatal conversation) and clinical-details consent are not wired yet.
 */
export interface ConsentContext {
  /** A parent has objected to sharing for this purpose. */
  objection?: boolean;
  /** A parent has consented to clinical details (birth weight, gestation) being shared. */
  clinicalConsent?: boolean;
}

/** A named condition: pure, total, and never throws. */
export type Condition = (n: BirthNotification, context: ConsentContext) => boolean;

/** The registry of conditions a rule's `when` may name; a rulebook naming anything else fails to load. */
export const CONDITIONS = {
  /** Stillborn or died: any death indicator or date of death. */
  'baby-deceased': (n) => n.baby.deceased || n.baby.deceasedAt !== undefined,
  /** Restricted or very restricted (PDS sensitive, FHIR R/V, a feed's HL7 v2 marker); anything not `normal`. */
  'record-restricted': (n) => n.confidentiality !== 'normal',
  /** A parent's recorded objection (no source yet: read from the consent context). */
  'parent-objected': (_n, c) => c.objection === true,
  /** Recorded consent to share clinical details. */
  'clinical-consent-recorded': (_n, c) => c.clinicalConsent === true,
  /** Always holds: for a rulebook's final, default rule. */
  always: () => true,
} as const satisfies Record<string, Condition>;

/** A condition name a rulebook may use. */
export type ConditionName = keyof typeof CONDITIONS;

/** Every condition name, for messages and for the rulebook's safety analysis. */
export const CONDITION_NAMES = Object.keys(CONDITIONS) as ConditionName[];

/** Narrows a string read from a rulebook file to a known condition name. */
export function isConditionName(name: string): name is ConditionName {
  return Object.prototype.hasOwnProperty.call(CONDITIONS, name);
}

/** True when every named condition holds (an empty list never holds: the schema forbids it anyway). */
export function allHold(names: readonly ConditionName[], n: BirthNotification, context: ConsentContext): boolean {
  if (names.length === 0) return false;
  for (const name of names) if (!CONDITIONS[name](n, context)) return false;
  return true;
}
