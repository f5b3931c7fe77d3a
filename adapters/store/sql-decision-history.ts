import type { Database } from '../../src/ports/database.js';
import type { BirthNotification } from '../../src/domain/birth-notification.js';
import type { Decision } from '../../src/pipeline/consent/decide.js';
import { agreementLabel } from '../../src/pipeline/consent/rulebook.js';
import type { Route } from '../../src/pipeline/route.js';
import type { AgreementVersion, AgreementVersionLog, DecisionHistory, StoredDecision } from '../../src/ports/decision-history.js';
import { insertAuditEvents, iso, json } from './sql-helpers.js';
import { NO_DATA_KEYS, type DataCipher } from './data-cipher.js';
import { sealedPlace } from './sealed-columns.js';
import { currentRecord } from './sql-notification-rows.js';

interface DecisionRow {
  id: string;
  message_id: string;
  canonical: unknown;
  created_at: Date | string;
  status: string;
  record: unknown;
  enriched: boolean;
  decision: unknown;
  route: unknown;
  inbox_id: string | null;
  baby_nhs_number: string | null;
}

/** The current record: the enriched one where later messages changed it, else the first message's canonical record. */
const SELECT = `SELECT n.id, n.message_id, n.created_at, n.status, n.record, b.canonical, n.record IS NOT NULL AS enriched,
                       n.decision, n.route, n.inbox_id, n.baby_nhs_number
                  FROM notifications n JOIN message_bodies b ON b.message_id = n.message_id`;
/** A notification whose content retention purged has no record to explain or re-decide: explanations and what-if skip it. */
const HELD = 'n.purged_at IS NULL';

/** The stored decision; undefined when neither the notification nor its first message holds a record any more. */
function toStored(r: DecisionRow, cipher: DataCipher): StoredDecision | undefined {
  const record = currentRecord(cipher, r);
  if (record === null) return undefined;
  const s: StoredDecision = {
    notificationId: r.id,
    createdAt: new Date(iso(r.created_at) ?? 0),
    status: r.status,
    record,
    enriched: r.enriched,
    decision: json(r.decision) as Decision,
    route: json(r.route) as Route,
  };
  if (r.inbox_id !== null) s.inboxId = r.inbox_id;
  // A pseudonym (migration 038): the number itself is the decrypted record's.
  if (r.baby_nhs_number !== null) s.babyNhsNumber = cipher.reveal(r.baby_nhs_number, [record.baby.nhsNumber]);
  return s;
}

/** Rows one page of a scan reads: a few MB of records at most. */
export const SCAN_PAGE = 2000;

/** Stored decisions (notifications with their records) and the agreement versions loaded, in SQL. */
export class SqlDecisionHistory implements DecisionHistory, AgreementVersionLog {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  async get(notificationId: string): Promise<StoredDecision | undefined> {
    const r = await this.db.query<DecisionRow>(`${SELECT} WHERE n.id = $1 AND ${HELD}`, [notificationId]);
    const row = r.rows[0];
    return row === undefined ? undefined : toStored(row, this.cipher);
  }

  async purgedAt(notificationId: string): Promise<Date | undefined> {
    const r = await this.db.query<{ purged_at: Date | string | null }>('SELECT purged_at FROM notifications WHERE id = $1', [
      notificationId,
    ]);
    const at = iso(r.rows[0]?.purged_at ?? null);
    return at === undefined ? undefined : new Date(at);
  }

  async countPurged(filter: { since?: Date }): Promise<number> {
    const params: unknown[] = [];
    const since = filter.since === undefined ? '' : ` AND created_at >= $${params.push(filter.since)}`;
    const r = await this.db.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM notifications WHERE purged_at IS NOT NULL${since}`,
      params,
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  /** The record a decision was made on: its first message's canonical record (later enrichment left aside). */
  async decidedRecord(notificationId: string): Promise<BirthNotification | undefined> {
    const r = await this.db.query<{ canonical: unknown; message_id: string }>(
      `SELECT b.canonical, b.message_id FROM notifications n JOIN message_bodies b ON b.message_id = n.message_id WHERE n.id = $1 AND ${HELD}`,
      [notificationId],
    );
    const row = r.rows[0];
    if (row === undefined || row.canonical === null) return undefined;
    return this.cipher.openJson(row.canonical, sealedPlace.canonical(row.message_id)) as BirthNotification;
  }

  async scan(filter: { since?: Date }, visit: (page: readonly StoredDecision[]) => void): Promise<number> {
    return this.db.transaction(async (tx) => {
      // Read-only: whatever a proposed agreement would do, the simulation cannot write (PostgreSQL refuses it).
      await tx.query('SET TRANSACTION READ ONLY');
      let seen = 0;
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const params: unknown[] = [after, SCAN_PAGE];
        const since = filter.since === undefined ? '' : ` AND n.created_at >= $${params.push(filter.since)}`;
        const r = await tx.query<DecisionRow>(`${SELECT} WHERE n.id > $1 AND ${HELD}${since} ORDER BY n.id LIMIT $2`, params);
        if (r.rows.length === 0) return seen;
        visit(r.rows.flatMap((row) => toStored(row, this.cipher) ?? []));
        seen += r.rows.length;
        after = r.rows[r.rows.length - 1]?.id ?? after;
        if (r.rows.length < SCAN_PAGE) return seen;
      }
    });
  }

  async recordLoaded(versions: readonly AgreementVersion[], loadedBy: string, at: Date): Promise<string[]> {
    if (versions.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const rows = versions.map((v) => ({ content_sha256: v.hash, agreement_id: v.id, version: v.version, content: v.content }));
      const r = await tx.query<{ content_sha256: string }>(
        `INSERT INTO agreement_versions (content_sha256, agreement_id, version, content, first_loaded_at, loaded_by)
         SELECT x.content_sha256, x.agreement_id, x.version, x.content, $2, $3
           FROM jsonb_to_recordset($1::jsonb) AS x(content_sha256 text, agreement_id text, version text, content jsonb)
         ON CONFLICT (content_sha256) DO NOTHING RETURNING content_sha256`,
        [JSON.stringify(rows), at, loadedBy],
      );
      const fresh = new Set(r.rows.map((x) => x.content_sha256));
      const loaded = versions.filter((v) => fresh.has(v.hash));
      await insertAuditEvents(
        tx,
        loaded.map((v) => ({
          at,
          actor: loadedBy,
          action: 'rulebook-loaded' as const,
          rulebookVersion: agreementLabel(v),
          outcome: 'new-version',
          details: { agreement: v.id, version: v.version, sha256: v.hash },
        })),
        this.cipher,
      );
      return loaded.map((v) => v.hash);
    });
  }

  async content(hash: string): Promise<unknown> {
    const r = await this.db.query<{ content: unknown }>('SELECT content FROM agreement_versions WHERE content_sha256 = $1', [hash]);
    const c = r.rows[0]?.content;
    return c === undefined ? undefined : json(c);
  }
}
