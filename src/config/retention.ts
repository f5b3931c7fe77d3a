import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ConfigError } from '../domain/config-error.js';
import { retentionProblems, validateRetentionFile, type RetentionConfig } from '../domain/retention-policy.js';
import { canonicalJson } from '../pipeline/consent/rulebook.js';
import { loadJsonFile } from './load-json-file.js';

/** A loaded retention file: its settings, and the SHA-256 of its canonical content (each purge's audit names it). */
export interface LoadedRetention {
  file: string;
  config: RetentionConfig;
  sha256: string;
}

function knownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads `mappings/retention.json` (issue 14 item 6), checked against its JSON Schema (a zero or negative period is
 * refused there) and then semantically (a known time zone; message periods not shorter than the replay horizon). A
 * bad file throws ConfigError naming the file and the field. A folder without the file has no retention job
 * (undefined): the caller says so in the log.
 */
export function loadRetention(file: string): LoadedRetention | undefined {
  if (!existsSync(file)) return undefined;
  const config = loadJsonFile(file, validateRetentionFile);
  const problems = retentionProblems(config, knownTimeZone).map((p) => `${file}: ${p}`);
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  const { $comment: _comment, ...content } = config as RetentionConfig & { $comment?: string };
  return { file, config, sha256: createHash('sha256').update(canonicalJson(content)).digest('hex') };
}
