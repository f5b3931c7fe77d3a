import type { AntenatalBooking, DisclosedAntenatal } from '../../src/domain/antenatal-notification.js';
import type { AntenatalDecision } from '../../src/pipeline/antenatal/antenatal-agreement.js';
import type {
  AntenatalNotification,
  AntenatalStore,
  AntenatalTransaction,
  ExpectingItem,
  LiveAntenatal,
} from '../../src/ports/antenatal-store.js';
import type { AuditEventInput } from '../../src/ports/audit.js';
import type { ConsentHold } from '../../src/ports/consent-register.js';
import type { Route } from '../../src/pipeline/route.js';
import type { Database, SqlClient } from '../../src/ports/database.js';
import type { DataCipher } from './data-cipher.js';
import { sealedPlace } from './sealed-columns.js';
import { SqlConsentTransaction } from './sql-consent-register.js';
import { SqlFamilyTransaction } from './sql-family-store.js';
import { insertAuditEvents, iso, json } from './sql-helpers.js';

/**
 * Antenatal notifications (migration 030) on one transaction's connection. `record` and `disclosed` (the mother's
 * name, date of birth, address, due date) are sealed like notifications' (`DataCipher.sealJson`, bound to
 * `antenatal_notifications.<column>:<id>`), and every read opens them.
 */
class SqlAntenatalTransaction implements AntenatalTransaction {
  readonly families: SqlFamilyTransaction;
  constructor(
    private readonly tx: SqlClient,
    private readonly cipher: DataCipher,
  ) {
    this.families = new SqlFamilyTransaction(tx, cipher);
  }

  consents(): SqlConsentTransaction {
    return new SqlConsentTransaction(this.tx, this.cipher);
  }

  async messageProcessed(messageId: string): Promise<boolean> {
    const r = await this.tx.query(`SELECT 1 FROM messages WHERE id = $1 AND status <> 'queued'`, [messageId]);
    return r.rowCount > 0;
  }

  async insert(n: AntenatalNotification): Promise<boolean> {
    const r = await this.tx.query(
      `INSERT INTO antenatal_notifications (id, message_id, pregnancy_key, mother_nhs_number, pregnancy_id, created_at, updated_at,
         record, decision, route, inbox_id, disclosed, status, delivered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT DO NOTHING`,
      [
        n.id,
        n.messageId,
        // Pseudonyms (migration 038): the key holds the mother's NHS number and the due date.
        this.cipher.pseudonym(n.pregnancyKey),
        this.cipher.pseudonym(n.record.mother.nhsNumber),
        n.record.pregnancyId ?? null,
        n.at,
        JSON.stringify(this.cipher.sealJson(n.record, sealedPlace.antenatal('record', n.id))),
        JSON.stringify(n.decision),
        JSON.stringify(n.route),
        n.inboxId ?? null,
        n.disclosed === undefined ? null : JSON.stringify(this.cipher.sealJson(n.disclosed, sealedPlace.antenatal('disclosed', n.id))),
        n.status,
        n.status === 'delivered' ? n.at : null,
      ],
    );
    return r.rowCount > 0;
  }

  async lockLive(motherNhsNumber: string, pregnancyId: string | undefined): Promise<LiveAntenatal[]> {
    const r = await this.tx.query<{
      id: string;
      record: unknown;
      decision: unknown;
      inbox_id: string | null;
      status: 'delivered' | 'withheld' | 'withdrawn';
      consent_hold: unknown;
    }>(
      `SELECT id, record, decision, inbox_id, status, consent_hold FROM antenatal_notifications
        WHERE mother_nhs_number = ANY($1::text[]) AND (status IN ('delivered', 'withheld') OR consent_hold IS NOT NULL)
          AND ($2::text IS NULL OR pregnancy_id = $2)
        ORDER BY created_at FOR UPDATE`,
      [this.cipher.pseudonymForms([motherNhsNumber]), pregnancyId ?? null],
    );
    return r.rows.map((x) => ({
      id: x.id,
      record: this.cipher.openJson(x.record, sealedPlace.antenatal('record', x.id)) as AntenatalBooking,
      decision: json(x.decision) as AntenatalDecision,
      ...(x.inbox_id !== null ? { inboxId: x.inbox_id } : {}),
      status: x.status,
      ...(x.consent_hold !== null ? { consentHold: json(x.consent_hold) as ConsentHold } : {}),
    }));
  }

  async withdraw(withdrawals: readonly { id: string; decision: AntenatalDecision; hold?: ConsentHold }[], at: Date): Promise<void> {
    for (const w of withdrawals)
      await this.tx.query(
        `UPDATE antenatal_notifications SET status = 'withdrawn', withdrawn_at = COALESCE(withdrawn_at, $2), updated_at = $2,
           disclosed = NULL, decision = $3, consent_hold = $4
          WHERE id = $1`,
        [w.id, at, JSON.stringify(w.decision), w.hold === undefined ? null : JSON.stringify(w.hold)],
      );
  }

  async deliverWithheld(d: {
    id: string;
    decision: AntenatalDecision;
    route: Route;
    inboxId: string;
    disclosed: DisclosedAntenatal;
    at: Date;
  }): Promise<boolean> {
    const r = await this.tx.query(
      `UPDATE antenatal_notifications SET status = 'delivered', decision = $2, route = $3, inbox_id = $4, disclosed = $5,
         delivered_at = $6, updated_at = $6, withdrawn_at = NULL, consent_hold = NULL
        WHERE id = $1 AND (status = 'withheld' OR consent_hold IS NOT NULL) AND purged_at IS NULL`,
      [
        d.id,
        JSON.stringify(d.decision),
        JSON.stringify(d.route),
        d.inboxId,
        JSON.stringify(this.cipher.sealJson(d.disclosed, sealedPlace.antenatal('disclosed', d.id))),
        d.at,
      ],
    );
    return r.rowCount > 0;
  }

  async setFamily(id: string, familyId: string): Promise<void> {
    await this.tx.query('UPDATE antenatal_notifications SET family_id = $2 WHERE id = $1', [id, familyId]);
  }

  async markMessage(messageId: string, status: 'processed' | 'duplicate' | 'not-relevant', at: Date, reason?: string): Promise<void> {
    await this.tx.query(`UPDATE messages SET status = $2, reason = $4, updated_at = $3 WHERE id = $1 AND status = 'queued'`, [
      messageId,
      status,
      at,
      reason ?? null,
    ]);
  }

  async appendAudit(events: readonly AuditEventInput[]): Promise<void> {
    await insertAuditEvents(this.tx, events, this.cipher);
  }
}

export class SqlAntenatalStore implements AntenatalStore {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher,
  ) {}

  async transaction<T>(work: (tx: AntenatalTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new SqlAntenatalTransaction(tx, this.cipher)));
  }

  async listExpecting(inboxId: string, limit: number, reader: { actor: string; name: string }, at: Date): Promise<ExpectingItem[]> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query<{
        id: string;
        status: 'delivered' | 'withdrawn';
        delivered_at: Date | string;
        withdrawn_at: Date | string | null;
        born_at: Date | string | null;
        disclosed: unknown;
        mother_nhs_number: string;
      }>(
        `SELECT id, status, delivered_at, withdrawn_at, born_at, disclosed, mother_nhs_number FROM antenatal_notifications
          WHERE inbox_id = $1 AND status IN ('delivered', 'withdrawn') AND purged_at IS NULL ORDER BY delivered_at DESC, id LIMIT $2`,
        [inboxId, limit],
      );
      const items: ExpectingItem[] = r.rows.map((x) => ({
        id: x.id,
        status: x.status,
        deliveredAt: iso(x.delivered_at) ?? '',
        ...(x.withdrawn_at !== null ? { withdrawnAt: iso(x.withdrawn_at) ?? '' } : {}),
        ...(x.born_at !== null ? { bornAt: iso(x.born_at) ?? '' } : {}),
        ...(x.status === 'delivered' && x.disclosed !== null
          ? { disclosed: this.cipher.openJson(x.disclosed, sealedPlace.antenatal('disclosed', x.id)) as DisclosedAntenatal }
          : {}),
      }));
      const shown = r.rows.filter((x) => x.status === 'delivered');
      if (shown.length > 0)
        await insertAuditEvents(
          tx,
          shown.map((x) => ({
            at,
            actor: reader.actor,
            action: 'read' as const,
            notificationId: x.id,
            subjectNhsNumber: x.mother_nhs_number,
            recipient: inboxId,
            outcome: 'shown',
            details: { kind: 'antenatal', name: reader.name, role: 'centre-worker', purpose: 'care' },
          })),
          this.cipher,
        );
      return items;
    });
  }
}
