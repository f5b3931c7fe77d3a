/**
 * The one small SQL interface Stork's stores are written against, implemented by PostgreSQL (`pg`) for
 * production and by embedded PGlite for trying Stork and for development. The same tests run on both.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Keep this statement prepared on each connection under this name, so PostgreSQL parses and plans it once
   * per connection instead of on every call (about 0.5 ms a statement here, most of a small batch's time).
   * Only for fixed SQL text that runs often: one name, one text. PGlite ignores it.
   */
  prepare?: string;
}

export interface SqlClient {
  query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>>;
}

export interface TransactionOptions {
  /**
   * Commit without waiting for the write-ahead log to reach disk (`synchronous_commit = off`). Only for
   * writes that can be redone from what is already durable (the workers' stages, which are idempotent
   * and re-run from the stored message); never for intake, whose commit comes before an ACK.
   */
  asyncCommit?: boolean;
}

export interface Database extends SqlClient {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}
