import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../src/domain/config-error.js';

export interface DirectoryLock {
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<dir>/stork.lock` with an exclusive create. PGlite has no locking of its own and two processes
 * on one folder lose rows, so a second Stork is refused; a lock left by a dead process is taken over.
 */
export function acquireDirectoryLock(dir: string): DirectoryLock {
  const file = path.join(dir, 'stork.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new ConfigError(
          `The embedded store at ${dir} is in use by process ${holder}. PGlite allows one process only: ` +
            'stop the other Stork, use another STORK_DATA_DIR, or set DATABASE_URL to a PostgreSQL server.',
        );
      }
      if (holder === process.pid) {
        throw new ConfigError(`The embedded store at ${dir} is already open in this process.`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new ConfigError(`Could not lock the embedded store at ${dir}.`);
}
