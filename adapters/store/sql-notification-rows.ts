import type { BirthNotification } from '../../src/domain/birth-notification.js';
import type { Decision, DisclosedRecord } from '../../src/pipeline/consent/decide.js';
import type { ConsentHold } from '../../src/ports/consent-register.js';
import type { ExistingNotification } from '../../src/ports/notification-store.js';
import { json } from './sql-helpers.js';

/**
 * A notification as processing and the consent register lock it: its keys, status, inbox, decision, disclosed
 * record and current record (enriched by later messages, else its first message's canonical record). One column
 * list and one row mapper for both, so neither forgets a column. Alias `n` for notifications, `b` for message_bodies.
 */
export const LOCKED_NOTIFICATION_COLUMNS = `n.id, n.message_id, n.subject_key, n.birth_key, n.demographic_key, n.baby_nhs_number, n.status,
  n.inbox_id, n.decision, n.disclosed, n.consent_hold, COALESCE(n.record, b.canonical) AS record`;

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
}

/**
 * The rows as notifications; a notification whose first message has lost its canonical record cannot be compared,
 * enriched or decided again, and is left out.
 */
export function toLockedNotifications(rows: readonly LockedNotificationRow[]): ExistingNotification[] {
  return rows
    .filter((row) => row.record !== null)
    .map((row) => ({
      id: row.id,
      messageId: row.message_id,
      subjectKey: row.subject_key,
      ...(row.birth_key !== null ? { birthKey: row.birth_key } : {}),
      ...(row.demographic_key !== null ? { demographicKey: row.demographic_key } : {}),
      ...(row.baby_nhs_number !== null ? { babyNhsNumber: row.baby_nhs_number } : {}),
      status: row.status,
      ...(row.inbox_id !== null ? { inboxId: row.inbox_id } : {}),
      decision: json(row.decision) as Decision,
      ...(row.disclosed !== null ? { disclosed: json(row.disclosed) as DisclosedRecord } : {}),
      record: json(row.record) as BirthNotification,
      ...(row.consent_hold !== null ? { consentHold: json(row.consent_hold) as ConsentHold } : {}),
    }));
}
