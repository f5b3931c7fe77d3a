import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the shared test corpus lives: `STORK_CORPUS`, else `<repo>/../shared/corpus` (the repository is
 * checked out next to `shared/`). Tests read vectors from it and never copy them into the repository.
 */
export function corpusDir(): string {
  const fromEnv = process.env.STORK_CORPUS;
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  return path.resolve(repo, '..', 'shared', 'corpus');
}

/** A path inside the corpus; throws a clear error when the corpus is absent, so tests do not pass vacuously. */
export function corpusPath(...parts: string[]): string {
  const p = path.join(corpusDir(), ...parts);
  if (!existsSync(p)) throw new Error(`test corpus file missing: ${p} (set STORK_CORPUS)`);
  return p;
}
