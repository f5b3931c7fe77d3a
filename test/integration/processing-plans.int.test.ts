import { randomUUID } from 'node:crypto';
import { LOAD_QUEUED_SQL, SAVE_PROCESSED_SQL } from '../../adapters/store/sql-notification-store.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { defined } from '../support/defined.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Every node of an EXPLAIN (FORMAT JSON) plan tree. */
function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

const BACKLOG = 20_000;

/**
 * A back-fill or a burst leaves thousands of messages queued while the table's statistics, gathered before,
 * say hardly any are. A processing batch must then still reach its own messages by id: reaching them through
 * the index on status would read the whole backlog for every batch, so each batch would cost more the longer
 * the backlog (measured before this was fixed: 20,000 index entries read to process 100 messages).
 */
describe('Processing reaches its messages by id, however long the backlog and however stale the statistics', () => {
  let t: TestDatabase;
  let ids: string[];

  beforeAll(async () => {
    t = await createTestDatabase();
    // No autovacuum may refresh the statistics during the test (it is off on some machines, on in production).
    await t.db.query('ALTER TABLE messages SET (autovacuum_enabled = false)');
    await t.db.query(
      `INSERT INTO messages (id, received_at, channel, sender_key, control_id, size_bytes, sha256, status, updated_at)
       SELECT gen_random_uuid(), now(), 'mllp', 'RX1|MATERNITY', 'PLAN-' || g, 700, 'x', 'processed', now() FROM generate_series(1, $1::int) AS g`,
      [BACKLOG],
    );
    await t.db.query('INSERT INTO message_bodies (message_id, raw) SELECT id, $1::bytea FROM messages', [Buffer.from('MSH|^~\\&|')]);
    // Statistics taken while nothing was queued; then the backlog arrives.
    await t.db.query('ANALYZE messages');
    await t.db.query(`UPDATE messages SET status = 'queued'`);
    ids = (await t.db.query<{ id: string }>('SELECT id FROM messages ORDER BY control_id LIMIT 20')).rows.map((r) => r.id);
  });
  afterAll(async () => {
    await t.drop();
  });

  async function plan(sql: string, params: readonly unknown[]): Promise<PlanNode[]> {
    const r = await t.db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    const raw = r.rows[0]?.['QUERY PLAN'];
    const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as [{ Plan: PlanNode }];
    return nodes(parsed[0].Plan);
  }

  const indexesOn = (all: PlanNode[]): string[] => all.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : []));

  it('loading a batch uses the primary key, not the status index', async () => {
    const all = await plan(LOAD_QUEUED_SQL, [ids]);
    expect(indexesOn(all)).toContain('messages_pkey');
    expect(indexesOn(all)).not.toContain('messages_status_received');
    expect(all.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'messages')).toBe(false);
  });

  it('marking the batch processed uses the primary key, not the status index', async () => {
    const notifications = ids.map((messageId, i) => ({
      id: randomUUID(),
      message_id: messageId,
      subject_key: `plan-${i}`,
      created_at: new Date().toISOString(),
      baby_nhs_number: null,
      mother_nhs_number: null,
      decision: {},
      route: {},
      inbox_id: 'osmondthorpe',
      dataset: 'offer-of-support',
      disclosed: {},
    }));
    const all = await plan(SAVE_PROCESSED_SQL, [JSON.stringify(notifications), new Date()]);
    const updates = all.filter((n) => n['Node Type'] === 'ModifyTable' && n['Relation Name'] === 'messages');
    expect(updates).toHaveLength(1);
    const underUpdate = nodes(defined(updates[0], 'the UPDATE plan node'));
    expect(indexesOn(underUpdate)).toContain('messages_pkey');
    expect(indexesOn(underUpdate)).not.toContain('messages_status_received');
  });
});
