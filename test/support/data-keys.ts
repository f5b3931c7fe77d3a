import { DataCipher } from '../../adapters/store/data-cipher.js';
import { currentRecord } from '../../adapters/store/sql-notification-rows.js';
import type { SqlClient } from '../../src/ports/database.js';
import { bodyPlace } from '../../adapters/store/sql-message-store.js';
import { loadDataKeys } from '../../src/config/data-keys.js';
import { repoRoot } from '../../src/config/env.js';

/** The sample configuration's demo data key, which test hubs encrypt message bodies with unless a test sets its own. */
export const demoCipher = new DataCipher(loadDataKeys({ configDir: repoRoot }));

/** A message's bytes as a test reads them straight from message_bodies (`raw`, `key_id`), decrypted with the demo key. */
export function plainRaw(messageId: string, row: { raw: Uint8Array | null; key_id: string | null } | undefined): Buffer {
  if (row?.raw == null) return Buffer.alloc(0);
  return demoCipher.decrypt(row.key_id, Buffer.from(row.raw), bodyPlace(messageId, 'raw'));
}

/**
 * An identifiable JSON value (migration 029) as a test reads it straight from its column, decrypted with the demo
 * key (or `cipher`): `table.column` and the row's key (for family_children: `<family id>/<child key>`).
 */
export function plainJson(
  where:
    | 'message_bodies.canonical'
    | 'notifications.record'
    | 'notifications.disclosed'
    | 'antenatal_notifications.record'
    | 'antenatal_notifications.disclosed'
    | 'families.lead'
    | 'families.address'
    | 'families.gp'
    | 'family_children.record'
    | 'trigger_firings.dataset',
  row: string,
  stored: unknown,
  cipher: DataCipher = demoCipher,
): unknown {
  const [table = '', column = ''] = where.split('.');
  return cipher.openJson(stored, { table, column, row });
}

/**
 * An NHS number or lookup key as a test hub stores it (migration 038): its pseudonym under the demo key (or `cipher`),
 * for a test that reads or matches the column straight from the database.
 */
export function pseudo(value: string, cipher: DataCipher = demoCipher): string {
  return cipher.pseudonym(value);
}

/** The baby's NHS number of a notification, from its decrypted record (the column holds a pseudonym, migration 038). */
export async function babyNhsNumberOf(db: SqlClient, notificationId: string, cipher: DataCipher = demoCipher): Promise<string | undefined> {
  const r = await db.query<{ id: string; message_id: string; record: unknown; canonical: unknown }>(
    'SELECT n.id, n.message_id, n.record, b.canonical FROM notifications n LEFT JOIN message_bodies b ON b.message_id = n.message_id WHERE n.id = $1',
    [notificationId],
  );
  const row = r.rows[0];
  return row === undefined ? undefined : (currentRecord(cipher, row)?.baby.nhsNumber ?? undefined);
}
