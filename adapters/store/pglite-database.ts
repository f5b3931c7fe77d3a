import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import type { Database, QueryResult, SqlClient } from '../../src/ports/database.js';
import { acquireDirectoryLock, type DirectoryLock } from './directory-lock.js';
import { deferAudit, flushDeferredAudit } from './sql-helpers.js';

interface PgliteQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[]; affectedRows?: number }>;
}

/** Statement names (QueryOptions.prepare) are not passed on: PGlite runs in this process, with no round trips to save. */
function wrap(client: PgliteQueryable): SqlClient {
  return {
    async query<R extends object>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const r = await client.query(sql, params as unknown[] | undefined);
      // The statement decides the row shape; the caller names it, as with `pg`.
      return { rows: r.rows as R[], rowCount: r.affectedRows ?? r.rows.length };
    },
  };
}

/** PGlite can snapshot itself: tests restore a migrated snapshot instead of migrating each time. */
export interface PgliteDatabase extends Database {
  dumpDataDir(): Promise<Blob>;
}

/**
 * Embedded PostgreSQL (PGlite, WASM) for trying Stork and for development. It never fsyncs and takes no
 * lock of its own, so Stork locks the folder: a second process on the same folder is refused.
 * `dataDir` undefined = in memory (tests).
 */
export async function openPglite(dataDir?: string, options: { loadDataDir?: Blob } = {}): Promise<PgliteDatabase> {
  let lock: DirectoryLock | undefined;
  if (dataDir !== undefined) {
    mkdirSync(dataDir, { recursive: true });
    lock = acquireDirectoryLock(dataDir);
  }
  let pg: PGlite;
  try {
    pg = await PGlite.create({
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    });
  } catch (err) {
    lock?.release();
    throw err;
  }
  return {
    kind: 'pglite',
    ...wrap(pg),
    // PGlite never fsyncs, so an asynchronous commit (TransactionOptions) changes nothing here.
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      return pg.transaction(async (t) => {
        const tx = wrap(t);
        deferAudit(tx);
        const result = await fn(tx);
        await flushDeferredAudit(tx);
        return result;
      });
    },
    async dumpDataDir() {
      const dump = await pg.dumpDataDir('none');
      return dump;
    },
    async close() {
      await pg.close();
      lock?.release();
    },
  };
}
