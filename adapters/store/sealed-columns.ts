import type { BirthNotification } from '../../src/domain/birth-notification.js';
import type { SqlClient } from '../../src/ports/database.js';
import type { DataCipher, DataPlace } from './data-cipher.js';

/**
 * The places of the identifiable JSON columns stored encrypted (migration 029): each value's associated data names
 * its table, column and row, so a value copied to another row or column does not decrypt there.
 */
export const sealedPlace = {
  canonical: (messageId: string): DataPlace => ({ table: 'message_bodies', column: 'canonical', row: messageId }),
  record: (notificationId: string): DataPlace => ({ table: 'notifications', column: 'record', row: notificationId }),
  disclosed: (notificationId: string): DataPlace => ({ table: 'notifications', column: 'disclosed', row: notificationId }),
  antenatal: (column: 'record' | 'disclosed', id: string): DataPlace => ({ table: 'antenatal_notifications', column, row: id }),
  family: (column: 'lead' | 'address' | 'gp', familyId: string): DataPlace => ({ table: 'families', column, row: familyId }),
  child: (familyId: string, childKey: string): DataPlace => ({
    table: 'family_children',
    column: 'record',
    row: `${familyId}/${childKey}`,
  }),
  firing: (firingId: string): DataPlace => ({ table: 'trigger_firings', column: 'dataset', row: firingId }),
  consent: (consentId: string): DataPlace => ({ table: 'consents', column: 'subjects', row: consentId }),
  /** The signed-in member of staff (name, role, centre) of a web session, by the SHA-256 of its id. */
  session: (idSha256: string): DataPlace => ({ table: 'web_sessions', column: 'person', row: idSha256 }),
};

/** Every identifiable JSON column, as the rotation job and the tests walk them: table, column, the row key's SQL. */
export const SEALED_COLUMNS = [
  { table: 'message_bodies', column: 'canonical', key: 'message_id::text', place: (k: string) => sealedPlace.canonical(k) },
  { table: 'notifications', column: 'record', key: 'id::text', place: (k: string) => sealedPlace.record(k) },
  { table: 'notifications', column: 'disclosed', key: 'id::text', place: (k: string) => sealedPlace.disclosed(k) },
  { table: 'antenatal_notifications', column: 'record', key: 'id::text', place: (k: string) => sealedPlace.antenatal('record', k) },
  { table: 'antenatal_notifications', column: 'disclosed', key: 'id::text', place: (k: string) => sealedPlace.antenatal('disclosed', k) },
  { table: 'families', column: 'lead', key: 'id::text', place: (k: string) => sealedPlace.family('lead', k) },
  { table: 'families', column: 'address', key: 'id::text', place: (k: string) => sealedPlace.family('address', k) },
  { table: 'families', column: 'gp', key: 'id::text', place: (k: string) => sealedPlace.family('gp', k) },
  {
    table: 'family_children',
    column: 'record',
    key: "family_id::text || '/' || child_key",
    place: (k: string): DataPlace => ({ table: 'family_children', column: 'record', row: k }),
  },
  { table: 'trigger_firings', column: 'dataset', key: 'id::text', place: (k: string) => sealedPlace.firing(k) },
  { table: 'consents', column: 'subjects', key: 'id::text', place: (k: string) => sealedPlace.consent(k) },
  { table: 'web_sessions', column: 'person', key: 'id_sha256', place: (k: string) => sealedPlace.session(k) },
] as const;

/** The separator of the blind index's texts (ASCII unit separator): migration 029 builds the same texts in SQL. */
const US = '\u001f';

/** The texts a local identifier is indexed by: its value, and its assigner with its value. */
export function identifierTexts(l: { value: string; assigner?: string }): string[] {
  return l.assigner !== undefined ? [`v${US}${l.value}`, `a${US}${l.assigner}${US}${l.value}`] : [`v${US}${l.value}`];
}

/** The probe text for a local identifier: with its assigner when it has one (as `@>` matched before migration 029). */
export function probeText(l: { value: string; assigner?: string }): string {
  return l.assigner !== undefined ? `a${US}${l.assigner}${US}${l.value}` : `v${US}${l.value}`;
}

/**
 * Replaces the blind index rows of these notifications' mothers' local identifiers (migration 029) with those of
 * their current records, under the current key (`undefined` record: none, e.g. purged).
 */
export async function indexMotherIdentifiers(
  tx: SqlClient,
  cipher: DataCipher,
  entries: readonly { notificationId: string; record: BirthNotification | undefined }[],
  options: { replace: boolean },
): Promise<void> {
  if (entries.length === 0) return;
  const rows = motherIndexRows(cipher, entries);
  if (options.replace) {
    await tx.query('DELETE FROM mother_identifier_index WHERE notification_id = ANY($1::uuid[])', [entries.map((e) => e.notificationId)]);
  }
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO mother_identifier_index (hash, notification_id, key_id)
     SELECT v.hash, v.notification_id, v.key_id FROM jsonb_to_recordset($1::jsonb) AS v(hash text, notification_id uuid, key_id text)
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

/** The index rows of these records, under the current key. */
export function motherIndexRows(
  cipher: DataCipher,
  entries: readonly { notificationId: string; record: BirthNotification | undefined }[],
): { hash: string; notification_id: string; key_id: string }[] {
  const rows = new Map<string, { hash: string; notification_id: string; key_id: string }>();
  for (const e of entries) {
    const ids = e.record?.mother?.localIdentifiers;
    if (!Array.isArray(ids)) continue;
    for (const l of ids) {
      if (typeof l.value !== 'string') continue;
      for (const text of identifierTexts(l)) {
        const { keyId, hash } = cipher.blindIndex(text);
        rows.set(`${hash}|${e.notificationId}`, { hash, notification_id: e.notificationId, key_id: keyId });
      }
    }
  }
  return [...rows.values()];
}
