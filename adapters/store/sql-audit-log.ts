import type { Database } from '../../src/ports/database.js';
import type { AuditEvent, AuditEventInput } from '../../src/ports/audit.js';
import type {
  AuditedNotification,
  AuditEventSearch,
  AuditEventsLog,
  AuditLog,
  AuditQuery,
  AuditSearch,
  AuditSearchLog,
} from '../../src/ports/audit-log.js';
import { insertAuditEvents, iso, json } from './sql-helpers.js';
import { isPseudonym, NO_DATA_KEYS, type DataCipher } from './data-cipher.js';
import { currentRecord } from './sql-notification-rows.js';

interface AuditRow {
  seq: string | number;
  at: Date | string;
  actor: string;
  action: AuditEvent['action'];
  message_id: string | null;
  notification_id: string | null;
  subject_nhs_number: string | null;
  recipient: string | null;
  rule_id: string | null;
  rulebook_version: string | null;
  lawful_basis: string | null;
  outcome: string | null;
  details: unknown;
}

/**
 * An event as read. Its subject is a pseudonym when written with a data key (migration 038): it is shown as the NHS
 * number searched for when it is that number's pseudonym, else left out (the number is not known here).
 */
function toEvent(r: AuditRow, cipher: DataCipher = NO_DATA_KEYS, known: readonly string[] = []): AuditEvent {
  const e: AuditEvent = {
    seq: Number(r.seq),
    at: new Date(iso(r.at) ?? 0),
    actor: r.actor,
    action: r.action,
    details: json(r.details) as Record<string, unknown>,
  };
  if (r.message_id) e.messageId = r.message_id;
  if (r.notification_id) e.notificationId = r.notification_id;
  if (r.subject_nhs_number) {
    const subject = cipher.reveal(r.subject_nhs_number, known);
    if (!isPseudonym(subject)) e.subjectNhsNumber = subject;
  }
  if (r.recipient) e.recipient = r.recipient;
  if (r.rule_id) e.ruleId = r.rule_id;
  if (r.rulebook_version) e.rulebookVersion = r.rulebook_version;
  if (r.lawful_basis) e.lawfulBasis = r.lawful_basis;
  if (r.outcome) e.outcome = r.outcome;
  return e;
}

/** The audit trail in SQL: appends only (a trigger refuses UPDATE and DELETE), queried by IG leads. */
export class SqlAuditLog implements AuditLog, AuditSearchLog, AuditEventsLog {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  /**
   * The events as read, their subjects shown from what is known: the NHS number searched for, else the decrypted
   * records of the notifications the events are about (the column holds pseudonyms, migration 038).
   */
  private async toEvents(rows: readonly AuditRow[], subject: string | undefined): Promise<AuditEvent[]> {
    const known = new Map<string, string[]>();
    const unknown = rows.filter(
      (r) =>
        r.subject_nhs_number !== null &&
        r.notification_id !== null &&
        isPseudonym(r.subject_nhs_number) &&
        (subject === undefined || this.cipher.pseudonym(subject) !== r.subject_nhs_number),
    );
    if (unknown.length > 0) {
      const n = await this.db.query<{ id: string; message_id: string; record: unknown; canonical: unknown }>(
        `SELECT n.id, n.message_id, n.record, b.canonical FROM notifications n LEFT JOIN message_bodies b ON b.message_id = n.message_id
          WHERE n.id = ANY($1::uuid[])`,
        [[...new Set(unknown.map((r) => r.notification_id))]],
      );
      for (const row of n.rows) {
        const record = row.record === null && row.canonical === null ? null : currentRecord(this.cipher, row);
        known.set(
          row.id,
          [record?.baby.nhsNumber, record?.mother?.nhsNumber].filter((x): x is string => x !== undefined),
        );
      }
    }
    return rows.map((row) =>
      toEvent(row, this.cipher, [...(subject !== undefined ? [subject] : []), ...(known.get(row.notification_id ?? '') ?? [])]),
    );
  }

  async append(events: readonly AuditEventInput[]): Promise<void> {
    await insertAuditEvents(this.db, events, this.cipher);
  }

  /**
   * Events about a notification, a message, or a person. A subject (NHS number) matches events that name
   * it and every event about a notification or message concerning that baby or mother: the list of
   * recipients a subject access request must give.
   */
  async query(q: AuditQuery): Promise<AuditEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.notificationId) where.push(`notification_id = $${params.push(q.notificationId)}`);
    if (q.messageId) where.push(`message_id = $${params.push(q.messageId)}`);
    if (q.subject) {
      // Both forms: the subject's pseudonym (migration 038) and, for rows written before a data key, the number.
      const p = params.push(this.cipher.pseudonymForms([q.subject]));
      where.push(`(subject_nhs_number = ANY($${p}::text[])
        OR notification_id IN (SELECT id FROM notifications WHERE baby_nhs_number = ANY($${p}::text[]) OR mother_nhs_number = ANY($${p}::text[]))
        OR message_id IN (SELECT message_id FROM notifications WHERE baby_nhs_number = ANY($${p}::text[]) OR mother_nhs_number = ANY($${p}::text[])))`);
    }
    if (q.recipient) where.push(`recipient = $${params.push(q.recipient)}`);
    if (q.from) where.push(`at >= $${params.push(q.from)}`);
    if (q.before) where.push(`at < $${params.push(q.before)}`);
    if (q.afterSeq !== undefined) where.push(`seq > $${params.push(q.afterSeq)}`);
    const limit = params.push(q.limit);
    const r = await this.db.query<AuditRow>(
      `SELECT * FROM audit_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq LIMIT $${limit}`,
      params,
    );
    return this.toEvents(r.rows, q.subject);
  }

  /**
   * The IG lead's paged query by event (issue 14 item 3), in (at, seq) order. Each filter is written so that an
   * index finds its events (migration 021): centre, rule, event type and time range scan (x, at, seq) indexes in
   * page order and stop at the limit; a subject is the union of three small index lookups (events naming the NHS
   * number, events about its notifications, events about the messages those came from); a feed is its messages'
   * events through audit_events_message. The cursor is the last event's seq: the page goes on after its (at, seq).
   */
  async searchEvents(q: AuditEventSearch): Promise<AuditEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.subject) {
      const p = params.push(this.cipher.pseudonymForms([q.subject]));
      where.push(`a.seq IN (
        SELECT seq FROM audit_events WHERE subject_nhs_number = ANY($${p}::text[])
        UNION SELECT e.seq FROM notifications n JOIN audit_events e ON e.notification_id = n.id
          WHERE n.baby_nhs_number = ANY($${p}::text[]) OR n.mother_nhs_number = ANY($${p}::text[])
        UNION SELECT e.seq FROM notifications n JOIN audit_events e ON e.message_id = n.message_id
          WHERE n.baby_nhs_number = ANY($${p}::text[]) OR n.mother_nhs_number = ANY($${p}::text[]))`);
    }
    if (q.centre) where.push(`a.recipient = $${params.push(q.centre)}`);
    if (q.rule) where.push(`a.rule_id = $${params.push(q.rule)}`);
    if (q.action) where.push(`a.action = $${params.push(q.action)}`);
    if (q.feed) where.push(`a.message_id IN (SELECT id FROM messages WHERE feed_id = $${params.push(q.feed)})`);
    if (q.from) where.push(`a.at >= $${params.push(q.from)}`);
    if (q.before) where.push(`a.at < $${params.push(q.before)}`);
    if (q.afterSeq !== undefined) {
      const c = params.push(q.afterSeq);
      where.push(`(a.at, a.seq) > ((SELECT at FROM audit_events WHERE seq = $${c}), $${c}::bigint)`);
    }
    const limit = params.push(q.limit);
    const r = await this.db.query<AuditRow>(
      `SELECT a.* FROM audit_events a ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY a.at, a.seq LIMIT $${limit}`,
      params,
    );
    return this.toEvents(r.rows, q.subject);
  }

  /**
   * Notifications whose events match every filter given: about a subject (baby or mother), disclosed to a
   * recipient (any of the notification's events names it), at or after `from`, before `before`. Summed up per
   * notification over the matching events, the latest first.
   */
  async searchNotifications(q: AuditSearch): Promise<AuditedNotification[]> {
    const where = ['notification_id IS NOT NULL'];
    const params: unknown[] = [];
    if (q.subject) {
      const p = params.push(this.cipher.pseudonymForms([q.subject]));
      where.push(`(subject_nhs_number = ANY($${p}::text[])
        OR notification_id IN (SELECT id FROM notifications WHERE baby_nhs_number = ANY($${p}::text[]) OR mother_nhs_number = ANY($${p}::text[])))`);
    }
    if (q.recipient)
      where.push(`notification_id IN (SELECT notification_id FROM audit_events WHERE recipient = $${params.push(q.recipient)})`);
    if (q.from) where.push(`at >= $${params.push(q.from)}`);
    if (q.before) where.push(`at < $${params.push(q.before)}`);
    const limit = params.push(q.limit);
    const r = await this.db.query<{
      notification_id: string;
      first_at: Date | string;
      last_at: Date | string;
      recipients: string[] | null;
      reads: number | string;
    }>(
      `SELECT notification_id, min(at) AS first_at, max(at) AS last_at,
         array_remove(array_agg(DISTINCT recipient), NULL) AS recipients,
         count(*) FILTER (WHERE action = 'read') AS reads
       FROM audit_events WHERE ${where.join(' AND ')}
       GROUP BY notification_id ORDER BY max(at) DESC, notification_id LIMIT $${limit}`,
      params,
    );
    return r.rows.map((row) => ({
      notificationId: row.notification_id,
      firstAt: new Date(iso(row.first_at) ?? 0),
      lastAt: new Date(iso(row.last_at) ?? 0),
      recipients: [...(row.recipients ?? [])].sort(),
      reads: Number(row.reads),
    }));
  }

  async trail(notificationId: string, limit: number): Promise<AuditEvent[]> {
    const r = await this.db.query<AuditRow>(
      `SELECT * FROM audit_events WHERE notification_id = $1
         OR (notification_id IS NULL AND message_id IN (SELECT message_id FROM notifications WHERE id = $1))
       ORDER BY seq LIMIT $2`,
      [notificationId, limit],
    );
    return this.toEvents(r.rows, undefined);
  }
}
