import type { SqlClient } from '../../src/ports/database.js';
import type { AuditEventInput } from '../../src/ports/audit.js';

/** `($1,$2,$3),($4,$5,$6)` for a multi-row INSERT of `rows` rows of `columns` values each. */
export function valuesPlaceholders(rows: number, columns: number, casts: readonly string[] = []): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 1; c <= columns; c++) cells.push(`$${r * columns + c}${casts[c - 1] ? `::${casts[c - 1]}` : ''}`);
    out.push(`(${cells.join(',')})`);
  }
  return out.join(',');
}

const AUDIT_COLUMNS = 12;

/** Appends audit events in one statement, inside the caller's transaction. */
export async function insertAuditEvents(tx: SqlClient, events: readonly AuditEventInput[]): Promise<void> {
  if (events.length === 0) return;
  const params: unknown[] = [];
  for (const e of events) {
    params.push(
      e.at, e.actor, e.action, e.messageId ?? null, e.notificationId ?? null, e.subjectNhsNumber ?? null,
      e.recipient ?? null, e.ruleId ?? null, e.rulebookVersion ?? null, e.lawfulBasis ?? null, e.outcome ?? null,
      JSON.stringify(e.details ?? {}),
    );
  }
  await tx.query(
    `INSERT INTO audit_events (at, actor, action, message_id, notification_id, subject_nhs_number, recipient, rule_id, rulebook_version, lawful_basis, outcome, details)
     VALUES ${valuesPlaceholders(events.length, AUDIT_COLUMNS)}`,
    params,
  );
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
