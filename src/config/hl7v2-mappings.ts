import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/config-error.js';
import { buildHl7v2Mappings, validateHl7v2MappingFile, type Hl7v2MappingSet } from '../pipeline/hl7v2/build-mappings.js';
import { loadJsonFile } from './load-json-file.js';

/** Reads and validates every `*.json` mapping in `dir`, then resolves and compiles them (src/pipeline/hl7v2/build-mappings.ts). */
export function loadHl7v2Mappings(dir: string): Hl7v2MappingSet {
  let entries: string[];
  try {
    entries = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (err) {
    throw new ConfigError(`${dir}: mapping directory cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const sources = entries.map((f) => {
    const file = path.join(dir, f);
    return { name: f.slice(0, -'.json'.length), file, data: loadJsonFile(file, validateHl7v2MappingFile) };
  });
  return buildHl7v2Mappings(sources, dir);
}
