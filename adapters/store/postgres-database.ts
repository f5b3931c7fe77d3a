import pg from 'pg';
import type { Database, QueryOptions, QueryResult, SqlClient, TransactionOptions } from '../../src/ports/database.js';
import { deferAudit, flushDeferredAudit } from './sql-helpers.js';

/** Options that keep a dead server from hanging intake: connecting fails fast and the sender is told to retry. */
export interface PostgresOptions {
  connectionString: string;
  maxConnections?: number;
  connectTimeoutMs?: number;
  /** PostgreSQL's application_name for these connections, so pg_stat_activity shows which pool holds them. */
  applicationName?: string;
  /**
   * Opens all `maxConnections` at once and never closes one for being idle (intake's pool): a burst never waits for
   * a new connection's handshake, which on a process busy with hostile traffic can outlast `connectTimeoutMs` and
   * turn a genuine message's answer into AE ("please resend"). A connection the server drops is replaced as usual.
   */
  keepOpen?: boolean;
}

function wrap(client: pg.Pool | pg.PoolClient): SqlClient {
  return {
    async query<R extends object>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
      const values = params as unknown[] | undefined;
      // `pg` prepares a named statement once per connection and refuses the same name for another text.
      const r =
        options?.prepare !== undefined
          ? await client.query<R & pg.QueryResultRow>({ name: options.prepare, text: sql, ...(values ? { values } : {}) })
          : await client.query<R & pg.QueryResultRow>(sql, values);
      return { rows: r.rows, rowCount: r.rowCount ?? 0 };
    },
  };
}

/** PostgreSQL through a `pg` pool: the system of record for production and for many workers. */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    idleTimeoutMillis: options.keepOpen === true ? 0 : 30000,
    ...(options.applicationName !== undefined ? { application_name: options.applicationName } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reports the failure.
  pool.on('error', () => undefined);
  const db: Database = {
    kind: 'postgres',
    ...wrap(pool),
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>, options?: TransactionOptions): Promise<T> {
      const client = await pool.connect();
      // A connection killed between two statements emits 'error' on the checked-out client; the next
      // statement fails and the transaction rolls back, so the event itself needs no handling.
      const ignore = (): void => undefined;
      client.on('error', ignore);
      try {
        // One round trip: the simple-query protocol runs both statements.
        await client.query(options?.asyncCommit === true ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
        const tx = wrap(client);
        deferAudit(tx);
        const result = await fn(tx);
        await flushDeferredAudit(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.off('error', ignore);
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
  if (options.keepOpen === true) {
    // All or none: a connection that fails closes the pool (no connection of a failed start is left open).
    const opened = await Promise.allSettled(Array.from({ length: options.maxConnections ?? 10 }, () => pool.connect()));
    for (const o of opened) if (o.status === 'fulfilled') o.value.release();
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed !== undefined) {
      await pool.end();
      throw failed.reason;
    }
  }
  await db.query('select 1');
  return db;
}
