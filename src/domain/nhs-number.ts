/**
 * NHS number rules (NHS Data Dictionary): ten digits, the tenth a Modulus 11 check digit over the first
 * nine (weights 10…2; 11 − (sum mod 11); 11 → 0; 10 → no valid number).
 *
 * Decisions, kept here so every stage agrees:
 * - `isValidNhsNumber` is the checksum only, on exactly ten ASCII digits. It does not apply issuing-range
 *   rules: `0000000000` and `1111111111` pass Modulus 11 and are accepted (the shared corpus shows
 *   `1111111111`, `3333333333` and `9999999999` in real test feeds). Range policy, if ever wanted, belongs
 *   in a separate rule so that it can be switched per feed.
 * - `normaliseNhsNumber` accepts only `DDDDDDDDDD` or `DDD DDD DDDD` (single ASCII spaces), after trimming
 *   outer spaces; hyphens, tabs, NBSP, other groupings and non-ASCII digits are rejected, so that a
 *   mistyped identifier is never silently "repaired" into someone else's number.
 */

const TEN_DIGITS = /^[0-9]{10}$/;
const SPACED = /^([0-9]{3}) ([0-9]{3}) ([0-9]{4})$/;

/**
 * The Modulus 11 check digit for the first nine digits, or undefined when no digit fits (raw result 10)
 * or the input is not nine ASCII digits. Exported for the synthetic-data generator and tests.
 */
export function nhsCheckDigit(first9: string): number | undefined {
  if (!/^[0-9]{9}$/.test(first9)) return undefined;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (first9.charCodeAt(i) - 48) * (10 - i);
  const raw = 11 - (sum % 11);
  if (raw === 11) return 0;
  if (raw === 10) return undefined;
  return raw;
}

/** True when `s` is exactly ten ASCII digits whose last digit is the Modulus 11 check digit. */
export function isValidNhsNumber(s: string): boolean {
  if (!TEN_DIGITS.test(s)) return false;
  const check = nhsCheckDigit(s.slice(0, 9));
  return check !== undefined && check === s.charCodeAt(9) - 48;
}

/**
 * Shape normalisation for an NHS number as received (`9434765919`, `943 476 5919`, with outer spaces):
 * returns the ten digits, or undefined for any other shape. It does not check the check digit.
 */
export function normaliseNhsNumber(s: string): string | undefined {
  const t = s.replace(/^ +| +$/g, '');
  if (TEN_DIGITS.test(t)) return t;
  const m = SPACED.exec(t);
  return m ? `${m[1]}${m[2]}${m[3]}` : undefined;
}

/** Display form `DDD DDD DDDD` for letters and screens; undefined when not ten digits. */
export function formatNhsNumber(s: string): string | undefined {
  const n = normaliseNhsNumber(s);
  return n === undefined ? undefined : `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;
}

/** Normalise then check: the single call the pipeline uses on received values. */
export function parseNhsNumber(s: string): { ok: true; value: string } | { ok: false; reason: 'shape' | 'check-digit' } {
  const n = normaliseNhsNumber(s);
  if (n === undefined) return { ok: false, reason: 'shape' };
  return isValidNhsNumber(n) ? { ok: true, value: n } : { ok: false, reason: 'check-digit' };
}
