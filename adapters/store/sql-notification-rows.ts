import type { BirthNotification } from '../../src/domain/birth-notification.js';
import type { Decision, DisclosedRecord } from '../../src/pipeline/consent/decide.js';
import type { ConsentHold } from '../../src/ports/consent-register.js';
import type { ExistingNotification } from '../../src/ports/notification-store.js';
import { birthKey, demographicKey } from '../../src/pipeline/same-birth.js';
import { json } from './sql-helpers.js';
import type { DataCipher } from './data-cipher.js';
import { sealedPlace } from './sealed-columns.js';

/**
 * A notification as processing and the consent register lock it: its keys, status, inbox, decision, disclosed
 * record and current record (enriched by later messages, else its first message's canonical record). One column
 * list and one row mapper for both, so neither forgets a column. Alias `n` for notifications, `b` for message_bodies.
 */
export const LOCKED_NOTIFICATION_COLUMNS = `n.id, n.message_id, n.subject_key, n.birth_key, n.demographic_key, n.baby_nhs_number, n.status,
  n.inbox_id, n.decision, n.disclosed, n.consent_hold, n.record, b.canonical`;

/** The FROM clause that goes with LOCKED_NOTIFICATION_COLUMNS. */
export const LOCKED_NOTIFICATION_FROM = 'notifications n LEFT JOIN message_bodies b ON b.message_id = n.message_id';

export interface LockedNotificationRow {
  id: string;
  message_id: string;
  subject_key: string;
  birth_key: string | null;
  demographic_key: string | null;
  baby_nhs_number: string | null;
  status: ExistingNotification['status'];
  inbox_id: string | null;
  decision: unknown;
  disclosed: unknown;
  consent_hold: unknown;
  record: unknown;
  canonical: unknown;
}

/**
 * A notification's current record, decrypted: the enriched one where later messages changed it (notifications.record),
 * else its first message's canonical record (message_bodies.canonical); null when neither is held.
 */
export function currentRecord(
  cipher: DataCipher,
  row: { id: string; message_id: string; record: unknown; canonical: unknown },
): BirthNotification | null {
  if (row.record !== null && row.record !== undefined) return cipher.openJson(row.record, sealedPlace.record(row.id)) as BirthNotification;
  if (row.canonical !== null && row.canonical !== undefined)
    return cipher.openJson(row.canonical, sealedPlace.canonical(row.message_id)) as BirthNotification | null;
  return null;
}

/**
 * The rows as notifications; a notification whose first message has lost its canonical record cannot be compared,
 * enriched or decided again, and is left out.
 */
export function toLockedNotifications(
  rows: readonly LockedNotificationRow[],
  cipher: DataCipher,
  known: readonly string[] = [],
): ExistingNotification[] {
  return rows.flatMap((row) => {
    const record = currentRecord(cipher, row);
    if (record === null) return [];
    const disclosed = cipher.openJson(row.disclosed, sealedPlace.disclosed(row.id));
    // The lookup keys are pseudonyms (migration 038): shown as the values looked up, or the record's, they stand for.
    const reveal = (stored: string, ...more: (string | undefined)[]): string => cipher.reveal(stored, [...known, ...more]);
    return [
      {
        id: row.id,
        messageId: row.message_id,
        subjectKey: reveal(row.subject_key, record.baby.nhsNumber !== undefined ? `nhs:${record.baby.nhsNumber}` : undefined),
        ...(row.birth_key !== null ? { birthKey: reveal(row.birth_key, birthKey(record)) } : {}),
        ...(row.demographic_key !== null ? { demographicKey: reveal(row.demographic_key, demographicKey(record)) } : {}),
        ...(row.baby_nhs_number !== null ? { babyNhsNumber: reveal(row.baby_nhs_number, record.baby.nhsNumber) } : {}),
        status: row.status,
        ...(row.inbox_id !== null ? { inboxId: row.inbox_id } : {}),
        decision: json(row.decision) as Decision,
        ...(disclosed !== null ? { disclosed: disclosed as DisclosedRecord } : {}),
        record,
        ...(row.consent_hold !== null ? { consentHold: json(row.consent_hold) as ConsentHold } : {}),
      },
    ];
  });
}
