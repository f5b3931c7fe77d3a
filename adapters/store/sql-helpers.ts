import type { SqlClient } from '../../src/ports/database.js';
import type { AuditEventInput } from '../../src/ports/audit.js';
import { InvalidCursorError } from '../../src/ports/paging.js';
import { NO_DATA_KEYS, type DataCipher } from './data-cipher.js';

/**
 * The audit rows as `jsonb_to_recordset($first)`: one JSON parameter for the whole batch. Fixed SQL text
 * whatever the number of rows, and no per-element array escaping (JSON.stringify is native and fast).
 */
export function auditRecordset(
  events: readonly AuditEventInput[],
  first = 1,
  cipher: DataCipher = NO_DATA_KEYS,
): { sql: string; param: string } {
  const rows = events.map((e, ord) => ({
    ord,
    at: e.at,
    actor: e.actor,
    action: e.action,
    message_id: e.messageId ?? null,
    notification_id: e.notificationId ?? null,
    // A pseudonym (migration 038): searches by NHS number hash the number; older events keep what they hold.
    subject_nhs_number: cipher.pseudonymOrNull(e.subjectNhsNumber),
    recipient: e.recipient ?? null,
    rule_id: e.ruleId ?? null,
    rulebook_version: e.rulebookVersion ?? null,
    lawful_basis: e.lawfulBasis ?? null,
    outcome: e.outcome ?? null,
    details: e.details ?? {},
  }));
  return { sql: auditRecordsetSql(first), param: JSON.stringify(rows) };
}

/**
 * The SQL text of auditRecordset: the same whatever the events. `ord` is each event's place in the array,
 * so an INSERT can take the events in the order they were handed over (see auditInsertSql).
 */
export function auditRecordsetSql(first = 1): string {
  return `SELECT * FROM jsonb_to_recordset($${first}::jsonb) AS a(ord integer, at timestamptz, actor text, action text, message_id uuid,
    notification_id uuid, subject_nhs_number text, recipient text, rule_id text, rulebook_version text, lawful_basis text, outcome text, details jsonb)`;
}

export const AUDIT_INSERT_COLUMNS =
  'at, actor, action, message_id, notification_id, subject_nhs_number, recipient, rule_id, rulebook_version, lawful_basis, outcome, details';

/**
 * INSERT of auditRecordset's events (parameter `$first`), optionally filtered by `where` (on alias `a`).
 * ORDER BY ord makes `seq` follow the order the events happened: without it a join or semi-join in the
 * filter (e.g. "only the messages actually inserted") may hand the rows over in any order, and a message's
 * `validated` event got a lower seq than its `received` event.
 */
export function auditInsertSql(first = 1, where?: string): string {
  return `INSERT INTO audit_events (${AUDIT_INSERT_COLUMNS})
    SELECT ${AUDIT_INSERT_COLUMNS} FROM (${auditRecordsetSql(first)}) a ${where ? `WHERE ${where}` : ''} ORDER BY a.ord`;
}

/**
 * The audit events of each open transaction, written at its end. The first audit row a transaction inserts takes the
 * audit chain's lock until COMMIT (migration 020): taken at the end, it is held for one INSERT and the COMMIT, and a
 * transaction never waits for another lock (a family row, a consent subject) while holding it, so two transactions
 * cannot deadlock through it. Keyed by the transaction's SqlClient (postgres-database.ts, pglite-database.ts).
 */
const deferredAudit = new WeakMap<SqlClient, AuditEventInput[]>();

/** From now on insertAuditEvents(tx, …) keeps the events until flushDeferredAudit(tx). */
export function deferAudit(tx: SqlClient): void {
  deferredAudit.set(tx, []);
}

/** Writes the events kept for `tx` (one statement), right before its COMMIT. */
export async function flushDeferredAudit(tx: SqlClient): Promise<void> {
  const pending = deferredAudit.get(tx);
  deferredAudit.delete(tx);
  if (pending !== undefined && pending.length > 0) await insertAuditEventsNow(tx, pending);
}

/**
 * Appends audit events inside the caller's transaction: at its end when it is one of the Database's transactions
 * (see deferredAudit), else (a single statement on the pool) at once.
 */
export async function insertAuditEvents(
  tx: SqlClient,
  events: readonly AuditEventInput[],
  cipher: DataCipher = NO_DATA_KEYS,
): Promise<void> {
  if (events.length === 0) return;
  // Pseudonymised here, so events kept for the end of the transaction need no cipher of their own.
  const sealed = events.map((e) =>
    e.subjectNhsNumber === undefined ? e : { ...e, subjectNhsNumber: cipher.pseudonym(e.subjectNhsNumber) },
  );
  const pending = deferredAudit.get(tx);
  if (pending !== undefined) pending.push(...sealed);
  else await insertAuditEventsNow(tx, sealed);
}

async function insertAuditEventsNow(tx: SqlClient, events: readonly AuditEventInput[]): Promise<void> {
  const { param } = auditRecordset(events);
  await tx.query(auditInsertSql(), [param], { prepare: 'insert-audit-events' });
}

export function iso(d: Date | string | null | undefined): string | undefined {
  if (d === null || d === undefined) return undefined;
  return (typeof d === 'string' ? new Date(d) : d).toISOString();
}

/** jsonb comes back parsed from `pg` and from PGlite alike (text from older drivers is parsed); the caller names the column's type. */
export function json(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}

/** Cursor for keyset paging: base64url of `<timestamp>|<id>`, the timestamp as Date.toISOString() writes it. */
export function encodeCursor(at: string, id: string): string {
  return Buffer.from(`${at}|${id}`).toString('base64url');
}

const CURSOR_TEXT = /^[A-Za-z0-9_-]{1,200}$/;
const CURSOR_AT = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The cursor encodeCursor made, or undefined for anything else: only base64url text whose content is exactly
 * a canonical ISO timestamp PostgreSQL accepts (year 1 to 9999, a date that exists) and a lowercase uuid. So
 * no cursor a client makes up can reach the database as a cast error.
 */
export function decodeCursor(cursor: string): { at: string; id: string } | undefined {
  if (!CURSOR_TEXT.test(cursor)) return undefined;
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (parts.length !== 2) return undefined;
  const [at = '', id = ''] = parts;
  const year = CURSOR_AT.exec(at)?.[1];
  if (year === undefined || Number(year) < 1 || !CURSOR_ID.test(id)) return undefined;
  const time = Date.parse(at);
  // A date that does not exist (2026-02-30) parses to another day; only the canonical text round-trips.
  if (Number.isNaN(time) || new Date(time).toISOString() !== at) return undefined;
  return { at, id };
}

/** decodeCursor for a store: a cursor given but not valid is the caller's error (InvalidCursorError). */
export function cursorOf(after: string | undefined): { at: string; id: string } | undefined {
  if (after === undefined) return undefined;
  const cursor = decodeCursor(after);
  if (cursor === undefined) throw new InvalidCursorError();
  return cursor;
}
