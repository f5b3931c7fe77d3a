import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/config-error.js';

/** A fresh temporary copy of the repository's sample configuration, for a test to change. */
export function copySampleConfig(prefix = 'stork-config-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  cpSync(path.join(repoRoot, 'mappings'), path.join(dir, 'mappings'), { recursive: true });
  cpSync(path.join(repoRoot, 'consent-rules'), path.join(dir, 'consent-rules'), { recursive: true });
  return dir;
}

/** The ConfigError thrown by `fn`; fails the test when it throws nothing or something else. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
