import type { SqlClient } from '../../src/ports/database.js';
import type { AuditEventInput } from '../../src/ports/audit.js';

/**
 * The audit rows as `jsonb_to_recordset($first)`: one JSON parameter for the whole batch. Fixed SQL text
 * whatever the number of rows, and no per-element array escaping (JSON.stringify is native and fast).
 */
export function auditRecordset(events: readonly AuditEventInput[], first = 1): { sql: string; param: string } {
  const rows = events.map((e) => ({
    at: e.at,
    actor: e.actor,
    action: e.action,
    message_id: e.messageId ?? null,
    notification_id: e.notificationId ?? null,
    subject_nhs_number: e.subjectNhsNumber ?? null,
    recipient: e.recipient ?? null,
    rule_id: e.ruleId ?? null,
    rulebook_version: e.rulebookVersion ?? null,
    lawful_basis: e.lawfulBasis ?? null,
    outcome: e.outcome ?? null,
    details: e.details ?? {},
  }));
  return { sql: auditRecordsetSql(first), param: JSON.stringify(rows) };
}

/** The SQL text of auditRecordset: the same whatever the events. */
export function auditRecordsetSql(first = 1): string {
  return `SELECT * FROM jsonb_to_recordset($${first}::jsonb) AS a(at timestamptz, actor text, action text, message_id uuid,
    notification_id uuid, subject_nhs_number text, recipient text, rule_id text, rulebook_version text, lawful_basis text, outcome text, details jsonb)`;
}

export const AUDIT_INSERT_COLUMNS =
  'at, actor, action, message_id, notification_id, subject_nhs_number, recipient, rule_id, rulebook_version, lawful_basis, outcome, details';

/** Appends audit events in one statement, inside the caller's transaction. */
export async function insertAuditEvents(tx: SqlClient, events: readonly AuditEventInput[]): Promise<void> {
  if (events.length === 0) return;
  const { sql, param } = auditRecordset(events);
  await tx.query(`INSERT INTO audit_events (${AUDIT_INSERT_COLUMNS}) ${sql}`, [param], { prepare: 'insert-audit-events' });
}

export function iso(d: Date | string | null | undefined): string | undefined {
  if (d === null || d === undefined) return undefined;
  return (typeof d === 'string' ? new Date(d) : d).toISOString();
}

/** jsonb comes back parsed from `pg` and from PGlite alike (text from older drivers is parsed); the caller names the column's type. */
export function json(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}

/** Cursor for keyset paging: base64url of `<timestamp>|<id>`. */
export function encodeCursor(at: string, id: string): string {
  return Buffer.from(`${at}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { at: string; id: string } | undefined {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || !id || Number.isNaN(Date.parse(at))) return undefined;
  return { at, id };
}
