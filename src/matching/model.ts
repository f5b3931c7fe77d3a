/**
 * The Fellegi–Sunter linkage model as data (what `mappings/matching.json` holds and what `estimateModel`
 * produces). Generic over field names so the same engine runs on the UK mother model and on the public
 * benchmark sets (FEBRL, Splink), each with its own field specification.
 */

/** How a field's two values are compared; each kind understands its own level predicates (see comparators.ts). */
export type ComparatorKind = 'name' | 'date' | 'postcode' | 'phone' | 'string';

/**
 * One comparison level: `level` is a predicate the comparator understands (`exact`, `swapped`, `first-token`, `part`,
 * `phonetic`, `jaro-winkler>=0.92`, `damerau-levenshtein<=1`, `day-month-swapped`, `off-by-one`, `sector`,
 * `district`, `area`, `same-year`, `else`), m = P(level | same person), u = P(level | different people).
 */
export interface LevelModel {
  level: string;
  m: number;
  u: number;
}

export interface FieldModel {
  /** The record's field name (`familyName`, `givenName`, …, or a benchmark column). */
  field: string;
  comparator: ComparatorKind;
  /** For names: the other name field, so a pair with given and family name swapped gets the `swapped` level. */
  swapWith?: string;
  /** Ordered from strongest agreement to `else`; the first level whose predicate holds is the pair's level. */
  levels: LevelModel[];
  /**
   * Term-frequency adjustment of the `exact` level: the weight uses the value's own frequency
   * (a common surname agreeing is weaker evidence than a rare one). Needs `termFrequencies` on the model.
   */
  termFrequency?: boolean;
}

/** How a blocking key is derived from one field's value. */
export type KeyTransform = 'value' | 'metaphone' | 'year' | 'initial' | 'outward' | 'sector' | 'last6' | 'first-token' | 'month-day';

export interface BlockingRule {
  /** Short stable name; it prefixes every key the rule makes (`dob:19850312`). */
  name: string;
  parts: { field: string; transform: KeyTransform }[];
  /** Sort the parts before joining, so a rule on two names also blocks their swapped order. */
  unordered?: boolean;
}

export interface LinkageModel {
  /** Where m and u came from (data set, method, date). */
  provenance: string;
  /** λ: prior probability that a random pair of records is the same person. */
  prior: number;
  /** Total match weight (log2 Bayes factor, prior included): >= match → 'match'; >= review → 'review'. */
  thresholds: { match: number; review: number };
  fields: FieldModel[];
  blocking: BlockingRule[];
  /**
   * Relative frequency of values of term-frequency fields (normalised value → share of records),
   * used when a field has `termFrequency`. Values not listed use the level's u.
   */
  termFrequencies?: Record<string, Record<string, number>>;
}

/** A generic record for the engine: field name → raw value (missing = undefined or empty). */
export type LinkRecord = Readonly<Record<string, string | undefined>>;

export interface Contribution<F extends string = string> {
  field: F;
  level: string;
  /** log2(m/u) for the level (term-frequency adjusted where enabled); 0 when a value is missing. */
  weight: number;
}

export type MatchBand = 'match' | 'review' | 'non-match';

export interface Score<F extends string = string> {
  /** Total match weight, prior included, log2 units. */
  weight: number;
  /** 2^w / (1 + 2^w). */
  probability: number;
  band: MatchBand;
  contributions: Contribution<F>[];
}

/** log2 prior odds of the model. */
export function priorWeight(model: LinkageModel): number {
  return Math.log2(model.prior / (1 - model.prior));
}

export function probabilityOf(weight: number): number {
  return 1 / (1 + 2 ** -weight);
}

export function bandOf(model: LinkageModel, weight: number): MatchBand {
  if (weight >= model.thresholds.match) return 'match';
  if (weight >= model.thresholds.review) return 'review';
  return 'non-match';
}
