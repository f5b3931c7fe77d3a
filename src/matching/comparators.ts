/**
 * Comparison-level predicates. A field's levels are ordered from strongest agreement to `else`; the first
 * level whose predicate holds for the pair is the pair's level on that field. String metrics come from
 * `talisman` (Jaro–Winkler, Damerau–Levenshtein, Double Metaphone).
 */
import damerauLevenshtein from 'talisman/metrics/damerau-levenshtein.js';
import jaroWinkler from 'talisman/metrics/jaro-winkler.js';
import type { ComparatorKind } from './model.js';
import type { PreparedValue } from './prepare.js';

/** Both sides of one field, and for names the other name field of each side (for the swap level). */
export interface FieldPair {
  a: PreparedValue;
  b: PreparedValue;
  aSwap: PreparedValue | undefined;
  bSwap: PreparedValue | undefined;
  /** Memo of the pair's Jaro–Winkler similarity (computed at most once). */
  jw: number;
}

export type LevelPredicate = (p: FieldPair) => boolean;

const GENERIC = ['exact', 'else', 'jaro-winkler>=x', 'damerau-levenshtein<=k'];
export const LEVELS_BY_KIND: Record<ComparatorKind, readonly string[]> = {
  name: [...GENERIC, 'swapped', 'first-token', 'part', 'phonetic', 'initial'],
  date: [...GENERIC, 'day-month-swapped', 'off-by-one', 'same-year', 'same-year-month'],
  postcode: [...GENERIC, 'sector', 'district', 'area'],
  phone: [...GENERIC, 'last-6'],
  string: [...GENERIC],
};

/** Largest similarity over the whole names and their first tokens (a second given name does not hide a match). */
function jw(p: FieldPair): number {
  if (p.jw < 0) {
    let best = jaroWinkler(p.a.s, p.b.s);
    const a0 = p.a.tokens[0] ?? '';
    const b0 = p.b.tokens[0] ?? '';
    if ((p.a.tokens.length > 1 || p.b.tokens.length > 1) && a0 !== '' && b0 !== '') {
      best = Math.max(best, jaroWinkler(a0, b0));
    }
    p.jw = best;
  }
  return p.jw;
}

function shareToken(a: PreparedValue, b: PreparedValue): boolean {
  for (const t of a.tokens) if (t.length >= 2 && b.tokens.includes(t)) return true;
  return false;
}

/** One side's name equals the other side's other name field (given and family name written in the wrong order). */
function swapped(p: FieldPair): boolean {
  return (
    (p.bSwap !== undefined && (p.a.s === p.bSwap.s || shareToken(p.a, p.bSwap))) ||
    (p.aSwap !== undefined && (p.aSwap.s === p.b.s || shareToken(p.aSwap, p.b)))
  );
}

function offByOne(a: [number, number, number], b: [number, number, number]): boolean {
  let differing = 0;
  let oneApart = false;
  for (let i = 0; i < 3; i++) {
    if (a[i] !== b[i]) {
      differing++;
      oneApart = Math.abs((a[i] ?? 0) - (b[i] ?? 0)) === 1;
    }
  }
  return differing === 1 && oneApart;
}

/** Compiles a level name into its predicate, or throws an Error naming what is wrong. */
export function compileLevel(kind: ComparatorKind, level: string): LevelPredicate {
  const jwm = /^jaro-winkler>=(0(?:\.\d+)?|1)$/.exec(level);
  if (jwm) {
    const t = Number(jwm[1]);
    return (p) => jw(p) >= t;
  }
  const dlm = /^damerau-levenshtein<=([1-9])$/.exec(level);
  if (dlm) {
    const k = Number(dlm[1]);
    return (p) => damerauLevenshtein(p.a.s, p.b.s) <= k;
  }
  if (level === 'exact') return (p) => p.a.s === p.b.s;
  if (level === 'else') return () => true;
  const unknown = new Error(`level '${level}' is not one the '${kind}' comparator knows (${LEVELS_BY_KIND[kind].join(', ')})`);
  switch (kind) {
    case 'name':
      if (level === 'swapped') return swapped;
      if (level === 'first-token') return (p) => p.a.tokens[0] === p.b.tokens[0] && (p.a.tokens[0]?.length ?? 0) >= 2;
      if (level === 'part') return (p) => shareToken(p.a, p.b);
      if (level === 'phonetic') return (p) => p.a.phon.some((c) => p.b.phon.includes(c));
      if (level === 'initial') return (p) => p.a.s.startsWith(p.b.s.charAt(0));
      throw unknown;
    case 'date':
      if (level === 'day-month-swapped')
        return (p) => {
          const a = p.a.ymd;
          const b = p.b.ymd;
          if (a === undefined || b === undefined) return false;
          return a[0] === b[0] && a[1] === b[2] && a[2] === b[1] && a[1] !== a[2];
        };
      if (level === 'off-by-one') return (p) => p.a.ymd !== undefined && p.b.ymd !== undefined && offByOne(p.a.ymd, p.b.ymd);
      if (level === 'same-year') return (p) => p.a.s.length === 8 && p.a.s.slice(0, 4) === p.b.s.slice(0, 4);
      if (level === 'same-year-month') return (p) => p.a.s.length === 8 && p.a.s.slice(0, 6) === p.b.s.slice(0, 6);
      throw unknown;
    case 'postcode':
      if (level === 'sector') return (p) => p.a.sector !== undefined && p.a.sector === p.b.sector;
      if (level === 'district') return (p) => p.a.outward !== undefined && p.a.outward === p.b.outward;
      if (level === 'area') return (p) => p.a.area !== undefined && p.a.area !== '' && p.a.area === p.b.area;
      throw unknown;
    case 'phone':
      if (level === 'last-6') return (p) => p.a.s.length >= 6 && p.a.s.slice(-6) === p.b.s.slice(-6);
      throw unknown;
    case 'string':
      throw unknown;
  }
}
