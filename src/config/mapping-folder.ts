import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/config-error.js';

/**
 * The `*.json` files of a mapping folder, sorted, each with its name (the file name without `.json`). A folder
 * that cannot be read stops start-up naming it; with `missingIsEmpty`, a folder that does not exist has none.
 */
export function mappingFiles(dir: string, options: { missingIsEmpty?: boolean } = {}): { name: string; file: string }[] {
  let entries: string[];
  try {
    entries = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.missingIsEmpty === true) return [];
    throw new ConfigError(`${dir}: mapping directory cannot be read (${code ?? 'error'})`);
  }
  return entries.map((f) => ({ name: f.slice(0, -'.json'.length), file: path.join(dir, f) }));
}
