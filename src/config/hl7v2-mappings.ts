import { buildHl7v2Mappings, validateHl7v2MappingFile, type Hl7v2MappingSet } from '../pipeline/hl7v2/build-mappings.js';
import { loadJsonFile } from './load-json-file.js';
import { mappingFiles } from './mapping-folder.js';

/** Reads and validates every `*.json` mapping in `dir`, then resolves and compiles them (src/pipeline/hl7v2/build-mappings.ts). */
export function loadHl7v2Mappings(dir: string): Hl7v2MappingSet {
  const sources = mappingFiles(dir).map(({ name, file }) => ({ name, file, data: loadJsonFile(file, validateHl7v2MappingFile) }));
  return buildHl7v2Mappings(sources, dir);
}
