/** The identity keys A40 merges leave behind (migration 017), as processing reads them before it inserts a batch. */
import type { SqlClient } from '../../src/ports/database.js';

/** The subject key each of these identity keys resolves to (one indexed lookup; most batches find none). */
export async function resolveIdentityKeys(tx: SqlClient, keys: readonly string[]): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const r = await tx.query<{ key: string; subject_key: string }>(
    'SELECT key, subject_key FROM identity_keys WHERE key = ANY($1::text[])',
    [keys],
    { prepare: 'resolve-identity-keys' },
  );
  return new Map(r.rows.map((x) => [x.key, x.subject_key]));
}
