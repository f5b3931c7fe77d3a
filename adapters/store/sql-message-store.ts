import { boundedKey, KEY_MAX_BYTES } from '../../src/domain/bounded-key.js';
import type { Database } from '../../src/ports/database.js';
import type { Issue } from '../../src/domain/issue.js';
import { isIdentityEvent } from '../../src/domain/identity-event.js';
import { isAntenatalEvent } from '../../src/domain/antenatal-notification.js';
import { isAttendance } from '../../src/domain/trigger.js';
import type { BirthNotification } from '../../src/domain/birth-notification.js';
import type {
  ApiClientGrant,
  Channel,
  FeedActivity,
  MessageFilter,
  MessageFormat,
  MessageStatus,
  MessageStore,
  MessageSummary,
  ReceivedMessage,
  ReceiptOutcome,
  StoredMessage,
} from '../../src/ports/message-store.js';
import { auditInsertSql, auditRecordset, cursorOf, encodeCursor, insertAuditEvents, iso, json } from './sql-helpers.js';
import { NO_DATA_KEYS, type DataCipher } from './data-cipher.js';
import { sealedPlace } from './sealed-columns.js';

interface MessageRow {
  id: string;
  received_at: Date | string;
  channel: Channel;
  format: MessageFormat;
  remote_address: string | null;
  feed_id: string | null;
  sender_key: string | null;
  api_client: string | null;
  api_client_grant?: unknown;
  control_id: string | null;
  message_type: string | null;
  raw_truncated: boolean;
  size_bytes: number;
  sha256: string;
  status: MessageStatus;
  reason: string | null;
  issues: unknown;
  ack_code: string | null;
  replay_count: number;
  updated_at: Date | string;
  purged_at: Date | string | null;
}

/**
 * A message's bytes and what intake made of it (table message_bodies, one row per message); NULL once purged. The
 * bytes (and the ACK) are encrypted under the data key `key_id` (migration 028), or in clear when it is NULL.
 */
interface BodyRow {
  raw: Uint8Array | null;
  key_id: string | null;
  canonical: unknown;
}

/** Where a message's bytes (`raw`) or ACK (`ack`) live, for the cipher's associated data. */
export function bodyPlace(messageId: string, column: 'raw' | 'ack'): { table: string; column: string; row: string } {
  return { table: 'message_bodies', column, row: messageId };
}

const SUMMARY_COLUMNS =
  'id, received_at, channel, format, remote_address, feed_id, control_id, message_type, size_bytes, sha256, raw_truncated, status, reason, issues, ack_code, replay_count, updated_at, purged_at';

function summary(r: MessageRow): MessageSummary {
  const s: MessageSummary = {
    id: r.id,
    receivedAt: iso(r.received_at) ?? '',
    channel: r.channel,
    format: r.format,
    sizeBytes: r.size_bytes,
    sha256: r.sha256,
    rawTruncated: r.raw_truncated,
    status: r.status,
    issues: json(r.issues) as Issue[],
    replayCount: r.replay_count,
    updatedAt: iso(r.updated_at) ?? '',
  };
  if (r.remote_address !== null) s.remoteAddress = r.remote_address;
  if (r.feed_id !== null) s.feedId = r.feed_id;
  if (r.control_id !== null) s.controlId = r.control_id;
  if (r.message_type !== null) s.messageType = r.message_type;
  if (r.reason !== null) s.reason = r.reason;
  if (r.ack_code !== null) s.ackCode = r.ack_code;
  const purged = iso(r.purged_at);
  if (purged) s.purgedAt = purged;
  return s;
}

const MESSAGE_COLUMNS =
  'id, received_at, channel, format, remote_address, api_client, api_client_grant, feed_id, sender_key, control_id, message_type, raw_truncated, size_bytes, sha256, status, reason, issues, ack_code';
const MESSAGE_RECORD =
  'id uuid, received_at timestamptz, channel text, format text, remote_address text, api_client text, api_client_grant jsonb, feed_id text, sender_key text, control_id text, ' +
  'message_type text, raw text, raw_truncated boolean, size_bytes integer, sha256 text, status text, reason text, issues jsonb, ' +
  'ack_code text, ack text, canonical jsonb, key_id text';

/**
 * The most bytes of a re-send key part (sender_key, control_id) stored as sent. Both columns make up the unique
 * btree index `messages_sender_control_id`, whose rows PostgreSQL caps at 2704 bytes (after compression): a
 * message with a long, incompressible MSH-10 or MSH-3/4 failed its whole group commit (SQLSTATE 54000). A longer
 * part is stored as `sha256:<hex>` of its text instead, so two such parts still match exactly when equal (re-sends
 * are still recognised) and the index row stays under 1.2 KB. The message's bytes are stored untouched.
 */
export const KEY_PART_MAX_BYTES = KEY_MAX_BYTES;

/** A re-send key part as stored: itself, or its SHA-256 when over KEY_PART_MAX_BYTES (see there; src/domain/bounded-key.ts). */
export function storedKeyPart(part: string | undefined): string | null {
  return part === undefined ? null : boundedKey(part);
}

/** A stored JWT client grant, read back (migration 032). */
function isGrant(v: unknown): v is ApiClientGrant {
  if (typeof v !== 'object' || v === null) return false;
  const g = v as Record<string, unknown>;
  return (g.role === 'feed' || g.role === 'admin') && (g.scope === undefined || typeof g.scope === 'string');
}

/** An arbitrary constant: the advisory lock that lets one process at a time run the recovery sweep. */
const SWEEP_LOCK = 7_462_019_301;

/** Messages in PostgreSQL or PGlite: one multi-row INSERT … ON CONFLICT DO NOTHING per group commit. */
export class SqlMessageStore implements MessageStore {
  /** `cipher`: the data keys that encrypt bytes and ACKs at rest; without keys they are written in clear. */
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  /**
   * One statement per batch, so one round trip and one commit: the messages (skipping re-sends by the
   * unique re-send key + MSH-10, see src/intake/resend-key.ts) and, for those actually inserted, their audit events. Re-sends are then
   * looked up to return their original ACK.
   */
  async recordReceipts(messages: readonly ReceivedMessage[]): Promise<ReceiptOutcome[]> {
    if (messages.length === 0) return [];
    const rows = messages.map((m) => {
      const raw = this.cipher.encrypt(m.raw, bodyPlace(m.id, 'raw'));
      const ack = m.ack ? this.cipher.encrypt(m.ack, bodyPlace(m.id, 'ack')) : undefined;
      return {
        id: m.id,
        received_at: m.receivedAt,
        channel: m.channel,
        format: m.format ?? 'hl7v2',
        remote_address: m.remoteAddress ?? null,
        api_client: m.apiClient ?? null,
        api_client_grant: m.apiClientGrant ?? null,
        feed_id: m.feedId ?? null,
        sender_key: storedKeyPart(m.senderKey),
        control_id: storedKeyPart(m.controlId),
        message_type: m.messageType ?? null,
        raw: raw.stored.toString('base64'),
        raw_truncated: m.rawTruncated,
        size_bytes: m.sizeBytes,
        sha256: m.sha256,
        status: m.status,
        reason: m.reason ?? null,
        issues: m.issues,
        ack_code: m.ackCode ?? null,
        ack: ack ? ack.stored.toString('base64') : null,
        canonical: this.cipher.sealJson(
          m.canonical ?? m.identityEvent ?? m.antenatalEvent ?? m.attendance ?? null,
          sealedPlace.canonical(m.id),
        ),
        key_id: raw.keyId,
      };
    });
    const audit = auditRecordset(
      messages.flatMap((m) => m.audit),
      2,
      this.cipher,
    );
    // The bytes travel base64-encoded inside the JSON and are decoded by PostgreSQL into bytea.
    const inserted = await this.db.query<{ id: string }>(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(${MESSAGE_RECORD})
       ), stored AS (
         INSERT INTO messages (${MESSAGE_COLUMNS}, updated_at)
         SELECT ${MESSAGE_COLUMNS}, received_at FROM input
         ON CONFLICT (sender_key, control_id) DO NOTHING RETURNING id
       ), bodies AS (
         INSERT INTO message_bodies (message_id, raw, ack, canonical, key_id)
         SELECT id, decode(raw, 'base64'), decode(ack, 'base64'), canonical, key_id FROM input WHERE id IN (SELECT id FROM stored)
       ), audited AS (
         ${auditInsertSql(2, 'a.message_id IN (SELECT id FROM stored)')}
       )
       SELECT id FROM stored`,
      [JSON.stringify(rows), audit.param],
      { prepare: 'record-receipts' },
    );
    const stored = new Set(inserted.rows.map((r) => r.id));
    const duplicates = messages.filter((m) => !stored.has(m.id));
    const originals = new Map<string, { id: string; status: MessageStatus; ack: Uint8Array | null; key_id: string | null }>();
    if (duplicates.length > 0) {
      const found = await this.db.query<{
        id: string;
        status: MessageStatus;
        ack: Uint8Array | null;
        key_id: string | null;
        sender_key: string;
        control_id: string;
      }>(
        `SELECT m.id, m.status, b.ack, b.key_id, m.sender_key, m.control_id FROM messages m LEFT JOIN message_bodies b ON b.message_id = m.id
         WHERE (m.sender_key, m.control_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [duplicates.map((d) => storedKeyPart(d.senderKey) ?? ''), duplicates.map((d) => storedKeyPart(d.controlId) ?? '')],
      );
      for (const r of found.rows) originals.set(`${r.sender_key}\u0000${r.control_id}`, r);
    }
    return messages.map((m): ReceiptOutcome => {
      if (stored.has(m.id)) return { kind: 'stored' };
      const o = originals.get(`${storedKeyPart(m.senderKey) ?? ''}\u0000${storedKeyPart(m.controlId) ?? ''}`);
      if (!o) throw new Error('a message conflicting on (re-send key, MSH-10) was not found');
      const ack = o.ack ? this.cipher.decrypt(o.key_id, Buffer.from(o.ack), bodyPlace(o.id, 'ack')) : undefined;
      return { kind: 'duplicate', originalId: o.id, status: o.status, ...(ack ? { ack } : {}) };
    });
  }

  async list(filter: MessageFilter): Promise<{ items: MessageSummary[]; next?: string }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    if (filter.feedId) where.push(`feed_id = $${params.push(filter.feedId)}`);
    const cursor = cursorOf(filter.after);
    if (cursor) where.push(`(received_at, id) < ($${params.push(cursor.at)}::timestamptz, $${params.push(cursor.id)}::uuid)`);
    const limit = params.push(filter.limit + 1);
    const r = await this.db.query<MessageRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM messages ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
       ORDER BY received_at DESC, id DESC LIMIT $${limit}`,
      params,
    );
    const items = r.rows.slice(0, filter.limit).map(summary);
    const last = items[items.length - 1];
    return r.rows.length > filter.limit && last ? { items, next: encodeCursor(last.receivedAt, last.id) } : { items };
  }

  async get(id: string): Promise<StoredMessage | undefined> {
    const r = await this.db.query<MessageRow & BodyRow>(
      `SELECT ${SUMMARY_COLUMNS}, sender_key, api_client, api_client_grant, b.raw, b.key_id, b.canonical FROM messages m JOIN message_bodies b ON b.message_id = m.id WHERE m.id = $1`,
      [id],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    const raw = row.raw === null ? Buffer.alloc(0) : this.cipher.decrypt(row.key_id, Buffer.from(row.raw), bodyPlace(row.id, 'raw'));
    const m: StoredMessage = { ...summary(row), raw };
    if (row.canonical !== null) {
      const canonical = this.cipher.openJson(row.canonical, sealedPlace.canonical(row.id));
      if (isIdentityEvent(canonical)) m.identityEvent = canonical;
      else if (isAttendance(canonical)) m.attendance = canonical;
      // A maternity booking or loss (issue 17) is not a birth: operators see its message, not a birth record.
      else if (!isAntenatalEvent(canonical)) m.canonical = canonical as BirthNotification;
    }
    if (row.sender_key !== null) m.senderKey = row.sender_key;
    if (row.api_client !== null) m.apiClient = row.api_client;
    const grant = row.api_client_grant === undefined || row.api_client_grant === null ? undefined : json(row.api_client_grant);
    if (isGrant(grant)) m.apiClientGrant = grant;
    return m;
  }

  async pendingIds(limit: number): Promise<string[]> {
    const r = await this.db.query<{ id: string }>(`SELECT id FROM messages WHERE status = 'queued' ORDER BY received_at LIMIT $1`, [limit]);
    return r.rows.map((x) => x.id);
  }

  async withStrandedIds(
    receivedFrom: Date,
    receivedBefore: Date,
    limit: number,
    fn: (ids: readonly string[]) => Promise<void>,
  ): Promise<number | undefined> {
    return this.db.transaction(async (tx) => {
      const lock = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SWEEP_LOCK]);
      if (lock.rows[0]?.locked !== true) return undefined;
      // The status index (status, received_at) serves both the status and the time range.
      const r = await tx.query<{ id: string }>(
        `SELECT id FROM messages WHERE status = 'queued' AND received_at >= $1 AND received_at < $2 ORDER BY received_at LIMIT $3`,
        [receivedFrom, receivedBefore, limit],
      );
      const ids = r.rows.map((x) => x.id);
      if (ids.length > 0) await fn(ids);
      return ids.length;
    });
  }

  /**
   * Per feed, through the (feed_id, received_at) index: its latest message, and its messages since `since` by ACK
   * code; unknown senders (no feed) as one more row.
   */
  async feedActivity(feedIds: readonly string[], since: Date): Promise<FeedActivity[]> {
    const ids = [...feedIds];
    const [last, counts] = await Promise.all([
      this.db.query<{ feed_id: string | null; last_at: Date | string | null }>(
        `SELECT f.id AS feed_id, (SELECT max(received_at) FROM messages WHERE feed_id = f.id) AS last_at FROM unnest($1::text[]) AS f(id)
         UNION ALL SELECT NULL, (SELECT max(received_at) FROM messages WHERE feed_id IS NULL)`,
        [ids],
      ),
      this.db.query<{ feed_id: string | null; ack_code: string | null; n: number | string }>(
        `SELECT feed_id, ack_code, count(*) AS n FROM messages WHERE feed_id = ANY($1::text[]) AND received_at >= $2 GROUP BY feed_id, ack_code
         UNION ALL SELECT NULL, ack_code, count(*) FROM messages WHERE feed_id IS NULL AND received_at >= $2 GROUP BY ack_code`,
        [ids, since],
      ),
    ]);
    const byFeed = new Map<string | null, FeedActivity>();
    for (const r of last.rows) {
      const a: FeedActivity = { todayByAckCode: {} };
      if (r.feed_id !== null) a.feedId = r.feed_id;
      const at = iso(r.last_at);
      if (at) a.lastReceivedAt = new Date(at);
      byFeed.set(r.feed_id, a);
    }
    for (const r of counts.rows) {
      const a = byFeed.get(r.feed_id);
      if (a) a.todayByAckCode[r.ack_code ?? 'none'] = (a.todayByAckCode[r.ack_code ?? 'none'] ?? 0) + Number(r.n);
    }
    return [...byFeed.values()];
  }

  async updateAfterReplay(u: Parameters<MessageStore['updateAfterReplay']>[0]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE messages SET status = $2, reason = $3, issues = $4, feed_id = COALESCE($5, feed_id),
           replay_count = replay_count + 1, updated_at = $6 WHERE id = $1`,
        [u.id, u.status, u.reason ?? null, JSON.stringify(u.issues), u.feedId ?? null, u.at],
      );
      const canonical = this.cipher.sealJson(
        u.canonical ?? u.identityEvent ?? u.antenatalEvent ?? u.attendance ?? null,
        sealedPlace.canonical(u.id),
      );
      await tx.query('UPDATE message_bodies SET canonical = $2 WHERE message_id = $1', [
        u.id,
        canonical === null ? null : JSON.stringify(canonical),
      ]);
      await insertAuditEvents(tx, u.audit, this.cipher);
    });
  }
}
