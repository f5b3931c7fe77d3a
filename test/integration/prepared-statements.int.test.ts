import { createTestDatabase, storeKind, type TestDatabase } from '../support/test-database.js';

/**
 * Hot statements (intake's receipt, the workers' stages) are run as named prepared statements: PostgreSQL
 * parses and plans them once per connection. The results must be what an unnamed statement gives, on both
 * stores, in and out of transactions, past the point (the sixth run) where PostgreSQL may switch to a
 * generic plan.
 */
describe('Named prepared statements (QueryOptions.prepare)', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    await t.db.query('CREATE TABLE prepared_probe (id integer PRIMARY KEY, label text NOT NULL)');
    await t.db.query(`INSERT INTO prepared_probe SELECT g, 'row ' || g FROM generate_series(1, 50) AS g`);
  });
  afterAll(async () => {
    await t.drop();
  });

  const select = 'SELECT id, label FROM prepared_probe WHERE id = ANY($1::int[]) ORDER BY id';

  it('gives the same rows as the unnamed statement, call after call, with different parameters', async () => {
    for (let i = 1; i <= 12; i++) {
      const ids = [i, i + 10, 99];
      const named = await t.db.query<{ id: number; label: string }>(select, [ids], { prepare: 'probe-select' });
      const plain = await t.db.query<{ id: number; label: string }>(select, [ids]);
      expect(named.rows).toEqual(plain.rows);
      expect(named.rows.map((r) => r.id)).toEqual([i, i + 10]);
    }
  });

  it('works inside a transaction, and a rolled-back write through it leaves nothing', async () => {
    const insert = 'INSERT INTO prepared_probe (id, label) VALUES ($1, $2)';
    await t.db.transaction(async (tx) => {
      await tx.query(insert, [101, 'kept'], { prepare: 'probe-insert' });
      await tx.query(insert, [102, 'kept too'], { prepare: 'probe-insert' });
    });
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query(insert, [103, 'rolled back'], { prepare: 'probe-insert' });
        await tx.query(insert, [101, 'duplicate key'], { prepare: 'probe-insert' });
      }),
    ).rejects.toMatchObject({ code: '23505' });
    const r = await t.db.query<{ id: number }>('SELECT id FROM prepared_probe WHERE id > 100 ORDER BY id');
    expect(r.rows.map((x) => x.id)).toEqual([101, 102]);
  });

  // PGlite ignores statement names; what follows is PostgreSQL's side of the contract.
  if (storeKind() !== 'postgres') return;

  it('on PostgreSQL, is really kept prepared on the connection that ran it', async () => {
    const names = await t.db.transaction(async (tx) => {
      await tx.query(select, [[1]], { prepare: 'probe-on-this-connection' });
      const r = await tx.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements');
      return r.rows;
    });
    expect(names).toContainEqual({ name: 'probe-on-this-connection', statement: select });
  });

  it('on PostgreSQL, refuses one name for two different texts rather than running the wrong one', async () => {
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query('SELECT 1 AS one', [], { prepare: 'probe-one-text' });
        await tx.query('SELECT 2 AS two', [], { prepare: 'probe-one-text' });
      }),
    ).rejects.toThrow(/Prepared statements must be unique/);
  });
});
