/**
 * `npm run bench:audit-verify`: how long `audit:verify` takes over a large audit trail on PostgreSQL (issue 14; target
 * under 30 s for 1,000,000 events on the project's 2-core machine). Not part of `npm test`.
 *
 *   npm run bench:audit-verify                     # 1,000,000 events, a signed checkpoint every 1,000
 *   npm run bench:audit-verify -- --events 200000 --page 20000
 *
 * A fresh database (STORK_BENCH_PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres), migrated; the
 * events are written through the chain trigger itself (INSERT … SELECT generate_series, in statements of 50,000), the
 * checkpoints signed here with a throw-away Ed25519 key. Then verifyAuditChain (what `npm run audit:verify` and
 * GET /v1/audit/verify run) is timed. The database is dropped afterwards.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { openPostgres } from '../../adapters/store/postgres-database.js';
import { migrate } from '../../adapters/store/migrate.js';
import { verifyAuditChain } from '../../adapters/store/audit-chain.js';
import { keyIdOf, signCheckpoint } from '../../src/domain/audit-checkpoint.js';
import { adminQuery, databaseUrl } from './bench-postgres.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    page: { type: 'string', default: '10000' },
    every: { type: 'string', default: '1000' },
    // Queries in flight, one verification per value, each twice in turn: 1,2 compares reading on one and two connections.
    parallel: { type: 'string', default: '1,2' },
  },
});
const events = Number(values.events);
const pageSize = Number(values.page);
const every = Number(values.every);
const parallels = values.parallel.split(',').map(Number);
const adminUrl = process.env.STORK_BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `stork_bench_audit_${randomBytes(4).toString('hex')}`;

const log = (s: string): void => void process.stdout.write(`${s}\n`);

await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
const db = await openPostgres({ connectionString: databaseUrl(adminUrl, name), maxConnections: 4 });
try {
  await migrate(db);
  const BATCH = 50_000;
  let t = Date.now();
  for (let from = 1; from <= events; from += BATCH) {
    const to = Math.min(events, from + BATCH - 1);
    // Events shaped like the hub's: delivered to a centre, about a (synthetic, 999-range) subject, under a rule.
    await db.query(
      `INSERT INTO audit_events (at, actor, action, message_id, notification_id, subject_nhs_number, recipient, rule_id, rulebook_version, lawful_basis, outcome, details)
       SELECT now() + g * interval '1 millisecond', 'system:worker', 'delivered', gen_random_uuid(), gen_random_uuid(),
              '999' || lpad((g % 10000000)::text, 7, '0'), 'centre-' || (g % 40), 'permit-offer-of-support', '1.2.0', 'public-task', 'ok',
              jsonb_build_object('inbox', 'centre-' || (g % 40), 'dataset', 'offer-of-support', 'attempt', 1, 'n', g)
       FROM generate_series($1::int, $2::int) g`,
      [from, to],
    );
    if (to % 200_000 === 0 || to === events) log(`bench: ${to} events written (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }
  const writeSeconds = (Date.now() - t) / 1000;
  await db.query('VACUUM ANALYZE audit_events');
  const key = generateKeyPairSync('ed25519').privateKey;
  const chain = await db.query<{ id: string }>("SELECT details->>'chainId' AS id FROM audit_events WHERE action = 'audit-chain-started'");
  const chainId = chain.rows[0]?.id ?? '';
  const heads = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_events WHERE seq % $1 = 0 ORDER BY seq', [
    every,
  ]);
  for (const h of heads.rows) {
    const c = signCheckpoint({ chainId, seq: Number(h.seq), hash: h.hash, at: new Date().toISOString() }, key);
    await db.query('INSERT INTO audit_checkpoints (seq, at, chain_id, hash, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6)', [
      c.seq,
      c.at,
      c.chainId,
      c.hash,
      c.keyId,
      c.signature,
    ]);
  }
  log(
    `bench: ${events} events written through the chain trigger in ${writeSeconds.toFixed(1)} s (${Math.round(events / writeSeconds)}/s); ${heads.rows.length} checkpoints`,
  );
  for (const parallel of [...parallels, ...parallels]) {
    t = Date.now();
    const result = await verifyAuditChain(db, { publicKeys: new Map([[keyIdOf(key), createPublicKey(key)]]), pageSize, parallel });
    const seconds = (Date.now() - t) / 1000;
    log(
      `bench: audit:verify over ${result.eventsChecked} events and ${result.checkpointsChecked} checkpoints: ${seconds.toFixed(2)} s ` +
        `(${Math.round(result.eventsChecked / seconds)} events/s, page ${pageSize}, ${parallel} in flight); ok=${String(result.ok)}${result.firstProblem ? ` first problem: ${result.firstProblem.problem}` : ''}`,
    );
    if (!result.ok) process.exitCode = 1;
  }
} finally {
  await db.close();
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
