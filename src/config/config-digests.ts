import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** A configuration file as start-up read it: its path in the configuration folder and the SHA-256 of its bytes. */
export interface ConfigFileDigest {
  file: string;
  sha256: string;
  bytes: number;
}

/** The folders of a configuration folder whose files configure Stork (keys and certificates are not among them). */
const CONFIG_FOLDERS = ['mappings', 'consent-rules'];

/**
 * Every configuration file (`.json` under mappings/ and consent-rules/, recursively), in path order, with its
 * content hash: what the `config-loaded` audit events of a start-up record, so an IG lead can tell which
 * catchments, feeds, mappings and agreements were in force when.
 */
export function configFileDigests(configDir: string): ConfigFileDigest[] {
  const out: ConfigFileDigest[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const full = path.join(dir, name);
      const stat = statSync(full);
      if (stat.isDirectory()) walk(full);
      else if (name.endsWith('.json')) {
        const bytes = readFileSync(full);
        out.push({
          file: path.relative(configDir, full).split(path.sep).join('/'),
          sha256: createHash('sha256').update(bytes).digest('hex'),
          bytes: bytes.length,
        });
      }
    }
  };
  for (const folder of CONFIG_FOLDERS) walk(path.join(configDir, folder));
  return out;
}
