import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from '../../src/ports/database.js';
import { repoRoot } from '../../src/config/env.js';

export const migrationsDir = path.join(repoRoot, 'adapters', 'store', 'migrations');

/** An arbitrary constant: the advisory lock that lets many processes start at once and migrate once. */
const MIGRATION_LOCK = 774_411_020;

/**
 * Applies the versioned SQL files in `adapters/store/migrations` that the database has not seen, in order,
 * each in its own transaction. Returns the versions applied. With `grantTo` (the application's database role, when
 * `db` is the schema's owner), then brings that role's privileges to what `app_privileges` says, in the same
 * transaction and under the same lock, so processes starting together never grant concurrently.
 */
export async function migrate(db: Database, dir = migrationsDir, options: { grantTo?: string } = {}): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    // Looked up first: CREATE TABLE IF NOT EXISTS needs the right to create in the schema even when the table exists,
    // and an application role without it may still check that an up-to-date schema needs nothing.
    const exists = await tx.query<{ found: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS found");
    if (exists.rows[0]?.found !== true) {
      await tx.query('CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    }
    const done = new Set((await tx.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: string[] = [];
    for (const file of files) {
      const version = file.slice(0, 3);
      if (done.has(version)) continue;
      const sql = readFileSync(path.join(dir, file), 'utf8');
      for (const statement of splitStatements(sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      applied.push(version);
    }
    if (options.grantTo !== undefined) await tx.query('SELECT stork_grant_app_privileges($1)', [options.grantTo]);
    return applied;
  });
}

/** Splits a migration into statements on `;` at line ends, keeping `$$ … $$` bodies whole. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let inDollar = false;
  for (const line of sql.split('\n')) {
    if (line.trimStart().startsWith('--') && !inDollar) continue;
    current += line + '\n';
    const dollars = line.match(/\$\$/g)?.length ?? 0;
    if (dollars % 2 === 1) inDollar = !inDollar;
    if (!inDollar && line.trimEnd().endsWith(';')) {
      out.push(current.trim());
      current = '';
    }
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}
