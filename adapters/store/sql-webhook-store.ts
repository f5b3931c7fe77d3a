import type { Database, SqlClient } from '../../src/ports/database.js';
import { actorFields, type AuditActor, type AuditEventInput } from '../../src/ports/audit.js';
import type {
  DeadLetterFilter,
  ReplayOutcome,
  SupersededReason,
  WebhookDelivery,
  WebhookEvent,
  WebhookStatus,
  WebhookStore,
  WebhookToSend,
} from '../../src/ports/webhooks.js';
import { insertAuditEvents, iso } from './sql-helpers.js';
import { NO_DATA_KEYS, type DataCipher } from './data-cipher.js';
import { INBOX_SELECT, toItem, type InboxRow } from './sql-notification-store.js';
import { supersededReason } from '../../src/processing/webhooks.js';
import { antenatalItemNow } from './sql-antenatal-inbox.js';

interface Row {
  id: string;
  idempotency_key: string;
  centre_id: string;
  notification_id: string;
  event: WebhookEvent;
  kind: 'birth' | 'antenatal';
  occurred_at: Date | string;
  status: WebhookStatus;
  attempts: number;
  first_tried_at: Date | string | null;
  last_tried_at: Date | string | null;
  delivered_at: Date | string | null;
  response_status: number | null;
  last_error: string | null;
  dead_at: Date | string | null;
  replays: number;
}

const COLUMNS =
  'id, idempotency_key, centre_id, notification_id, event, kind, occurred_at, status, attempts, first_tried_at, last_tried_at, delivered_at, response_status, last_error, dead_at, replays';

function toDelivery(r: Row): WebhookDelivery {
  const d: WebhookDelivery = {
    id: r.id,
    idempotencyKey: r.idempotency_key,
    centreId: r.centre_id,
    notificationId: r.notification_id,
    ...(r.kind === 'antenatal' ? { kind: 'antenatal' as const } : {}),
    event: r.event,
    occurredAt: iso(r.occurred_at) ?? '',
    status: r.status,
    attempts: r.attempts,
    replays: r.replays,
  };
  const first = iso(r.first_tried_at);
  const last = iso(r.last_tried_at);
  const delivered = iso(r.delivered_at);
  const dead = iso(r.dead_at);
  if (first) d.firstTriedAt = first;
  if (last) d.lastTriedAt = last;
  if (delivered) d.deliveredAt = delivered;
  if (r.response_status !== null) d.responseStatus = r.response_status;
  if (r.last_error !== null) d.lastError = r.last_error;
  if (dead) d.deadAt = dead;
  return d;
}

/**
 * The events of the inbox items of these centres delivered or withdrawn since `$2`, each recorded once: the key is
 * the notification, the event and the inbox item's time of it (microseconds), so the same event always has the
 * same key and a later re-delivery of the same notification has another. Reads the inbox index by (inbox, status).
 */
const SWEEP_SQL = `WITH events AS (
    SELECT i.inbox_id AS centre_id, i.notification_id, 'delivered'::text AS event, i.delivered_at AS occurred_at
      FROM inbox_items i
     WHERE i.inbox_id = ANY($1::text[]) AND i.status IN ('new', 'acknowledged', 'withdrawn') AND i.delivered_at >= $2
    UNION ALL
    SELECT i.inbox_id, i.notification_id, 'withdrawn'::text, i.withdrawn_at
      FROM inbox_items i
     WHERE i.inbox_id = ANY($1::text[]) AND i.withdrawn_at IS NOT NULL AND i.withdrawn_at >= $2
  ), antenatal AS (
    SELECT a.inbox_id AS centre_id, a.id AS notification_id, 'delivered'::text AS event, a.delivered_at AS occurred_at
      FROM antenatal_notifications a
     WHERE a.inbox_id = ANY($1::text[]) AND a.status IN ('delivered', 'withdrawn') AND a.delivered_at >= $2
    UNION ALL
    SELECT a.inbox_id, a.id, 'withdrawn'::text, a.withdrawn_at
      FROM antenatal_notifications a
     WHERE a.inbox_id = ANY($1::text[]) AND a.delivered_at IS NOT NULL AND a.withdrawn_at IS NOT NULL AND a.withdrawn_at >= $2
  ), every_event AS (
    SELECT e.*, 'birth'::text AS kind FROM events e
    UNION ALL
    SELECT x.*, 'antenatal'::text FROM antenatal x
  )
  INSERT INTO webhook_deliveries (id, idempotency_key, centre_id, notification_id, event, occurred_at, status, created_at, kind)
  SELECT gen_random_uuid(),
         e.notification_id::text || '.' || e.event || '.' || floor(extract(epoch FROM e.occurred_at) * 1000000)::bigint::text,
         e.centre_id, e.notification_id, e.event, e.occurred_at, 'pending', $3, e.kind
    FROM every_event e
  ON CONFLICT (idempotency_key) DO NOTHING`;

/** Webhook deliveries and dead letters in SQL; each outcome audited in the transaction that records it. */
export class SqlWebhookStore implements WebhookStore {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  async sweep(centreIds: readonly string[], since: Date, at: Date): Promise<WebhookDelivery[]> {
    if (centreIds.length > 0) await this.db.query(SWEEP_SQL, [centreIds, since, at]);
    const r = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM webhook_deliveries WHERE status = 'pending' AND job_added_at IS NULL ORDER BY created_at LIMIT 1000`,
    );
    return r.rows.map(toDelivery);
  }

  async markJobsAdded(ids: readonly string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE webhook_deliveries SET job_added_at = $2 WHERE id = ANY($1::uuid[]) AND job_added_at IS NULL`, [ids, at]);
  }

  async loadToSend(id: string): Promise<WebhookToSend | undefined> {
    const r = await this.db.query<Row>(`SELECT ${COLUMNS} FROM webhook_deliveries WHERE id = $1`, [id]);
    const row = r.rows[0];
    if (!row) return undefined;
    return currentState(this.db, toDelivery(row), this.cipher);
  }

  async delivered(id: string, a: { at: Date; firstTriedAt: Date; status: number }): Promise<void> {
    await this.db.transaction(async (tx) => {
      const r = await tx.query<Row & { baby_nhs_number: string | null }>(
        `WITH d AS (
           UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, first_tried_at = COALESCE(first_tried_at, $3),
             last_tried_at = $2, delivered_at = $2, response_status = $4, last_error = NULL
           WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}
         ) SELECT d.*, COALESCE(n.baby_nhs_number, a.mother_nhs_number) AS baby_nhs_number FROM d
             LEFT JOIN notifications n ON n.id = d.notification_id AND d.kind = 'birth'
             LEFT JOIN antenatal_notifications a ON a.id = d.notification_id AND d.kind = 'antenatal'`,
        [id, a.at, a.firstTriedAt, a.status],
      );
      const row = r.rows[0];
      if (!row) return;
      await insertAuditEvents(
        tx,
        [
          {
            ...outcomeEvent(toDelivery(row), 'webhook-delivered', 'delivered', a.at),
            ...(row.baby_nhs_number !== null ? { subjectNhsNumber: row.baby_nhs_number } : {}),
            details: { ...details(toDelivery(row)), httpStatus: a.status, attempt: row.attempts, role: 'system', purpose: 'processing' },
          },
        ],
        this.cipher,
      );
    });
  }

  async failed(id: string, a: { at: Date; firstTriedAt: Date; error: string }): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, first_tried_at = COALESCE(first_tried_at, $3), last_tried_at = $2, last_error = $4
        WHERE id = $1 AND status = 'pending'`,
      [id, a.at, a.firstTriedAt, a.error],
    );
  }

  async deadLettered(id: string, a: { at: Date; firstTriedAt: Date; error: string }): Promise<void> {
    await this.db.transaction(async (tx) => {
      const r = await tx.query<Row>(
        `UPDATE webhook_deliveries SET status = 'dead', attempts = attempts + 1, first_tried_at = COALESCE(first_tried_at, $3),
           last_tried_at = $2, last_error = $4, dead_at = $2
         WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
        [id, a.at, a.firstTriedAt, a.error],
      );
      const row = r.rows[0];
      if (!row) return;
      const d = toDelivery(row);
      await insertAuditEvents(
        tx,
        [
          {
            ...outcomeEvent(d, 'webhook-dead-lettered', 'dead', a.at),
            details: { ...details(d), deadLetterId: d.id, attempts: d.attempts, lastError: a.error, role: 'system', purpose: 'processing' },
          },
        ],
        this.cipher,
      );
    });
  }

  async superseded(id: string, reason: SupersededReason, at: Date): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET status = 'superseded', last_tried_at = $2, last_error = $3 WHERE id = $1 AND status = 'pending'`,
      [id, at, `superseded: ${reason}`],
    );
  }

  async deadLetters(filter: DeadLetterFilter): Promise<{ items: WebhookDelivery[]; next?: string }> {
    const params: unknown[] = [];
    const where = [`status = 'dead'`];
    if (filter.centreId !== undefined) where.push(`centre_id = $${params.push(filter.centreId)}`);
    if (filter.after !== undefined)
      where.push(
        `(dead_at, id) > (SELECT dead_at, id FROM webhook_deliveries WHERE id = $${params.push(filter.after)}::uuid AND status = 'dead')`,
      );
    const limit = params.push(filter.limit + 1);
    const r = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM webhook_deliveries WHERE ${where.join(' AND ')} ORDER BY dead_at, id LIMIT $${limit}`,
      params,
    );
    const items = r.rows.slice(0, filter.limit).map(toDelivery);
    const last = items[items.length - 1];
    return r.rows.length > filter.limit && last ? { items, next: last.id } : { items };
  }

  async deadLetterCounts(): Promise<Map<string, number>> {
    const r = await this.db.query<{ centre_id: string; n: string | number }>(
      `SELECT centre_id, count(*) AS n FROM webhook_deliveries WHERE status = 'dead' GROUP BY centre_id`,
    );
    return new Map(r.rows.map((x) => [x.centre_id, Number(x.n)]));
  }

  async deadLetterIds(centreId: string, limit: number): Promise<string[]> {
    const r = await this.db.query<{ id: string }>(
      `SELECT id FROM webhook_deliveries WHERE status = 'dead' AND centre_id = $1 ORDER BY dead_at, id LIMIT $2`,
      [centreId, limit],
    );
    return r.rows.map((x) => x.id);
  }

  async replay(id: string, by: AuditActor, role: string, at: Date): Promise<ReplayOutcome> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query<Row>(`SELECT ${COLUMNS} FROM webhook_deliveries WHERE id = $1 FOR UPDATE`, [id]);
      const row = r.rows[0];
      if (!row) return { kind: 'not-found' };
      const original = toDelivery(row);
      if (original.status !== 'dead') return { kind: 'not-dead', delivery: original };
      // The consent decision as it stands now: the inbox item shows whether the notification is still disclosed there.
      const reason = supersededReason(await currentState(tx, original, this.cipher));
      const u = await tx.query<Row>(
        reason === undefined
          ? `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, first_tried_at = NULL, job_added_at = NULL, replays = replays + 1
              WHERE id = $1 RETURNING ${COLUMNS}`
          : `UPDATE webhook_deliveries SET status = 'superseded', replays = replays + 1, last_error = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
        reason === undefined ? [id] : [id, `superseded: ${reason}`],
      );
      const updated = toDelivery(u.rows[0] ?? row);
      const who = actorFields(by);
      await insertAuditEvents(
        tx,
        [
          {
            at,
            actor: who.actor,
            action: 'webhook-replayed',
            notificationId: original.notificationId,
            recipient: original.centreId,
            outcome: reason === undefined ? 'requeued' : 'superseded',
            details: {
              ...who.details,
              ...details(original),
              // The dead letter replayed, as its `webhook-dead-lettered` event names it.
              deadLetterId: original.id,
              deadAt: original.deadAt,
              lastError: original.lastError,
              replay: updated.replays,
              ...(reason !== undefined ? { reason } : {}),
              role,
              purpose: 'operations',
            },
          },
        ],
        this.cipher,
      );
      return reason === undefined ? { kind: 'requeued', delivery: updated } : { kind: 'superseded', delivery: updated, reason };
    });
  }
}

/** The delivery with the centre's inbox item as it is now (no read audited: it is the sender's, not a person's). */
async function currentState(db: SqlClient, delivery: WebhookDelivery, cipher: DataCipher): Promise<WebhookToSend> {
  if (delivery.kind === 'antenatal') return currentAntenatalState(db, delivery, cipher);
  const items = await db.query<InboxRow>(`${INBOX_SELECT} WHERE i.inbox_id = $1 AND i.notification_id = $2`, [
    delivery.centreId,
    delivery.notificationId,
  ]);
  const row = items.rows[0];
  let live = false;
  if (delivery.event === 'withdrawn') {
    const r = await db.query<{ live: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE notification_id = $1 AND centre_id = $2 AND event = 'delivered'
                        AND (status IN ('pending', 'delivered', 'dead') OR attempts > 0)) AS live`,
      [delivery.notificationId, delivery.centreId],
    );
    live = r.rows[0]?.live === true;
  }
  return { delivery, ...(row ? { item: toItem(row, cipher) } : {}), notificationEventLive: live };
}

/** An antenatal delivery with the centre's antenatal item as it is now (the same shape as the centre API's; no read audited). */
async function currentAntenatalState(db: SqlClient, delivery: WebhookDelivery, cipher: DataCipher): Promise<WebhookToSend> {
  const item = await antenatalItemNow(db, cipher, delivery.centreId, delivery.notificationId);
  let live = false;
  if (delivery.event === 'withdrawn') {
    const r = await db.query<{ live: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE notification_id = $1 AND centre_id = $2 AND event = 'delivered' AND kind = 'antenatal'
                        AND (status IN ('pending', 'delivered', 'dead') OR attempts > 0)) AS live`,
      [delivery.notificationId, delivery.centreId],
    );
    live = r.rows[0]?.live === true;
  }
  return { delivery, ...(item ? { antenatal: item } : {}), notificationEventLive: live };
}

function outcomeEvent(
  d: WebhookDelivery,
  action: 'webhook-delivered' | 'webhook-dead-lettered',
  outcome: string,
  at: Date,
): Omit<AuditEventInput, 'details'> {
  return { at, actor: 'system:worker', action, notificationId: d.notificationId, recipient: d.centreId, outcome };
}

const details = (d: WebhookDelivery): Record<string, unknown> => ({
  ...(d.kind === 'antenatal' ? { kind: 'antenatal' } : {}),
  event: d.event,
  idempotencyKey: d.idempotencyKey,
  deliveryId: d.id,
});
