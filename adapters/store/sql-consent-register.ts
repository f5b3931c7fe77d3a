import type { Database, SqlClient } from '../../src/ports/database.js';
import type { ConsentRecord, ConsentStatement } from '../../src/domain/consent.js';
import type { AuditActor, AuditEventInput } from '../../src/ports/audit.js';
import { actorFields } from '../../src/ports/audit.js';
import type {
  ConsentRegister,
  ConsentTransaction,
  ConsentWithdrawal,
  FamilyNotification,
  NewConsentRecord,
  PeriodBoundary,
  Redecided,
  Redelivery,
} from '../../src/ports/consent-register.js';
import { insertAuditEvents, iso } from './sql-helpers.js';
import { NO_DATA_KEYS, type DataCipher } from './data-cipher.js';
import { sealedPlace } from './sealed-columns.js';
import {
  LOCKED_NOTIFICATION_COLUMNS,
  LOCKED_NOTIFICATION_FROM,
  toLockedNotifications,
  type LockedNotificationRow,
} from './sql-notification-rows.js';

interface ConsentRow {
  id: string;
  recorded_at: Date | string;
  recorded_by: string;
  recorded_by_name: string | null;
  kind: ConsentStatement['kind'];
  scope: ConsentStatement['scope'];
  purpose: string | null;
  recipient: string;
  period_from: Date | string | null;
  period_to: Date | string | null;
  source: ConsentStatement['source'];
  mother_nhs_number: string | null;
  baby_nhs_number: string | null;
  subjects: unknown;
  withdrawn_at: Date | string | null;
  withdrawn_by: string | null;
  withdrawn_by_name: string | null;
}

const SELECT_CONSENTS = `SELECT c.id, c.recorded_at, c.recorded_by, c.recorded_by_name, c.kind, c.scope, c.purpose, c.recipient,
    to_char(c.period_from, 'YYYY-MM-DD') AS period_from, to_char(c.period_to, 'YYYY-MM-DD') AS period_to, c.source,
    c.mother_nhs_number, c.baby_nhs_number, c.subjects, w.withdrawn_at, w.withdrawn_by, w.withdrawn_by_name
  FROM consents c LEFT JOIN consent_withdrawals w ON w.consent_id = c.id`;

/** A consent's NHS numbers as its encrypted `subjects` holds them (migration 038). */
interface ConsentSubjects {
  mother?: string;
  baby?: string;
}

/**
 * The consent's NHS numbers: from its encrypted `subjects` (the columns hold pseudonyms, migration 038), else from
 * the columns of a row stored in clear.
 */
function subjectsOfRow(r: ConsentRow, cipher: DataCipher): { mother: string | null; baby: string | null } {
  const s = cipher.openJson(r.subjects, sealedPlace.consent(r.id)) as ConsentSubjects | null;
  if (s === null) return { mother: r.mother_nhs_number, baby: r.baby_nhs_number };
  return { mother: s.mother ?? null, baby: s.baby ?? null };
}

function toRecord(row: ConsentRow, cipher: DataCipher): ConsentRecord {
  const subjects = subjectsOfRow(row, cipher);
  const r = { ...row, mother_nhs_number: subjects.mother, baby_nhs_number: subjects.baby };
  const day = (d: Date | string | null): string | undefined => (d === null ? undefined : typeof d === 'string' ? d : iso(d)?.slice(0, 10));
  const from = day(r.period_from);
  const to = day(r.period_to);
  const withdrawnAt = iso(r.withdrawn_at);
  return {
    id: r.id,
    recordedAt: iso(r.recorded_at) ?? '',
    recordedBy: r.recorded_by,
    ...(r.recorded_by_name !== null ? { recordedByName: r.recorded_by_name } : {}),
    kind: r.kind,
    scope: r.scope,
    ...(r.purpose !== null ? { purpose: r.purpose } : {}),
    recipient: r.recipient,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    source: r.source,
    ...(r.mother_nhs_number !== null ? { motherNhsNumber: r.mother_nhs_number } : {}),
    ...(r.baby_nhs_number !== null ? { babyNhsNumber: r.baby_nhs_number } : {}),
    ...(withdrawnAt !== undefined ? { withdrawnAt } : {}),
    ...(r.withdrawn_by !== null ? { withdrawnBy: r.withdrawn_by } : {}),
    ...(r.withdrawn_by_name !== null ? { withdrawnByName: r.withdrawn_by_name } : {}),
  };
}

/**
 * One transaction-scoped advisory lock per NHS number, taken in key order (so two transactions locking
 * overlapping families cannot deadlock). The key is the first 64 bits of an MD5 of the number: a collision only
 * makes two families wait for each other.
 */
const LOCK_SUBJECTS_SQL = `SELECT count(pg_advisory_xact_lock(k)) AS locked FROM (
    SELECT DISTINCT ('x' || substr(md5('stork-consent:' || n), 1, 16))::bit(64)::bigint AS k FROM unnest($1::text[]) AS n ORDER BY k
  ) AS keys`;

/** The consent register's statements, on one transaction's connection. */
export class SqlConsentTransaction implements ConsentTransaction {
  constructor(
    private readonly tx: SqlClient,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  async lockSubjects(nhsNumbers: readonly string[]): Promise<void> {
    if (nhsNumbers.length === 0) return;
    // Locked by pseudonym, whichever form a caller holds: the same number always takes the same lock.
    await this.tx.query(LOCK_SUBJECTS_SQL, [[...new Set(nhsNumbers.map((n) => this.cipher.pseudonym(n)))]]);
  }

  async recordsAbout(nhsNumbers: readonly string[]): Promise<ConsentRecord[]> {
    if (nhsNumbers.length === 0) return [];
    const r = await this.tx.query<ConsentRow>(
      `${SELECT_CONSENTS} WHERE c.mother_nhs_number = ANY($1::text[]) OR c.baby_nhs_number = ANY($1::text[]) ORDER BY c.recorded_at, c.id`,
      [this.cipher.pseudonymForms(nhsNumbers)],
    );
    return r.rows.map((row) => toRecord(row, this.cipher));
  }

  async insert(records: readonly NewConsentRecord[]): Promise<ConsentRecord[]> {
    if (records.length === 0) return [];
    const rows = records.map((c) => ({
      id: c.id,
      recorded_at: c.recordedAt,
      recorded_by: c.recordedBy,
      recorded_by_name: c.recordedByName ?? null,
      kind: c.kind,
      scope: c.scope,
      purpose: c.purpose ?? null,
      recipient: c.recipient,
      period_from: c.from ?? null,
      period_to: c.to ?? null,
      source: c.source,
      mother_nhs_number: this.cipher.pseudonymOrNull(c.motherNhsNumber),
      baby_nhs_number: this.cipher.pseudonymOrNull(c.babyNhsNumber),
      subjects:
        this.cipher.pseudonymKeyId === undefined
          ? null
          : this.cipher.sealJson<ConsentSubjects>(
              {
                ...(c.motherNhsNumber !== undefined ? { mother: c.motherNhsNumber } : {}),
                ...(c.babyNhsNumber !== undefined ? { baby: c.babyNhsNumber } : {}),
              },
              sealedPlace.consent(c.id),
            ),
      message_id: c.messageId ?? null,
      ordinal: c.ordinal ?? null,
    }));
    const r = await this.tx.query<{ id: string }>(
      `INSERT INTO consents (id, recorded_at, recorded_by, recorded_by_name, kind, scope, purpose, recipient, period_from, period_to,
         source, mother_nhs_number, baby_nhs_number, subjects, message_id, ordinal)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, recorded_at timestamptz, recorded_by text, recorded_by_name text,
         kind text, scope text,
         purpose text, recipient text, period_from date, period_to date, source text, mother_nhs_number text, baby_nhs_number text,
         subjects jsonb, message_id uuid, ordinal integer)
       ON CONFLICT DO NOTHING RETURNING id`,
      [JSON.stringify(rows)],
    );
    const inserted = new Set(r.rows.map((x) => x.id));
    return records.filter((c) => inserted.has(c.id)).map(({ messageId: _m, ordinal: _o, ...c }) => c);
  }

  async get(id: string): Promise<ConsentRecord | undefined> {
    const r = await this.tx.query<ConsentRow>(`${SELECT_CONSENTS} WHERE c.id = $1`, [id]);
    const row = r.rows[0];
    return row ? toRecord(row, this.cipher) : undefined;
  }

  async withdraw(id: string, by: string, at: Date, byName?: string): Promise<boolean> {
    const r = await this.tx.query<{ consent_id: string }>(
      `INSERT INTO consent_withdrawals (consent_id, withdrawn_at, withdrawn_by, withdrawn_by_name) SELECT id, $2, $3, $4 FROM consents
       WHERE id = $1 ON CONFLICT DO NOTHING RETURNING consent_id`,
      [id, at, by, byName ?? null],
    );
    return r.rows.length > 0;
  }

  async lockLiveAbout(nhsNumbers: readonly string[]): Promise<FamilyNotification[]> {
    if (nhsNumbers.length === 0) return [];
    const r = await this.tx.query<LockedNotificationRow>(
      `SELECT ${LOCKED_NOTIFICATION_COLUMNS} FROM ${LOCKED_NOTIFICATION_FROM}
       WHERE (n.baby_nhs_number = ANY($1::text[]) OR n.mother_nhs_number = ANY($1::text[]))
         AND (n.status IN ('routed', 'delivered') OR (n.status IN ('withheld', 'withdrawn') AND n.consent_hold IS NOT NULL))
       ORDER BY n.created_at, n.id FOR UPDATE OF n`,
      [this.cipher.pseudonymForms(nhsNumbers)],
    );
    return toLockedNotifications(r.rows, this.cipher, nhsNumbers);
  }

  async inboxHasFamily(inboxId: string, nhsNumbers: readonly string[]): Promise<boolean> {
    if (nhsNumbers.length === 0) return false;
    const r = await this.tx.query<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM inbox_items i JOIN notifications n ON n.id = i.notification_id
         WHERE i.inbox_id = $1 AND (n.baby_nhs_number = ANY($2::text[]) OR n.mother_nhs_number = ANY($2::text[]))) AS found`,
      [inboxId, this.cipher.pseudonymForms(nhsNumbers)],
    );
    return r.rows[0]?.found === true;
  }

  async saveRedecided(updates: readonly Redecided[], at: Date): Promise<void> {
    if (updates.length === 0) return;
    const rows = updates.map((u) => ({
      id: u.id,
      decision: u.decision,
      dataset: u.decision.dataset ?? null,
      disclosed: this.cipher.sealJson(u.disclosed, sealedPlace.disclosed(u.id)),
      inbox_updated: u.inboxUpdated,
    }));
    await this.tx.query(
      `WITH u AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, decision jsonb, dataset text, disclosed jsonb, inbox_updated boolean)
       ), redecided AS (
         UPDATE notifications n SET decision = u.decision, dataset = u.dataset, disclosed = u.disclosed, updated_at = $2
         FROM u WHERE n.id = u.id AND n.status IN ('routed', 'delivered') RETURNING n.id
       )
       UPDATE inbox_items i SET updated_at = $2 FROM u
       WHERE i.notification_id = u.id AND u.inbox_updated AND i.status <> 'withdrawn'`,
      [JSON.stringify(rows), at],
    );
  }

  async withdrawNotifications(withdrawals: readonly ConsentWithdrawal[], at: Date): Promise<void> {
    if (withdrawals.length === 0) return;
    const rows = withdrawals.map((w) => ({ id: w.id, hold: w.hold ?? null }));
    await this.tx.query(
      `WITH w AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, hold jsonb)
       ), withdrawn AS (
         UPDATE notifications n SET status = 'withdrawn', consent_hold = w.hold FROM w WHERE n.id = w.id RETURNING n.id
       )
       UPDATE inbox_items i SET status = 'withdrawn', withdrawn_at = $2
       FROM withdrawn w WHERE i.notification_id = w.id AND i.status <> 'withdrawn'`,
      [JSON.stringify(rows), at],
    );
  }

  async redeliver(items: readonly Redelivery[], at: Date): Promise<string[]> {
    if (items.length === 0) return [];
    const rows = items.map((d) => ({
      id: d.id,
      decision: d.decision,
      route: d.route,
      inbox_id: d.inboxId,
      dataset: d.decision.dataset ?? null,
      disclosed: this.cipher.sealJson(d.disclosed, sealedPlace.disclosed(d.id)),
    }));
    // A new delivery of the same notification: the centre's item is new again (as a moved notification's is).
    const r = await this.tx.query<{ id: string }>(
      `WITH d AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, decision jsonb, route jsonb, inbox_id text, dataset text, disclosed jsonb)
       ), delivered AS (
         UPDATE notifications n SET status = 'delivered', decision = d.decision, route = d.route, inbox_id = d.inbox_id,
           dataset = d.dataset, disclosed = d.disclosed, consent_hold = NULL, updated_at = $2
         FROM d WHERE n.id = d.id AND n.status IN ('withheld', 'withdrawn') AND n.consent_hold IS NOT NULL
         RETURNING n.id, n.inbox_id
       ), inboxed AS (
         INSERT INTO inbox_items (inbox_id, notification_id, status, delivered_at)
         SELECT inbox_id, id, 'new', $2 FROM delivered
         ON CONFLICT (inbox_id, notification_id) DO UPDATE SET status = 'new', delivered_at = EXCLUDED.delivered_at,
           updated_at = NULL, first_read_at = NULL, acknowledged_at = NULL, acknowledged_by = NULL, withdrawn_at = NULL
       )
       SELECT id FROM delivered`,
      [JSON.stringify(rows), at],
    );
    return r.rows.map((x) => x.id);
  }

  async appendAudit(events: readonly AuditEventInput[]): Promise<void> {
    await insertAuditEvents(this.tx, events, this.cipher);
  }
}

/** The register on a pool: its transactions commit durably (a recorded objection must survive a crash). */
export class SqlConsentRegister implements ConsentRegister {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  transaction<T>(work: (tx: ConsentTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new SqlConsentTransaction(tx, this.cipher)));
  }

  async history(nhsNumber: string, reader: AuditActor, at: Date): Promise<ConsentRecord[]> {
    return this.db.transaction(async (tx) => {
      const records = await new SqlConsentTransaction(tx, this.cipher).recordsAbout([nhsNumber]);
      const who = actorFields(reader);
      await insertAuditEvents(
        tx,
        [
          {
            at,
            ...who,
            action: 'read',
            subjectNhsNumber: nhsNumber,
            details: { ...who.details, query: 'consent-history', results: records.length },
          },
        ],
        this.cipher,
      );
      return records;
    });
  }

  async record(id: string, reader: AuditActor, at: Date): Promise<ConsentRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const record = await new SqlConsentTransaction(tx, this.cipher).get(id);
      if (record === undefined) return undefined;
      const who = actorFields(reader);
      const subject = record.babyNhsNumber ?? record.motherNhsNumber;
      await insertAuditEvents(
        tx,
        [
          {
            at,
            ...who,
            action: 'read',
            ...(subject !== undefined ? { subjectNhsNumber: subject } : {}),
            details: { ...who.details, query: 'consent-record', consentId: id },
          },
        ],
        this.cipher,
      );
      return record;
    });
  }

  async familyRecords(
    nhsNumbers: readonly string[],
    read: { reader: AuditActor; inboxId: string; familyId: string },
    at: Date,
  ): Promise<ConsentRecord[]> {
    return this.db.transaction(async (tx) => {
      const records = await new SqlConsentTransaction(tx, this.cipher).recordsAbout(nhsNumbers);
      const who = actorFields(read.reader);
      await insertAuditEvents(
        tx,
        [
          {
            at,
            ...who,
            action: 'read',
            recipient: read.inboxId,
            ...(nhsNumbers[0] !== undefined ? { subjectNhsNumber: nhsNumbers[0] } : {}),
            details: { ...who.details, query: 'consent-records', familyId: read.familyId, results: records.length },
          },
        ],
        this.cipher,
      );
      return records;
    });
  }

  async periodBoundaries(after: string | undefined, upTo: string): Promise<PeriodBoundary[]> {
    // The first run looks back to the day before each record was recorded (the UTC day: a day early at most,
    // which only decides a family again to no effect).
    const r = await this.db.query<ConsentRow>(
      `SELECT c.id, c.scope, c.mother_nhs_number, c.baby_nhs_number, c.subjects FROM consents c
       WHERE NOT EXISTS (SELECT 1 FROM consent_withdrawals w WHERE w.consent_id = c.id)
         AND ((c.period_from > COALESCE($1::date, (c.recorded_at AT TIME ZONE 'UTC')::date - 1) AND c.period_from <= $2::date)
           OR (c.period_to >= COALESCE($1::date, (c.recorded_at AT TIME ZONE 'UTC')::date - 1) AND c.period_to < $2::date))
       ORDER BY c.recorded_at, c.id`,
      [after ?? null, upTo],
    );
    return r.rows.map((x) => {
      const subjects = subjectsOfRow(x, this.cipher);
      return {
        consentId: x.id,
        nhsNumbers: [subjects.baby, subjects.mother].filter((n): n is string => n !== null),
        scope: x.scope,
        ...(subjects.mother !== null ? { motherNhsNumber: subjects.mother } : {}),
        ...(subjects.baby !== null ? { babyNhsNumber: subjects.baby } : {}),
      };
    });
  }

  async lastRun(job: string): Promise<string | undefined> {
    const r = await this.db.query<{ last_day: string }>(
      `SELECT to_char(last_day, 'YYYY-MM-DD') AS last_day FROM scheduled_runs WHERE job = $1`,
      [job],
    );
    return r.rows[0]?.last_day;
  }

  async saveRun(job: string, day: string, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO scheduled_runs (job, last_day, ran_at) VALUES ($1, $2, $3)
       ON CONFLICT (job) DO UPDATE SET last_day = EXCLUDED.last_day, ran_at = EXCLUDED.ran_at WHERE scheduled_runs.last_day < EXCLUDED.last_day`,
      [job, day, at],
    );
  }
}
