import type { Database } from '../../src/ports/database.js';
import type { AuditEvent, AuditEventInput } from '../../src/ports/audit.js';
import type { AuditLog, AuditQuery } from '../../src/ports/audit-log.js';
import { insertAuditEvents, iso, json } from './sql-helpers.js';

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

function toEvent(r: AuditRow): AuditEvent {
  const e: AuditEvent = {
    seq: Number(r.seq),
    at: new Date(iso(r.at) ?? 0),
    actor: r.actor,
    action: r.action,
    details: json(r.details) as Record<string, unknown>,
  };
  if (r.message_id) e.messageId = r.message_id;
  if (r.notification_id) e.notificationId = r.notification_id;
  if (r.subject_nhs_number) e.subjectNhsNumber = r.subject_nhs_number;
  if (r.recipient) e.recipient = r.recipient;
  if (r.rule_id) e.ruleId = r.rule_id;
  if (r.rulebook_version) e.rulebookVersion = r.rulebook_version;
  if (r.lawful_basis) e.lawfulBasis = r.lawful_basis;
  if (r.outcome) e.outcome = r.outcome;
  return e;
}

/** The audit trail in SQL: appends only (a trigger refuses UPDATE and DELETE), queried by IG leads. */
export class SqlAuditLog implements AuditLog {
  constructor(private readonly db: Database) {}

  async append(events: readonly AuditEventInput[]): Promise<void> {
    await insertAuditEvents(this.db, events);
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
      const p = params.push(q.subject);
      where.push(`(subject_nhs_number = $${p}
        OR notification_id IN (SELECT id FROM notifications WHERE baby_nhs_number = $${p} OR mother_nhs_number = $${p})
        OR message_id IN (SELECT message_id FROM notifications WHERE baby_nhs_number = $${p} OR mother_nhs_number = $${p}))`);
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
    return r.rows.map(toEvent);
  }
}
