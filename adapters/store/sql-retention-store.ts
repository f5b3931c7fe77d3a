import type { Database } from '../../src/ports/database.js';
import type { AuditEventInput } from '../../src/ports/audit.js';
import type { RetentionTarget } from '../../src/domain/retention-policy.js';
import type { PurgedBatch, RetentionStore } from '../../src/ports/retention-store.js';
import { insertAuditEvents } from './sql-helpers.js';

/** How each target picks its rows: the table, its key, which rows are old enough, and which of those may go now. */
interface TargetSql {
  table: string;
  alias: string;
  key: string;
  keyType: 'uuid' | 'text';
  /** Not yet purged and older than the cut-off ($1). */
  old: string;
  /** Old enough, and no live obligation holds it back. */
  purgeable: string;
  /** The purge of the picked rows (CTE `picked` with the column `key`); $2 is the purge time. Returns `key`. */
  purge: string;
}

/**
 * A notification still awaiting a centre's action (an inbox item still `new`), under match review, or not yet
 * delivered (`routed`) is held back, however old: its content is what someone is about to act on.
 */
const NOTIFICATION_LIVE = `n.status IN ('delivered', 'withheld', 'withdrawn')
  AND NOT EXISTS (SELECT 1 FROM inbox_items i WHERE i.notification_id = n.id AND i.status = 'new')
  AND NOT EXISTS (SELECT 1 FROM match_reviews r WHERE r.notification_id = n.id AND r.status = 'pending')`;

/** A message's canonical record goes with its bytes unless a notification not yet purged is built on it. */
const MESSAGE_PURGE = `done AS (
    UPDATE messages m SET purged_at = $2 FROM picked p WHERE m.id = p.key RETURNING m.id
  ), bodies AS (
    UPDATE message_bodies b SET raw = NULL, ack = NULL,
      canonical = CASE WHEN EXISTS (SELECT 1 FROM notifications n WHERE n.message_id = b.message_id AND n.purged_at IS NULL)
                       THEN b.canonical END
      FROM done WHERE b.message_id = done.id
  )
  SELECT id AS key FROM done`;

const TARGETS: Record<RetentionTarget, TargetSql> = {
  notifications: {
    table: 'notifications',
    alias: 'n',
    key: 'id',
    keyType: 'uuid',
    old: 'n.purged_at IS NULL AND COALESCE(n.updated_at, n.created_at) < $1',
    purgeable: NOTIFICATION_LIVE,
    // The subject key and the birth keys are built from NHS numbers and dates of birth: a purged notification keeps
    // a key of its own (unique, as the column must be), so a later message about the same baby starts afresh.
    purge: `done AS (
        UPDATE notifications n SET record = NULL, disclosed = NULL, baby_nhs_number = NULL, mother_nhs_number = NULL,
          subject_key = 'purged:' || n.id, birth_key = NULL, demographic_key = NULL, purged_at = $2
          FROM picked p WHERE n.id = p.key RETURNING n.id, n.message_id
      ), bodies AS (
        UPDATE message_bodies b SET canonical = NULL FROM done WHERE b.message_id = done.message_id
      ), unindexed AS (
        DELETE FROM mother_identifier_index x USING done WHERE x.notification_id = done.id
      )
      SELECT id AS key FROM done`,
  },
  // Antenatal notifications (migration 030): by the same logic as notifications' content, after the last change. No
  // inbox item or review holds one back (a withheld one is never shown; a year after the last change the pregnancy has
  // ended, in a birth or a loss). The pregnancy key
  // is built from her NHS number: a purged row keeps a key of its own (unique, as the column must be).
  'antenatal-notifications': {
    table: 'antenatal_notifications',
    alias: 'a',
    key: 'id',
    keyType: 'uuid',
    old: 'a.purged_at IS NULL AND a.updated_at < $1',
    purgeable: 'true',
    purge: `done AS (
        UPDATE antenatal_notifications a SET record = NULL, disclosed = NULL, mother_nhs_number = NULL, pregnancy_id = NULL,
          pregnancy_key = 'purged:' || a.id, purged_at = $2
          FROM picked p WHERE a.id = p.key RETURNING a.id, a.message_id
      ), bodies AS (
        UPDATE message_bodies b SET canonical = NULL FROM done WHERE b.message_id = done.message_id
      )
      SELECT id AS key FROM done`,
  },
  messages: {
    table: 'messages',
    alias: 'm',
    key: 'id',
    keyType: 'uuid',
    old: "m.purged_at IS NULL AND m.status <> 'quarantined' AND m.received_at < $1",
    // A message still queued has not been processed yet: its bytes are all there is.
    purgeable: "m.status IN ('processed', 'not-relevant', 'duplicate')",
    purge: MESSAGE_PURGE,
  },
  'quarantined-messages': {
    table: 'messages',
    alias: 'm',
    key: 'id',
    keyType: 'uuid',
    old: "m.purged_at IS NULL AND m.status = 'quarantined' AND m.received_at < $1",
    purgeable: 'true',
    purge: MESSAGE_PURGE,
  },
  'fhir-events': {
    table: 'fhir_events',
    alias: 'e',
    key: 'id',
    keyType: 'uuid',
    old: 'e.purged_at IS NULL AND e.received_at < $1',
    // A pending event is still to be fetched: its subject is what the fetch asks for.
    purgeable: "e.status <> 'pending'",
    purge: `done AS (
        UPDATE fhir_events e SET raw = NULL, key_id = NULL, subject = NULL, subject_reference = NULL, subject_nhs_number = NULL, purged_at = $2
          FROM picked p WHERE e.id = p.key RETURNING e.id
      )
      SELECT id AS key FROM done`,
  },
  'web-sessions': {
    table: 'web_sessions',
    alias: 's',
    key: 'id_sha256',
    keyType: 'text',
    // A session ended at the earlier of its idle and absolute expiry; nothing references a session, so it is deleted.
    old: 'LEAST(s.expires_at, s.absolute_expires_at) < $1',
    purgeable: 'true',
    purge: `done AS (
        DELETE FROM web_sessions s USING picked p WHERE s.id_sha256 = p.key AND $2::timestamptz IS NOT NULL RETURNING s.id_sha256
      )
      SELECT id_sha256 AS key FROM done`,
  },
  'trigger-firings': {
    table: 'trigger_firings',
    alias: 'f',
    key: 'id',
    keyType: 'uuid',
    // Aged from when it fired, or from its release when a held firing was released later.
    old: 'f.purged_at IS NULL AND COALESCE(f.reviewed_at, f.created_at) < $1',
    // Held for safeguarding review, or delivered and never opened: someone is still to act on it.
    purgeable: "(f.status = 'closed' OR (f.status = 'delivered' AND f.first_read_at IS NOT NULL))",
    purge: `done AS (
        UPDATE trigger_firings f SET dataset = NULL, subject_nhs_number = NULL, purged_at = $2
          FROM picked p WHERE f.id = p.key RETURNING f.id
      )
      SELECT id AS key FROM done`,
  },
};

/** The retention job's purges in SQL (PostgreSQL and PGlite alike). */
export class SqlRetentionStore implements RetentionStore {
  constructor(private readonly db: Database) {}

  async acquireLease(name: string, owner: string, now: Date, until: Date): Promise<boolean> {
    const r = await this.db.query<{ name: string }>(
      `INSERT INTO retention_leases (name, owner, lease_until) VALUES ($1, $2, $4)
       ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
         WHERE retention_leases.owner IS NULL OR retention_leases.owner = $2 OR retention_leases.lease_until < $3
       RETURNING name`,
      [name, owner, now, until],
    );
    return r.rows.length === 1;
  }

  async releaseLease(name: string, owner: string, startedAt: Date, finishedAt: Date): Promise<void> {
    await this.db.query(
      `UPDATE retention_leases SET owner = NULL, lease_until = NULL, last_started_at = $3, last_finished_at = $4
       WHERE name = $1 AND owner = $2`,
      [name, owner, startedAt, finishedAt],
    );
  }

  async purgeBatch(target: RetentionTarget, cutoff: Date, at: Date, afterKey: string | undefined, limit: number): Promise<PurgedBatch> {
    const t = TARGETS[target];
    const after = afterKey === undefined ? '' : ` AND ${t.alias}.${t.key} > $4::${t.keyType}`;
    const params: unknown[] = [cutoff, at, limit];
    if (afterKey !== undefined) params.push(afterKey);
    const r = await this.db.transaction((tx) =>
      tx.query<{ key: string }>(
        `WITH picked AS (
           SELECT ${t.alias}.${t.key} AS key FROM ${t.table} ${t.alias}
            WHERE ${t.old} AND ${t.purgeable}${after}
            ORDER BY ${t.alias}.${t.key} LIMIT $3
            FOR UPDATE OF ${t.alias} SKIP LOCKED
         ), ${t.purge}`,
        params,
      ),
    );
    const keys = r.rows.map((x) => x.key).sort();
    const last = keys[keys.length - 1];
    return { purged: keys.length, ...(last !== undefined ? { lastKey: last } : {}) };
  }

  async count(target: RetentionTarget, cutoff: Date): Promise<{ due: number; heldBack: number }> {
    const t = TARGETS[target];
    const r = await this.db.query<{ due: number | string; held: number | string }>(
      `SELECT count(*) FILTER (WHERE ${t.purgeable}) AS due, count(*) FILTER (WHERE NOT (${t.purgeable})) AS held
         FROM ${t.table} ${t.alias} WHERE ${t.old}`,
      [cutoff],
    );
    return { due: Number(r.rows[0]?.due ?? 0), heldBack: Number(r.rows[0]?.held ?? 0) };
  }

  async appendAudit(events: readonly AuditEventInput[]): Promise<void> {
    await insertAuditEvents(this.db, events);
  }
}
