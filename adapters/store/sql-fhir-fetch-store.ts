import type { Database } from '../../src/ports/database.js';
import type { AuditEventInput } from '../../src/ports/audit.js';
import type {
  ClaimedFhirEvent,
  EventReceipt,
  FhirEventStatus,
  FhirEventSummary,
  FhirFetchStore,
  PollCursor,
  ReceivedFhirEvent,
} from '../../src/ports/fhir-fetch.js';
import { insertAuditEvents, iso } from './sql-helpers.js';
import { storedKeyPart } from './sql-message-store.js';
import { NO_DATA_KEYS, type DataCipher, type DataPlace } from './data-cipher.js';

/** Where a FHIR event's sealed values live (migration 038): bound to the event's row. */
export function fhirEventPlace(id: string, column: 'raw' | 'subject'): DataPlace {
  return { table: 'fhir_events', column, row: id };
}

/** What `fhir_events.subject` holds, sealed: the subject the fetch asks the feed's server for. */
interface EventSubject {
  reference?: string;
  nhsNumber?: string;
}

interface EventRow {
  id: string;
  received_at: Date | string;
  api_client: string;
  feed_id: string | null;
  event_id: string | null;
  form: ReceivedFhirEvent['form'];
  status: FhirEventStatus;
  reason: string | null;
  attempts: number;
  message_id: string | null;
  updated_at: Date | string;
}

const SUMMARY = 'id, received_at, api_client, feed_id, event_id, form, status, reason, attempts, message_id, updated_at';

function summary(r: EventRow): FhirEventSummary {
  return {
    id: r.id,
    receivedAt: iso(r.received_at) ?? '',
    apiClient: r.api_client,
    form: r.form,
    status: r.status,
    attempts: r.attempts,
    updatedAt: iso(r.updated_at) ?? '',
    ...(r.feed_id !== null ? { feedId: r.feed_id } : {}),
    ...(r.event_id !== null ? { eventId: r.event_id } : {}),
    ...(r.reason !== null ? { reason: r.reason } : {}),
    ...(r.message_id !== null ? { messageId: r.message_id } : {}),
  };
}

/** Signal events and poll cursors in PostgreSQL / PGlite (migration 011). */
export class SqlFhirFetchStore implements FhirFetchStore {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  /**
   * The event id is stored as `storedKeyPart` stores a message's control id: as sent up to 512 bytes, else as
   * `sha256:<hex>` of it, so that a very long random id cannot overflow the `fhir_events_resend` btree row
   * (SQLSTATE 54000) and a re-send of it is still recognised. The event's bytes (`raw`) keep the id as sent.
   */
  async recordEvent(e: ReceivedFhirEvent): Promise<EventReceipt> {
    const eventId = storedKeyPart(e.eventId);
    const senderKey = storedKeyPart(e.senderKey) ?? e.senderKey;
    // The body encrypted like a message's bytes; the subject sealed beside its number's pseudonym (migration 038).
    const raw = this.cipher.encrypt(e.raw, fhirEventPlace(e.id, 'raw'));
    const sealed = raw.keyId !== null;
    const subject: EventSubject = {
      ...(e.subjectReference !== undefined ? { reference: e.subjectReference } : {}),
      ...(e.subjectNhsNumber !== undefined ? { nhsNumber: e.subjectNhsNumber } : {}),
    };
    return this.db.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO fhir_events (id, received_at, api_client, feed_id, sender_key, event_id, form, raw, subject_reference,
           subject_nhs_number, status, reason, next_attempt_at, updated_at, key_id, subject)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, CASE WHEN $11 = 'pending' THEN $2::timestamptz END, $2, $13, $14::jsonb)
         ON CONFLICT (sender_key, event_id) WHERE event_id IS NOT NULL DO NOTHING`,
        [
          e.id,
          e.receivedAt,
          e.apiClient,
          e.feedId ?? null,
          senderKey,
          eventId,
          e.form,
          raw.stored,
          sealed ? null : (e.subjectReference ?? null),
          this.cipher.pseudonymOrNull(e.subjectNhsNumber),
          e.status,
          e.reason ?? null,
          raw.keyId,
          sealed ? JSON.stringify(this.cipher.sealJson(subject, fhirEventPlace(e.id, 'subject'))) : null,
        ],
      );
      if (inserted.rowCount === 0) {
        const original = await tx.query<EventRow>(`SELECT ${SUMMARY} FROM fhir_events WHERE sender_key = $1 AND event_id = $2`, [
          senderKey,
          eventId,
        ]);
        const row = original.rows[0];
        if (!row) throw new Error('re-sent event vanished');
        return { kind: 'duplicate', original: summary(row) };
      }
      await insertAuditEvents(tx, e.audit, this.cipher);
      return { kind: 'stored' };
    });
  }

  async getEvent(id: string): Promise<FhirEventSummary | undefined> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return undefined;
    const r = await this.db.query<EventRow>(`SELECT ${SUMMARY} FROM fhir_events WHERE id = $1`, [id]);
    const row = r.rows[0];
    return row ? summary(row) : undefined;
  }

  async claimDueEvents(now: Date, leaseMs: number, limit: number): Promise<ClaimedFhirEvent[]> {
    const r = await this.db.query<{
      id: string;
      feed_id: string;
      event_id: string | null;
      subject_reference: string | null;
      subject_nhs_number: string | null;
      subject: unknown;
      attempts: number;
    }>(
      `UPDATE fhir_events SET claimed_until = $2, attempts = attempts + 1
        WHERE id IN (SELECT id FROM fhir_events
                      WHERE status = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
                      ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING id, feed_id, event_id, subject_reference, subject_nhs_number, subject, attempts`,
      [now, new Date(now.getTime() + leaseMs), limit],
    );
    return r.rows.map((x) => {
      // A sealed subject (migration 038), else the columns of a row stored in clear.
      const sealed = this.cipher.openJson(x.subject, fhirEventPlace(x.id, 'subject')) as EventSubject | null;
      const reference = sealed === null ? x.subject_reference : (sealed.reference ?? null);
      const nhsNumber = sealed === null ? x.subject_nhs_number : (sealed.nhsNumber ?? null);
      return {
        id: x.id,
        feedId: x.feed_id,
        attempts: x.attempts,
        ...(x.event_id !== null ? { eventId: x.event_id } : {}),
        ...(reference !== null ? { subjectReference: reference } : {}),
        ...(nhsNumber !== null ? { subjectNhsNumber: nhsNumber } : {}),
      };
    });
  }

  async markFetched(id: string, messageId: string, at: Date, audit: AuditEventInput[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE fhir_events SET status = 'fetched', message_id = $2, reason = NULL, claimed_until = NULL, next_attempt_at = NULL, updated_at = $3
          WHERE id = $1`,
        [id, messageId, at],
      );
      await insertAuditEvents(tx, audit, this.cipher);
    });
  }

  async markAttemptFailed(id: string, reason: string, at: Date, retryAt: Date | undefined, audit: AuditEventInput[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE fhir_events SET status = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END, reason = $2,
                claimed_until = NULL, next_attempt_at = $4, updated_at = $3
          WHERE id = $1 AND status = 'pending'`,
        [id, reason, at, retryAt ?? null],
      );
      await insertAuditEvents(tx, audit, this.cipher);
    });
  }

  async leaseCursor(feedId: string, owner: string, now: Date, leaseMs: number): Promise<PollCursor | undefined> {
    const until = new Date(now.getTime() + leaseMs);
    await this.db.query(`INSERT INTO fhir_poll_cursors (feed_id, updated_at) VALUES ($1, $2) ON CONFLICT (feed_id) DO NOTHING`, [
      feedId,
      now,
    ]);
    const r = await this.db.query<{ last_updated: string | null; ids_at_cursor: string[] }>(
      `UPDATE fhir_poll_cursors SET lease_owner = $2, lease_until = $4
        WHERE feed_id = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until IS NULL OR lease_until <= $3)
        RETURNING last_updated, ids_at_cursor`,
      [feedId, owner, now, until],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    return { idsAtCursor: row.ids_at_cursor, ...(row.last_updated !== null ? { lastUpdated: row.last_updated } : {}) };
  }

  async advanceCursor(feedId: string, owner: string, cursor: PollCursor, at: Date): Promise<void> {
    const r = await this.db.query(
      `UPDATE fhir_poll_cursors SET last_updated = $3, ids_at_cursor = $4, updated_at = $5 WHERE feed_id = $1 AND lease_owner = $2`,
      [feedId, owner, cursor.lastUpdated ?? null, cursor.idsAtCursor, at],
    );
    if (r.rowCount === 0) throw new Error('poll lease lost: cursor not moved');
  }

  async releaseCursor(feedId: string, owner: string): Promise<void> {
    await this.db.query(`UPDATE fhir_poll_cursors SET lease_owner = NULL, lease_until = NULL WHERE feed_id = $1 AND lease_owner = $2`, [
      feedId,
      owner,
    ]);
  }
}
