import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/config-error.js';
import { buildFhirMappings, validateFhirMappingFile, type FhirMappingSet } from '../pipeline/fhir/fhir-mapping.js';
import { loadJsonFile } from './load-json-file.js';

/**
 * Reads and validates every `*.json` FHIR mapping in `dir` (`mappings/fhir`), then checks and builds them
 * (src/pipeline/fhir/fhir-mapping.ts). A configuration folder without the folder has no FHIR mappings.
 */
export function loadFhirMappings(dir: string): FhirMappingSet {
  let entries: string[];
  try {
    entries = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return buildFhirMappings([]);
    throw new ConfigError(`${dir}: mapping directory cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const problems: string[] = [];
  const sources = entries.flatMap((f) => {
    const file = path.join(dir, f);
    try {
      return [{ name: f.slice(0, -'.json'.length), file, data: loadJsonFile(file, validateFhirMappingFile) }];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return [];
    }
  });
  const built = (() => {
    try {
      return buildFhirMappings(sources);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  })();
  if (problems.length > 0 || !built) throw new ConfigError(problems.join('\n'), problems);
  return built;
}
