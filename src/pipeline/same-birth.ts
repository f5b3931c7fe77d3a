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
import { boundedKey } from '../domain/bounded-key.js';

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
  return boundedKey(`birth:${mother}:${n.baby.birthDate}:${order}`);
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

/** A name as the demographic key compares it: upper case letters only (spaces, hyphens, apostrophes dropped). */
export function nameKey(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const k = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z]/g, '');
  return k === '' ? undefined : k;
}

const knownSex = (s: Baby['sex']): s is 'male' | 'female' | 'other' => s !== undefined && s !== 'unknown';

/**
 * The second-level key for a birth whose routes share no NHS number (issue 12 item 4: a national notification
 * without a valid mother's NHS number, and a trust's ADT without the baby's): the baby's date of birth, its time of
 * birth to the minute (UTC), its sex, and the mother's date of birth and family name (letters only, upper case).
 * Undefined unless all five are known. Twins differ by their minute of birth (or, born in the same minute, by
 * sex); two babies still sharing the key are compared by compareByMotherDetails before anything is merged. Unique
 * in the database, so two workers racing with one baby by two routes make one notification. Over 512 bytes (a very
 * long family name) the key is its SHA-256 (boundedKey).
 */
export function demographicKey(n: BirthNotification): string | undefined {
  const minute = n.baby.birthTime === undefined ? undefined : minuteOf(n.baby.birthTime);
  const family = nameKey(n.mother?.name?.family);
  const motherBorn = n.mother?.birthDate;
  if (minute === undefined || !knownSex(n.baby.sex) || family === undefined || motherBorn === undefined) return undefined;
  return boundedKey(`demo:${n.baby.birthDate}:${minute}:${n.baby.sex}:${motherBorn}:${family}`);
}

/**
 * Whether two records sharing a demographic key are the same baby. Strict: everything the key is made of must
 * agree; the mother's first given name, NHS number and local identifiers (same assigner), the baby's NHS number,
 * birth order and multiple-birth flag must agree wherever both give them; and a record saying the baby is one of
 * a multiple birth needs a birth order on both sides (twins born in the same minute, of one sex, are otherwise
 * indistinguishable). Anything else is ambiguous and is not merged.
 */
export function compareByMotherDetails(first: BirthNotification, later: BirthNotification): SameBirthVerdict {
  const a = first.baby;
  const b = later.baby;
  const fields: string[] = [];
  const key = demographicKey(first);
  if (key === undefined || key !== demographicKey(later)) fields.push('demographicKey');
  const givenA = nameKey(first.mother?.name?.given?.[0]);
  const givenB = nameKey(later.mother?.name?.given?.[0]);
  if (givenA !== undefined && givenB !== undefined && givenA !== givenB) fields.push('mother.name');
  const motherA = first.mother?.nhsNumber;
  const motherB = later.mother?.nhsNumber;
  if (motherA !== undefined && motherB !== undefined && motherA !== motherB) fields.push('mother.nhsNumber');
  const idsA = first.mother?.localIdentifiers ?? [];
  const idsB = later.mother?.localIdentifiers ?? [];
  const clash = idsA.some((x) => x.assigner !== undefined && idsB.some((y) => y.assigner === x.assigner && y.value !== x.value));
  if (clash) fields.push('mother.localIdentifiers');
  if (a.nhsNumber !== undefined && b.nhsNumber !== undefined && a.nhsNumber !== b.nhsNumber) fields.push('baby.nhsNumber');
  const orderA = statedBirthOrder(a);
  const orderB = statedBirthOrder(b);
  if (orderA !== undefined && orderB !== undefined && orderA !== orderB) fields.push('baby.birthOrder');
  if (a.multipleBirth !== undefined && b.multipleBirth !== undefined && a.multipleBirth !== b.multipleBirth)
    fields.push('baby.multipleBirth');
  const multiple = a.multipleBirth === true || b.multipleBirth === true || (a.birthOrder ?? 1) > 1 || (b.birthOrder ?? 1) > 1;
  if (multiple && (a.birthOrder === undefined || b.birthOrder === undefined)) fields.push('baby.birthOrder');
  return fields.length === 0 ? { verdict: 'same' } : { verdict: 'ambiguous', fields: [...new Set(fields)] };
}

/** What applying an update to a notification's record gave. */
export interface Update {
  record: BirthNotification;
  /** Fields whose value the update replaced or filled. */
  changed: string[];
  /** Fields the update gives differently but that an update does not change (identity, life status, restriction). */
  kept: string[];
}

const UPDATED_BABY_FIELDS = ['name', 'sex', 'birthPlace', 'address'] as const;
const UPDATED_MOTHER_FIELDS = ['name', 'birthDate', 'address', 'phone', 'preferredLanguage'] as const;

/** Sets `to[key]` to `from[key]` when the update gives it and it differs. */
function replace(to: Fillable, from: Fillable, key: string, path: string, out: Update): void {
  const incoming = from[key];
  if (incoming === undefined || sameValue(to[key], incoming)) return;
  to[key] = structuredClone(incoming);
  out.changed.push(path);
}

/**
 * Applies an update (HL7 v2 A08/A31, a FHIR update) to the record of the baby's notification (not changed): unlike
 * enrichment, the update's values replace the notification's (a new address, a corrected name, a phone, a GP).
 * What the update leaves out is kept. What identifies the baby is never replaced, only filled where unknown
 * (NHS numbers, date and time of birth, birth order, multiple birth), and named as `kept` when it differs; the
 * restriction only ever rises (a record once restricted stays so); the life status is not changed here (a death
 * withdraws, elsewhere). Local identifiers are united.
 */
export function applyUpdate(current: BirthNotification, update: BirthNotification): Update {
  const out: Update = { record: structuredClone(current), changed: [], kept: [] };
  const baby = out.record.baby;
  const from = update.baby;
  const enrichment = mergeRecords(current, update);
  // Identity: filled where unknown (as enrichment does), otherwise kept.
  const identity = [
    'baby.nhsNumber',
    'baby.nhsNumberStatus',
    'baby.birthTime',
    'baby.birthOrder',
    'baby.multipleBirth',
    'mother.nhsNumber',
  ];
  for (const f of identity) {
    if (enrichment.enriched.includes(f)) out.changed.push(f);
    if (enrichment.conflicts.includes(f)) out.kept.push(f);
  }
  baby.nhsNumber = enrichment.record.baby.nhsNumber;
  if (enrichment.record.baby.nhsNumberStatus !== undefined) baby.nhsNumberStatus = enrichment.record.baby.nhsNumberStatus;
  if (enrichment.record.baby.birthTime !== undefined) baby.birthTime = enrichment.record.baby.birthTime;
  if (enrichment.record.baby.birthOrder !== undefined) baby.birthOrder = enrichment.record.baby.birthOrder;
  if (enrichment.record.baby.multipleBirth !== undefined) baby.multipleBirth = enrichment.record.baby.multipleBirth;
  if (baby.nhsNumber === undefined) delete baby.nhsNumber;
  if (from.birthDate !== baby.birthDate) out.kept.push('baby.birthDate');
  for (const key of UPDATED_BABY_FIELDS) replace(baby as unknown as Fillable, from as unknown as Fillable, key, `baby.${key}`, out);
  const before = baby.localIdentifiers.length;
  baby.localIdentifiers = enrichment.record.baby.localIdentifiers;
  if (baby.localIdentifiers.length > before) out.changed.push('baby.localIdentifiers');
  if (update.mother !== undefined) {
    if (out.record.mother === undefined) {
      out.record.mother = structuredClone(update.mother);
      out.changed.push('mother');
    } else {
      const mother = out.record.mother;
      if (mother.nhsNumber === undefined && update.mother.nhsNumber !== undefined) mother.nhsNumber = update.mother.nhsNumber;
      for (const key of UPDATED_MOTHER_FIELDS)
        replace(mother as unknown as Fillable, update.mother as unknown as Fillable, key, `mother.${key}`, out);
      const ids = mother.localIdentifiers.length;
      mother.localIdentifiers = enrichment.record.mother?.localIdentifiers ?? mother.localIdentifiers;
      if (mother.localIdentifiers.length > ids) out.changed.push('mother.localIdentifiers');
    }
  }
  if (update.gpPractice !== undefined && !sameValue(update.gpPractice, out.record.gpPractice)) {
    out.record.gpPractice = structuredClone(update.gpPractice);
    out.changed.push('gpPractice');
  }
  if (update.birthDetails !== undefined) {
    out.record.birthDetails ??= {};
    replace(out.record.birthDetails as Fillable, update.birthDetails as Fillable, 'weightGrams', 'birthDetails.weightGrams', out);
    replace(out.record.birthDetails as Fillable, update.birthDetails as Fillable, 'gestationWeeks', 'birthDetails.gestationWeeks', out);
    if (Object.keys(out.record.birthDetails).length === 0) delete out.record.birthDetails;
  }
  if (update.confidentiality !== current.confidentiality) {
    if (RESTRICTION[update.confidentiality] > RESTRICTION[current.confidentiality]) {
      out.record.confidentiality = update.confidentiality;
      out.changed.push('confidentiality');
    } else out.kept.push('confidentiality');
  }
  return out;
}
