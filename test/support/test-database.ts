import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Database } from '../../src/ports/database.js';
import { openPglite } from '../../adapters/store/pglite-database.js';
import { openPostgres } from '../../adapters/store/postgres-database.js';
import { migrate, migrationsDir } from '../../adapters/store/migrate.js';
import { repoRoot } from '../../src/config/env.js';

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
    const db = migrated ? await openPglite(undefined, { loadDataDir: new Blob([await migratedPgliteSnapshot()]) }) : await openPglite();
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

let snapshot: Uint8Array<ArrayBuffer> | undefined;

/**
 * A freshly migrated PGlite data directory, as a tarball: made once per set of migrations (by whichever jest worker
 * gets there first) and kept in the temp folder, so each test file loads it instead of running initdb and every
 * migration again. Loading takes about a third of the time of a fresh start (measured: 1.5 s against 4.7 s, of which
 * the migrations are 0.2 s; the rest is PGlite's initdb). The name carries a hash of the migration files and of
 * PGlite's version, so a changed migration makes a new snapshot.
 */
async function migratedPgliteSnapshot(): Promise<Uint8Array<ArrayBuffer>> {
  if (snapshot) return snapshot;
  const hash = createHash('sha256');
  hash.update(readFileSync(path.join(repoRoot, 'node_modules', '@electric-sql', 'pglite', 'package.json')));
  for (const file of readdirSync(migrationsDir).sort()) hash.update(file).update(readFileSync(path.join(migrationsDir, file)));
  const file = path.join(tmpdir(), `stork-pglite-migrated-${hash.digest('hex').slice(0, 16)}.tar`);
  if (existsSync(file)) {
    snapshot = new Uint8Array(readFileSync(file));
    return snapshot;
  }
  const db = await openPglite();
  try {
    await migrate(db);
    snapshot = new Uint8Array(await (await db.dumpDataDir()).arrayBuffer());
  } finally {
    await db.close();
  }
  // Written aside and renamed: a worker reading at the same moment sees the whole file or none.
  const partial = `${file}.${process.pid}.${randomUUID()}`;
  writeFileSync(partial, snapshot);
  renameSync(partial, file);
  return snapshot;
}
