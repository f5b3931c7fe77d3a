/**
 * `npm run bench:ig-reports`: how long the IG reports' counts take over a large audit trail (issue 14 item 5), on
 * PostgreSQL. A fresh database gets `--events` audit events (default 250,000) over `--days` days (default 400):
 * receipts, acceptances, rejections and quarantines of messages from three feeds, decisions, deliveries, reads,
 * acknowledgements and withdrawals at ten inboxes; then each report is timed over the last 30 days and the last 366
 * days, with the (action, at) index of migration 022 and without it. Prints one line per query; drops the database.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { openPostgres } from '../../adapters/store/postgres-database.js';
import { migrate } from '../../adapters/store/migrate.js';
import { SqlIgReports } from '../../adapters/store/sql-ig-reports.js';
import { adminQuery, databaseUrl } from './bench-postgres.js';

const ADMIN_URL = process.env.STORK_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string' }, days: { type: 'string' } } });
  const events = Number(values.events ?? 250_000);
  const days = Number(values.days ?? 400);
  const name = `stork_bench_${randomUUID().replaceAll('-', '')}`;
  await adminQuery(ADMIN_URL, `CREATE DATABASE ${name}`);
  const db = await openPostgres({ connectionString: databaseUrl(ADMIN_URL, name), connectTimeoutMs: 5000 });
  try {
    await migrate(db);
    const end = new Date();
    const start = new Date(end.getTime() - days * 86_400_000);
    // A message per four events: received, then validated or rejected, and for one in ten a quarantine; the rest of
    // the events are the notification's (decided, delivered, read, acknowledged, withdrawn).
    const messages = Math.ceil(events / 4);
    await db.query(
      `INSERT INTO messages (id, received_at, channel, feed_id, size_bytes, sha256, status, updated_at)
       SELECT md5('m' || i)::uuid, $1::timestamptz + (i * $3::float8 / $2) * interval '1 second', 'mllp',
              (ARRAY['rx1-maternity', 'rx9-maternity', 'fhir-northvale'])[1 + i % 3], 100, 'x', 'processed', now()
         FROM generate_series(1, $2) AS i`,
      [start, messages, (end.getTime() - start.getTime()) / 1000],
    );
    await db.query(
      `INSERT INTO audit_events (at, actor, action, message_id, notification_id, recipient, rule_id, rulebook_version, outcome, details)
       SELECT m.received_at + (k * interval '1 minute'),
              CASE WHEN k = 0 OR k = 1 THEN 'feed:' || m.feed_id WHEN k = 2 AND i % 10 = 0 THEN 'system:worker' ELSE 'user:w' || (i % 50) END,
              CASE k WHEN 0 THEN 'received'
                     WHEN 1 THEN CASE WHEN i % 7 = 0 THEN 'rejected' ELSE 'validated' END
                     WHEN 2 THEN CASE WHEN i % 10 = 0 THEN 'rejected' ELSE 'decided' END
                     ELSE (ARRAY['delivered', 'read', 'acknowledged', 'withdrawn', 'read'])[1 + i % 5] END,
              m.id, md5('n' || i)::uuid,
              CASE WHEN k = 3 THEN 'centre-' || (i % 10) END,
              CASE WHEN k = 2 THEN 'rule-' || (i % 6) END,
              CASE WHEN k = 2 THEN 'leeds@1.2.0' END,
              CASE WHEN k = 1 AND i % 7 = 0 THEN 'AR' WHEN k = 2 THEN 'permit' END,
              CASE WHEN k = 1 AND i % 7 = 0 THEN jsonb_build_object('reason', 'reason ' || (i % 4)) ELSE '{}' END
         FROM generate_series(1, $1) AS i
         JOIN messages m ON m.id = md5('m' || i)::uuid
         CROSS JOIN generate_series(0, 3) AS k`,
      [messages],
    );
    // A notification per message (three births per mother), so a person's disclosure report can be timed too.
    await db.query(
      `INSERT INTO notifications (id, message_id, subject_key, created_at, baby_nhs_number, mother_nhs_number, decision, route, inbox_id, status)
       SELECT md5('n' || i)::uuid, md5('m' || i)::uuid, 'k' || i, now(), 'B' || i, 'M' || (i / 3), '{}', '{}', 'centre-' || (i % 10), 'delivered'
         FROM generate_series(1, $1) AS i`,
      [messages],
    );
    await db.query('ANALYZE notifications');
    await db.query('ANALYZE audit_events');
    await db.query('ANALYZE messages');
    const count = await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_events');
    console.log(`${count.rows[0]?.n ?? '?'} audit events over ${days} days`);
    const reports = new SqlIgReports(db);
    if (process.env.EXPLAIN !== undefined) {
      const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${process.env.EXPLAIN}`, [
        new Date(end.getTime() - 366 * 86_400_000),
        end,
      ]);
      console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    const time = async (label: string, f: () => Promise<unknown>): Promise<void> => {
      await f(); // warm
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = process.hrtime.bigint();
        await f();
        runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      runs.sort((a, b) => a - b);
      console.log(`${label.padEnd(48)} median ${runs[1]?.toFixed(1)} ms (min ${runs[0]?.toFixed(1)}, max ${runs[2]?.toFixed(1)})`);
    };
    await time('disclosure report of a mother (3 notifications)', () => reports.subjectEvents('M100', {}));
    await time('disclosure report of a baby', () => reports.subjectEvents('B301', {}));
    for (const indexed of [true, false]) {
      if (!indexed) await db.query('DROP INDEX audit_events_action_at');
      for (const span of [30, 366]) {
        const from = new Date(end.getTime() - span * 86_400_000);
        const tag = `${indexed ? 'index' : 'no index'}, ${span} days:`;
        await time(`${tag} feeds per day`, () => reports.feedDays(from, end));
        await time(`${tag} feed rejections`, () => reports.feedRejections(from, end));
        await time(`${tag} centres`, () => reports.centres(from, end));
        await time(`${tag} rules`, () => reports.rules(from, end));
      }
    }
  } finally {
    await db.close();
    await adminQuery(ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

await main();
