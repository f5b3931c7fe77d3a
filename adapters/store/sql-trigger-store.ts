import type { Database, SqlClient } from '../../src/ports/database.js';
import { actorFields, type AuditActor } from '../../src/ports/audit.js';
import type { Address } from '../../src/domain/birth-notification.js';
import type { FiringStatus, TriggerChild, TriggerDataset } from '../../src/domain/trigger.js';
import type {
  FiringSummary,
  FiringView,
  ParentFamily,
  ReviewDecision,
  ReviewResult,
  TakeOnResult,
  TriggerCounts,
  TriggerStore,
} from '../../src/ports/triggers.js';
import type { TriggerEvaluation } from '../../src/pipeline/triggers/evaluate-trigger.js';
import { insertAuditEvents, iso, json } from './sql-helpers.js';
import type { DataCipher } from './data-cipher.js';
import { sealedPlace } from './sealed-columns.js';
import { currentRecord } from './sql-notification-rows.js';

interface FiringRow {
  id: string;
  trigger_id: string;
  trigger_name: string;
  status: string;
  inbox_id: string;
  created_at: Date | string;
  /** Sealed (sealedPlace.firing): read through the cipher. */
  dataset: unknown;
  first_read_at: Date | string | null;
  taken_on_at: Date | string | null;
}

interface FiringFullRow extends FiringRow {
  agreement_version: string;
  lawful_basis: string;
  subject_nhs_number: string;
  reviewed_at: Date | string | null;
  reviewed_by: string | null;
  reviewed_by_name: string | null;
  review_reason: string | null;
}

const SUMMARY = `SELECT f.id, f.trigger_id, f.trigger_name, f.status, f.inbox_id, f.created_at, f.dataset, f.first_read_at, f.taken_on_at`;
const FULL = `${SUMMARY}, f.agreement_version, f.lawful_basis, f.subject_nhs_number, f.reviewed_at, f.reviewed_by,
  f.reviewed_by_name, f.review_reason`;

const STATUSES: readonly FiringStatus[] = ['delivered', 'held', 'closed'];

/** A firing's dataset in clear (the column holds it sealed under the data key; rows written before, in clear). */
function datasetOf(cipher: DataCipher, r: FiringRow): TriggerDataset {
  return cipher.openJson(json(r.dataset), sealedPlace.firing(r.id)) as TriggerDataset;
}

function summaryOf(cipher: DataCipher, r: FiringRow): FiringSummary {
  const dataset = datasetOf(cipher, r);
  const status = STATUSES.find((s) => s === r.status);
  if (status === undefined) throw new Error('trigger_firings holds a status its check constraint forbids');
  const read = iso(r.first_read_at);
  const takenOn = iso(r.taken_on_at);
  return {
    id: r.id,
    triggerId: r.trigger_id,
    triggerName: r.trigger_name,
    status,
    inboxId: r.inbox_id,
    createdAt: iso(r.created_at) ?? '',
    occurredOn: dataset.occurredOn,
    children: Array.isArray(dataset.children) ? dataset.children.length : 0,
    ...(read !== undefined ? { firstReadAt: read } : {}),
    ...(takenOn !== undefined ? { takenOnAt: takenOn } : {}),
  };
}

function viewOf(cipher: DataCipher, r: FiringFullRow): FiringView {
  const reviewedAt = iso(r.reviewed_at);
  const dataset = datasetOf(cipher, r);
  return {
    ...summaryOf(cipher, r),
    agreementVersion: r.agreement_version,
    lawfulBasis: r.lawful_basis,
    // A pseudonym (migration 038): the number itself is the decrypted dataset's parent's.
    subjectNhsNumber: cipher.reveal(r.subject_nhs_number, [dataset.parent.nhsNumber]),
    dataset,
    ...(reviewedAt !== undefined ? { reviewedAt } : {}),
    ...(r.reviewed_by !== null ? { reviewedBy: r.reviewed_by } : {}),
    ...(r.reviewed_by_name !== null ? { reviewedByName: r.reviewed_by_name } : {}),
    ...(r.review_reason !== null ? { reviewReason: r.review_reason } : {}),
  };
}

/**
 * The live family a parent's NHS number leads. Its address, its children's records and the notifications' records are
 * sealed (migration 029), so they are read here and decrypted in parentFamily: SQL cannot see inside them.
 */
const PARENT_FAMILY_SQL = `SELECT f.id, f.centre, f.address FROM families f WHERE f.lead_nhs_number = ANY($1::text[]) AND f.merged_into IS NULL`;
const FAMILY_CHILDREN_SQL = `SELECT c.child_key, c.record FROM family_children c WHERE c.family_id = $1 ORDER BY c.added_at, c.child_key`;
const FAMILY_RECORDS_SQL = `SELECT n.id, n.message_id, n.record, b.canonical FROM family_children c JOIN notifications n ON n.id = c.notification_id
  LEFT JOIN message_bodies b ON b.message_id = n.message_id WHERE c.family_id = $1`;

function childOf(value: unknown): TriggerChild {
  const r = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const name = r.name as TriggerChild['name'] | undefined;
  return {
    ...(name !== undefined ? { name } : {}),
    ...(typeof r.birthDate === 'string' ? { birthDate: r.birthDate } : {}),
    ...(typeof r.nhsNumber === 'string' ? { nhsNumber: r.nhsNumber } : {}),
  };
}

/** Trigger firings over migration 031's table; the counts of decisions not to fire from the audit trail. */
export class SqlTriggerStore implements TriggerStore {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher,
  ) {}

  async processAttendance(
    messageId: string,
    nhsNumber: string | undefined,
    decide: (family: ParentFamily | undefined) => TriggerEvaluation,
    at: Date,
  ): Promise<TriggerEvaluation | undefined> {
    return this.db.transaction(async (tx) => {
      const m = await tx.query<{ status: string }>('SELECT status FROM messages WHERE id = $1 FOR UPDATE', [messageId]);
      if (m.rows[0]?.status !== 'queued') return undefined;
      const family = nhsNumber === undefined ? undefined : await parentFamily(tx, this.cipher, nhsNumber);
      const evaluation = decide(family);
      if (evaluation.firings.length > 0)
        await tx.query(
          `INSERT INTO trigger_firings (id, message_id, trigger_id, trigger_name, agreement_id, agreement_version, lawful_basis, inbox_id,
             family_id, subject_nhs_number, dataset, occurred_at, created_at, status, delivered_at)
           SELECT v.id, $2, v.trigger_id, v.trigger_name, v.agreement_id, v.agreement_version, v.lawful_basis, v.inbox_id, v.family_id,
             v.subject_nhs_number, v.dataset, v.occurred_at, $3, v.status, CASE WHEN v.status = 'delivered' THEN $3::timestamptz END
           FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, trigger_id text, trigger_name text, agreement_id text, agreement_version text,
             lawful_basis text, inbox_id text, family_id uuid, subject_nhs_number text, dataset jsonb, occurred_at timestamptz, status text)
           ON CONFLICT (message_id, trigger_id) DO NOTHING`,
          [
            JSON.stringify(
              evaluation.firings.map((f) => ({
                id: f.id,
                trigger_id: f.triggerId,
                trigger_name: f.triggerName,
                agreement_id: f.agreementId,
                agreement_version: f.agreementVersion,
                lawful_basis: f.lawfulBasis,
                inbox_id: f.inbox,
                family_id: f.familyId,
                subject_nhs_number: this.cipher.pseudonym(f.subjectNhsNumber),
                dataset: this.cipher.sealJson(f.dataset, sealedPlace.firing(f.id)),
                occurred_at: f.occurredAt,
                status: f.status,
              })),
            ),
            messageId,
            at,
          ],
        );
      await tx.query(`UPDATE messages SET status = 'processed', updated_at = $2 WHERE id = $1`, [messageId, at]);
      await insertAuditEvents(tx, evaluation.audit, this.cipher);
      return evaluation;
    });
  }

  async queue(inboxId: string, limit: number): Promise<FiringSummary[]> {
    const r = await this.db.query<FiringRow>(
      `${SUMMARY} FROM trigger_firings f WHERE f.inbox_id = $1 AND f.status = 'delivered' AND f.purged_at IS NULL
       ORDER BY f.taken_on_at IS NOT NULL, f.created_at DESC, f.id LIMIT $2`,
      [inboxId, limit],
    );
    return r.rows.map((row) => summaryOf(this.cipher, row));
  }

  async held(limit: number): Promise<FiringSummary[]> {
    const r = await this.db.query<FiringRow>(
      `${SUMMARY} FROM trigger_firings f WHERE f.status = 'held' AND f.purged_at IS NULL ORDER BY f.created_at, f.id LIMIT $1`,
      [limit],
    );
    return r.rows.map((row) => summaryOf(this.cipher, row));
  }

  async byTrigger(triggerId: string, limit: number): Promise<FiringSummary[]> {
    const r = await this.db.query<FiringRow>(
      `${SUMMARY} FROM trigger_firings f WHERE f.trigger_id = $1 AND f.purged_at IS NULL ORDER BY f.created_at DESC, f.id LIMIT $2`,
      [triggerId, limit],
    );
    return r.rows.map((row) => summaryOf(this.cipher, row));
  }

  async get(id: string): Promise<FiringView | undefined> {
    const r = await this.db.query<FiringFullRow>(`${FULL} FROM trigger_firings f WHERE f.id = $1 AND f.purged_at IS NULL`, [id]);
    const row = r.rows[0];
    return row === undefined ? undefined : viewOf(this.cipher, row);
  }

  async markRead(id: string, at: Date): Promise<void> {
    await this.db.query('UPDATE trigger_firings SET first_read_at = $2 WHERE id = $1 AND first_read_at IS NULL', [id, at]);
  }

  async takeOn(id: string, inboxId: string, who: AuditActor, at: Date): Promise<TakeOnResult> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query<FiringFullRow>(
        `${FULL} FROM trigger_firings f WHERE f.id = $1 AND f.inbox_id = $2 AND f.status = 'delivered' AND f.purged_at IS NULL FOR UPDATE`,
        [id, inboxId],
      );
      const row = r.rows[0];
      if (row === undefined) return 'not-found';
      if (row.taken_on_at !== null) return 'already';
      const current = viewOf(this.cipher, row);
      const person = actorFields(who);
      await tx.query('UPDATE trigger_firings SET taken_on_at = $2, taken_on_by = $3 WHERE id = $1', [id, at, person.actor]);
      await insertAuditEvents(
        tx,
        [
          {
            at,
            actor: person.actor,
            action: 'firing-taken-on',
            subjectNhsNumber: current.subjectNhsNumber,
            recipient: current.inboxId,
            ruleId: current.triggerId,
            rulebookVersion: current.agreementVersion,
            lawfulBasis: current.lawfulBasis,
            details: { ...person.details, role: 'early-help-worker', purpose: 'safeguarding', firingId: id },
          },
        ],
        this.cipher,
      );
      return 'taken-on';
    });
  }

  async review(id: string, decision: ReviewDecision, who: AuditActor, reason: string | undefined, at: Date): Promise<ReviewResult> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query<FiringFullRow>(`${FULL} FROM trigger_firings f WHERE f.id = $1 FOR UPDATE`, [id]);
      const row = r.rows[0];
      if (row === undefined) return { kind: 'not-found' };
      const current = viewOf(this.cipher, row);
      if (current.status !== 'held') return { kind: 'already-reviewed', status: current.status };
      const status: FiringStatus = decision === 'release' ? 'delivered' : 'closed';
      const person = actorFields(who);
      const name = typeof who === 'string' ? null : who.name;
      await tx.query(
        `UPDATE trigger_firings SET status = $2, delivered_at = CASE WHEN $2 = 'delivered' THEN $3::timestamptz END, reviewed_at = $3,
           reviewed_by = $4, reviewed_by_name = $5, review_reason = $6 WHERE id = $1`,
        [id, status, at, person.actor, name, reason ?? null],
      );
      await insertAuditEvents(
        tx,
        [
          {
            at,
            actor: person.actor,
            action: 'trigger-reviewed',
            subjectNhsNumber: current.subjectNhsNumber,
            ...(decision === 'release' ? { recipient: current.inboxId } : {}),
            ruleId: current.triggerId,
            rulebookVersion: current.agreementVersion,
            lawfulBasis: current.lawfulBasis,
            outcome: decision === 'release' ? 'released' : 'closed',
            details: {
              ...person.details,
              role: 'ig-lead',
              purpose: 'safeguarding',
              firingId: id,
              ...(reason !== undefined ? { reason } : {}),
            },
          },
        ],
        this.cipher,
      );
      const after = await tx.query<FiringFullRow>(`${FULL} FROM trigger_firings f WHERE f.id = $1`, [id]);
      const updated = after.rows[0];
      return updated === undefined ? { kind: 'not-found' } : { kind: 'reviewed', firing: viewOf(this.cipher, updated) };
    });
  }

  async counts(): Promise<Map<string, TriggerCounts>> {
    const out = new Map<string, TriggerCounts>();
    const get = (id: string): TriggerCounts => {
      let c = out.get(id);
      if (c === undefined) {
        c = { delivered: 0, held: 0, closed: 0, released: 0, takenOn: 0, notFired: 0 };
        out.set(id, c);
      }
      return c;
    };
    const firings = await this.db.query<{ trigger_id: string; status: string; released: boolean; taken_on: boolean; n: number | string }>(
      `SELECT trigger_id, status, reviewed_at IS NOT NULL AND status = 'delivered' AS released,
              taken_on_at IS NOT NULL AND status = 'delivered' AS taken_on, count(*) AS n
       FROM trigger_firings GROUP BY trigger_id, status, released, taken_on`,
    );
    for (const r of firings.rows) {
      const c = get(r.trigger_id);
      const n = Number(r.n);
      if (r.status === 'delivered') c.delivered += n;
      if (r.released) c.released += n;
      if (r.taken_on) c.takenOn += n;
      if (r.status === 'held') c.held += n;
      if (r.status === 'closed') c.closed += n;
    }
    const notFired = await this.db.query<{ rule_id: string; n: number | string }>(
      `SELECT rule_id, count(*) AS n FROM audit_events WHERE action = 'trigger-not-fired' AND rule_id IS NOT NULL GROUP BY rule_id`,
    );
    for (const r of notFired.rows) get(r.rule_id).notFired += Number(r.n);
    return out;
  }
}

async function parentFamily(tx: SqlClient, cipher: DataCipher, nhsNumber: string): Promise<ParentFamily | undefined> {
  const r = await tx.query<{ id: string; centre: string | null; address: unknown }>(PARENT_FAMILY_SQL, [
    cipher.pseudonymForms([nhsNumber]),
  ]);
  const row = r.rows[0];
  if (row === undefined) return undefined;
  const children = await tx.query<{ child_key: string; record: unknown }>(FAMILY_CHILDREN_SQL, [row.id]);
  const records = await tx.query<{ id: string; message_id: string; record: unknown; canonical: unknown }>(FAMILY_RECORDS_SQL, [row.id]);
  const restricted = records.rows.some((n) => {
    const c = currentRecord(cipher, n)?.confidentiality;
    return c === 'restricted' || c === 'very-restricted';
  });
  const address = cipher.openJson(row.address, sealedPlace.family('address', row.id)) as Address | null;
  return {
    id: row.id,
    ...(row.centre !== null ? { centre: row.centre } : {}),
    ...(address !== null ? { address } : {}),
    children: children.rows.map((c) => childOf(cipher.openJson(c.record, sealedPlace.child(row.id, c.child_key)))),
    restricted,
  };
}
