import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../src/config/env.js';
import { pollUntil } from './poll.js';

/** The newest modification time of the files `npm run build` compiles (tsconfig.build.json's folders), and tsconfigs. */
function newestSource(): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else newest = Math.max(newest, statSync(file).mtimeMs);
    }
  };
  for (const dir of ['src', 'adapters', 'test/bench', 'test/support/synthetic']) walk(path.join(repoRoot, dir));
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package.json'])
    newest = Math.max(newest, statSync(path.join(repoRoot, file)).mtimeMs);
  return newest;
}

/**
 * `npm run build` for the tests that run the built hub (`dist/`) as a child process. Jest runs two test files at once,
 * and two builds writing the same `dist/` files at once could hand one test a half-written module: a lock directory
 * (mkdir is atomic) lets one build at a time, the other polling for it with a deadline. A build whose stamp is newer
 * than every source it compiles is not repeated (the second test of a run reuses the first one's).
 */
export async function buildHub(timeoutMs = 300_000): Promise<void> {
  const lock = path.join(repoRoot, 'dist.build-lock');
  await pollUntil(
    () => {
      try {
        mkdirSync(lock);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
        throw err;
      }
    },
    `the build lock ${lock} (remove it if no build is running)`,
    timeoutMs,
  );
  const stamp = path.join(repoRoot, 'dist', '.build-stamp');
  try {
    if (existsSync(stamp) && statSync(stamp).mtimeMs > newestSource()) return;
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    writeFileSync(stamp, '');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
