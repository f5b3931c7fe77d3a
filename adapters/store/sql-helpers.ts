import type { SqlClient } from '../../src/ports/database.js';
import type { AuditEventInput } from '../../src/ports/audit.js';

/**
 * The audit rows as `unnest(...)` over one array per column, with parameters numbered from `first`.
 * Fixed SQL text whatever the number of rows: PostgreSQL plans it once, and a batch is one statement.
 */
export function auditUnnest(events: readonly AuditEventInput[], first = 1): { sql: string; params: unknown[] } {
  const cols: unknown[][] = Array.from({ length: 12 }, () => []);
  for (const e of events) {
    const row = [
      e.at, e.actor, e.action, e.messageId ?? null, e.notificationId ?? null, e.subjectNhsNumber ?? null, e.recipient ?? null,
      e.ruleId ?? null, e.rulebookVersion ?? null, e.lawfulBasis ?? null, e.outcome ?? null, JSON.stringify(e.details ?? {}),
    ];
    row.forEach((v, i) => cols[i]?.push(v));
  }
  const types = ['timestamptz', 'text', 'text', 'uuid', 'uuid', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb'];
  const sql = `SELECT * FROM unnest(${types.map((t, i) => `$${first + i}::${t}[]`).join(', ')})
    AS a(at, actor, action, message_id, notification_id, subject_nhs_number, recipient, rule_id, rulebook_version, lawful_basis, outcome, details)`;
  return { sql, params: cols };
}

export const AUDIT_INSERT_COLUMNS =
  'at, actor, action, message_id, notification_id, subject_nhs_number, recipient, rule_id, rulebook_version, lawful_basis, outcome, details';

/** Appends audit events in one statement, inside the caller's transaction. */
export async function insertAuditEvents(tx: SqlClient, events: readonly AuditEventInput[]): Promise<void> {
  if (events.length === 0) return;
  const { sql, params } = auditUnnest(events);
  await tx.query(`INSERT INTO audit_events (${AUDIT_INSERT_COLUMNS}) ${sql}`, params);
}

export function iso(d: Date | string | null | undefined): string | undefined {
  if (d === null || d === undefined) return undefined;
  return (typeof d === 'string' ? new Date(d) : d).toISOString();
}

/** jsonb comes back parsed from `pg` and from PGlite alike; this keeps the type honest. */
export function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
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
