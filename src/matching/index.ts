/** Probabilistic family matching (Fellegi–Sunter) for mothers without an NHS-number match. Pure: no I/O. */
export {
  blockingKeys,
  MATCH_FIELDS,
  personRecord,
  rankCandidates,
  scorePair,
  type FieldContribution,
  type MatchBand,
  type MatchField,
  type MatchModel,
  type MatchScore,
  type PersonForMatching,
} from './person.js';
export type {
  BlockingRule,
  ComparatorKind,
  Contribution,
  FieldModel,
  KeyTransform,
  LevelModel,
  LinkageModel,
  LinkRecord,
  Score,
} from './model.js';
export { bandOf, probabilityOf, priorWeight } from './model.js';
export { LEVELS_BY_KIND } from './comparators.js';
export { compileModel, pairWeight, prepareRecord, recordKeys, scorePrepared, type PreparedRecord } from './engine.js';
export { estimateModel, seededRandom, type EstimateOptions, type EstimateReport } from './estimate.js';
export { CandidateIndex } from './candidate-index.js';
