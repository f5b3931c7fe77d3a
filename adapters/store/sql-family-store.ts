import type { Database, SqlClient } from '../../src/ports/database.js';
import type { AuditActor, AuditEventInput } from '../../src/ports/audit.js';
import { actorFields } from '../../src/ports/audit.js';
import { openKey } from '../../src/ports/family-store.js';
import type {
  ComparedPerson,
  FamilyLead,
  FamilyLinkInput,
  FamilyLinkMethod,
  FamilyPlanWrites,
  FamilyRecord,
  FamilyRefresh,
  FamilySourceInput,
  FamilyStore,
  FamilyTransaction,
  FieldContributionRecord,
  ImportedFamily,
  MatchReview,
  MatchReviewStatus,
  NewChild,
  NewFamily,
  NewMatchReview,
  ReviewDecision,
  ReviewDecisionResult,
} from '../../src/ports/family-store.js';
import type { Address, GpPractice } from '../../src/domain/birth-notification.js';
import { insertAuditEvents, iso, json } from './sql-helpers.js';

interface FamilyRow {
  id: string;
  lead: unknown;
  lead_nhs_number: string | null;
  address: unknown;
  gp: unknown;
  preferred_language: string | null;
  centre: string | null;
  named_worker: string | null;
  origin: FamilyRecord['origin'];
  merged_into: string | null;
}

const FAMILY_COLUMNS =
  'f.id, f.lead, f.lead_nhs_number, f.address, f.gp, f.preferred_language, f.centre, f.named_worker, f.origin, f.merged_into';

function toFamily(r: FamilyRow): FamilyRecord {
  const address = json(r.address) as Address | null;
  const gp = json(r.gp) as GpPractice | null;
  return {
    id: r.id,
    lead: json(r.lead) as FamilyLead,
    ...(r.lead_nhs_number !== null ? { leadNhsNumber: r.lead_nhs_number } : {}),
    ...(address !== null ? { address } : {}),
    ...(gp !== null ? { gp } : {}),
    ...(r.preferred_language !== null ? { preferredLanguage: r.preferred_language } : {}),
    ...(r.centre !== null ? { centre: r.centre } : {}),
    ...(r.named_worker !== null ? { namedWorker: r.named_worker } : {}),
    origin: r.origin,
    ...(r.merged_into !== null ? { mergedInto: r.merged_into } : {}),
  };
}

/** Families read per blocking key at most: a key more families share than this is not used (it tells too little). */
export const KEY_CAP = 100;

/**
 * The prefix of the blocking keys a family without a lead NHS number is also stored under: a mother with an NHS
 * number is looked up by these only (she may not be matched to a family led by another number), so families led
 * by NHS numbers are never read for her.
 */
export const OPEN_PREFIX = openKey('');

/** The keys stored for a family: its blocking keys, and the same with OPEN_PREFIX when no NHS number leads it. */
function storedKeys(keys: readonly string[], ledByNhsNumber: boolean): string[] {
  return ledByNhsNumber ? [...keys] : [...keys, ...keys.map((k) => `${OPEN_PREFIX}${k}`)];
}

const childRows = (children: readonly NewChild[]) =>
  children.map((c) => ({
    family_id: c.familyId,
    child_key: c.childKey,
    notification_id: c.notificationId ?? null,
    record: c.record,
    added_at: c.at,
  }));
const CHILDREN_SQL = (n: number): string => `INSERT INTO family_children (family_id, child_key, notification_id, record, added_at)
  SELECT DISTINCT ON (v.family_id, v.child_key) v.family_id, v.child_key, v.notification_id, v.record, v.added_at
  FROM jsonb_to_recordset($${n}::jsonb) AS v(family_id uuid, child_key text, notification_id uuid, record jsonb, added_at timestamptz)
  ON CONFLICT (family_id, child_key) DO UPDATE SET record = family_children.record || EXCLUDED.record,
    notification_id = COALESCE(family_children.notification_id, EXCLUDED.notification_id)`;

const linkRows = (links: readonly FamilyLinkInput[]) =>
  links.map((l) => ({
    notification_id: l.notificationId,
    family_id: l.familyId,
    method: l.method,
    score: l.score ?? null,
    contributions: l.contributions ?? null,
    linked_at: l.at,
  }));
const LINKS_SQL = (n: number): string => `INSERT INTO family_links (notification_id, family_id, method, score, contributions, linked_at)
  SELECT v.notification_id, v.family_id, v.method, v.score, v.contributions, v.linked_at
  FROM jsonb_to_recordset($${n}::jsonb) AS v(notification_id uuid, family_id uuid, method text, score double precision,
    contributions jsonb, linked_at timestamptz)
  ON CONFLICT (notification_id) DO UPDATE SET family_id = EXCLUDED.family_id, method = EXCLUDED.method,
    score = COALESCE(EXCLUDED.score, family_links.score), contributions = COALESCE(EXCLUDED.contributions, family_links.contributions),
    linked_at = EXCLUDED.linked_at`;

const sourceRows = (sources: readonly FamilySourceInput[]) =>
  sources.map((x) => ({ family_id: x.familyId, kind: x.kind, ref: x.ref, at: x.at }));
const SOURCES_SQL = (n: number): string => `INSERT INTO family_sources (family_id, kind, ref, at)
  SELECT v.family_id, v.kind, v.ref, v.at FROM jsonb_to_recordset($${n}::jsonb) AS v(family_id uuid, kind text, ref text, at timestamptz)
  ON CONFLICT DO NOTHING`;

const reviewRows = (reviews: readonly NewMatchReview[]) =>
  reviews.map((r) => ({
    id: r.id,
    notification_id: r.notificationId,
    candidate_family_id: r.candidateFamilyId,
    provisional_family_id: r.provisionalFamilyId,
    score: r.score,
    contributions: r.contributions,
    created_at: r.at,
  }));
const REVIEWS_SQL = (
  n: number,
): string => `INSERT INTO match_reviews (id, notification_id, candidate_family_id, provisional_family_id, score, contributions, status, created_at)
  SELECT v.id, v.notification_id, v.candidate_family_id, v.provisional_family_id, v.score, v.contributions, 'pending', v.created_at
  FROM jsonb_to_recordset($${n}::jsonb) AS v(id uuid, notification_id uuid, candidate_family_id uuid, provisional_family_id uuid,
    score double precision, contributions jsonb, created_at timestamptz)
  ON CONFLICT DO NOTHING`;

/**
 * A matching plan's writes in one statement: children ($1), links ($2), sources ($3) and reviews ($4), each a JSON
 * recordset (an empty array writes nothing). Fixed text, so prepared once. Its audit events are written at the end of
 * the transaction (insertAuditEvents).
 */
export const SAVE_FAMILY_PLAN_SQL = `WITH children AS (${CHILDREN_SQL(1)}), links AS (${LINKS_SQL(2)}), sources AS (${SOURCES_SQL(3)}),
  reviews AS (${REVIEWS_SQL(4)}) SELECT 1`;

/**
 * Family writes on one transaction's connection: used by processing (inside its batch transaction), by the
 * register import, by review decisions and by A40 merges. Each batch method is one statement.
 */
export class SqlFamilyTransaction implements FamilyTransaction {
  constructor(private readonly tx: SqlClient) {}

  async createFamilies(families: readonly NewFamily[]): Promise<Set<string>> {
    if (families.length === 0) return new Set();
    const rows = families.map((f) => ({
      id: f.id,
      at: f.at,
      lead: f.lead,
      lead_nhs_number: f.lead.nhsNumber ?? null,
      address: f.address ?? null,
      gp: f.gp ?? null,
      preferred_language: f.preferredLanguage ?? null,
      centre: f.centre ?? null,
      origin: f.origin,
    }));
    const keys = families.flatMap((f) => storedKeys(f.blockKeys, f.lead.nhsNumber !== undefined).map((key) => ({ key, family_id: f.id })));
    const r = await this.tx.query<{ id: string }>(
      `WITH created AS (
         INSERT INTO families (id, created_at, updated_at, lead, lead_nhs_number, address, gp, preferred_language, centre, origin)
         SELECT v.id, v.at, v.at, v.lead, v.lead_nhs_number, v.address, v.gp, v.preferred_language, v.centre, v.origin
         FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, at timestamptz, lead jsonb, lead_nhs_number text, address jsonb, gp jsonb,
           preferred_language text, centre text, origin text)
         ON CONFLICT DO NOTHING RETURNING id
       ), keyed AS (
         INSERT INTO family_block_keys (key, family_id)
         SELECT k.key, k.family_id FROM jsonb_to_recordset($2::jsonb) AS k(key text, family_id uuid)
         WHERE k.family_id IN (SELECT id FROM created) ON CONFLICT DO NOTHING
       )
       SELECT id FROM created`,
      [JSON.stringify(rows), JSON.stringify(keys)],
      { prepare: 'create-families' },
    );
    return new Set(r.rows.map((x) => x.id));
  }

  async familiesByLeadNhsNumber(nhsNumbers: readonly string[]): Promise<FamilyRecord[]> {
    if (nhsNumbers.length === 0) return [];
    const r = await this.tx.query<FamilyRow>(
      `SELECT ${FAMILY_COLUMNS} FROM families f WHERE f.lead_nhs_number = ANY($1::text[]) AND f.merged_into IS NULL`,
      [nhsNumbers],
    );
    return r.rows.map(toFamily);
  }

  async candidateFamilies(nhsNumbers: readonly string[], blockKeys: readonly string[]): Promise<FamilyRecord[]> {
    if (nhsNumbers.length === 0 && blockKeys.length === 0) return [];
    const r = await this.tx.query<FamilyRow>(
      // At most KEY_CAP + 1 families read per key; a key shared by more than KEY_CAP tells nothing and is skipped.
      // A union of index lookups (an OR across them would read every family).
      `WITH wanted AS (
         SELECT k.key, b.family_id FROM unnest($2::text[]) AS k(key)
         CROSS JOIN LATERAL (SELECT x.family_id FROM family_block_keys x WHERE x.key = k.key LIMIT ${KEY_CAP + 1}) b
       )
       SELECT ${FAMILY_COLUMNS} FROM families f
       WHERE f.merged_into IS NULL AND f.id IN (
         SELECT id FROM families WHERE lead_nhs_number = ANY($1::text[])
         UNION SELECT family_id FROM wanted WHERE key IN (SELECT key FROM wanted GROUP BY key HAVING count(*) <= ${KEY_CAP}))`,
      [nhsNumbers, blockKeys],
      { prepare: 'candidate-families' },
    );
    return r.rows.map(toFamily);
  }

  async familiesById(ids: readonly string[]): Promise<FamilyRecord[]> {
    if (ids.length === 0) return [];
    const r = await this.tx.query<FamilyRow>(`SELECT ${FAMILY_COLUMNS} FROM families f WHERE f.id = ANY($1::uuid[])`, [ids]);
    return r.rows.map(toFamily);
  }

  async lockFamily(id: string): Promise<FamilyRecord | undefined> {
    const r = await this.tx.query<FamilyRow>(`SELECT ${FAMILY_COLUMNS} FROM families f WHERE f.id = $1 FOR UPDATE`, [id]);
    const row = r.rows[0];
    return row ? toFamily(row) : undefined;
  }

  async addChildren(children: readonly NewChild[]): Promise<void> {
    if (children.length === 0) return;
    await this.tx.query(CHILDREN_SQL(1), [JSON.stringify(childRows(children))], { prepare: 'add-family-children' });
  }

  async linkNotifications(links: readonly FamilyLinkInput[]): Promise<void> {
    if (links.length === 0) return;
    await this.tx.query(LINKS_SQL(1), [JSON.stringify(linkRows(links))], { prepare: 'link-family-notifications' });
  }

  async familyOfNotifications(notificationIds: readonly string[]): Promise<Map<string, string>> {
    if (notificationIds.length === 0) return new Map();
    const r = await this.tx.query<{ notification_id: string; family_id: string }>(
      'SELECT notification_id, family_id FROM family_links WHERE notification_id = ANY($1::uuid[])',
      [notificationIds],
    );
    return new Map(r.rows.map((x) => [x.notification_id, x.family_id]));
  }

  async refreshFamilies(refreshes: readonly FamilyRefresh[]): Promise<void> {
    if (refreshes.length === 0) return;
    const rows = refreshes.map((f) => ({
      id: f.familyId,
      at: f.at,
      lead: f.lead ?? null,
      address: f.address ?? null,
      gp: f.gp ?? null,
      preferred_language: f.preferredLanguage ?? null,
      centre: f.centre ?? null,
      keyed: f.blockKeys !== undefined,
    }));
    const keys = refreshes.flatMap((f) =>
      storedKeys(f.blockKeys ?? [], f.lead?.nhsNumber !== undefined).map((key) => ({ key, family_id: f.familyId })),
    );
    // A lead NHS number is set only where the family had none and no other family holds it (the column is unique).
    await this.tx.query(
      `WITH v AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, at timestamptz, lead jsonb, address jsonb, gp jsonb,
           preferred_language text, centre text, keyed boolean)
       ), refreshed AS (
         UPDATE families f SET updated_at = v.at, lead = COALESCE(f.lead || v.lead, f.lead), address = COALESCE(v.address, f.address),
           gp = COALESCE(v.gp, f.gp), preferred_language = COALESCE(v.preferred_language, f.preferred_language),
           centre = COALESCE(v.centre, f.centre),
           lead_nhs_number = COALESCE(f.lead_nhs_number, CASE WHEN NOT EXISTS (
             SELECT 1 FROM families o WHERE o.lead_nhs_number = v.lead ->> 'nhsNumber') THEN v.lead ->> 'nhsNumber' END)
         FROM v WHERE f.id = v.id RETURNING f.id
       ), unkeyed AS (
         DELETE FROM family_block_keys k USING v WHERE k.family_id = v.id AND v.keyed
           AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset($2::jsonb) AS n(key text, family_id uuid) WHERE n.key = k.key AND n.family_id = k.family_id)
       )
       INSERT INTO family_block_keys (key, family_id)
       SELECT DISTINCT n.key, n.family_id FROM jsonb_to_recordset($2::jsonb) AS n(key text, family_id uuid) ON CONFLICT DO NOTHING`,
      [JSON.stringify(rows), JSON.stringify(keys)],
      { prepare: 'refresh-families' },
    );
  }

  async recordSources(sources: readonly FamilySourceInput[]): Promise<void> {
    if (sources.length === 0) return;
    await this.tx.query(SOURCES_SQL(1), [JSON.stringify(sourceRows(sources))], { prepare: 'record-family-sources' });
  }

  async mergeFamily(fromId: string, intoId: string, at: Date, linkMethod: FamilyLinkMethod = 'merge'): Promise<void> {
    if (fromId === intoId) return;
    // Locked in id order, so two merges touching the same pair cannot deadlock.
    const locked = await this.tx.query<{ id: string; lead_nhs_number: string | null; merged_into: string | null }>(
      'SELECT id, lead_nhs_number, merged_into FROM families WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
      [[fromId, intoId]],
    );
    const from = locked.rows.find((r) => r.id === fromId);
    const into = locked.rows.find((r) => r.id === intoId);
    if (!from || !into || from.merged_into !== null) return;
    const passNhs = into.lead_nhs_number === null && from.lead_nhs_number !== null ? from.lead_nhs_number : null;
    await this.tx.query(`UPDATE families SET merged_into = $2, updated_at = $3, lead_nhs_number = NULL WHERE id = $1`, [
      fromId,
      intoId,
      at,
    ]);
    if (passNhs !== null) {
      // Led by an NHS number now: no longer a candidate for mothers with another one.
      await this.tx.query(`DELETE FROM family_block_keys WHERE family_id = $1 AND key LIKE '${OPEN_PREFIX}%'`, [intoId]);
      await this.tx.query(
        `UPDATE families SET lead_nhs_number = $2, lead = lead || jsonb_build_object('nhsNumber', $2::text), updated_at = $3 WHERE id = $1`,
        [intoId, passNhs, at],
      );
    }
    await this.tx.query(
      `WITH moved AS (
         DELETE FROM family_children WHERE family_id = $1 RETURNING child_key, notification_id, record, added_at
       )
       INSERT INTO family_children (family_id, child_key, notification_id, record, added_at)
       SELECT $2, child_key, notification_id, record, added_at FROM moved
       ON CONFLICT (family_id, child_key) DO UPDATE SET record = family_children.record || EXCLUDED.record,
         notification_id = COALESCE(family_children.notification_id, EXCLUDED.notification_id)`,
      [fromId, intoId],
    );
    await this.tx.query(`UPDATE family_links SET family_id = $2, method = $3, linked_at = $4 WHERE family_id = $1`, [
      fromId,
      intoId,
      linkMethod,
      at,
    ]);
    await this.tx.query(
      `INSERT INTO family_sources (family_id, kind, ref, at)
       SELECT $2::uuid, kind, ref, at FROM family_sources WHERE family_id = $1::uuid
       UNION ALL SELECT $2::uuid, 'merge', $4::text, $3::timestamptz
       ON CONFLICT DO NOTHING`,
      [fromId, intoId, at, fromId],
    );
    await this.tx.query('DELETE FROM family_block_keys WHERE family_id = $1', [fromId]);
  }

  async createReviews(reviews: readonly NewMatchReview[]): Promise<void> {
    if (reviews.length === 0) return;
    await this.tx.query(REVIEWS_SQL(1), [JSON.stringify(reviewRows(reviews))], { prepare: 'create-match-reviews' });
  }

  async saveFamilyPlan(plan: FamilyPlanWrites): Promise<void> {
    if (plan.children.length + plan.links.length + plan.sources.length + plan.reviews.length + plan.audit.length === 0) return;
    await this.tx.query(
      SAVE_FAMILY_PLAN_SQL,
      [
        JSON.stringify(childRows(plan.children)),
        JSON.stringify(linkRows(plan.links)),
        JSON.stringify(sourceRows(plan.sources)),
        JSON.stringify(reviewRows(plan.reviews)),
      ],
      { prepare: 'save-family-plan' },
    );
    await insertAuditEvents(this.tx, plan.audit);
  }

  async appendAudit(events: readonly AuditEventInput[]): Promise<void> {
    await insertAuditEvents(this.tx, events);
  }
}

interface ReviewRow {
  id: string;
  notification_id: string;
  candidate_family_id: string;
  provisional_family_id: string;
  score: number;
  contributions: unknown;
  status: MatchReviewStatus;
  created_at: Date | string;
  decided_at: Date | string | null;
  decided_by: string | null;
  probe_lead: unknown;
  probe_address: unknown;
  candidate_lead: unknown;
  candidate_address: unknown;
}

const REVIEW_SELECT = `SELECT r.id, r.notification_id, r.candidate_family_id, r.provisional_family_id, r.score, r.contributions, r.status,
  r.created_at, r.decided_at, r.decided_by, p.lead AS probe_lead, p.address AS probe_address, c.lead AS candidate_lead, c.address AS candidate_address
  FROM match_reviews r JOIN families p ON p.id = r.provisional_family_id JOIN families c ON c.id = r.candidate_family_id`;

/** Only the fields matching compares, so the review page shows what is needed to decide and nothing else. */
function compared(lead: unknown, address: unknown): ComparedPerson {
  const l = (json(lead) ?? {}) as FamilyLead;
  const a = json(address) as Address | null;
  return {
    ...(l.name?.family !== undefined ? { familyName: l.name.family } : {}),
    ...(l.name?.given !== undefined ? { givenNames: l.name.given } : {}),
    ...(l.birthDate !== undefined ? { birthDate: l.birthDate } : {}),
    ...(a?.postcode !== undefined ? { postcode: a.postcode } : {}),
    ...(l.phone !== undefined ? { phone: l.phone } : {}),
  };
}

function toReview(r: ReviewRow): MatchReview {
  const decidedAt = iso(r.decided_at);
  return {
    id: r.id,
    notificationId: r.notification_id,
    candidateFamilyId: r.candidate_family_id,
    provisionalFamilyId: r.provisional_family_id,
    score: r.score,
    contributions: json(r.contributions) as FieldContributionRecord[],
    status: r.status,
    createdAt: iso(r.created_at) ?? '',
    ...(decidedAt !== undefined ? { decidedAt } : {}),
    ...(r.decided_by !== null ? { decidedBy: r.decided_by } : {}),
    probe: compared(r.probe_lead, r.probe_address),
    candidate: compared(r.candidate_lead, r.candidate_address),
  };
}

/** Family records in SQL (PostgreSQL and PGlite). */
export class SqlFamilyStore implements FamilyStore {
  constructor(private readonly db: Database) {}

  async transaction<T>(work: (tx: FamilyTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new SqlFamilyTransaction(tx)));
  }

  async importFamilies(
    families: readonly ImportedFamily[],
    importId: string,
    by: AuditActor,
    at: Date,
  ): Promise<{ imported: number; updated: number }> {
    return this.transaction(async (tx) => {
      const numbers = families.flatMap((f) => (f.family.lead.nhsNumber !== undefined ? [f.family.lead.nhsNumber] : []));
      const known = new Map((await tx.familiesByLeadNhsNumber(numbers)).map((f) => [f.leadNhsNumber, f]));
      const creates: NewFamily[] = [];
      const refreshes: FamilyRefresh[] = [];
      const children: NewChild[] = [];
      const sources: FamilySourceInput[] = [];
      for (const f of families) {
        const existing = f.family.lead.nhsNumber !== undefined ? known.get(f.family.lead.nhsNumber) : undefined;
        const familyId = existing?.id ?? f.family.id;
        if (existing) {
          refreshes.push({
            familyId,
            lead: { ...existing.lead, ...f.family.lead },
            ...(f.family.address !== undefined ? { address: f.family.address } : {}),
            ...(f.family.gp !== undefined ? { gp: f.family.gp } : {}),
            ...(f.family.preferredLanguage !== undefined ? { preferredLanguage: f.family.preferredLanguage } : {}),
            ...(f.family.centre !== undefined ? { centre: f.family.centre } : {}),
            blockKeys: f.family.blockKeys,
            at,
          });
        } else creates.push(f.family);
        for (const c of f.children) children.push({ ...c, familyId });
        for (const row of f.rows) sources.push({ familyId, kind: 'register-import', ref: `${importId}#${row}`, at });
      }
      await tx.createFamilies(creates);
      await tx.refreshFamilies(refreshes);
      await tx.addChildren(children);
      await tx.recordSources(sources);
      const who = actorFields(by);
      await tx.appendAudit([
        {
          at,
          ...who,
          action: 'families-imported',
          outcome: 'imported',
          details: { ...who.details, importId, imported: creates.length, updated: refreshes.length, children: children.length },
        },
      ]);
      return { imported: creates.length, updated: refreshes.length };
    });
  }

  async listReviews(status: MatchReviewStatus, limit: number): Promise<MatchReview[]> {
    const r = await this.db.query<ReviewRow>(`${REVIEW_SELECT} WHERE r.status = $1 ORDER BY r.created_at, r.id LIMIT $2`, [status, limit]);
    return r.rows.map(toReview);
  }

  async getReview(id: string): Promise<MatchReview | undefined> {
    const r = await this.db.query<ReviewRow>(`${REVIEW_SELECT} WHERE r.id = $1`, [id]);
    const row = r.rows[0];
    return row ? toReview(row) : undefined;
  }

  async decideReview(id: string, decision: ReviewDecision, by: AuditActor, at: Date, reason?: string): Promise<ReviewDecisionResult> {
    return this.db.transaction(async (sql) => {
      const tx = new SqlFamilyTransaction(sql);
      const locked = await sql.query<{
        status: MatchReviewStatus;
        notification_id: string;
        candidate_family_id: string;
        provisional_family_id: string;
        subject: string | null;
      }>(
        `SELECT r.status, r.notification_id, r.candidate_family_id, r.provisional_family_id, n.baby_nhs_number AS subject
         FROM match_reviews r JOIN notifications n ON n.id = r.notification_id WHERE r.id = $1 FOR UPDATE OF r`,
        [id],
      );
      const row = locked.rows[0];
      if (!row) return { kind: 'not-found' };
      if (row.status !== 'pending') return { kind: 'already-decided', status: row.status };
      const who = actorFields(by);
      const status: MatchReviewStatus = decision === 'confirm' ? 'confirmed' : 'rejected';
      await sql.query('UPDATE match_reviews SET status = $2, decided_at = $3, decided_by = $4 WHERE id = $1', [id, status, at, who.actor]);
      let familyId = row.provisional_family_id;
      if (decision === 'confirm') {
        // The candidate may itself have been merged since: follow it to the family it lives on as.
        const target = await liveFamily(tx, row.candidate_family_id);
        await tx.mergeFamily(row.provisional_family_id, target, at, 'review-confirmed');
        await tx.recordSources([{ familyId: target, kind: 'review', ref: id, at }]);
        familyId = target;
      }
      await tx.appendAudit([
        {
          at,
          ...who,
          action: 'match-reviewed',
          notificationId: row.notification_id,
          ...(row.subject !== null ? { subjectNhsNumber: row.subject } : {}),
          outcome: status,
          details: {
            ...who.details,
            reviewId: id,
            decision,
            candidateFamilyId: row.candidate_family_id,
            provisionalFamilyId: row.provisional_family_id,
            familyId,
            ...(reason !== undefined ? { reason } : {}),
          },
        },
      ]);
      const review = await sql.query<ReviewRow>(`${REVIEW_SELECT} WHERE r.id = $1`, [id]);
      const decided = review.rows[0];
      if (!decided) throw new Error('decided review vanished');
      return { kind: 'decided', review: toReview(decided) };
    });
  }
}

/** The live family an id now stands for (following merged_into), at most a few hops. */
async function liveFamily(tx: SqlFamilyTransaction, id: string): Promise<string> {
  let current = id;
  for (let i = 0; i < 16; i++) {
    const f = await tx.lockFamily(current);
    if (f?.mergedInto === undefined) return current;
    current = f.mergedInto;
  }
  return current;
}
