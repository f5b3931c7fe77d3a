/** The identity keys A40 merges leave behind (migration 017), as processing reads them before it inserts a batch. */
import type { SqlClient } from '../../src/ports/database.js';
import { NO_DATA_KEYS, type DataCipher } from './data-cipher.js';

/**
 * The subject key each of these identity keys resolves to (one indexed lookup; most batches find none). Both columns
 * hold pseudonyms (migration 038), or clear keys written before a data key: a key is looked up in both forms, and a
 * target is returned as the key looked up it stands for, else as its pseudonym (which is stored and looked up as it is).
 */
export async function resolveIdentityKeys(
  tx: SqlClient,
  keys: readonly string[],
  cipher: DataCipher = NO_DATA_KEYS,
): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const r = await tx.query<{ key: string; subject_key: string }>(
    'SELECT key, subject_key FROM identity_keys WHERE key = ANY($1::text[])',
    [cipher.pseudonymForms(keys)],
    { prepare: 'resolve-identity-keys' },
  );
  return new Map(r.rows.map((x) => [cipher.reveal(x.key, keys), cipher.reveal(x.subject_key, keys)]));
}
