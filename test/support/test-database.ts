import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/ports/database.js';
import { openPglite } from '../../adapters/store/pglite-database.js';
import { openPostgres } from '../../adapters/store/postgres-database.js';
import { migrate } from '../../adapters/store/migrate.js';

export type StoreKind = 'pglite' | 'postgres';

/** Which store this jest project tests (set by test/support/store-*.ts). */
export function storeKind(): StoreKind {
  return process.env.STORK_TEST_STORE === 'postgres' ? 'postgres' : 'pglite';
}

export const ADMIN_URL = process.env.STORK_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  db: Database;
  kind: StoreKind;
  /** For PostgreSQL: the connection string of this test's own database. */
  url?: string;
  name?: string;
  drop(): Promise<void>;
}

/**
 * A fresh database, migrated unless `migrated: false`, for one test file: in-memory PGlite, or a new PostgreSQL database named
 * `stork_test_<random>` (the name says "test", so nothing else is ever touched), dropped afterwards.
 */
export async function createTestDatabase(kind: StoreKind = storeKind(), options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  if (kind === 'pglite') {
    const db = await openPglite();
    if (migrated) await migrate(db);
    return { db, kind, drop: () => db.close() };
  }
  const name = `stork_test_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const db = await openPostgres({ connectionString: url, connectTimeoutMs: 2000 });
  if (migrated) await migrate(db);
  return {
    db,
    kind,
    url,
    name,
    async drop() {
      await db.close().catch(() => undefined);
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
