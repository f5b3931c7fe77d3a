/** The data key the pseudonyms of lookup keys derive from, fixed once in the database (migration 038). */
import type { SqlClient } from '../../src/ports/database.js';
import { ConfigError } from '../../src/domain/config-error.js';
import type { DataCipher } from './data-cipher.js';

/**
 * Fixes the cipher's pseudonymisation key: the key id held in `pseudonym_key`, or, on the first start with a data
 * key, the current key's id, stored then. Without any data key (clear mode) and none held, lookup keys stay in
 * clear. A held key that is not configured stops start-up, naming its id (never a key). Returns the key id used.
 */
export async function fixPseudonymKey(db: SqlClient, cipher: DataCipher, at: Date = new Date()): Promise<string | undefined> {
  const current = cipher.currentKeyId;
  if (current !== undefined) {
    await db.query('INSERT INTO pseudonym_key (one, key_id, fixed_at) VALUES (true, $1, $2) ON CONFLICT (one) DO NOTHING', [current, at]);
  }
  const held = (await db.query<{ key_id: string }>('SELECT key_id FROM pseudonym_key')).rows[0]?.key_id;
  if (held === undefined) return undefined;
  if (!cipher.knows(held)) {
    throw new ConfigError(
      `STORK_DATA_KEY_FILES: the NHS numbers and lookup keys in the database are pseudonymised under data key ${held}, ` +
        'which is not among STORK_DATA_KEY_FILES: list that key file (after the current one) for as long as the database is used',
    );
  }
  cipher.usePseudonymKey(held);
  return held;
}
