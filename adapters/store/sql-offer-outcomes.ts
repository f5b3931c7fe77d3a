import { randomUUID } from 'node:crypto';
import type { Database, SqlClient } from '../../src/ports/database.js';
import type { AuditActor } from '../../src/ports/audit.js';
import type { OfferOutcomeStore, OutcomeHistory, RecordOutcomeResult } from '../../src/ports/offer-outcomes.js';
import {
  CONTACT_OUTCOMES,
  isOfferOutcome,
  londonDateOf,
  type OfferOutcome,
  type OfferOutcomeInput,
  type OfferOutcomeKind,
  type ReachRow,
} from '../../src/domain/offer-outcome.js';
import { centreActor } from '../../src/processing/inbox-events.js';
import { insertAuditEvents, iso } from './sql-helpers.js';

interface OutcomeRow {
  id: string;
  inbox_id: string;
  notification_id: string;
  outcome: string;
  occurred_on: string;
  worker: string;
  recorded_at: Date | string;
  corrects: string | null;
  corrected_by: string | null;
}

const OUTCOME_SELECT = `SELECT o.id, o.inbox_id, o.notification_id, o.outcome, to_char(o.occurred_on, 'YYYY-MM-DD') AS occurred_on, o.worker,
  o.recorded_at, o.corrects, c.id AS corrected_by
  FROM offer_outcomes o LEFT JOIN offer_outcomes c ON c.corrects = o.id`;

function toOutcome(r: OutcomeRow): OfferOutcome {
  if (!isOfferOutcome(r.outcome)) throw new Error('offer_outcomes holds an outcome the check constraint forbids');
  return {
    id: r.id,
    notificationId: r.notification_id,
    centreId: r.inbox_id,
    outcome: r.outcome,
    date: r.occurred_on,
    worker: r.worker,
    recordedAt: iso(r.recorded_at) ?? '',
    ...(r.corrects !== null ? { corrects: r.corrects } : {}),
    ...(r.corrected_by !== null ? { correctedBy: r.corrected_by } : {}),
  };
}

/** A counting outcome: no later record corrects it. */
const COUNTING = 'NOT EXISTS (SELECT 1 FROM offer_outcomes c WHERE c.corrects = o.id)';

/** The offer-of-support loop's records over migration 027's table, with the inbox items they are about. */
export class SqlOfferOutcomeStore implements OfferOutcomeStore {
  constructor(private readonly db: Database) {}

  async history(centreId: string, notificationId: string): Promise<OutcomeHistory | undefined> {
    return this.historyOn(this.db, centreId, notificationId, false);
  }

  private async historyOn(tx: SqlClient, centreId: string, notificationId: string, lock: boolean): Promise<OutcomeHistory | undefined> {
    const item = await tx.query<{ delivered_at: Date | string; status: string; subject: string | null }>(
      `SELECT i.delivered_at, i.status, n.baby_nhs_number AS subject FROM inbox_items i JOIN notifications n ON n.id = i.notification_id
        WHERE i.inbox_id = $1 AND i.notification_id = $2${lock ? ' FOR UPDATE OF i' : ''}`,
      [centreId, notificationId],
    );
    const row = item.rows[0];
    if (!row) return undefined;
    const outcomes = await tx.query<OutcomeRow>(
      `${OUTCOME_SELECT} WHERE o.inbox_id = $1 AND o.notification_id = $2 ORDER BY o.recorded_at, o.id`,
      [centreId, notificationId],
    );
    return {
      notificationId,
      centreId,
      deliveredAt: new Date(iso(row.delivered_at) ?? 0),
      withdrawn: row.status === 'withdrawn',
      outcomes: outcomes.rows.map(toOutcome),
    };
  }

  async record(
    centreId: string,
    notificationId: string,
    input: OfferOutcomeInput,
    by: AuditActor,
    at: Date,
    today: string,
  ): Promise<RecordOutcomeResult> {
    return this.db.transaction(async (tx) => {
      // The inbox item is locked: outcomes of one notification are recorded one at a time, so a record is corrected once.
      const history = await this.historyOn(tx, centreId, notificationId, true);
      if (history === undefined) return { kind: 'not-found' };
      if (history.withdrawn) return { kind: 'withdrawn' };
      const deliveredOn = londonDateOf(history.deliveredAt);
      if (input.date < deliveredOn)
        return {
          kind: 'invalid',
          field: 'date',
          message: `must be on or after ${deliveredOn}, the day the notification reached the centre`,
        };
      if (input.date > today) return { kind: 'invalid', field: 'date', message: 'must be today or in the past' };
      if (input.corrects !== undefined) {
        const earlier = history.outcomes.find((o) => o.id === input.corrects);
        if (earlier === undefined)
          return { kind: 'invalid', field: 'corrects', message: 'must be the id of an earlier outcome of this notification' };
        if (earlier.correctedBy !== undefined)
          return {
            kind: 'invalid',
            field: 'corrects',
            message: `that outcome is already corrected by ${earlier.correctedBy}: correct that one`,
          };
      }
      const id = randomUUID();
      const actor = typeof by === 'string' ? by : by.actor;
      await tx.query(
        `INSERT INTO offer_outcomes (id, inbox_id, notification_id, outcome, occurred_on, worker, recorded_at, recorded_by, recorded_by_name, corrects)
         VALUES ($1, $2, $3, $4, $5::date, $6, $7, $8, $9, $10)`,
        [
          id,
          centreId,
          notificationId,
          input.outcome,
          input.date,
          input.worker,
          at,
          actor,
          typeof by === 'string' ? null : by.name,
          input.corrects ?? null,
        ],
      );
      const subject = await tx.query<{ subject: string | null }>('SELECT baby_nhs_number AS subject FROM notifications WHERE id = $1', [
        notificationId,
      ]);
      const nhs = subject.rows[0]?.subject ?? undefined;
      const who = centreActor(by);
      await insertAuditEvents(tx, [
        {
          at,
          ...who,
          action: 'offer-outcome-recorded',
          notificationId,
          recipient: centreId,
          ...(nhs !== undefined ? { subjectNhsNumber: nhs } : {}),
          outcome: input.outcome,
          // The worker is a member of the centre's staff, not a family member: their name is what an IG lead needs.
          details: {
            ...who.details,
            centre: centreId,
            worker: input.worker,
            date: input.date,
            outcomeId: id,
            ...(input.corrects !== undefined ? { corrects: input.corrects } : {}),
          },
        },
      ]);
      const outcome: OfferOutcome = {
        id,
        notificationId,
        centreId,
        outcome: input.outcome,
        date: input.date,
        worker: input.worker,
        recordedAt: at.toISOString(),
        ...(input.corrects !== undefined ? { corrects: input.corrects } : {}),
      };
      return { kind: 'recorded', outcome };
    });
  }

  async countingOutcomes(centreId: string, notificationIds: readonly string[]): Promise<Map<string, OfferOutcomeKind[]>> {
    const result = new Map<string, OfferOutcomeKind[]>();
    if (notificationIds.length === 0) return result;
    const r = await this.db.query<{ notification_id: string; outcome: string }>(
      `SELECT o.notification_id, o.outcome FROM offer_outcomes o
        WHERE o.inbox_id = $1 AND o.notification_id = ANY($2::uuid[]) AND ${COUNTING}
        ORDER BY o.occurred_on, o.recorded_at`,
      [centreId, [...notificationIds]],
    );
    for (const row of r.rows) {
      if (!isOfferOutcome(row.outcome)) continue;
      result.set(row.notification_id, [...(result.get(row.notification_id) ?? []), row.outcome]);
    }
    return result;
  }

  async reachRows(centreIds: readonly string[], start: Date, end: Date): Promise<Map<string, ReachRow[]>> {
    const result = new Map<string, ReachRow[]>(centreIds.map((id) => [id, []]));
    if (centreIds.length === 0) return result;
    const contact = CONTACT_OUTCOMES.map((o) => `'${o}'`).join(', ');
    const r = await this.db.query<{
      inbox_id: string;
      delivered_at: Date | string;
      status: string;
      first_contact_on: string | null;
      latest: string | null;
    }>(
      `SELECT i.inbox_id, i.delivered_at, i.status,
              (SELECT to_char(min(o.occurred_on), 'YYYY-MM-DD') FROM offer_outcomes o
                WHERE o.inbox_id = i.inbox_id AND o.notification_id = i.notification_id AND o.outcome IN (${contact}) AND ${COUNTING}
              ) AS first_contact_on,
              (SELECT o.outcome FROM offer_outcomes o
                WHERE o.inbox_id = i.inbox_id AND o.notification_id = i.notification_id AND ${COUNTING}
                ORDER BY o.occurred_on DESC, o.recorded_at DESC, o.id DESC LIMIT 1
              ) AS latest
         FROM inbox_items i
        WHERE i.inbox_id = ANY($1::text[]) AND i.delivered_at >= $2 AND i.delivered_at < $3`,
      [[...centreIds], start, end],
    );
    for (const row of r.rows) {
      const rows = result.get(row.inbox_id);
      if (rows === undefined) continue;
      rows.push({
        deliveredAt: new Date(iso(row.delivered_at) ?? 0),
        withdrawn: row.status === 'withdrawn',
        ...(row.first_contact_on !== null ? { firstContactOn: row.first_contact_on } : {}),
        ...(row.latest !== null && isOfferOutcome(row.latest) ? { latest: row.latest } : {}),
      });
    }
    return result;
  }
}
