import path from 'node:path';
import type { Logger } from '../../src/logger.js';
import type { Database } from '../../src/ports/database.js';
import { ConfigError } from '../../src/domain/config-error.js';
import { openPostgres } from './postgres-database.js';
import { openPglite } from './pglite-database.js';
import { migrate } from './migrate.js';

/** `host:port/db` of a connection string, without user or password, for messages and logs. */
export function postgresAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the configured address';
  }
}

/**
 * Opens the store: PostgreSQL when DATABASE_URL is set, else embedded PGlite under the data folder. Applies
 * migrations. An unreachable server is reported with its address and how to start one, not a stack trace.
 */
export async function openStore(options: { databaseUrl?: string; dataDir: string; logger: Logger }): Promise<Database> {
  let db: Database;
  if (options.databaseUrl !== undefined) {
    const where = postgresAddress(options.databaseUrl);
    try {
      db = await openPostgres({ connectionString: options.databaseUrl });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new ConfigError(
        `PostgreSQL at ${where} cannot be reached (${code}). Start one locally with ` +
          '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (Debian) or ' +
          '`docker run -p 5432:5432 -e POSTGRES_PASSWORD=stork postgres:15`, or unset DATABASE_URL to use the embedded store.',
      );
    }
    options.logger.info({ store: 'postgres', address: where }, 'store: PostgreSQL');
  } else {
    const dir = path.join(options.dataDir, 'pglite');
    db = await openPglite(dir);
    options.logger.warn(
      { store: 'pglite', dataDir: dir },
      'store: embedded PGlite. It is for trying Stork and for development only: it never fsyncs, so commits may not survive a power cut, and it allows one process. Use PostgreSQL (DATABASE_URL) in production.',
    );
  }
  try {
    const applied = await migrate(db);
    if (applied.length > 0) options.logger.info({ migrations: applied }, 'migrations applied');
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
