import { cpSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AuditCheckpointer, checkpointsFromLog, verifyAuditChain, type AuditVerifyResult } from '../../adapters/store/audit-chain.js';
import { migrate, migrationsDir } from '../../adapters/store/migrate.js';
import { openPostgres } from '../../adapters/store/postgres-database.js';
import { insertAuditEvents } from '../../adapters/store/sql-helpers.js';
import { SqlAuditLog } from '../../adapters/store/sql-audit-log.js';
import { keyIdOf, signCheckpoint } from '../../src/domain/audit-checkpoint.js';
import { createLogger } from '../../src/logger.js';
import type { AuditEventInput } from '../../src/ports/audit.js';
import type { Database, SqlClient } from '../../src/ports/database.js';
import { main as auditVerifyCli } from '../../adapters/cli/audit-verify.js';
import { LogSink } from '../support/log-sink.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { defined } from '../support/defined.js';
import { pollUntil } from '../support/poll.js';
import { api, startTestHub } from '../support/test-hub.js';

function event(n: number, extra: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    at: new Date(Date.UTC(2026, 10, 29, 12, 0, 0, n)),
    actor: 'system:test',
    action: 'delivered',
    recipient: `centre-${n % 3}`,
    ruleId: 'rule-1',
    rulebookVersion: '1.2.0',
    lawfulBasis: 'public-task',
    outcome: 'ok',
    details: { n, price: 1.0, nested: { b: [1, 'ü', null], a: '"quoted"\n' } },
    ...extra,
  };
}

class Rollback extends Error {}

/** The tamper test: as the owner with triggers off (session_replication_role = replica), in a transaction rolled back afterwards. */
async function tampered(
  db: Database,
  sql: readonly string[],
  verify: (tx: SqlClient) => Promise<AuditVerifyResult>,
): Promise<AuditVerifyResult> {
  let result: AuditVerifyResult | undefined;
  await db
    .transaction(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica');
      for (const s of sql) await tx.query(s);
      result = await verify(tx);
      throw new Rollback();
    })
    .catch((err: unknown) => {
      if (!(err instanceof Rollback)) throw err;
    });
  return defined(result, 'the verification result');
}

describe('Tamper-evident audit: the hash chain and signed checkpoints (issue 14)', () => {
  let t: TestDatabase;
  let key: KeyObject;
  let oldKey: KeyObject;
  let keys: Map<string, KeyObject>;
  const sink = new LogSink();
  let lastCheckpointSeq = 0;
  let lastSeq = 0;

  beforeAll(async () => {
    t = await createTestDatabase(undefined, { migrated: false });
    // The store as it was before migration 020, with events written then: the genesis event seals them.
    const before = mkdtempSync(path.join(os.tmpdir(), 'stork-migrations-'));
    for (const f of readdirSync(migrationsDir)) if (f < '020') cpSync(path.join(migrationsDir, f), path.join(before, f));
    await migrate(t.db, before);
    await new SqlAuditLog(t.db).append([event(1), event(2), event(3)]);
    await migrate(t.db);
    key = generateKeyPairSync('ed25519').privateKey;
    oldKey = generateKeyPairSync('ed25519').privateKey;
    keys = new Map([
      [keyIdOf(key), createPublicKey(key)],
      [keyIdOf(oldKey), createPublicKey(oldKey)],
    ]);
    const logger = createLogger('info', sink);
    // A checkpoint signed by an earlier key (rotation), then the current key's checkpoints every 10 events.
    await new AuditCheckpointer(t.db, oldKey, logger, { everyEvents: 10, everyMs: 3_600_000 }).tick(
      new Date(Date.UTC(2026, 10, 29, 11)),
      true,
    );
    const checkpointer = new AuditCheckpointer(t.db, key, logger, { everyEvents: 10, everyMs: 3_600_000 });
    const audit = new SqlAuditLog(t.db);
    for (let i = 0; i < 12; i++) {
      if (i % 2 === 0) await audit.append([event(10 + 3 * i), event(11 + 3 * i), event(12 + 3 * i)]);
      else
        await t.db.transaction(async (tx) => {
          await insertAuditEvents(tx, [event(10 + 3 * i)]);
          await tx.query('SELECT 1');
          await insertAuditEvents(tx, [event(11 + 3 * i, { details: { i } }), event(12 + 3 * i, { subjectNhsNumber: '9434765919' })]);
        });
      const c = await checkpointer.tick(new Date(Date.UTC(2026, 10, 29, 12, i)));
      if (c) lastCheckpointSeq = c.seq;
    }
    // Events after the last checkpoint, not yet covered by a signature.
    await audit.append([event(90), event(91)]);
    const r = await t.db.query<{ seq: string }>('SELECT max(seq) AS seq FROM audit_events');
    lastSeq = Number(r.rows[0]?.seq);
  });
  afterAll(async () => {
    await t.drop();
  });

  const verify = (
    db: SqlClient,
    extra: { witness?: boolean; maxAgeMs?: number; publicKeys?: Map<string, KeyObject> } = {},
  ): Promise<AuditVerifyResult> =>
    verifyAuditChain(db, {
      publicKeys: extra.publicKeys ?? keys,
      pageSize: 7,
      ...(extra.witness === true ? { witness: checkpointsFromLog(sink.text) } : {}),
      ...(extra.maxAgeMs !== undefined ? { maxCheckpointAgeMs: extra.maxAgeMs, now: new Date(Date.UTC(2026, 10, 29, 12, 30)) } : {}),
    });

  it('chains every event in seq order, without gaps, from a genesis event that seals the earlier ones; verification passes', async () => {
    const rows = await t.db.query<{ seq: string; action: string; prev_hash: string | null; hash: string | null; ok: boolean }>(
      'SELECT seq, action, prev_hash, hash, hash = audit_event_hash(e) AS ok FROM audit_events e ORDER BY seq',
    );
    expect(rows.rows.slice(0, 3).map((r) => r.hash)).toEqual([null, null, null]);
    const chained = rows.rows.slice(3);
    expect(chained[0]?.action).toBe('audit-chain-started');
    expect(chained[0]?.prev_hash).toBe('0'.repeat(64));
    chained.forEach((r, i) => {
      expect(Number(r.seq)).toBe(4 + i);
      expect(r.ok).toBe(true);
      if (i > 0) expect(r.prev_hash).toBe(chained[i - 1]?.hash);
    });
    const result = await verify(t.db, { witness: true });
    expect(result).toMatchObject({ ok: true, legacyEvents: 3, eventsChecked: lastSeq - 3, lastSeq, problems: [] });
    expect(result.eventsAfterLastCheckpoint).toBe(lastSeq - lastCheckpointSeq);
    expect(result.eventsAfterLastCheckpoint).toBeGreaterThanOrEqual(2);
    expect(result.checkpointsChecked).toBeGreaterThanOrEqual(8);
    expect(result.lastCheckpoint?.seq).toBe(lastCheckpointSeq);
  });

  it('writes each checkpoint to the log (seq, hash, signature; no personal data) as an external witness', () => {
    const logged = checkpointsFromLog(sink.text);
    expect(logged.length).toBeGreaterThanOrEqual(4);
    expect(logged.at(-1)).toMatchObject({ seq: lastCheckpointSeq, keyId: keyIdOf(key) });
    expect(sink.text).not.toContain('9434765919');
  });

  it('the canonical form keeps microseconds, jsonb as stored (1.0, key order) and JSON escaping', async () => {
    await t.db.query(
      `INSERT INTO audit_events (at, actor, action, details) VALUES ('2026-11-29T12:00:00.123456Z', 'a"b', 'read', '{"zz": 1.0, "a": [1.50, "\\u0001"]}')`,
    );
    const r = await t.db.query<{ c: string }>('SELECT audit_event_canonical(e) AS c FROM audit_events e ORDER BY seq DESC LIMIT 1');
    expect(r.rows[0]?.c).toMatch(
      /^\["stork-audit-v1",\d+,"2026-11-29T12:00:00\.123456Z","a\\"b","read",null,null,null,null,null,null,null,null,\{"a": \[1\.50, "\\u0001"\], "zz": 1\.0\},"[0-9a-f]{64}"\]$/,
    );
    expect((await verify(t.db)).ok).toBe(true);
    lastSeq++;
  });

  const middle = (): number => lastCheckpointSeq - 4;

  it.each([
    [
      'a field altered',
      (s: number) => [`UPDATE audit_events SET recipient = 'elsewhere' WHERE seq = ${s}`],
      /content does not match its hash/,
    ],
    [
      'details altered',
      (s: number) => [`UPDATE audit_events SET details = details || '{"n": 0}' WHERE seq = ${s}`],
      /content does not match its hash/,
    ],
    [
      'the time altered by a microsecond',
      (s: number) => [`UPDATE audit_events SET at = at + interval '1 microsecond' WHERE seq = ${s}`],
      /altered/,
    ],
    ['a row deleted in the middle', (s: number) => [`DELETE FROM audit_events WHERE seq = ${s}`], /missing \(deleted\)/],
    [
      'two rows swapped (content, links and hashes)',
      (s: number) => [
        `CREATE TEMP TABLE swap ON COMMIT DROP AS SELECT * FROM audit_events WHERE seq IN (${s}, ${s + 1})`,
        `UPDATE audit_events a SET (at, actor, action, recipient, details, prev_hash, hash) =
           (SELECT w.at, w.actor, w.action, w.recipient, w.details, w.prev_hash, w.hash FROM swap w WHERE w.seq = CASE WHEN a.seq = ${s} THEN ${s + 1} ELSE ${s} END)
         WHERE a.seq IN (${s}, ${s + 1})`,
      ],
      /prev_hash does not match|altered/,
    ],
  ])('detects %s, naming the first bad event', async (_name, sql, problem) => {
    const s = middle();
    const result = await tampered(t.db, sql(s), (tx) => verify(tx));
    expect(result.ok).toBe(false);
    expect(result.firstProblem?.seq).toBe(s);
    expect(result.firstProblem?.problem).toMatch(problem);
  });

  it('detects a row altered and the chain rehashed after it, at the next signed checkpoint', async () => {
    const s = middle();
    // An attacker with the owner's rights recomputes every hash from the altered row on, with the chain's own function.
    const result = await tampered(
      t.db,
      [
        `UPDATE audit_events SET recipient = 'elsewhere' WHERE seq = ${s}`,
        `DO $$ DECLARE r record; prev text; BEGIN
           SELECT hash INTO prev FROM audit_events WHERE seq = ${s - 1};
           FOR r IN SELECT seq FROM audit_events WHERE seq >= ${s} ORDER BY seq LOOP
             UPDATE audit_events SET prev_hash = prev WHERE seq = r.seq;
             UPDATE audit_events e SET hash = audit_event_hash(e) WHERE seq = r.seq RETURNING hash INTO prev;
           END LOOP; END $$`,
      ],
      (tx) => verify(tx),
    );
    expect(result.ok).toBe(false);
    expect(result.firstProblem?.seq).toBe(lastCheckpointSeq);
    expect(result.firstProblem?.problem).toMatch(/differs from the one signed in the checkpoint/);
  });

  it('detects a truncated tail covered by a checkpoint', async () => {
    const cut = lastCheckpointSeq - 2;
    const result = await tampered(t.db, [`DELETE FROM audit_events WHERE seq > ${cut}`], (tx) => verify(tx));
    expect(result.ok).toBe(false);
    expect(result.firstProblem?.seq).toBe(cut + 1);
    expect(result.firstProblem?.problem).toMatch(/truncated tail/);
  });

  it('detects the tail deleted with its checkpoints: from the log witness, or from the latest checkpoint being too old', async () => {
    const cut = lastCheckpointSeq - 12;
    const sql = [`DELETE FROM audit_events WHERE seq > ${cut}`, `DELETE FROM audit_checkpoints WHERE seq > ${cut}`];
    // From the database alone it cannot be told from a chain that ended there (README: what verification detects) …
    expect((await tampered(t.db, sql, (tx) => verify(tx))).ok).toBe(true);
    // … but the checkpoints the hub logged vouch for events that are gone,
    const withWitness = await tampered(t.db, sql, (tx) => verify(tx, { witness: true }));
    expect(withWitness.ok).toBe(false);
    expect(withWitness.firstProblem?.seq).toBe(cut + 1);
    expect(withWitness.problems.map((p) => p.problem).join('\n')).toMatch(/missing from audit_checkpoints \(deleted\)/);
    // and the latest checkpoint left is older than the interval the hub writes them at.
    const stale = await tampered(t.db, sql, (tx) => verify(tx, { maxAgeMs: 5 * 60_000 }));
    expect(stale.ok).toBe(false);
    expect(stale.firstProblem?.problem).toMatch(/is older than 300 s/);
    // Untouched, the latest checkpoint is recent enough.
    expect((await verify(t.db, { maxAgeMs: 30 * 60_000 })).ok).toBe(true);
  });

  it('detects a checkpoint forged with a wrong key, and one signed by a key it does not know', async () => {
    const head = defined(
      (await t.db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1')).rows[0],
      'head',
    );
    const chain = defined(
      (await t.db.query<{ id: string }>("SELECT details->>'chainId' AS id FROM audit_events WHERE action = 'audit-chain-started'")).rows[0],
      'genesis',
    );
    const forger = generateKeyPairSync('ed25519').privateKey;
    const forged = signCheckpoint({ chainId: chain.id, seq: Number(head.seq), hash: head.hash, at: '2026-11-29T13:00:00.000Z' }, forger);
    const claimed = { ...forged, keyId: keyIdOf(key) };
    const insert = (c: typeof forged): string =>
      `INSERT INTO audit_checkpoints (seq, at, chain_id, hash, key_id, signature) VALUES (${c.seq}, '${c.at}', '${c.chainId}', '${c.hash}', '${c.keyId}', '${c.signature}')`;
    const wrong = await tampered(t.db, [insert(claimed)], (tx) => verify(tx));
    expect(wrong.ok).toBe(false);
    expect(wrong.firstProblem).toEqual({
      seq: Number(head.seq),
      problem: expect.stringMatching(/signature does not verify with key/) as unknown,
    });
    const unknown = await tampered(t.db, [insert(forged)], (tx) => verify(tx));
    expect(unknown.firstProblem?.problem).toMatch(/not among the public keys given/);
    // Key rotation: without the earlier key's public key, its checkpoint cannot be checked either.
    const rotated = await verify(t.db, { publicKeys: new Map([[keyIdOf(key), createPublicKey(key)]]) });
    expect(rotated.firstProblem?.problem).toMatch(new RegExp(`signed by key ${keyIdOf(oldKey)}`));
  });

  it('detects events from before the chain altered, a canonical form replaced, and a column the canonical form leaves out', async () => {
    const legacy = await tampered(t.db, [`UPDATE audit_events SET outcome = 'altered' WHERE seq = 2`], (tx) => verify(tx));
    expect(legacy.firstProblem?.problem).toMatch(/do not match the seal of the genesis event/);
    const replaced = await tampered(
      t.db,
      [`CREATE OR REPLACE FUNCTION audit_event_canonical(e audit_events) RETURNS text LANGUAGE sql STABLE AS $$ SELECT e.hash $$`],
      (tx) => verify(tx),
    );
    expect(replaced.firstProblem?.problem).toMatch(/differs from the one migration 020 defines/);
    const column = await tampered(t.db, ['ALTER TABLE audit_events ADD COLUMN purpose text'], (tx) => verify(tx));
    expect(column.firstProblem?.problem).toMatch(/column purpose of audit_events is not in the canonical form/);
  });

  it('npm run audit:verify: exit 0 when all is well, 1 naming the first bad event, 2 when the store cannot be read', async () => {
    if (t.url === undefined) return; // the CLI opens PGlite from a data folder; the in-memory test store has none
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-audit-verify-'));
    const keyFile = path.join(dir, 'key.pem');
    writeFileSync(keyFile, key.export({ type: 'pkcs8', format: 'pem' }));
    const oldPub = path.join(dir, 'old.pub.pem');
    writeFileSync(oldPub, createPublicKey(oldKey).export({ type: 'spki', format: 'pem' }));
    const logFile = path.join(dir, 'hub.log');
    writeFileSync(logFile, sink.text);
    const env = { DATABASE_URL: t.url, STORK_AUDIT_SIGNING_KEY_FILE: keyFile, STORK_AUDIT_PUBLIC_KEY_FILES: oldPub };
    const run = async (args: string[], e: Record<string, string> = env): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const code = await auditVerifyCli(args, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) }, e);
      return { code, out, err };
    };
    const ok = await run(['--witness', logFile]);
    expect(ok).toMatchObject({ code: 0, err: '' });
    expect(ok.out).toMatch(/^OK: \d+ chained events checked/);
    const s = middle();
    const owner = await openPostgres({ connectionString: t.url, maxConnections: 1 });
    try {
      await owner.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query(`DELETE FROM audit_events WHERE seq = ${s}`);
      });
      const bad = await run([]);
      expect(bad.code).toBe(1);
      expect(bad.out).toContain(`first bad event: seq ${s}: event ${s} missing (deleted)`);
      const json = JSON.parse((await run(['--json'])).out) as AuditVerifyResult;
      expect(json.firstProblem?.seq).toBe(s);
    } finally {
      await owner.close();
    }
    expect((await run([], { ...env, STORK_AUDIT_SIGNING_KEY_FILE: path.join(dir, 'none.pem') })).code).toBe(2);
  });
});

describe('Parallel writers on PostgreSQL: one chain, no fork, no deadlock', () => {
  it('chains the events of many concurrent transactions on several connections without a gap or a fork', async () => {
    const t = await createTestDatabase();
    if (t.url === undefined) {
      await t.drop();
      return; // PGlite is one connection: its transactions never run at once
    }
    const writers = await Promise.all([1, 2, 3, 4].map(() => openPostgres({ connectionString: t.url ?? '', maxConnections: 4 })));
    try {
      await t.db.query('CREATE TABLE probe (id int PRIMARY KEY, n int NOT NULL)');
      await t.db.query('INSERT INTO probe SELECT g, 0 FROM generate_series(1, 4) g');
      // Written at once, an audit event would hold the chain's lock while its transaction waits for a probe row another
      // transaction holds while it waits for the chain (a deadlock); written at the end of the transaction
      // (sql-helpers.ts), the chain's lock is never held while waiting for a row.
      await Promise.all(
        writers.flatMap((w, wi) =>
          Array.from({ length: 40 }, (_, i) =>
            w.transaction(async (tx) => {
              // Half audit before taking the row, half after: the shape of a deadlock, had the audit been written at once.
              if ((wi + i) % 2 === 0) await insertAuditEvents(tx, [event(i, { actor: `writer-${wi}` })]);
              await tx.query('UPDATE probe SET n = n + 1 WHERE id = $1', [1 + (i % 2)]);
              if ((wi + i) % 2 === 1) await insertAuditEvents(tx, [event(i, { actor: `writer-${wi}` })]);
              await tx.query('SELECT pg_sleep(0.001)');
              await insertAuditEvents(tx, [event(i + 1, { actor: `writer-${wi}` }), event(i + 2, { actor: `writer-${wi}` })]);
            }),
          ),
        ),
      );
      await Promise.all(
        writers.map((w, wi) => new SqlAuditLog(w).append(Array.from({ length: 50 }, (_, i) => event(i, { actor: `pool-${wi}` })))),
      );
      const result = await verifyAuditChain(t.db, { publicKeys: new Map() });
      expect(result).toMatchObject({ ok: true, eventsChecked: 1 + 4 * 40 * 3 + 4 * 50 });
      const n = await t.db.query<{ n: number }>('SELECT sum(n)::int AS n FROM probe');
      expect(n.rows[0]?.n).toBe(4 * 40);
    } finally {
      await Promise.all(writers.map((w) => w.close()));
      await t.drop();
    }
  });
});

describe('The hub signs checkpoints and serves GET /v1/audit/verify (role ig)', () => {
  it('with the sample configuration’s demo key: warns, logs each checkpoint, and verification passes', async () => {
    const t = await startTestHub({ env: { STORK_AUDIT_CHECKPOINT_SECONDS: '1' } });
    try {
      expect(t.sink.text).toMatch(/signed with the sample configuration's DEMO key/);
      const logged = await pollUntil(() => checkpointsFromLog(t.sink.text)[0], 'a checkpoint in the log');
      const res = await api(t.http, 'demo-ig-key', '/v1/audit/verify');
      expect(res.status).toBe(200);
      const body = (await res.json()) as AuditVerifyResult & { elapsedMs: number };
      expect(body).toMatchObject({ ok: true, problems: [] });
      expect(body.checkpointsChecked).toBeGreaterThanOrEqual(1);
      expect(body.lastCheckpoint?.keyId).toBe(logged.keyId);
      expect(body.eventsChecked).toBeGreaterThanOrEqual(1);
      expect((await api(t.http, 'demo-belle-isle-key', '/v1/audit/verify')).status).toBe(403);
      expect((await api(t.http, undefined, '/v1/audit/verify')).status).toBe(401);
    } finally {
      await t.stop();
    }
  });
});

describe('The chain reads its last event by the primary key, whatever the statistics (migration 035)', () => {
  it('a long-lived session whose trigger was planned on a near-empty table does not read the whole table later', async () => {
    const t = await createTestDatabase();
    if (t.url === undefined) {
      await t.drop();
      return; // PGlite has no autovacuum and no pool of long-lived sessions; the migration runs there all the same
    }
    // One connection, as a hub's pool keeps them: PL/pgSQL keeps the plan of the trigger's read for the session.
    const one = await openPostgres({ connectionString: t.url, maxConnections: 1 });
    try {
      // No analyse during the test: the statistics stay those of the near-empty table the migrations left.
      await t.db.query('ALTER TABLE audit_events SET (autovacuum_enabled = false)');
      const write = (rows: number): string =>
        `INSERT INTO audit_events (at, actor, action, outcome, details) SELECT now(), 'stork', 'received', 'ok', '{}' FROM generate_series(1, ${rows})`;
      await one.query(write(1)); // planned now
      for (let i = 0; i < 20; i++) await one.query(write(1000)); // 20,000 events, twenty transactions
      const explained = await one.query<{ 'QUERY PLAN': { Plan: Record<string, number> }[] }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${write(1)}`,
      );
      const plan = defined(explained.rows[0], 'the plan')['QUERY PLAN'][0]?.Plan ?? {};
      const blocks = (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
      // A sequential scan reads every page of the 20,000 events (hundreds); the index a handful.
      const pages = Number((await t.db.query<{ n: string }>(`SELECT pg_relation_size('audit_events') / 8192 AS n`)).rows[0]?.n ?? 0);
      expect(pages).toBeGreaterThan(200);
      expect(blocks).toBeLessThan(50);
    } finally {
      await one.close();
      await t.drop();
    }
  });
});
