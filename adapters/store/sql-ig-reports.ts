import type { Database } from '../../src/ports/database.js';
import type {
  CentreCounts,
  FeedDayCounts,
  FeedRejectionReason,
  ReportCounts,
  RuleCounts,
  SubjectEvent,
  SubjectEventSource,
  TimeWindow,
} from '../../src/ports/ig-reports.js';
import { iso, json } from './sql-helpers.js';
import { NO_DATA_KEYS, type DataCipher } from './data-cipher.js';

interface SubjectRow {
  seq: string | number;
  at: Date | string;
  actor: string;
  action: SubjectEvent['action'];
  notification_id: string;
  recipient: string | null;
  rule_id: string | null;
  rulebook_version: string | null;
  lawful_basis: string | null;
  outcome: string | null;
  details: unknown;
  as_baby: boolean;
  as_mother: boolean;
}

const count = (v: string | number | null | undefined): number => Number(v ?? 0);

/**
 * The London day of an event: what a person in England calls that day, whatever the clocks did. Grouped as a date
 * (cheaper to compute and to hash than text), written as text (`YYYY-MM-DD`) only for the groups.
 */
const LONDON_DAY = `(e.at AT TIME ZONE 'Europe/London')::date`;

/**
 * The IG lead's reports in SQL. A person's events are found through their notifications (baby's or mother's NHS
 * number, both indexed), then those notifications' events (indexed by notification): never through the events'
 * own subject column, which names the baby only. The counts are GROUP BYs over the audit trail's (action, at)
 * index (migration 022), joined to messages for the feed.
 */
export class SqlIgReports implements SubjectEventSource, ReportCounts {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  async subjectEvents(nhsNumber: string, window: TimeWindow): Promise<{ notifications: number; events: SubjectEvent[] }> {
    // The NHS number columns hold pseudonyms (migration 038), or the number in rows written before a data key.
    const params: unknown[] = [this.cipher.pseudonymForms([nhsNumber])];
    const range = [
      ...(window.since ? [`e.at >= $${params.push(window.since)}`] : []),
      ...(window.until ? [`e.at < $${params.push(window.until)}`] : []),
    ];
    return this.db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      const n = await tx.query<{ n: string | number }>(
        'SELECT count(*) AS n FROM notifications WHERE baby_nhs_number = ANY($1::text[]) OR mother_nhs_number = ANY($1::text[])',
        [params[0]],
      );
      const r = await tx.query<SubjectRow>(
        `WITH subject AS (
           SELECT id, COALESCE(baby_nhs_number = ANY($1::text[]), false) AS as_baby,
                  COALESCE(mother_nhs_number = ANY($1::text[]), false) AS as_mother
             FROM notifications WHERE baby_nhs_number = ANY($1::text[]) OR mother_nhs_number = ANY($1::text[])
         )
         SELECT e.seq, e.at, e.actor, e.action, e.notification_id, e.recipient, e.rule_id, e.rulebook_version, e.lawful_basis,
                e.outcome, e.details, s.as_baby, s.as_mother
           FROM subject s JOIN audit_events e ON e.notification_id = s.id
          WHERE e.action IN ('delivered', 'updated', 'withdrawn', 'read', 'acknowledged')
            ${range.map((c) => `AND ${c}`).join(' ')}
          ORDER BY e.at, e.seq`,
        params,
      );
      const events = r.rows.map((row): SubjectEvent => {
        const e: SubjectEvent = {
          seq: Number(row.seq),
          at: new Date(iso(row.at) ?? 0),
          actor: row.actor,
          action: row.action,
          notificationId: row.notification_id,
          details: (json(row.details) ?? {}) as Record<string, unknown>,
          asBaby: row.as_baby,
          asMother: row.as_mother,
        };
        if (row.recipient !== null) e.recipient = row.recipient;
        if (row.rule_id !== null) e.ruleId = row.rule_id;
        if (row.rulebook_version !== null) e.rulebookVersion = row.rulebook_version;
        if (row.lawful_basis !== null) e.lawfulBasis = row.lawful_basis;
        if (row.outcome !== null) e.outcome = row.outcome;
        return e;
      });
      return { notifications: count(n.rows[0]?.n), events };
    });
  }

  /**
   * Per feed (the message's) and London day: `received`; `validated` (accepted at receipt); `rejected` at receipt
   * (any actor but the worker); `rejected` by the worker (quarantined after acceptance); `not-relevant`.
   */
  async feedDays(start: Date, end: Date): Promise<FeedDayCounts[]> {
    const r = await this.db.query<{
      feed_id: string;
      day: string;
      received: string | number;
      accepted: string | number;
      rejected: string | number;
      quarantined: string | number;
      not_relevant: string | number;
    }>(
      `SELECT feed_id, day::text AS day, received, accepted, rejected, quarantined, not_relevant FROM (
         SELECT COALESCE(m.feed_id, '') AS feed_id, ${LONDON_DAY} AS day,
                count(*) FILTER (WHERE e.action = 'received') AS received,
                count(*) FILTER (WHERE e.action = 'validated') AS accepted,
                count(*) FILTER (WHERE e.action = 'rejected' AND e.actor <> 'system:worker') AS rejected,
                count(*) FILTER (WHERE e.action = 'rejected' AND e.actor = 'system:worker') AS quarantined,
                count(*) FILTER (WHERE e.action = 'not-relevant') AS not_relevant
           FROM audit_events e LEFT JOIN messages m ON m.id = e.message_id
          WHERE e.action IN ('received', 'validated', 'rejected', 'not-relevant') AND e.at >= $1 AND e.at < $2
          GROUP BY 1, 2
       ) AS counts ORDER BY 1, 2`,
      [start, end],
    );
    return r.rows.map((x) => ({
      feedId: x.feed_id,
      day: x.day,
      received: count(x.received),
      accepted: count(x.accepted),
      rejected: count(x.rejected),
      quarantined: count(x.quarantined),
      notRelevant: count(x.not_relevant),
    }));
  }

  /** Rejections at receipt per feed and reason (the first problem found; reasons never hold personal data). */
  async feedRejections(start: Date, end: Date): Promise<FeedRejectionReason[]> {
    const r = await this.db.query<{ feed_id: string; reason: string; n: string | number }>(
      `SELECT COALESCE(m.feed_id, '') AS feed_id, left(COALESCE(e.details->>'reason', 'not given'), 200) AS reason, count(*) AS n
         FROM audit_events e LEFT JOIN messages m ON m.id = e.message_id
        WHERE e.action = 'rejected' AND e.at >= $1 AND e.at < $2 AND e.actor <> 'system:worker'
        GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2`,
      [start, end],
    );
    return r.rows.map((x) => ({ feedId: x.feed_id, reason: x.reason, count: count(x.n) }));
  }

  /** Per inbox: disclosures, reads (and the notifications read), taken on, withdrawn. */
  async centres(start: Date, end: Date): Promise<CentreCounts[]> {
    const r = await this.db.query<{
      recipient: string;
      delivered: string | number;
      reads: string | number;
      notifications_read: string | number;
      taken_on: string | number;
      withdrawn: string | number;
    }>(
      `SELECT e.recipient,
              count(*) FILTER (WHERE e.action = 'delivered') AS delivered,
              count(*) FILTER (WHERE e.action = 'read') AS reads,
              count(DISTINCT e.notification_id) FILTER (WHERE e.action = 'read') AS notifications_read,
              count(*) FILTER (WHERE e.action = 'acknowledged') AS taken_on,
              count(*) FILTER (WHERE e.action = 'withdrawn') AS withdrawn
         FROM audit_events e
        WHERE e.action IN ('delivered', 'read', 'acknowledged', 'withdrawn') AND e.at >= $1 AND e.at < $2 AND e.recipient IS NOT NULL
        GROUP BY 1 ORDER BY 1`,
      [start, end],
    );
    return r.rows.map((x) => ({
      inboxId: x.recipient,
      delivered: count(x.delivered),
      reads: count(x.reads),
      notificationsRead: count(x.notifications_read),
      takenOn: count(x.taken_on),
      withdrawn: count(x.withdrawn),
    }));
  }

  /** Decisions per rule, agreement version and effect. */
  async rules(start: Date, end: Date): Promise<RuleCounts[]> {
    const r = await this.db.query<{ rule_id: string; agreement: string; effect: string; n: string | number }>(
      `SELECT COALESCE(e.rule_id, '') AS rule_id, COALESCE(e.rulebook_version, '') AS agreement, COALESCE(e.outcome, '') AS effect,
              count(*) AS n
         FROM audit_events e
        WHERE e.action = 'decided' AND e.at >= $1 AND e.at < $2
        GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3`,
      [start, end],
    );
    return r.rows.map((x) => ({ ruleId: x.rule_id, agreement: x.agreement, effect: x.effect, decisions: count(x.n) }));
  }
}
