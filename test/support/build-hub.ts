import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../src/config/env.js';
import { pollUntil } from './poll.js';

/**
 * `npm run build` for the tests that run the built hub (`dist/`) as a child process. Jest runs two test files at once,
 * and two builds writing the same `dist/` files at once could hand one test a half-written module: a lock directory
 * (mkdir is atomic) lets one build at a time, the other polling for it with a deadline.
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
  try {
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
