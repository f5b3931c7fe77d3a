import { buildRulebook, validateRulebookFile, type Rulebook } from '../pipeline/consent/rulebook.js';
import { loadJsonFile } from './load-json-file.js';

/**
 * Reads and validates a consent rulebook. Throws ConfigError naming the file and field for schema
 * violations, unknown condition or dataset names, and any breach of the safety rules.
 */
export function loadRulebook(file: string): Rulebook {
  return buildRulebook(loadJsonFile(file, validateRulebookFile), file);
}
