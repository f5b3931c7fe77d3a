/**
 * One birth, one offer, whatever the route (issue 10 item 6), as pure functions: the birth key that lets a
 * birth brought by one route (a trust's HL7 v2 ADT with only its local id) be recognised when another route
 * (the national birth notification, with the NHS number) brings it; the conservative comparison that decides
 * whether two records sharing that key are the same baby; and the merge that enriches the notification's
 * record with what a later message adds, keeping the first value wherever the two disagree.
 *
 * Field names only ever leave these functions (for the audit): never a value.
 */
import type { Baby, BirthNotification, Confidentiality, LocalIdentifier, Mother } from '../domain/birth-notification.js';

/** The birth order a record states: its own, or 1 for a baby said not to be one of a multiple birth. */
export function statedBirthOrder(baby: Baby): number | undefined {
  if (baby.birthOrder !== undefined) return baby.birthOrder;
  return baby.multipleBirth === false ? 1 : undefined;
}

/**
 * The key two routes share for one baby: the mother's NHS number, the baby's date of birth and its birth
 * order. Undefined (no cross-route recognition) without the mother's NHS number, or when the order is unknown
 * (a twin without a birth order could be either twin). The database holds it unique, so two messages racing
 * with the same key yield one notification; the comparison below then decides whether they really are one baby.
 */
export function birthKey(n: BirthNotification): string | undefined {
  const mother = n.mother?.nhsNumber;
  const order = statedBirthOrder(n.baby);
  if (mother === undefined || order === undefined) return undefined;
  return `birth:${mother}:${n.baby.birthDate}:${order}`;
}

export type SameBirthVerdict =
  | { verdict: 'same' }
  /** Not linked: the fields (names only) that stop it. */
  | { verdict: 'ambiguous'; fields: string[] };

const minuteOf = (instant: string): number | undefined => {
  const ms = Date.parse(instant);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 60_000);
};

/**
 * Whether two records sharing a birth key are the same baby. Conservative: both must give the time of birth
 * and agree on it to the minute (twins are minutes apart); the mother's NHS number, date of birth and birth
 * order must agree (they make the key); a sex, an NHS number for the baby or a multiple-birth flag given by
 * both must agree. Anything else is ambiguous and is not merged.
 */
export function compareBirths(first: BirthNotification, later: BirthNotification): SameBirthVerdict {
  const a = first.baby;
  const b = later.baby;
  const fields: string[] = [];
  if (first.mother?.nhsNumber === undefined || first.mother.nhsNumber !== later.mother?.nhsNumber) fields.push('mother.nhsNumber');
  if (a.birthDate !== b.birthDate) fields.push('baby.birthDate');
  const orderA = statedBirthOrder(a);
  if (orderA === undefined || orderA !== statedBirthOrder(b)) fields.push('baby.birthOrder');
  const timeA = a.birthTime === undefined ? undefined : minuteOf(a.birthTime);
  const timeB = b.birthTime === undefined ? undefined : minuteOf(b.birthTime);
  if (timeA === undefined || timeB === undefined || timeA !== timeB) fields.push('baby.birthTime');
  if (a.nhsNumber !== undefined && b.nhsNumber !== undefined && a.nhsNumber !== b.nhsNumber) fields.push('baby.nhsNumber');
  const known = (s: Baby['sex']) => s !== undefined && s !== 'unknown';
  if (known(a.sex) && known(b.sex) && a.sex !== b.sex) fields.push('baby.sex');
  if (a.multipleBirth !== undefined && b.multipleBirth !== undefined && a.multipleBirth !== b.multipleBirth)
    fields.push('baby.multipleBirth');
  return fields.length === 0 ? { verdict: 'same' } : { verdict: 'ambiguous', fields };
}

/** What merging a later record into a notification's record gave. */
export interface Enrichment {
  record: BirthNotification;
  /** Fields the notification lacked (or a better NHS number verification status), now filled. */
  enriched: string[];
  /** Fields both give with different values: the first is kept. */
  conflicts: string[];
}

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Mutable view of an object's optional fields, for filling them one by one. */
type Fillable = Record<string, unknown>;

/** Fills `to[key]` from `from[key]` when missing; records a conflict when both differ. */
function fill(to: Fillable, from: Fillable, key: string, path: string, out: Enrichment): void {
  const incoming = from[key];
  if (incoming === undefined) return;
  const present = to[key];
  if (present === undefined) {
    to[key] = structuredClone(incoming);
    out.enriched.push(path);
  } else if (!sameValue(present, incoming)) out.conflicts.push(path);
}

/** Adds the identifiers the notification lacks (same value and assigner is the same identifier). */
function unionIdentifiers(to: LocalIdentifier[], from: readonly LocalIdentifier[], path: string, out: Enrichment): void {
  let added = false;
  for (const id of from) {
    if (to.some((x) => x.value === id.value && x.assigner === id.assigner)) continue;
    to.push(structuredClone(id));
    added = true;
  }
  if (added) out.enriched.push(path);
}

const BABY_FIELDS = ['name', 'sex', 'multipleBirth', 'birthOrder', 'birthPlace', 'address', 'deceasedAt'] as const;
const MOTHER_FIELDS = ['nhsNumber', 'name', 'birthDate', 'address', 'phone', 'preferredLanguage'] as const;
const RESTRICTION: Record<Confidentiality, number> = { normal: 0, restricted: 1, 'very-restricted': 2 };

/** The baby's NHS number and its verification status: a verified status ('01') is better than any other. */
function fillNhsNumber(to: Baby, from: Baby, out: Enrichment): void {
  if (from.nhsNumber === undefined) return;
  if (to.nhsNumber === undefined) {
    to.nhsNumber = from.nhsNumber;
    out.enriched.push('baby.nhsNumber');
    if (from.nhsNumberStatus !== undefined) {
      to.nhsNumberStatus = from.nhsNumberStatus;
      out.enriched.push('baby.nhsNumberStatus');
    } else delete to.nhsNumberStatus;
    return;
  }
  if (to.nhsNumber !== from.nhsNumber) {
    out.conflicts.push('baby.nhsNumber');
    return;
  }
  if (from.nhsNumberStatus === undefined || from.nhsNumberStatus === to.nhsNumberStatus) return;
  if (to.nhsNumberStatus === undefined || (from.nhsNumberStatus === '01' && to.nhsNumberStatus !== '01')) {
    to.nhsNumberStatus = from.nhsNumberStatus;
    out.enriched.push('baby.nhsNumberStatus');
  } else out.conflicts.push('baby.nhsNumberStatus');
}

function fillMother(record: BirthNotification, from: Mother, out: Enrichment): void {
  if (record.mother === undefined) {
    record.mother = structuredClone(from);
    out.enriched.push('mother');
    return;
  }
  const to = record.mother;
  for (const key of MOTHER_FIELDS) fill(to as unknown as Fillable, from as unknown as Fillable, key, `mother.${key}`, out);
  unionIdentifiers(to.localIdentifiers, from.localIdentifiers, 'mother.localIdentifiers', out);
}

/**
 * Merges a later record about the same baby into the notification's record (which is not changed): what the
 * notification lacks is filled in, a verified NHS number status replaces an unverified one, local identifiers
 * are united; where both give different values the first is kept and the field named as a conflict. Two
 * exceptions, both for safety: a record marked more restricted makes the notification more restricted (never
 * less), named as a conflict; and the life status (deceased) is never merged here (a death withdraws, elsewhere).
 * The source stays the first message's; the audit links the others.
 */
export function mergeRecords(first: BirthNotification, later: BirthNotification): Enrichment {
  const out: Enrichment = { record: structuredClone(first), enriched: [], conflicts: [] };
  const baby = out.record.baby;
  fillNhsNumber(baby, later.baby, out);
  for (const key of BABY_FIELDS) fill(baby as unknown as Fillable, later.baby as unknown as Fillable, key, `baby.${key}`, out);
  // Two routes write one time of birth differently (offset, seconds): the same minute is no conflict.
  if (later.baby.birthTime !== undefined) {
    if (baby.birthTime === undefined) {
      baby.birthTime = later.baby.birthTime;
      out.enriched.push('baby.birthTime');
    } else if (minuteOf(baby.birthTime) !== minuteOf(later.baby.birthTime)) out.conflicts.push('baby.birthTime');
  }
  unionIdentifiers(baby.localIdentifiers, later.baby.localIdentifiers, 'baby.localIdentifiers', out);
  if (later.mother !== undefined) fillMother(out.record, later.mother, out);
  if (later.gpPractice !== undefined) {
    if (out.record.gpPractice === undefined) {
      out.record.gpPractice = structuredClone(later.gpPractice);
      out.enriched.push('gpPractice');
    } else if (out.record.gpPractice.odsCode !== later.gpPractice.odsCode) out.conflicts.push('gpPractice');
    else if (out.record.gpPractice.name === undefined && later.gpPractice.name !== undefined) {
      out.record.gpPractice.name = later.gpPractice.name;
      out.enriched.push('gpPractice.name');
    }
  }
  if (later.birthDetails !== undefined) {
    out.record.birthDetails ??= {};
    const details = out.record.birthDetails as Fillable;
    fill(details, later.birthDetails as Fillable, 'weightGrams', 'birthDetails.weightGrams', out);
    fill(details, later.birthDetails as Fillable, 'gestationWeeks', 'birthDetails.gestationWeeks', out);
    if (Object.keys(out.record.birthDetails).length === 0) delete out.record.birthDetails;
  }
  if (later.confidentiality !== first.confidentiality) {
    out.conflicts.push('confidentiality');
    if (RESTRICTION[later.confidentiality] > RESTRICTION[first.confidentiality]) out.record.confidentiality = later.confidentiality;
  }
  return out;
}
