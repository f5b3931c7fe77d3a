import type { Database, SqlClient } from '../../src/ports/database.js';
import type { AuditActor, AuditEventInput } from '../../src/ports/audit.js';
import { actorFields } from '../../src/ports/audit.js';
import { openKey } from '../../src/ports/family-store.js';
import { FAMILY_ACTOR } from '../../src/pipeline/family-match.js';
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
import { NO_DATA_KEYS, type DataCipher } from './data-cipher.js';
import { sealedPlace } from './sealed-columns.js';

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

function toFamily(r: FamilyRow, cipher: DataCipher): FamilyRecord {
  const address = cipher.openJson(r.address, sealedPlace.family('address', r.id)) as Address | null;
  const gp = cipher.openJson(r.gp, sealedPlace.family('gp', r.id)) as GpPractice | null;
  const lead = cipher.openJson(r.lead, sealedPlace.family('lead', r.id)) as FamilyLead;
  return {
    id: r.id,
    lead,
    // A pseudonym (migration 038): the number itself is the encrypted lead's.
    ...(r.lead_nhs_number !== null ? { leadNhsNumber: cipher.reveal(r.lead_nhs_number, [lead.nhsNumber]) } : {}),
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
function storedKeys(keys: readonly string[], ledByNhsNumber: boolean, cipher: DataCipher): string[] {
  const plain = ledByNhsNumber ? [...keys] : [...keys, ...keys.map((k) => `${OPEN_PREFIX}${k}`)];
  return plain.map((k) => storedBlockKey(k, cipher));
}

/**
 * A blocking key as stored (migration 038): its pseudonym, after OPEN_PREFIX for an open key (so the open keys of a
 * family can still be found by their prefix). The keys hold dates of birth, phones and name codes.
 */
export function storedBlockKey(key: string, cipher: DataCipher): string {
  return key.startsWith(OPEN_PREFIX) ? `${OPEN_PREFIX}${cipher.pseudonym(key.slice(OPEN_PREFIX.length))}` : cipher.pseudonym(key);
}

/** The forms a probe's blocking keys match: as they are (rows in clear), and as stored. */
function blockKeyForms(keys: readonly string[], cipher: DataCipher): string[] {
  return [...new Set(keys.flatMap((k) => [k, storedBlockKey(k, cipher)]))];
}

/**
 * A child's record is encrypted (migration 029), so SQL can no longer merge a new record into the one held
 * (`record || EXCLUDED.record`): the rows held are locked and read, merged here (the new fields win), and written
 * back; new rows are inserted, and one another transaction inserted meanwhile is read and merged on the next pass.
 */
async function writeChildren(tx: SqlClient, cipher: DataCipher, given: readonly NewChild[]): Promise<void> {
  // A child's key is 'nhs:' and its NHS number: stored as its pseudonym (migration 038); a row still under the clear
  // key is found too, and re-keyed when written.
  const clearKey = new Map<string, string>();
  const children = given.map((c) => {
    const stored = cipher.pseudonym(c.childKey);
    if (stored !== c.childKey) clearKey.set(`${c.familyId}/${stored}`, c.childKey);
    return { ...c, childKey: stored };
  });
  const wanted = new Map<string, NewChild>();
  for (const c of children) {
    const k = `${c.familyId}/${c.childKey}`;
    const before = wanted.get(k);
    wanted.set(
      k,
      before === undefined
        ? c
        : {
            ...before,
            record: { ...before.record, ...c.record },
            ...(before.notificationId === undefined && c.notificationId !== undefined ? { notificationId: c.notificationId } : {}),
          },
    );
  }
  let pending = [...wanted.values()];
  for (let pass = 0; pending.length > 0; pass++) {
    if (pass === 5) throw new Error('family children kept changing while being written');
    const held = await tx.query<{ family_id: string; child_key: string; record: unknown; notification_id: string | null }>(
      `SELECT c.family_id, c.child_key, c.record, c.notification_id FROM family_children c
       JOIN unnest($1::uuid[], $2::text[]) AS w(family_id, child_key) ON c.family_id = w.family_id AND c.child_key = w.child_key
       ORDER BY c.family_id, c.child_key FOR UPDATE OF c`,
      [
        pending.flatMap((c) => (clearKey.has(`${c.familyId}/${c.childKey}`) ? [c.familyId, c.familyId] : [c.familyId])),
        pending.flatMap((c) => {
          const clear = clearKey.get(`${c.familyId}/${c.childKey}`);
          return clear !== undefined ? [c.childKey, clear] : [c.childKey];
        }),
      ],
    );
    const current = new Map(held.rows.map((r) => [`${r.family_id}/${cipher.pseudonym(r.child_key)}`, r]));
    const updates: Record<string, unknown>[] = [];
    const inserts: Record<string, unknown>[] = [];
    for (const c of pending) {
      const place = sealedPlace.child(c.familyId, c.childKey);
      const old = current.get(`${c.familyId}/${c.childKey}`);
      if (old !== undefined) {
        const oldPlace = sealedPlace.child(c.familyId, old.child_key);
        const merged = { ...((cipher.openJson(old.record, oldPlace) ?? {}) as Record<string, unknown>), ...c.record };
        updates.push({
          family_id: c.familyId,
          old_key: old.child_key,
          child_key: c.childKey,
          record: cipher.sealJson(merged, place),
          notification_id: old.notification_id ?? c.notificationId ?? null,
        });
      } else {
        inserts.push({
          family_id: c.familyId,
          child_key: c.childKey,
          notification_id: c.notificationId ?? null,
          record: cipher.sealJson(c.record, place),
          added_at: c.at,
        });
      }
    }
    if (updates.length > 0) {
      await tx.query(
        `UPDATE family_children c SET child_key = v.child_key, record = v.record, notification_id = v.notification_id
         FROM jsonb_to_recordset($1::jsonb) AS v(family_id uuid, old_key text, child_key text, record jsonb, notification_id uuid)
         WHERE c.family_id = v.family_id AND c.child_key = v.old_key`,
        [JSON.stringify(updates)],
      );
    }
    if (inserts.length === 0) return;
    const inserted = await tx.query<{ family_id: string; child_key: string }>(
      `INSERT INTO family_children (family_id, child_key, notification_id, record, added_at)
       SELECT v.family_id, v.child_key, v.notification_id, v.record, v.added_at
       FROM jsonb_to_recordset($1::jsonb) AS v(family_id uuid, child_key text, notification_id uuid, record jsonb, added_at timestamptz)
       ON CONFLICT (family_id, child_key) DO NOTHING RETURNING family_id, child_key`,
      [JSON.stringify(inserts)],
      { prepare: 'add-family-children' },
    );
    const done = new Set(inserted.rows.map((r) => `${r.family_id}/${r.child_key}`));
    pending = pending.filter((c) => !current.has(`${c.familyId}/${c.childKey}`) && !done.has(`${c.familyId}/${c.childKey}`));
  }
}

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

/**
 * A birth joining a family closes the centre's expecting items of that family (migration 033): each antenatal
 * notification delivered for it, booked before the birth joined and not yet closed, purged or withdrawn, gets
 * `born_at` (its status stays `delivered`), the first birth to join naming it. $n: the links' JSON recordset, as
 * LINKS_SQL reads it. Returns the rows closed (BornRow), audited `antenatal-closed`.
 */
const BORN_SQL = (n: number): string => `UPDATE antenatal_notifications a SET born_at = v.linked_at, updated_at = v.linked_at
  FROM (SELECT DISTINCT ON (family_id) family_id, linked_at, notification_id
          FROM jsonb_to_recordset($${n}::jsonb) AS v(family_id uuid, linked_at timestamptz, notification_id uuid)
         ORDER BY family_id, linked_at, notification_id) v
  WHERE a.family_id = v.family_id AND a.status = 'delivered' AND a.born_at IS NULL AND a.purged_at IS NULL AND a.created_at <= v.linked_at
  RETURNING a.id, a.family_id, a.mother_nhs_number, a.inbox_id, a.born_at, v.notification_id AS birth_id`;

/** An antenatal notification a birth closed (BORN_SQL, a family merge). */
interface BornRow {
  id: string;
  family_id: string;
  mother_nhs_number: string | null;
  inbox_id: string | null;
  born_at: Date | string;
  birth_id: string | null;
}

/**
 * `antenatal-closed` for each booking a birth closed: the booking's notification id (the event's), the birth's and the
 * family's ids in details; the mother's NHS number only in the subject column. Stork's own step (processing, or a
 * merge that brought the birth into the family).
 */
const bornEvents = (rows: readonly BornRow[], via: 'birth-linked' | 'families-merged'): AuditEventInput[] =>
  rows.map((r) => ({
    at: new Date(iso(r.born_at) ?? 0),
    actor: FAMILY_ACTOR,
    action: 'antenatal-closed',
    notificationId: r.id,
    ...(r.mother_nhs_number !== null ? { subjectNhsNumber: r.mother_nhs_number } : {}),
    ...(r.inbox_id !== null ? { recipient: r.inbox_id } : {}),
    outcome: 'born',
    details: { kind: 'antenatal', ...(r.birth_id !== null ? { birthNotificationId: r.birth_id } : {}), familyId: r.family_id, via },
  }));

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
 * A matching plan's writes after its children (writeChildren): links ($1), sources ($2) and reviews ($3), each a JSON
 * recordset (an empty array writes nothing). Fixed text, so prepared once. Its audit events are written at the end of
 * the transaction (insertAuditEvents).
 */
export const SAVE_FAMILY_PLAN_SQL = `WITH links AS (${LINKS_SQL(1)}), sources AS (${SOURCES_SQL(2)}), reviews AS (${REVIEWS_SQL(3)}),
  born AS (${BORN_SQL(1)}) SELECT id, family_id, mother_nhs_number, inbox_id, born_at, birth_id FROM born`;

/**
 * Family writes on one transaction's connection: used by processing (inside its batch transaction), by the
 * register import, by review decisions and by A40 merges. Each batch method is one statement.
 */
export class SqlFamilyTransaction implements FamilyTransaction {
  constructor(
    private readonly tx: SqlClient,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  async createFamilies(families: readonly NewFamily[]): Promise<Set<string>> {
    if (families.length === 0) return new Set();
    const rows = families.map((f) => ({
      id: f.id,
      at: f.at,
      lead: this.cipher.sealJson(f.lead, sealedPlace.family('lead', f.id)),
      lead_nhs_number: this.cipher.pseudonymOrNull(f.lead.nhsNumber),
      address: this.cipher.sealJson(f.address ?? null, sealedPlace.family('address', f.id)),
      gp: this.cipher.sealJson(f.gp ?? null, sealedPlace.family('gp', f.id)),
      preferred_language: f.preferredLanguage ?? null,
      centre: f.centre ?? null,
      origin: f.origin,
    }));
    const keys = families.flatMap((f) =>
      storedKeys(f.blockKeys, f.lead.nhsNumber !== undefined, this.cipher).map((key) => ({ key, family_id: f.id })),
    );
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
      [this.cipher.pseudonymForms(nhsNumbers)],
    );
    return r.rows.map((row) => toFamily(row, this.cipher));
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
      [this.cipher.pseudonymForms(nhsNumbers), blockKeyForms(blockKeys, this.cipher)],
      { prepare: 'candidate-families' },
    );
    return r.rows.map((row) => toFamily(row, this.cipher));
  }

  async familiesById(ids: readonly string[]): Promise<FamilyRecord[]> {
    if (ids.length === 0) return [];
    const r = await this.tx.query<FamilyRow>(`SELECT ${FAMILY_COLUMNS} FROM families f WHERE f.id = ANY($1::uuid[])`, [ids]);
    return r.rows.map((row) => toFamily(row, this.cipher));
  }

  async lockFamily(id: string): Promise<FamilyRecord | undefined> {
    const r = await this.tx.query<FamilyRow>(`SELECT ${FAMILY_COLUMNS} FROM families f WHERE f.id = $1 FOR UPDATE`, [id]);
    const row = r.rows[0];
    return row ? toFamily(row, this.cipher) : undefined;
  }

  async addChildren(children: readonly NewChild[]): Promise<void> {
    if (children.length === 0) return;
    await writeChildren(this.tx, this.cipher, children);
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
    // The lead is merged into the one held (the new fields win): encrypted, so here, on the rows locked in id order.
    const withLead = refreshes.filter((f) => f.lead !== undefined).map((f) => f.familyId);
    const held = new Map<string, unknown>();
    if (withLead.length > 0) {
      const r = await this.tx.query<{ id: string; lead: unknown }>(
        'SELECT id, lead FROM families WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
        [[...new Set(withLead)]],
      );
      for (const row of r.rows) held.set(row.id, this.cipher.openJson(row.lead, sealedPlace.family('lead', row.id)));
    }
    const rows = refreshes.map((f) => ({
      id: f.familyId,
      at: f.at,
      lead:
        f.lead === undefined
          ? null
          : this.cipher.sealJson({ ...((held.get(f.familyId) ?? {}) as FamilyLead), ...f.lead }, sealedPlace.family('lead', f.familyId)),
      lead_nhs: this.cipher.pseudonymOrNull(f.lead?.nhsNumber),
      address: this.cipher.sealJson(f.address ?? null, sealedPlace.family('address', f.familyId)),
      gp: this.cipher.sealJson(f.gp ?? null, sealedPlace.family('gp', f.familyId)),
      preferred_language: f.preferredLanguage ?? null,
      centre: f.centre ?? null,
      keyed: f.blockKeys !== undefined,
    }));
    const keys = refreshes.flatMap((f) =>
      storedKeys(f.blockKeys ?? [], f.lead?.nhsNumber !== undefined, this.cipher).map((key) => ({ key, family_id: f.familyId })),
    );
    // A lead NHS number is set only where the family had none and no other family holds it (the column is unique).
    await this.tx.query(
      `WITH v AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, at timestamptz, lead jsonb, lead_nhs text, address jsonb, gp jsonb,
           preferred_language text, centre text, keyed boolean)
       ), refreshed AS (
         UPDATE families f SET updated_at = v.at, lead = COALESCE(v.lead, f.lead), address = COALESCE(v.address, f.address),
           gp = COALESCE(v.gp, f.gp), preferred_language = COALESCE(v.preferred_language, f.preferred_language),
           centre = COALESCE(v.centre, f.centre),
           lead_nhs_number = COALESCE(f.lead_nhs_number, CASE WHEN NOT EXISTS (
             SELECT 1 FROM families o WHERE o.lead_nhs_number = v.lead_nhs) THEN v.lead_nhs END)
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
    // The column holds a pseudonym (migration 038): the number the lead record takes is the merged family's lead's.
    const fromLead =
      passNhs === null
        ? undefined
        : ((this.cipher.openJson(
            (await this.tx.query<{ lead: unknown }>('SELECT lead FROM families WHERE id = $1', [fromId])).rows[0]?.lead ?? null,
            sealedPlace.family('lead', fromId),
          ) ?? {}) as FamilyLead);
    await this.tx.query(`UPDATE families SET merged_into = $2, updated_at = $3, lead_nhs_number = NULL WHERE id = $1`, [
      fromId,
      intoId,
      at,
    ]);
    if (passNhs !== null) {
      // Led by an NHS number now: no longer a candidate for mothers with another one.
      await this.tx.query(`DELETE FROM family_block_keys WHERE family_id = $1 AND key LIKE '${OPEN_PREFIX}%'`, [intoId]);
      const r = await this.tx.query<{ lead: unknown }>('SELECT lead FROM families WHERE id = $1', [intoId]);
      const place = sealedPlace.family('lead', intoId);
      const lead = {
        ...((this.cipher.openJson(r.rows[0]?.lead ?? null, place) ?? {}) as FamilyLead),
        nhsNumber: fromLead?.nhsNumber ?? this.cipher.reveal(passNhs, []),
      };
      await this.tx.query(`UPDATE families SET lead_nhs_number = $2, lead = $4::jsonb, updated_at = $3 WHERE id = $1`, [
        intoId,
        this.cipher.pseudonym(passNhs),
        at,
        JSON.stringify(this.cipher.sealJson(lead, place)),
      ]);
    }
    // The children move: each record is decrypted under its old place and written (merged) under the new one.
    const moved = await this.tx.query<{ child_key: string; notification_id: string | null; record: unknown; added_at: Date | string }>(
      'DELETE FROM family_children WHERE family_id = $1 RETURNING child_key, notification_id, record, added_at',
      [fromId],
    );
    await writeChildren(
      this.tx,
      this.cipher,
      moved.rows.map((c) => ({
        familyId: intoId,
        childKey: c.child_key,
        ...(c.notification_id !== null ? { notificationId: c.notification_id } : {}),
        record: (this.cipher.openJson(c.record, sealedPlace.child(fromId, c.child_key)) ?? {}) as Record<string, unknown>,
        at: new Date(c.added_at),
      })),
    );
    await this.tx.query(`UPDATE family_links SET family_id = $2, method = $3, linked_at = $4 WHERE family_id = $1`, [
      fromId,
      intoId,
      linkMethod,
      at,
    ]);
    // A booking's family merged into another: its expecting item follows, and closes if a child of the merged family
    // joined after it was booked (a birth held in review, now confirmed).
    await this.tx.query('UPDATE antenatal_notifications SET family_id = $2 WHERE family_id = $1', [fromId, intoId]);
    const born = await this.tx.query<BornRow>(
      `UPDATE antenatal_notifications a SET born_at = $2, updated_at = $2
        WHERE a.family_id = $1 AND a.status = 'delivered' AND a.born_at IS NULL AND a.purged_at IS NULL
          AND EXISTS (SELECT 1 FROM family_children c WHERE c.family_id = $1 AND c.added_at >= a.created_at)
        RETURNING a.id, a.family_id, a.mother_nhs_number, a.inbox_id, a.born_at,
          (SELECT c.notification_id FROM family_children c WHERE c.family_id = $1 AND c.added_at >= a.created_at
            AND c.notification_id IS NOT NULL ORDER BY c.added_at, c.child_key LIMIT 1) AS birth_id`,
      [intoId, at],
    );
    await insertAuditEvents(this.tx, bornEvents(born.rows, 'families-merged'), this.cipher);
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
    await writeChildren(this.tx, this.cipher, plan.children);
    const born = await this.tx.query<BornRow>(
      SAVE_FAMILY_PLAN_SQL,
      [JSON.stringify(linkRows(plan.links)), JSON.stringify(sourceRows(plan.sources)), JSON.stringify(reviewRows(plan.reviews))],
      { prepare: 'save-family-plan' },
    );
    await insertAuditEvents(this.tx, [...plan.audit, ...bornEvents(born.rows, 'birth-linked')], this.cipher);
  }

  async appendAudit(events: readonly AuditEventInput[]): Promise<void> {
    await insertAuditEvents(this.tx, events, this.cipher);
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
function compared(cipher: DataCipher, familyId: string, lead: unknown, address: unknown): ComparedPerson {
  const l = (cipher.openJson(lead, sealedPlace.family('lead', familyId)) ?? {}) as FamilyLead;
  const a = cipher.openJson(address, sealedPlace.family('address', familyId)) as Address | null;
  return {
    ...(l.name?.family !== undefined ? { familyName: l.name.family } : {}),
    ...(l.name?.given !== undefined ? { givenNames: l.name.given } : {}),
    ...(l.birthDate !== undefined ? { birthDate: l.birthDate } : {}),
    ...(a?.postcode !== undefined ? { postcode: a.postcode } : {}),
    ...(l.phone !== undefined ? { phone: l.phone } : {}),
  };
}

function toReview(r: ReviewRow, cipher: DataCipher): MatchReview {
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
    probe: compared(cipher, r.provisional_family_id, r.probe_lead, r.probe_address),
    candidate: compared(cipher, r.candidate_family_id, r.candidate_lead, r.candidate_address),
  };
}

/** Family records in SQL (PostgreSQL and PGlite). */
export class SqlFamilyStore implements FamilyStore {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  async transaction<T>(work: (tx: FamilyTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new SqlFamilyTransaction(tx, this.cipher)));
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
    return r.rows.map((row) => toReview(row, this.cipher));
  }

  async getReview(id: string): Promise<MatchReview | undefined> {
    const r = await this.db.query<ReviewRow>(`${REVIEW_SELECT} WHERE r.id = $1`, [id]);
    const row = r.rows[0];
    return row ? toReview(row, this.cipher) : undefined;
  }

  async decideReview(id: string, decision: ReviewDecision, by: AuditActor, at: Date, reason?: string): Promise<ReviewDecisionResult> {
    return this.db.transaction(async (sql) => {
      const tx = new SqlFamilyTransaction(sql, this.cipher);
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
      return { kind: 'decided', review: toReview(decided, this.cipher) };
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
