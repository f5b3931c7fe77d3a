/**
 * Deterministic synthetic newborn ADT messages (UK ITK ADT^A28 v2.4 style, NK1 mother) for tests and the
 * benchmark. No public UK newborn ADT sample exists, so Stork generates its own. Seeded PRNG, no
 * dependencies, no jest types: compiled by tsconfig.build.json for `npm run bench`.
 * All NHS numbers are in the 999 synthetic range and pass Modulus 11 unless `invalidNhsNumber` is set.
 */
import { zoneOffsetMinutes } from '../../../src/domain/hl7-datetime.js';
import { nhsCheckDigit } from '../../../src/domain/nhs-number.js';

/** Options; everything has a deterministic default derived from `seed`. */
export interface NewbornAdtOptions {
  seed?: number;
  /** Trigger event (default A28). A non-birth case: `event: 'A08', adult: true`. */
  event?: string;
  /** MSH-7 / EVN-2 (default 2025-06-15T09:00:00Z). */
  messageTime?: Date;
  /** Birth this many minutes before messageTime (default: seeded, 10 minutes to 2 days). */
  ageMinutes?: number;
  /** Postcodes to choose from (default a few Leeds and Wakefield ones). */
  postcodes?: readonly string[];
  /** Twins: which baby (1 or 2); sets PID-24 `Y` and PID-25. */
  birthOrder?: 1 | 2;
  /** Twin pair shares mother, surname, address; pass the same seed for both babies. */
  deceased?: boolean;
  restricted?: boolean;
  invalidNhsNumber?: boolean;
  /** An adult patient (born 1985) with no mother: not a newborn. */
  adult?: boolean;
  lineEnding?: '\r' | '\n' | '\r\n';
  /** Put HL7 escapes (`\T\`, `\S\`, `\F\`, `\R\`, `\E\`) in names and addresses. */
  escapes?: boolean;
  /** Mother in NK1 (default), only PID-21, or both. */
  motherVia?: 'nk1' | 'pid21' | 'both';
  /** Northvale quirks: NHS number in PID-2, NK1-3 `16`, restriction in ZU1-3. */
  northvale?: boolean;
  sendingApplication?: string;
  sendingFacility?: string;
  controlId?: string;
  /** No NHS number for the baby yet (PID-3 the hospital number only, no PID-32): a trust's ADT before NHS number allocation. */
  withoutNhsNumber?: boolean;
  /** PID-32 (default NSTS01, verified). */
  nhsNumberStatus?: string;
  /** Exactly this time of birth (overrides ageMinutes), e.g. to send the same baby by another route. */
  birthTime?: Date;
  /** Add OBX birth weight and gestation (default true). */
  observations?: boolean;
}

/** What the generated message says, decoded, for assertions. */
export interface SyntheticNewborn {
  controlId: string;
  event: string;
  baby: {
    nhsNumber: string;
    mrn: string;
    family: string;
    given: string;
    sex: 'male' | 'female';
    /** HL7 local date/time text as sent in PID-7 (Europe/London wall time). */
    birthDateTimeText: string;
    birthDate: string;
    birthOrder?: number;
    deceased: boolean;
    addressLines: string[];
    postcode: string;
  };
  mother?: { nhsNumber: string; family: string; given: string; birthDate: string };
  weightGrams: number;
  gestationWeeks: number;
  restricted: boolean;
}

/** mulberry32: tiny, fast, good enough for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAMILIES = ['SMITH', 'JONES', 'TAYLOR', 'BROWN', 'KHAN', 'PATEL', 'WILLIAMS', 'OKAFOR', 'NOWAK', 'EVANS'];
const BOYS = ['OLIVER', 'GEORGE', 'MUHAMMAD', 'NOAH', 'ARTHUR', 'LEO'];
const GIRLS = ['OLIVIA', 'AMELIA', 'ISLA', 'AVA', 'LILY', 'FREYA'];
const MOTHERS = ['SARAH', 'AISHA', 'EMMA', 'CHLOE', 'PRIYA', 'JOANNA'];
const STREETS = ['MILL LANE', 'CHURCH STREET', 'VICTORIA ROAD', 'PARK AVENUE', 'STATION ROAD'];
const DEFAULT_POSTCODES = ['LS9 7TF', 'LS17 7DF', 'LS8 3DR', 'WF1 1XX', 'WF14 0BQ'];

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** A 999-range NHS number passing Modulus 11 (or, when `invalid`, failing it). */
export function syntheticNhsNumber(r: () => number, invalid = false): string {
  for (;;) {
    const first9 = `999${pad(Math.floor(r() * 1_000_000), 6)}`;
    const check = nhsCheckDigit(first9);
    if (check === undefined) continue;
    return `${first9}${invalid ? (check + 1 + Math.floor(r() * 9)) % 10 : check}`;
  }
}

/** Europe/London wall-clock text `YYYYMMDDHHMMSS` (ITK senders send local time without an offset). */
export function londonHl7Time(d: Date, withSeconds = true): string {
  const local = new Date(d.getTime() + zoneOffsetMinutes(d.getTime()) * 60000);
  const s = `${local.getUTCFullYear()}${pad(local.getUTCMonth() + 1)}${pad(local.getUTCDate())}${pad(local.getUTCHours())}${pad(local.getUTCMinutes())}`;
  return withSeconds ? `${s}${pad(local.getUTCSeconds())}` : s;
}

/** Builds `SEG|f1|f2…` from a sparse field list, dropping trailing empty fields. */
function seg(type: string, fields: Record<number, string | undefined>): string {
  const max = Math.max(0, ...Object.keys(fields).map(Number));
  const out: string[] = [type];
  for (let i = 1; i <= max; i++) out.push(fields[i] ?? '');
  return out.join('|');
}

/** Describes (deterministically) the newborn the options produce. */
export function describeNewborn(o: NewbornAdtOptions = {}): SyntheticNewborn & { text: string } {
  const r = prng(o.seed ?? 1);
  const messageTime = o.messageTime ?? new Date('2025-06-15T09:00:00Z');
  const ageMinutes = o.adult ? 0 : (o.ageMinutes ?? 30 + Math.floor(r() * 2850));
  // A second twin is born a few minutes after the first.
  const twinDelay = ((o.birthOrder ?? 1) - 1) * 14;
  const birth = o.adult
    ? new Date('1985-03-02T12:00:00Z')
    : (o.birthTime ?? new Date(messageTime.getTime() - (ageMinutes - twinDelay) * 60000));
  const birthText = o.adult ? '19850302' : londonHl7Time(birth);
  const family = pick(r, FAMILIES);
  const motherFamily = family;
  const motherGiven = pick(r, MOTHERS);
  const postcode = pick(r, o.postcodes ?? DEFAULT_POSTCODES);
  const house = 1 + Math.floor(r() * 120);
  const street = pick(r, STREETS);
  const motherNhs = syntheticNhsNumber(r);
  const motherBirthYear = 1985 + Math.floor(r() * 18);
  const motherBirthText = `${motherBirthYear}${pad(1 + Math.floor(r() * 12))}${pad(1 + Math.floor(r() * 28))}`;
  const weight = 2200 + Math.floor(r() * 2200);
  const gestation = 34 + Math.floor(r() * 8);
  const gp = pick(r, [
    ['LEEDS CITY MEDICAL PRACTICE', 'B86001'],
    ['WAKEFIELD HEALTH CENTRE', 'C12345'],
  ] as const);
  // Per-baby values come after the shared ones, so twins (same seed) share mother and address.
  const r2 = prng((o.seed ?? 1) * 7919 + (o.birthOrder ?? 0) * 104_729);
  const sex: 'male' | 'female' = r2() < 0.5 ? 'male' : 'female';
  const given = pick(r2, sex === 'male' ? BOYS : GIRLS);
  const nhs = syntheticNhsNumber(r2, o.invalidNhsNumber);
  const mrn = `RR8${pad(Math.floor(r2() * 10_000_000), 7)}`;

  const esc = o.escapes === true;
  const familyWire = esc ? `${family} \\T\\ ${motherGiven.slice(0, 1)}` : family;
  const familyDecoded = esc ? `${family} & ${motherGiven.slice(0, 1)}` : family;
  const line1Wire = esc ? `FLAT ${house} \\T\\ ${house + 1} ${street}` : `${house} ${street}`;
  const line1 = esc ? `FLAT ${house} & ${house + 1} ${street}` : `${house} ${street}`;
  const line2Wire = esc ? 'BLOCK\\S\\C \\F\\ UNIT\\R\\2 \\E\\ REAR' : '';
  const line2 = esc ? 'BLOCK^C | UNIT~2 \\ REAR' : '';
  const addressLines = [line1, ...(line2 ? [line2] : [])];
  const app = o.sendingApplication ?? 'PAS';
  const facility = o.sendingFacility ?? 'RR8';
  const controlId = o.controlId ?? `SYN${pad(Math.floor(r() * 1e9), 9)}`;
  const event = o.event ?? 'A28';
  const structure = event === 'A01' || event === 'A04' || event === 'A08' ? 'ADT_A01' : 'ADT_A05';
  const address = `${line1Wire}^${line2Wire}^LEEDS^WEST YORKSHIRE^${postcode}^GBR^H`;
  const withMother = !o.adult;
  const via = o.motherVia ?? 'nk1';
  const nv = o.northvale === true;
  const msgText = londonHl7Time(messageTime);

  const segments = [
    seg('MSH', {
      1: '^~\\&',
      2: app,
      3: facility,
      4: 'STORK',
      5: 'STORK',
      6: msgText,
      8: `ADT^${event}^${structure}`,
      9: controlId,
      10: 'P',
      11: '2.4',
      14: 'AL',
      15: 'NE',
      16: 'GBR',
      17: 'UNICODE',
      18: 'EN',
      20: 'iTKv1.0',
    }),
    seg('EVN', { 2: msgText, 6: msgText }),
    seg('PID', {
      1: '1',
      ...(nv ? { 2: nhs } : {}),
      3: nv || o.withoutNhsNumber === true ? `${mrn}^^^${facility}^MR` : `${nhs}^^^NHS^NH~${mrn}^^^${facility}^MR`,
      5: o.adult ? `${family}^${motherGiven}^^^MRS^^L` : `${familyWire}^${given}^^^^^L`,
      7: birthText,
      8: o.adult ? 'F' : sex === 'male' ? 'M' : 'F',
      11: address,
      13: `0113${pad(Math.floor(r() * 10_000_000), 7)}`,
      15: 'EN',
      ...(withMother && via !== 'nk1' ? { 21: `${motherNhs}^^^NHS^NH` } : {}),
      23: o.adult ? '' : 'LEEDS GENERAL INFIRMARY',
      24: o.birthOrder ? 'Y' : 'N',
      ...(o.birthOrder ? { 25: String(o.birthOrder) } : {}),
      ...(o.deceased ? { 29: londonHl7Time(new Date(birth.getTime() + 5 * 60000)), 30: 'Y' } : {}),
      ...(o.withoutNhsNumber === true ? {} : { 32: o.nhsNumberStatus ?? 'NSTS01' }),
    }),
    seg('PD1', { 3: `${gp[0]}^^${gp[1]}`, ...(o.restricted && !nv ? { 12: 'Y' } : {}) }),
  ];
  if (withMother && via !== 'pid21') {
    segments.push(
      seg('NK1', {
        1: '1',
        2: `${motherFamily}^${motherGiven}^^^MRS^^L`,
        3: nv ? '16' : 'MTH^Mother^HL70063',
        4: address,
        5: `07700${pad(Math.floor(r() * 1_000_000), 6)}`,
        16: motherBirthText,
        20: 'EN',
        33: `${motherNhs}^^^NHS^NH`,
      }),
    );
  }
  segments.push(seg('PV1', { 1: '1', 2: o.adult ? 'O' : 'I', 3: `${facility}^NNU^COT1` }));
  if (!o.adult) segments.push(seg('PV2', { 36: 'Y' }));
  if (!o.adult && o.observations !== false) {
    segments.push(seg('OBX', { 1: '1', 2: 'NM', 3: '8339-4^Birth weight^LN', 5: String(weight), 6: 'g', 11: 'F' }));
    segments.push(seg('OBX', { 1: '2', 2: 'NM', 3: '18185-9^Gestational age^LN', 5: String(gestation), 6: 'wk', 11: 'F' }));
  }
  if (nv && o.restricted) segments.push(seg('ZU1', { 1: msgText, 2: '1', 3: 'R' }));

  return {
    text: segments.join(o.lineEnding ?? '\r') + (o.lineEnding ?? '\r'),
    controlId,
    event,
    baby: {
      nhsNumber: nhs,
      mrn,
      family: o.adult ? family : familyDecoded,
      given: o.adult ? motherGiven : given,
      sex,
      birthDateTimeText: birthText,
      birthDate: `${birthText.slice(0, 4)}-${birthText.slice(4, 6)}-${birthText.slice(6, 8)}`,
      ...(o.birthOrder ? { birthOrder: o.birthOrder } : {}),
      deceased: o.deceased === true,
      addressLines,
      postcode,
    },
    ...(withMother
      ? {
          mother: {
            nhsNumber: motherNhs,
            family: motherFamily,
            given: motherGiven,
            birthDate: `${motherBirthText.slice(0, 4)}-${motherBirthText.slice(4, 6)}-${motherBirthText.slice(6, 8)}`,
          },
        }
      : {}),
    weightGrams: weight,
    gestationWeeks: gestation,
    restricted: o.restricted === true,
  };
}

/** The message text only: the hot path for the benchmark. */
/**
 * `count` seeds from `first` on whose babies all have different NHS numbers. The 999 range holds under a million
 * valid numbers, so about two babies of 2,000 consecutive seeds share one, and the hub rightly takes the second as
 * the same baby (a duplicate): streams that count each birth once use these seeds.
 */
export function distinctSeeds(count: number, first: number): number[] {
  const seen = new Set<string>();
  const seeds: number[] = [];
  for (let seed = first; seeds.length < count; seed++) {
    const nhs = describeNewborn({ seed }).baby.nhsNumber;
    if (seen.has(nhs)) continue;
    seen.add(nhs);
    seeds.push(seed);
  }
  return seeds;
}

export function newbornAdt(options: NewbornAdtOptions = {}): string {
  return describeNewborn(options).text;
}
