import { ConfigError } from '../domain/config-error.js';
import { buildFhirMappings, validateFhirMappingFile, type FhirMappingSet } from '../pipeline/fhir/fhir-mapping.js';
import { loadJsonFile } from './load-json-file.js';
import { mappingFiles } from './mapping-folder.js';

/**
 * Reads and validates every `*.json` FHIR mapping in `dir` (`mappings/fhir`), then checks and builds them
 * (src/pipeline/fhir/fhir-mapping.ts). A configuration folder without the folder has no FHIR mappings.
 */
export function loadFhirMappings(dir: string): FhirMappingSet {
  const problems: string[] = [];
  const sources = mappingFiles(dir, { missingIsEmpty: true }).flatMap(({ name, file }) => {
    try {
      return [{ name, file, data: loadJsonFile(file, validateFhirMappingFile) }];
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
