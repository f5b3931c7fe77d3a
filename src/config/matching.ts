import path from 'node:path';
import { ConfigError } from '../domain/config-error.js';
import { compileModel } from '../matching/engine.js';
import { validateLinkageModel } from '../matching/model-schema.js';
import { MATCH_FIELDS, type MatchModel } from '../matching/person.js';
import { repoRoot } from './env.js';
import { loadJsonFile } from './load-json-file.js';

/**
 * Reads the family-matching model (Fellegi–Sunter levels with m and u, prior, thresholds, blocking
 * rules), checks it against its JSON Schema, then semantically: fields are the five the matcher
 * compares, every level is one its comparator knows and ends with `else`, m and u of each field sum to
 * about 1, the review threshold is not above the match threshold, blocking rules use model fields.
 * A bad file throws ConfigError naming the file and the field. A relative path is taken from the repository root.
 */
export function loadMatchModel(file = 'mappings/matching.json'): MatchModel {
  const full = path.isAbsolute(file) ? file : path.join(repoRoot, file);
  const model = loadJsonFile(full, validateLinkageModel);
  const problems: string[] = [];
  model.fields.forEach((f, i) => {
    if (!(MATCH_FIELDS as readonly string[]).includes(f.field)) {
      problems.push(`field /fields/${i}/field: '${f.field}' is not one of ${MATCH_FIELDS.join(', ')}`);
    }
    for (const p of ['m', 'u'] as const) {
      const sum = f.levels.reduce((t, l) => t + l[p], 0);
      if (Math.abs(sum - 1) > 0.01) problems.push(`field /fields/${i}/levels: the ${p} probabilities sum to ${sum.toFixed(4)}, not 1`);
    }
  });
  if (model.thresholds.review > model.thresholds.match) {
    problems.push('field /thresholds/review: must not be above /thresholds/match');
  }
  if (problems.length === 0) {
    try {
      compileModel(model);
    } catch (err) {
      problems.push(`field /${(err as Error).message}`);
    }
  }
  if (problems.length > 0) {
    const named = problems.map((p) => `${full}: ${p}`);
    throw new ConfigError(named.join('\n'), named);
  }
  return model;
}
