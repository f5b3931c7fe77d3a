/**
 * The named conditions a consent rulebook may use. Rulebooks stay declarative: a rule lists condition
 * names, and each name is a small, reviewed TypeScript predicate here. There is deliberately no
 * expression language, so an information-governance lead can read a rule without reading code, and
 * a new kind of condition is a code change that goes through review.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';

/**
 * What the hub knows about consent beyond the notification itself, from the consent register (see
 * consent-context.ts): the newest record in force per scope. Absent means "not recorded".
 */
export interface ConsentContext {
  /** A parent has objected to sharing for this purpose (the newest `offer-of-support` record is an objection). */
  objection?: boolean;
  /** A parent has consented to clinical details (birth weight, gestation) being shared. */
  clinicalConsent?: boolean;
  /** The ids of the consent records these came from, so a decision can name them. */
  consentRecords?: string[];
}

/**
 * Whole years between two YYYY-MM-DD dates (`to` on or after `from`): the age on `to` of someone born on
 * `from`. A person born on 29 February turns a year older on 1 March in a non-leap year.
 */
export function ageInYears(from: string, to: string): number {
  const [fy, fm, fd] = from.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = to.split('-').map(Number) as [number, number, number];
  return ty - fy - (tm < fm || (tm === fm && td < fd) ? 1 : 0);
}

const FULL_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The mother was under 18 on the baby's birth date. False when her date of birth is not known (or not a full
 * date): the young-parents pathway is an extra offer, and an unknown age must not send a family to it.
 */
function motherUnder18(n: BirthNotification): boolean {
  const mother = n.mother?.birthDate;
  if (mother === undefined || !FULL_DATE.test(mother) || !FULL_DATE.test(n.baby.birthDate)) return false;
  if (mother > n.baby.birthDate) return false; // not a real age: treated as unknown
  return ageInYears(mother, n.baby.birthDate) < 18;
}

/** A named condition: pure, total, and never throws. */
export type Condition = (n: BirthNotification, context: ConsentContext) => boolean;

/** The registry of conditions a rule's `when` may name; a rulebook naming anything else fails to load. */
export const CONDITIONS = {
  /** Stillborn or died: any death indicator or date of death. */
  'baby-deceased': (n) => n.baby.deceased || n.baby.deceasedAt !== undefined,
  /** Restricted or very restricted (PDS sensitive, FHIR R/V, a feed's HL7 v2 marker); anything not `normal`. */
  'record-restricted': (n) => n.confidentiality !== 'normal',
  /** A parent's objection, the newest `offer-of-support` record in the consent register. */
  'parent-objected': (_n, c) => c.objection === true,
  /** Recorded consent to share clinical details: the newest `clinical-details` record is a consent. */
  'clinical-consent-recorded': (_n, c) => c.clinicalConsent === true,
  /** The mother was under 18 on the baby's birth date; false when her date of birth is unknown. */
  'mother-under-18': (n) => motherUnder18(n),
  /** Always holds: for a rulebook's final, default rule. */
  always: () => true,
} as const satisfies Record<string, Condition>;

/**
 * Each condition in words, both ways, for the explanation of a decision (a Caldicott guardian reads these):
 * what it means when it holds, and when it does not. A new condition needs its words here (the type says so).
 */
export const CONDITION_WORDS: Record<keyof typeof CONDITIONS, { holds: string; fails: string }> = {
  'baby-deceased': {
    holds: 'the baby was stillborn or has died',
    fails: 'the record reports no stillbirth or death of the baby',
  },
  'record-restricted': {
    holds: 'the record is marked restricted or very restricted',
    fails: 'the record is not marked restricted (its confidentiality is normal)',
  },
  'parent-objected': {
    holds: 'a parent has objected to sharing for this purpose',
    fails: 'no objection from a parent is recorded',
  },
  'mother-under-18': {
    holds: 'the mother was under 18 on the day the baby was born',
    fails: 'the mother was 18 or over on the day the baby was born, or her date of birth is not known',
  },
  'clinical-consent-recorded': {
    holds: 'a parent has consented to clinical details (birth weight, gestation) being shared',
    fails: 'no consent to share clinical details (birth weight, gestation) is recorded',
  },
  always: { holds: 'this rule applies to every notification that reaches it', fails: 'never (this condition always holds)' },
};

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
