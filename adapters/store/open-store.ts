import path from 'node:path';
import type { Logger } from '../../src/logger.js';
import type { Database } from '../../src/ports/database.js';
import { ConfigError } from '../../src/domain/config-error.js';
import { openPostgres } from './postgres-database.js';
import { openPglite } from './pglite-database.js';
import { migrateStore } from './database-roles.js';

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
 * `migrationDatabaseUrl`: the schema owner's connection, for the migrations and grants only (database-roles.ts).
 */
export async function openStore(options: {
  databaseUrl?: string;
  migrationDatabaseUrl?: string;
  dataDir: string;
  logger: Logger;
}): Promise<Database> {
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
    // Database roles: who migrates, and what the hub's own role may do (database-roles.ts).
    const applied = await migrateStore(db, {
      logger: options.logger,
      ...(options.migrationDatabaseUrl !== undefined ? { migrationUrl: options.migrationDatabaseUrl } : {}),
    });
    if (applied.length > 0) options.logger.info({ migrations: applied }, 'migrations applied');
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/** The connections of one purpose: intake's receipt path, and the HTTP API. The workers keep the main store. */
export interface PurposePools {
  intake: Database;
  api: Database;
  /** Closes the pools opened here (never the main store). */
  close(): Promise<void>;
}

/**
 * A pool per purpose (issue 8). On PostgreSQL, intake's receipt path and the HTTP API each get a pool of
 * their own, besides the main one the workers use: however many reads the API is running, intake never
 * waits behind them for a connection (and so never answers AE for it), and the API never holds more than
 * its `apiConnections`. PGlite is one connection inside this process, so there is nothing to split: both
 * purposes are the main store, its statements run one at a time, and only the API's per-client limit
 * keeps readers from lining up ahead of intake. The pools' connections are named (application_name
 * `stork-intake`, `stork-api`) in pg_stat_activity. Intake's connections are all opened at start and kept open, so
 * no answer waits for a connection's handshake.
 */
export async function openPurposePools(options: {
  databaseUrl?: string;
  main: Database;
  intakeConnections: number;
  apiConnections: number;
}): Promise<PurposePools> {
  const url = options.databaseUrl;
  if (url === undefined || options.main.kind !== 'postgres') {
    return { intake: options.main, api: options.main, close: () => Promise.resolve() };
  }
  const open = async (maxConnections: number, applicationName: string, keepOpen: boolean): Promise<Database> => {
    try {
      return await openPostgres({ connectionString: url, maxConnections, applicationName, keepOpen });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
      throw new ConfigError(`PostgreSQL at ${postgresAddress(url)} cannot be reached for a second pool (${code})`);
    }
  };
  const intake = await open(options.intakeConnections, 'stork-intake', true);
  let api: Database;
  try {
    api = await open(options.apiConnections, 'stork-api', false);
  } catch (err) {
    await intake.close();
    throw err;
  }
  return {
    intake,
    api,
    async close() {
      await Promise.all([intake.close(), api.close()]);
    },
  };
}
