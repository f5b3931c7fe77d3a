import { buildCatchments, validateCatchmentsFile, type Catchments } from '../pipeline/catchments.js';
import { loadJsonFile } from './load-json-file.js';

/**
 * Reads and validates a catchments file (schema, then semantic checks) and indexes it for routing.
 * Throws ConfigError naming the file and each offending field, so a bad catchment stops start-up.
 */
export function loadCatchments(file: string): Catchments {
  return buildCatchments(loadJsonFile(file, validateCatchmentsFile), file);
}
