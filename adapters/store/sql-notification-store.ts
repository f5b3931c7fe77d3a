import { CLOSING_OUTCOMES } from '../../src/domain/offer-outcome.js';
import type { Database, SqlClient } from '../../src/ports/database.js';
import type { BirthNotification } from '../../src/domain/birth-notification.js';
import type { AuditActor, AuditEventInput } from '../../src/ports/audit.js';
import { acknowledgedEvent, deliveredEvent, readEvent, type DeliveredNotification } from '../../src/processing/inbox-events.js';
import type {
  ExistingNotification,
  MatchKeys,
  NotificationUpdate,
  InboxFilter,
  InboxItem,
  InboxStatus,
  NotificationStore,
  LiveNotification,
  PendingDelivery,
  ProcessedBirth,
  ProcessingTransaction,
  QueuedMessage,
} from '../../src/ports/notification-store.js';
import type { DisclosedRecord } from '../../src/pipeline/consent/decide.js';
import { isIdentityEvent } from '../../src/domain/identity-event.js';
import { isAntenatalEvent } from '../../src/domain/antenatal-notification.js';
import { isAttendance } from '../../src/domain/trigger.js';
import { resolveIdentityKeys } from './sql-identity-keys.js';
import {
  LOCKED_NOTIFICATION_COLUMNS,
  LOCKED_NOTIFICATION_FROM,
  toLockedNotifications,
  type LockedNotificationRow,
} from './sql-notification-rows.js';
import { SqlFamilyTransaction } from './sql-family-store.js';
import { SqlConsentTransaction } from './sql-consent-register.js';
import { cursorOf, encodeCursor, insertAuditEvents, iso, json } from './sql-helpers.js';
import { NO_DATA_KEYS, type DataCipher } from './data-cipher.js';
import { indexMotherIdentifiers, sealedPlace } from './sealed-columns.js';

/** Worker writes can be redone from the stored message (every one is idempotent), so they need not wait for the
 * disk: fsyncs are kept for intake, whose commits come before an ACK. */
const ASYNC_COMMIT = { asyncCommit: true } as const;
const NOTIFICATION_COLUMNS =
  'id, message_id, subject_key, birth_key, demographic_key, created_at, baby_nhs_number, mother_nhs_number, decision, route, inbox_id, dataset, disclosed, consent_hold';
const NOTIFICATION_RECORD =
  'id uuid, message_id uuid, subject_key text, birth_key text, demographic_key text, created_at timestamptz, baby_nhs_number text, mother_nhs_number text, ' +
  'decision jsonb, route jsonb, inbox_id text, dataset text, disclosed jsonb, consent_hold jsonb';

export interface InboxRow {
  notification_id: string;
  inbox_id: string;
  status: InboxStatus;
  delivered_at: Date | string;
  updated_at: Date | string | null;
  first_read_at: Date | string | null;
  acknowledged_at: Date | string | null;
  withdrawn_at: Date | string | null;
  purged_at: Date | string | null;
  disclosed: unknown;
  subject_nhs_number: string | null;
  decision: unknown;
  family_id: string | null;
}

/** The disclosed record of an inbox row, decrypted (null when none is held). */
function disclosedOf(r: InboxRow, cipher: DataCipher): DisclosedRecord | null {
  return cipher.openJson(r.disclosed, sealedPlace.disclosed(r.notification_id)) as DisclosedRecord | null;
}

export function toItem(r: InboxRow, cipher: DataCipher): InboxItem {
  const item: InboxItem = {
    notificationId: r.notification_id,
    inbox: r.inbox_id,
    status: r.status,
    deliveredAt: iso(r.delivered_at) ?? '',
  };
  const updated = iso(r.updated_at);
  if (updated) item.updatedAt = updated;
  const read = iso(r.first_read_at);
  const acked = iso(r.acknowledged_at);
  const withdrawn = iso(r.withdrawn_at);
  if (read) item.firstReadAt = read;
  if (acked) item.acknowledgedAt = acked;
  if (withdrawn) item.withdrawnAt = withdrawn;
  // Purged under retention: its content is no longer held; the centre keeps its id, status and times.
  const purged = iso(r.purged_at);
  if (purged) item.purgedAt = purged;
  // A withdrawn notification is not disclosed again: the centre keeps its id, status and time only.
  else if (r.status !== 'withdrawn') {
    if (r.family_id !== null) item.familyId = r.family_id;
    const disclosed = disclosedOf(r, cipher);
    if (disclosed !== null) item.record = disclosed;
  }
  return item;
}

/*
 * The workers find their messages by id only. A condition on status in the WHERE clause let PostgreSQL reach them
 * through the status index instead whenever its statistics said few messages were queued (a back-fill or a
 * burst between two ANALYZE runs): it then read every queued message for each batch, so a batch cost more the
 * longer the backlog. So the status is filtered after the lookup (loadQueued) or guarded inside SET (ifQueued).
 */

/** Messages about to be processed, with their status and canonical records; loadQueued keeps the queued ones. */
export const LOAD_QUEUED_SQL = `SELECT m.id, m.status, b.canonical FROM messages m LEFT JOIN message_bodies b ON b.message_id = m.id
  WHERE m.id = ANY($1::uuid[]) ORDER BY m.received_at`;

/** A SET item that changes a message's column only while the message is still queued. */
const ifQueued = (column: string, value: string): string => `${column} = CASE WHEN status = 'queued' THEN ${value} ELSE ${column} END`;

/**
 * Processing's one statement for a batch: the notifications ($1, JSON) and their messages marked processed
 * ($2, the time). Returns the notifications created; their decided/routed audit events are written at the end of the
 * transaction (insertAuditEvents).
 */
export const SAVE_PROCESSED_SQL = `WITH created AS (
   INSERT INTO notifications (${NOTIFICATION_COLUMNS}, status)
   SELECT v.*, CASE WHEN v.inbox_id IS NULL THEN 'withheld' ELSE 'routed' END
   FROM jsonb_to_recordset($1::jsonb) AS v(${NOTIFICATION_RECORD})
   ON CONFLICT DO NOTHING RETURNING id, message_id
 ), processed AS (
   UPDATE messages SET ${ifQueued('status', "'processed'")}, ${ifQueued('updated_at', '$2')}
   WHERE id IN (SELECT message_id FROM created)
 )
 SELECT id FROM created`;

export const INBOX_SELECT = `SELECT i.notification_id, i.inbox_id, i.status, i.delivered_at, i.updated_at, i.first_read_at, i.acknowledged_at, i.withdrawn_at, n.purged_at, n.disclosed,
  n.baby_nhs_number AS subject_nhs_number, n.decision, fl.family_id
  FROM inbox_items i JOIN notifications n ON n.id = i.notification_id LEFT JOIN family_links fl ON fl.notification_id = i.notification_id`;

/** Notifications and inboxes in SQL. Unique keys (message, subject) make every write safe to repeat. */
export class SqlNotificationStore implements NotificationStore {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  async loadQueued(messageIds: readonly string[]): Promise<QueuedMessage[]> {
    if (messageIds.length === 0) return [];
    const r = await this.db.query<{ id: string; status: string; canonical: unknown }>(LOAD_QUEUED_SQL, [messageIds], {
      prepare: 'load-queued',
    });
    return r.rows
      .filter((row) => row.status === 'queued')
      .map((row) => {
        const canonical = row.canonical === null ? undefined : this.cipher.openJson(row.canonical, sealedPlace.canonical(row.id));
        if (isAntenatalEvent(canonical)) return { id: row.id, canonical: undefined, antenatalEvent: canonical };
        if (isAttendance(canonical)) return { id: row.id, canonical: undefined, attendance: canonical };
        return isIdentityEvent(canonical)
          ? { id: row.id, canonical: undefined, identityEvent: canonical }
          : { id: row.id, canonical: canonical as BirthNotification | undefined };
      });
  }

  async processingTransaction<T>(work: (tx: ProcessingTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new SqlProcessingTransaction(tx, this.cipher)), ASYNC_COMMIT);
  }

  async quarantine(messageId: string, reason: string, at: Date, audit: AuditEventInput): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE messages SET status = 'quarantined', reason = $2, updated_at = $3 WHERE id = $1`, [messageId, reason, at]);
      await insertAuditEvents(tx, [audit], this.cipher);
    });
  }

  async undelivered(messageIds?: readonly string[]): Promise<PendingDelivery[]> {
    const r = await this.db.query<{ id: string; inbox_id: string }>(
      `SELECT id, inbox_id FROM notifications WHERE status = 'routed'
       ${messageIds ? 'AND (message_id = ANY($1::uuid[]) OR last_message_id = ANY($1::uuid[]))' : ''} ORDER BY created_at`,
      messageIds ? [messageIds] : [],
    );
    return r.rows.map((x) => ({ inboxId: x.inbox_id, notificationId: x.id }));
  }

  async undeliveredCreated(createdFrom: Date, createdBefore: Date, limit: number): Promise<PendingDelivery[]> {
    const r = await this.db.query<{ id: string; inbox_id: string }>(
      `SELECT id, inbox_id FROM notifications WHERE status = 'routed' AND created_at >= $1 AND created_at < $2
        ORDER BY created_at LIMIT $3`,
      [createdFrom, createdBefore, limit],
    );
    return r.rows.map((x) => ({ inboxId: x.inbox_id, notificationId: x.id }));
  }

  /**
   * Marks delivered and puts in the inbox (one statement), then appends the disclosure events that
   * processing's deliveredEvent makes of the rows actually moved, in the same transaction.
   */
  async deliver(inboxId: string, notificationIds: readonly string[], at: Date): Promise<string[]> {
    return (await this.deliverReceipts(inboxId, notificationIds, at)).map((d) => d.id);
  }

  async deliverReceipts(inboxId: string, notificationIds: readonly string[], at: Date): Promise<{ id: string; receivedAt: Date }[]> {
    if (notificationIds.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const r = await tx.query<{
        id: string;
        message_id: string;
        baby_nhs_number: string | null;
        decision: unknown;
        dataset: string | null;
        received_at: Date | string;
      }>(
        `WITH delivered AS (
           UPDATE notifications SET status = 'delivered' WHERE id = ANY($1::uuid[]) AND inbox_id = $2 AND status = 'routed'
           RETURNING id, message_id, baby_nhs_number, decision, dataset
         ), inboxed AS (
           INSERT INTO inbox_items (inbox_id, notification_id, status, delivered_at)
           SELECT $2, id, 'new', $3 FROM delivered
           ON CONFLICT (inbox_id, notification_id) DO UPDATE SET status = 'new', delivered_at = EXCLUDED.delivered_at,
             updated_at = NULL, first_read_at = NULL, acknowledged_at = NULL, acknowledged_by = NULL, withdrawn_at = NULL
           WHERE inbox_items.status = 'withdrawn'
         )
         SELECT d.id, d.message_id, d.baby_nhs_number, d.decision, d.dataset, m.received_at
           FROM delivered d JOIN messages m ON m.id = d.message_id`,
        [notificationIds, inboxId, at],
        { prepare: 'deliver-receipts' },
      );
      const events = r.rows.map((x) =>
        deliveredEvent(
          {
            notificationId: x.id,
            messageId: x.message_id,
            ...(x.baby_nhs_number !== null ? { babyNhsNumber: x.baby_nhs_number } : {}),
            decision: json(x.decision) as DeliveredNotification['decision'],
            ...(x.dataset !== null ? { dataset: x.dataset } : {}),
          },
          inboxId,
          at,
        ),
      );
      await insertAuditEvents(tx, events, this.cipher);
      return r.rows.map((x) => ({ id: x.id, receivedAt: new Date(x.received_at) }));
    }, ASYNC_COMMIT);
  }

  async listInbox(inboxId: string, filter: InboxFilter, reader: AuditActor, at: Date): Promise<{ items: InboxItem[]; next?: string }> {
    const params: unknown[] = [inboxId];
    const where = ['i.inbox_id = $1'];
    const newest = filter.order === 'newest-first';
    if (filter.status) where.push(`i.status = $${params.push(filter.status)}`);
    if (filter.openDeliveredBefore)
      where.push(
        `i.status <> 'withdrawn' AND i.delivered_at < $${params.push(filter.openDeliveredBefore)} AND NOT EXISTS (
           SELECT 1 FROM offer_outcomes o WHERE o.inbox_id = i.inbox_id AND o.notification_id = i.notification_id
              AND o.outcome IN (${CLOSING_OUTCOMES.map((o) => `'${o}'`).join(', ')})
              AND NOT EXISTS (SELECT 1 FROM offer_outcomes c WHERE c.corrects = o.id))`,
      );
    const order = newest ? 'i.delivered_at DESC, i.notification_id DESC' : 'i.delivered_at, i.notification_id';
    const page = async (after: { at: string; id: string } | undefined, limit: number): Promise<InboxRow[]> => {
      const p = [...params];
      const w = [...where];
      if (after)
        w.push(`(i.delivered_at, i.notification_id) ${newest ? '<' : '>'} ($${p.push(after.at)}::timestamptz, $${p.push(after.id)}::uuid)`);
      const l = p.push(limit);
      return (await this.db.query<InboxRow>(`${INBOX_SELECT} WHERE ${w.join(' AND ')} ORDER BY ${order} LIMIT $${l}`, p)).rows;
    };
    let found: InboxRow[];
    const born = filter.bornOnOrAfter;
    if (born === undefined) found = await page(cursorOf(filter.after), filter.limit + 1);
    else {
      // The disclosed record is encrypted, so SQL cannot compare its birth date: pages are read in order and filtered
      // here until one more match than asked for is found (an ISO date compares as text; a record without a birth
      // date is not "born since"; a withdrawn or purged item, which shows no record, never matches).
      found = [];
      let after = cursorOf(filter.after);
      const chunk = Math.max(50, filter.limit + 1);
      for (;;) {
        const rows = await page(after, chunk);
        for (const row of rows) {
          const date = row.status === 'withdrawn' || row.purged_at !== null ? undefined : disclosedOf(row, this.cipher)?.baby.birthDate;
          if (typeof date === 'string' && date >= born) found.push(row);
        }
        const last = rows[rows.length - 1];
        if (found.length > filter.limit || rows.length < chunk || last === undefined) break;
        after = { at: iso(last.delivered_at) ?? '', id: last.notification_id };
      }
    }
    const rows = found.slice(0, filter.limit);
    await this.recordReads(inboxId, rows, reader, at);
    const items = rows.map((row) => toItem(row, this.cipher));
    const last = items[items.length - 1];
    return found.length > filter.limit && last ? { items, next: encodeCursor(last.deliveredAt, last.notificationId) } : { items };
  }

  async getInboxItem(inboxId: string, notificationId: string, reader: AuditActor, at: Date): Promise<InboxItem | undefined> {
    const r = await this.db.query<InboxRow>(`${INBOX_SELECT} WHERE i.inbox_id = $1 AND i.notification_id = $2`, [inboxId, notificationId]);
    await this.recordReads(inboxId, r.rows, reader, at);
    const row = r.rows[0];
    return row ? toItem(row, this.cipher) : undefined;
  }

  /** Every read of a disclosed record is audited; the first read is also stamped on the inbox item. */
  private async recordReads(inboxId: string, rows: readonly InboxRow[], reader: AuditActor, at: Date): Promise<void> {
    if (rows.length === 0) return;
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE inbox_items SET first_read_at = $3 WHERE inbox_id = $1 AND notification_id = ANY($2::uuid[]) AND first_read_at IS NULL`,
        [inboxId, rows.map((x) => x.notification_id), at],
      );
      await insertAuditEvents(
        tx,
        rows.map((x) => readEvent(x.notification_id, x.subject_nhs_number ?? undefined, inboxId, reader, at)),
        this.cipher,
      );
    });
  }

  async acknowledge(
    inboxId: string,
    notificationId: string,
    by: AuditActor,
    at: Date,
  ): Promise<'acknowledged' | 'already' | 'withdrawn' | 'not-found'> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query<{ status: InboxStatus; subject: string | null }>(
        `SELECT i.status, n.baby_nhs_number AS subject FROM inbox_items i JOIN notifications n ON n.id = i.notification_id
         WHERE i.inbox_id = $1 AND i.notification_id = $2 FOR UPDATE OF i`,
        [inboxId, notificationId],
      );
      const row = r.rows[0];
      if (!row) return 'not-found';
      if (row.status === 'withdrawn') return 'withdrawn';
      if (row.status !== 'new') return 'already';
      await tx.query(
        `UPDATE inbox_items SET status = 'acknowledged', acknowledged_at = $3, acknowledged_by = $4 WHERE inbox_id = $1 AND notification_id = $2`,
        [inboxId, notificationId, at, typeof by === 'string' ? by : by.actor],
      );
      await insertAuditEvents(tx, [acknowledgedEvent(notificationId, row.subject ?? undefined, inboxId, by, at)], this.cipher);
      return 'acknowledged';
    });
  }
}

/** One processing batch's writes, on one transaction's connection. Every statement is safe to repeat. */
export class SqlProcessingTransaction implements ProcessingTransaction {
  readonly families: SqlFamilyTransaction;
  constructor(
    private readonly tx: SqlClient,
    protected readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {
    this.families = new SqlFamilyTransaction(tx, cipher);
  }

  async createNotifications(items: readonly ProcessedBirth[], at: Date): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const rows = items.map((b) => ({
      id: b.notificationId,
      message_id: b.messageId,
      // Lookup keys as pseudonyms (migration 038): the values themselves are in the encrypted record.
      subject_key: this.cipher.pseudonym(b.plan.subjectKey),
      birth_key: this.cipher.pseudonymOrNull(b.plan.birthKey),
      demographic_key: this.cipher.pseudonymOrNull(b.plan.demographicKey),
      created_at: b.at,
      baby_nhs_number: this.cipher.pseudonymOrNull(b.record.baby.nhsNumber),
      mother_nhs_number: this.cipher.pseudonymOrNull(b.record.mother?.nhsNumber),
      decision: b.plan.decision,
      route: b.plan.route,
      inbox_id: b.plan.inboxId ?? null,
      dataset: b.plan.decision.dataset ?? null,
      disclosed: this.cipher.sealJson(b.plan.disclosed ?? null, sealedPlace.disclosed(b.notificationId)),
      consent_hold: b.consentHold ?? null,
    }));
    const inserted = await this.tx.query<{ id: string }>(SAVE_PROCESSED_SQL, [JSON.stringify(rows), at], {
      prepare: 'save-processed',
    });
    const created = new Set(inserted.rows.map((r) => r.id));
    // The mother's local identifiers, for the A40/A24 search SQL can no longer make inside her encrypted record.
    await indexMotherIdentifiers(
      this.tx,
      this.cipher,
      items.filter((b) => created.has(b.notificationId)).map((b) => ({ notificationId: b.notificationId, record: b.record })),
      { replace: false },
    );
    await insertAuditEvents(
      this.tx,
      items.flatMap((b) => b.audit).filter((e) => e.notificationId !== undefined && created.has(e.notificationId)),
      this.cipher,
    );
    return created;
  }

  async messagesWithNotification(messageIds: readonly string[]): Promise<Set<string>> {
    if (messageIds.length === 0) return new Set();
    const r = await this.tx.query<{ message_id: string }>('SELECT message_id FROM notifications WHERE message_id = ANY($1::uuid[])', [
      messageIds,
    ]);
    return new Set(r.rows.map((x) => x.message_id));
  }

  async messagesNotQueued(messageIds: readonly string[]): Promise<Set<string>> {
    if (messageIds.length === 0) return new Set();
    const r = await this.tx.query<{ id: string }>(`SELECT id FROM messages WHERE id = ANY($1::uuid[]) AND status <> 'queued'`, [
      messageIds,
    ]);
    return new Set(r.rows.map((x) => x.id));
  }

  async lockLiveNotifications(subjectKeys: readonly string[]): Promise<LiveNotification[]> {
    if (subjectKeys.length === 0) return [];
    const r = await this.tx.query<{
      id: string;
      subject_key: string;
      status: 'routed' | 'delivered';
      inbox_id: string | null;
      baby_nhs_number: string | null;
    }>(
      `SELECT id, subject_key, status, inbox_id, baby_nhs_number FROM notifications
       WHERE subject_key = ANY($1::text[]) AND status IN ('routed', 'delivered') ORDER BY created_at, id FOR UPDATE`,
      [this.cipher.pseudonymForms(subjectKeys)],
    );
    return r.rows.map((row) => ({
      id: row.id,
      subjectKey: this.cipher.reveal(row.subject_key, subjectKeys),
      status: row.status,
      ...(row.inbox_id !== null ? { inboxId: row.inbox_id } : {}),
      ...(row.baby_nhs_number !== null ? { babyNhsNumber: row.baby_nhs_number } : {}),
    }));
  }

  async lockMatchingNotifications(keys: MatchKeys): Promise<ExistingNotification[]> {
    if (keys.subjectKeys.length + keys.babyNhsNumbers.length + keys.birthKeys.length + keys.demographicKeys.length === 0) return [];
    const r = await this.tx.query<LockedNotificationRow>(
      `SELECT ${LOCKED_NOTIFICATION_COLUMNS} FROM ${LOCKED_NOTIFICATION_FROM}
       WHERE n.subject_key = ANY($1::text[]) OR n.baby_nhs_number = ANY($2::text[]) OR n.birth_key = ANY($3::text[])
         OR n.demographic_key = ANY($4::text[])
       ORDER BY n.created_at, n.id FOR UPDATE OF n`,
      [
        this.cipher.pseudonymForms(keys.subjectKeys),
        this.cipher.pseudonymForms(keys.babyNhsNumbers),
        this.cipher.pseudonymForms(keys.birthKeys),
        this.cipher.pseudonymForms(keys.demographicKeys),
      ],
    );
    return toLockedNotifications(r.rows, this.cipher, [
      ...keys.subjectKeys,
      ...keys.babyNhsNumbers,
      ...keys.birthKeys,
      ...keys.demographicKeys,
    ]);
  }

  async enrichNotifications(updates: readonly NotificationUpdate[], at: Date): Promise<void> {
    if (updates.length === 0) return;
    // A second-level key newly known is set only where no notification holds it (processing checked those it
    // locked; one it did not lock, about another baby, may hold it too): the key is a shortcut, never required.
    const rows = updates.map((u) => ({
      id: u.id,
      record: this.cipher.sealJson(u.record, sealedPlace.record(u.id)),
      baby_nhs_number: this.cipher.pseudonymOrNull(u.babyNhsNumber),
      mother_nhs_number: this.cipher.pseudonymOrNull(u.motherNhsNumber),
      birth_key: this.cipher.pseudonymOrNull(u.birthKey),
      demographic_key: this.cipher.pseudonymOrNull(u.demographicKey),
      disclosed: this.cipher.sealJson(u.disclosed ?? null, sealedPlace.disclosed(u.id)),
      decision: u.decision ?? null,
      inbox_updated: u.inboxUpdated,
      last_message_id: u.lastMessageId ?? null,
    }));
    await this.tx.query(
      `WITH u AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb)
           AS v(id uuid, record jsonb, baby_nhs_number text, mother_nhs_number text, birth_key text, demographic_key text,
                disclosed jsonb, decision jsonb, inbox_updated boolean, last_message_id uuid)
       ), enriched AS (
         UPDATE notifications n SET record = u.record, disclosed = COALESCE(u.disclosed, n.disclosed),
           decision = COALESCE(u.decision, n.decision), dataset = COALESCE(u.decision ->> 'dataset', n.dataset),
           baby_nhs_number = COALESCE(n.baby_nhs_number, u.baby_nhs_number),
           mother_nhs_number = COALESCE(n.mother_nhs_number, u.mother_nhs_number),
           birth_key = COALESCE(n.birth_key, CASE WHEN NOT EXISTS (SELECT 1 FROM notifications o WHERE o.birth_key = u.birth_key) THEN u.birth_key END),
           demographic_key = COALESCE(n.demographic_key,
             CASE WHEN NOT EXISTS (SELECT 1 FROM notifications o WHERE o.demographic_key = u.demographic_key) THEN u.demographic_key END),
           last_message_id = COALESCE(u.last_message_id, n.last_message_id), updated_at = $2
         FROM u WHERE n.id = u.id RETURNING n.id
       )
       UPDATE inbox_items i SET updated_at = $2 FROM u
       WHERE i.notification_id = u.id AND u.inbox_updated AND i.status <> 'withdrawn'`,
      [JSON.stringify(rows), at],
    );
    await indexMotherIdentifiers(
      this.tx,
      this.cipher,
      updates.map((u) => ({ notificationId: u.id, record: u.record })),
      { replace: true },
    );
    const moves = updates.flatMap((u) =>
      u.reroute === undefined
        ? []
        : [{ id: u.id, ...u.reroute, disclosed: this.cipher.sealJson(u.reroute.disclosed ?? null, sealedPlace.disclosed(u.id)) }],
    );
    if (moves.length === 0) return;
    // A move: re-decided and re-routed (routed again, for the delivery job, or withheld), and its item in the old
    // inbox withdrawn. The old inbox item keeps no record: the centre sees only that it was withdrawn, and when.
    await this.tx.query(
      `WITH m AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb)
           AS v(id uuid, decision jsonb, route jsonb, "inboxId" text, disclosed jsonb, "withdrawFrom" text)
       ), moved AS (
         UPDATE notifications n SET decision = m.decision, route = m.route, inbox_id = m."inboxId", dataset = m.decision ->> 'dataset',
           disclosed = m.disclosed, status = CASE WHEN m."inboxId" IS NULL THEN 'withheld' ELSE 'routed' END, updated_at = $2,
           consent_hold = CASE WHEN m."inboxId" IS NULL THEN n.consent_hold END
         FROM m WHERE n.id = m.id RETURNING n.id
       )
       UPDATE inbox_items i SET status = 'withdrawn', withdrawn_at = $2 FROM m
       WHERE i.notification_id = m.id AND i.inbox_id = m."withdrawFrom" AND i.status <> 'withdrawn'`,
      [JSON.stringify(moves), at],
    );
  }

  async withdrawNotifications(notificationIds: readonly string[], at: Date): Promise<void> {
    if (notificationIds.length === 0) return;
    await this.tx.query(
      `WITH withdrawn AS (
         UPDATE notifications SET status = 'withdrawn', consent_hold = NULL WHERE id = ANY($1::uuid[]) RETURNING id
       )
       UPDATE inbox_items i SET status = 'withdrawn', withdrawn_at = $2
       FROM withdrawn w WHERE i.notification_id = w.id AND i.status <> 'withdrawn'`,
      [notificationIds, at],
    );
  }

  async markMessages(
    messageIds: readonly string[],
    status: 'processed' | 'duplicate' | 'not-relevant',
    at: Date,
    reason?: string,
  ): Promise<void> {
    if (messageIds.length === 0) return;
    const setReason = reason === undefined ? '' : `, ${ifQueued('reason', '$4')}`;
    await this.tx.query(
      `UPDATE messages SET ${ifQueued('status', '$3')}${setReason}, ${ifQueued('updated_at', '$2')} WHERE id = ANY($1::uuid[])`,
      reason === undefined ? [messageIds, at, status] : [messageIds, at, status, reason],
    );
  }

  async appendAudit(events: readonly AuditEventInput[]): Promise<void> {
    await insertAuditEvents(this.tx, events, this.cipher);
  }

  async resolveIdentityKeys(keys: readonly string[]): Promise<Map<string, string>> {
    return resolveIdentityKeys(this.tx, keys, this.cipher);
  }

  consents(): SqlConsentTransaction {
    return new SqlConsentTransaction(this.tx, this.cipher);
  }
}
