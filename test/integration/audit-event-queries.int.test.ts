import { SqlAuditLog } from '../../adapters/store/sql-audit-log.js';
import type { AuditEventSearch } from '../../src/ports/audit-log.js';
import type { Database, QueryResult } from '../../src/ports/database.js';
import { defined } from '../support/defined.js';
import { createTestDatabase, storeKind, type TestDatabase } from '../support/test-database.js';

/**
 * The IG lead's audit query by event (issue 14 item 3) over a large trail: 20,000 births from 4 feeds, 10 events
 * each (200,000 events; 20,000 on PGlite), 20 centres, 5 rules. Every filter is answered from an index (no sequential scan of
 * audit_events in the plan), pages follow one another without gaps or repeats, and a page takes milliseconds.
 */
// 200,000 events on PostgreSQL, the store a large trail lives in; a tenth on the embedded PGlite, whose one
// in-process connection makes the bulk load the slowest test of the run (the plans are checked on both).
const BIRTHS = storeKind() === 'postgres' ? 20_000 : 2_000;
/** One birth looked up by its subject. */
const ONE = Math.round(BIRTHS * 0.61725);
const PER_BIRTH = 10;
const ACTIONS = ['received', 'mapped', 'validated', 'decided', 'routed', 'delivered', 'read', 'read', 'acknowledged', 'raw-read'];
const T0 = Date.parse('2026-01-01T00:00:00Z');

let database: TestDatabase;
let log: SqlAuditLog;

/** Baby i's NHS number (the store does not check digits) and its mother's. */
const baby = (i: number): string => String(9_000_000_000 + i);
const mother = (i: number): string => String(8_000_000_000 + i);

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  log = new SqlAuditLog(db);
  await db.query(
    `INSERT INTO messages (id, received_at, channel, feed_id, size_bytes, sha256, status, updated_at)
     SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, $1::timestamptz + i * interval '10 s', 'mllp',
            'feed-' || (i % 4), 100, 'x', 'processed', $1::timestamptz
       FROM generate_series(1, $2::int) AS i`,
    [new Date(T0), BIRTHS],
  );
  await db.query(
    `INSERT INTO notifications (id, message_id, subject_key, created_at, baby_nhs_number, mother_nhs_number, decision, route, status)
     SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid, ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
            'nhs:' || (9000000000 + i), $1::timestamptz, (9000000000 + i)::text, (8000000000 + i)::text, '{}', '{}', 'delivered'
       FROM generate_series(1, $2::int) AS i`,
    [new Date(T0), BIRTHS],
  );
  // Event k of birth i: the first three name the message only, the rest the notification too; deliveries and
  // reads name a centre, decisions and deliveries a rule.
  await db.query(
    `INSERT INTO audit_events (at, actor, action, message_id, notification_id, subject_nhs_number, recipient, rule_id, details)
     SELECT $1::timestamptz + i * interval '10 s' + k * interval '1 ms', 'system:worker', ($3::text[])[k + 1],
            ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
            CASE WHEN k >= 3 THEN ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid END,
            CASE WHEN k >= 3 THEN (9000000000 + i)::text END,
            CASE WHEN k >= 4 AND k <= 8 THEN 'centre-' || (i % 20) END,
            CASE WHEN k IN (3, 5) THEN 'rule-' || (i % 5) END,
            '{}'
       FROM generate_series(1, $2::int) AS i, generate_series(0, ${PER_BIRTH - 1}) AS k
      ORDER BY i, k`,
    [new Date(T0), BIRTHS, ACTIONS],
  );
  await db.query('ANALYZE audit_events');
  await db.query('ANALYZE messages');
  await db.query('ANALYZE notifications');
}, 600_000);
afterAll(async () => {
  await database.drop();
});

/** The query searchEvents runs, as EXPLAIN sees it: which scans touch audit_events. */
async function auditScans(q: AuditEventSearch): Promise<string[]> {
  const scans: string[] = [];
  const original = database.db.query.bind(database.db);
  let sql = '';
  let params: readonly unknown[] = [];
  // The statement searchEvents runs, captured rather than run, then EXPLAINed on the real database.
  const capture: Database = {
    kind: database.db.kind,
    transaction: (fn) => database.db.transaction(fn),
    close: () => Promise.resolve(),
    query: <R extends object>(text: string, values?: readonly unknown[]): Promise<QueryResult<R>> => {
      sql = text;
      params = values ?? [];
      return Promise.resolve({ rows: [], rowCount: 0 });
    },
  };
  await new SqlAuditLog(capture).searchEvents(q);
  const plan = await original<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, [...params]);
  const raw = plan.rows[0]?.['QUERY PLAN'];
  const tree = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
  const walk = (n: PlanNode): void => {
    if (n['Relation Name'] === 'audit_events') scans.push(n['Node Type']);
    for (const c of n.Plans ?? []) walk(c);
  };
  const root = tree[0];
  if (root === undefined) throw new Error('EXPLAIN gave no plan');
  walk(root.Plan);
  return scans;
}
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
}

const FILTERS: [string, AuditEventSearch][] = [
  ['subject (baby)', { subject: baby(ONE), limit: 50 }],
  ['subject (mother)', { subject: mother(777), limit: 50 }],
  ['centre', { centre: 'centre-7', limit: 50 }],
  ['rule', { rule: 'rule-3', limit: 50 }],
  ['event type', { action: 'acknowledged', limit: 50 }],
  ['feed', { feed: 'feed-2', limit: 50 }],
  ['time range', { from: new Date(T0 + BIRTHS * 5_000), before: new Date(T0 + BIRTHS * 5_000 + 600_000), limit: 50 }],
  ['centre and time range', { centre: 'centre-3', from: new Date(T0 + BIRTHS * 7_500), limit: 50 }],
  ['none (the whole trail)', { limit: 50 }],
];

describe(`The IG lead's audit query by event, over ${BIRTHS * PER_BIRTH} events`, () => {
  test('the table holds the events (and the audit chain’s genesis event, migration 020)', async () => {
    const n = await database.db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM audit_events WHERE action <> 'audit-chain-started'`,
    );
    expect(Number(n.rows[0]?.n)).toBe(BIRTHS * PER_BIRTH);
  });

  test.each(FILTERS)('by %s: an index scan, never a sequential scan of audit_events', async (_name, q) => {
    const scans = await auditScans(q);
    expect(scans.length).toBeGreaterThan(0);
    expect(scans).not.toContain('Seq Scan');
  });

  test('each filter finds the right events, fast (times in the test output)', async () => {
    const times: Record<string, string> = {};
    for (const [name, q] of FILTERS) {
      await log.searchEvents(q); // warm
      const [events, ms] = await timed(() => log.searchEvents(q));
      times[name] = `${ms.toFixed(1)} ms (${events.length} events)`;
      expect(events.length).toBeGreaterThan(0);
      if (q.centre) expect(events.every((e) => e.recipient === q.centre)).toBe(true);
      if (q.rule) expect(events.every((e) => e.ruleId === q.rule)).toBe(true);
      if (q.action) expect(events.every((e) => e.action === q.action)).toBe(true);
      const { from, before } = q;
      if (from) expect(events.every((e) => e.at.getTime() >= from.getTime())).toBe(true);
      if (before) expect(events.every((e) => e.at.getTime() < before.getTime())).toBe(true);
    }
    // The subject: all ten events of that birth (three name only the message), nothing of another.
    const mine = await log.searchEvents({ subject: baby(ONE), limit: 50 });
    expect(mine).toHaveLength(PER_BIRTH);
    expect(new Set(mine.map((e) => e.messageId))).toEqual(new Set(['00000000-0000-4000-8000-' + ONE.toString(16).padStart(12, '0')]));
    expect((await log.searchEvents({ subject: mother(ONE), limit: 50 })).map((e) => e.seq)).toEqual(mine.map((e) => e.seq));
    // The feed: only events of that feed's messages (birth i is from feed i % 4).
    const fed = await log.searchEvents({ feed: 'feed-2', limit: 500 });
    expect(fed).toHaveLength(500);
    expect(fed.every((e) => Number.parseInt(defined(e.messageId, 'messageId').slice(-12), 16) % 4 === 2)).toBe(true);
    console.log(`audit query times over ${BIRTHS * PER_BIRTH} events (${database.kind}):`, times);
  });

  test('pages follow one another by cursor: no event twice, none missed, in (at, seq) order', async () => {
    const q: AuditEventSearch = { centre: 'centre-11', limit: 97 };
    const seen: number[] = [];
    let afterSeq: number | undefined;
    for (;;) {
      const page = await log.searchEvents({ ...q, ...(afterSeq !== undefined ? { afterSeq } : {}) });
      seen.push(...page.map((e) => e.seq));
      if (page.length < q.limit) break;
      afterSeq = defined(page[page.length - 1], 'the last event').seq;
    }
    const all = await database.db.query<{ seq: string | number }>(
      "SELECT seq FROM audit_events WHERE recipient = 'centre-11' ORDER BY at, seq",
    );
    expect(seen).toEqual(all.rows.map((r) => Number(r.seq)));
    expect(seen.length).toBe((BIRTHS / 20) * 5);
  });
});
