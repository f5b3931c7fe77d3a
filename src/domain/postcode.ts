/**
 * UK postcodes (BS 7666 shape). Stork routes births to children's centres by postcode sector, so every
 * address postcode is normalised once, here, and the same derived keys (sector, district, area) are used
 * everywhere. This is a shape check only: a well-formed but non-existent postcode (`T5 1TT`) passes;
 * existence needs a real table such as ONS NSPL.
 *
 * Shape rules: outward code A9, A99, AA9, AA99, A9A or AA9A; inward code a digit and two letters (never
 * C I K M O V); positional letters: Q V X never first, I J Z never second, only ABCDEFGHJKPSTUW third
 * (A9A), only ABEHMNPRVWXY fourth (AA9A); `GIR 0AA` is accepted as a special case.
 */

const FIRST = 'A-PR-UWYZ';
const SECOND = 'A-HK-Y';
const THIRD = 'ABCDEFGHJKPSTUW';
const FOURTH = 'ABEHMNPRVWXY';
const INWARD = '[0-9][ABD-HJLNP-UW-Z]{2}';
const OUTWARD = [
  `[${FIRST}][0-9][0-9]?`,
  `[${FIRST}][${SECOND}][0-9][0-9]?`,
  `[${FIRST}][0-9][${THIRD}]`,
  `[${FIRST}][${SECOND}][0-9][${FOURTH}]`,
].join('|');
const COMPACT = new RegExp(`^(?:(${OUTWARD})(${INWARD})|(GIR)(0AA))$`);

/** The normalised form as a regular-expression source, for JSON Schemas (`LS9 7TF`, `GIR 0AA`). */
export const NORMALISED_POSTCODE_PATTERN = `^(?:(?:${OUTWARD}) ${INWARD}|GIR 0AA)$`;
/** A sector as `postcodeSector` gives it (`LS9 7`, `GIR 0`), as a regular-expression source. */
export const NORMALISED_SECTOR_PATTERN = `^(?:(?:${OUTWARD}) [0-9]|GIR 0)$`;
/** A district as `postcodeDistrict` gives it (`LS9`, `EC1A`, `GIR`), as a regular-expression source. */
export const NORMALISED_DISTRICT_PATTERN = `^(?:${OUTWARD}|GIR)$`;

/** A normalised postcode split into its parts. */
export interface PostcodeParts {
  /** `LS9 7TF` */
  postcode: string;
  /** Outward code, e.g. `LS9`, `EC1A`. */
  outward: string;
  /** Inward code, e.g. `7TF`. */
  inward: string;
}

/**
 * Parses a postcode in any case, with or without spaces between (or around) the two codes: `ls97tf`,
 * ` LS9  7TF `. Returns undefined for anything that is not a UK postcode shape.
 */
export function parsePostcode(s: string): PostcodeParts | undefined {
  if (s.length > 16) return undefined;
  const compact = s.replace(/\s+/g, '').toUpperCase();
  const m = COMPACT.exec(compact);
  if (!m) return undefined;
  const outward = m[1] ?? m[3] ?? '';
  const inward = m[2] ?? m[4] ?? '';
  return { postcode: `${outward} ${inward}`, outward, inward };
}

/** Canonical form `LS9 7TF` (upper case, one space before the inward code), or undefined when not a postcode. */
export function normalisePostcode(s: string): string | undefined {
  return parsePostcode(s)?.postcode;
}

/** Postcode sector, the routing key for children's centres: outward code, space, inward digit (`LS9 7`). */
export function postcodeSector(s: string): string | undefined {
  const p = parsePostcode(s);
  return p === undefined ? undefined : sectorOf(p);
}

/** The sector of parsed parts (`LS9 7`). */
export function sectorOf(p: PostcodeParts): string {
  return `${p.outward} ${p.inward.charAt(0)}`;
}

/**
 * Postcode district as Stork uses the word: the whole outward code (`EC1A`, `LS9`). Note that the
 * ideal-postcodes library calls `EC1` the district and `EC1A` the sub-district; Stork routes on whole
 * outward codes, so it does not strip the sub-district letter.
 */
export function postcodeDistrict(s: string): string | undefined {
  return parsePostcode(s)?.outward;
}

/** Postcode area: the leading letters of the outward code (`LS`, `E`); `GIR` for the Girobank code. */
export function postcodeArea(s: string): string | undefined {
  const p = parsePostcode(s);
  return p === undefined ? undefined : (/^[A-Z]+/.exec(p.outward)?.[0] ?? undefined);
}
