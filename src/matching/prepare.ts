/**
 * Normalised forms of field values, computed once per record so a comparison does no string cleaning:
 * names lower-cased, accents and punctuation removed, split into tokens (hyphenated double-barrelled
 * surnames and several given names become several tokens) with their Double Metaphone codes; dates and
 * phones as digit strings; postcodes compact and split into area, district (outward code) and sector.
 */
import doubleMetaphone from 'talisman/phonetics/double-metaphone.js';
import type { ComparatorKind } from './model.js';

export interface PreparedValue {
  /** Normalised value: names as space-separated tokens, dates/phones as digits, postcodes compact upper case. */
  s: string;
  /** Name tokens (names only; otherwise [s]). */
  tokens: string[];
  /** Double Metaphone codes (primary and alternate) of the whole name, tokens joined (names only). */
  phon: string[];
  /** Dates: year, month, day as numbers (NaN when not digits). */
  ymd?: [number, number, number];
  /** Postcodes: outward code, sector (outward + inward digit), area (leading letters). */
  outward?: string;
  sector?: string;
  area?: string;
}

export function normaliseName(raw: string): string {
  return raw
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’`]/g, '')
    .replace(/[^a-z]+/g, ' ')
    .trim();
}

function prepareName(raw: string): PreparedValue | undefined {
  const s = normaliseName(raw);
  if (s === '') return undefined;
  const tokens = s.split(' ');
  return { s, tokens, phon: codes(tokens.join('')) };
}

function prepareDate(raw: string): PreparedValue | undefined {
  const s = raw.replace(/[^0-9]/g, '');
  if (s === '') return undefined;
  const ymd: [number, number, number] =
    s.length === 8 ? [Number(s.slice(0, 4)), Number(s.slice(4, 6)), Number(s.slice(6, 8))] : [NaN, NaN, NaN];
  return { s, tokens: [s], phon: [], ymd };
}

function preparePostcode(raw: string): PreparedValue | undefined {
  const s = raw.replace(/\s+/g, '').toUpperCase();
  if (s === '') return undefined;
  if (s.length >= 5 && /^[A-Z]/.test(s)) {
    const outward = s.slice(0, -3);
    return { s, tokens: [s], phon: [], outward, sector: outward + s.charAt(s.length - 3), area: /^[A-Z]+/.exec(s)?.[0] ?? '' };
  }
  return { s, tokens: [s], phon: [] };
}

function preparePhone(raw: string): PreparedValue | undefined {
  let s = raw.replace(/[^0-9]/g, '');
  if (s.startsWith('44') && s.length === 12) s = '0' + s.slice(2);
  if (s === '') return undefined;
  return { s, tokens: [s], phon: [] };
}

/** Names repeat a great deal in a register, and Double Metaphone costs ~10 µs: remember recent codes. */
const codeCache = new Map<string, string[]>();
const CODE_CACHE_LIMIT = 200_000;

function codes(letters: string): string[] {
  if (letters === '') return [];
  const cached = codeCache.get(letters);
  if (cached) return cached;
  const [primary, alternate] = doubleMetaphone(letters);
  const out = primary === '' ? [] : primary === alternate ? [primary] : [primary, alternate];
  if (codeCache.size >= CODE_CACHE_LIMIT) codeCache.clear();
  codeCache.set(letters, out);
  return out;
}

/** Free text (addresses, places, identifiers): lower case, single spaces; Double Metaphone of its letters for blocking. */
function prepareString(raw: string): PreparedValue | undefined {
  const s = raw.trim().toLowerCase().replace(/\s+/g, ' ');
  return s === '' ? undefined : { s, tokens: [s], phon: codes(normaliseName(s).replace(/ /g, '')) };
}

export function prepareValue(kind: ComparatorKind, raw: string | undefined): PreparedValue | undefined {
  if (raw === undefined) return undefined;
  switch (kind) {
    case 'name':
      return prepareName(raw);
    case 'date':
      return prepareDate(raw);
    case 'postcode':
      return preparePostcode(raw);
    case 'phone':
      return preparePhone(raw);
    case 'string':
      return prepareString(raw);
  }
}
