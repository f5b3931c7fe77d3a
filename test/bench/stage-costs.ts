/**
 * What one birth costs at each stage, measured one stage at a time, so the figures do not depend on how
 * the stages share two cores (the end-to-end bench, run-bench.ts, measures that):
 *
 *   npm run bench:stages                          # 10,000 newborns, batches of 100
 *   npm run bench:stages -- --messages 2000 --batch 20
 *
 * Against a fresh PostgreSQL database, with one connection: (1) intake: assess, map and validate each message
 * and commit it with its ACK and audit events (group commit, one statement per batch); (2) processing: decide,
 * route, store the notifications; (3) delivery: each inbox's batch into that inbox. The queue hops between the
 * stages are left out (the ids are handed over in memory): this measures the stages' own work, in this process
 * and in PostgreSQL. For each stage: CPU per message of this process, of the PostgreSQL backend that ran the
 * statements, and of all PostgreSQL processes (WAL writer included; read from /proc, so only when PostgreSQL
 * runs on this machine), and the WAL written per message (exact: pg_current_wal_lsn before and after).
 *
 * Environment: STORK_BENCH_PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres). It reports and
 * asserts no figure; it exits 1 only if a birth does not end in an inbox. Results also go to
 * `.stork-bench/stage-costs.json`.
 */
import { demoCipher } from '../support/data-keys.js';
import { randomBytes } from 'node:crypto';
import { loadMatchModel } from '../../src/config/matching.js';
import { bindMatcher } from '../../src/pipeline/family-match.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../src/config/env.js';
import { feedMapper, loadHubConfig } from '../../src/config/hub-config.js';
import { createLogger } from '../../src/logger.js';
import { Hl7v2Intake } from '../../src/intake/hl7v2-intake.js';
import { byInbox, deliverNotifications, processMessages } from '../../src/processing/process-messages.js';
import type { PendingDelivery } from '../../src/ports/notification-store.js';
import type { Database } from '../../src/ports/database.js';
import { openPostgres } from '../../adapters/store/postgres-database.js';
import { migrate } from '../../adapters/store/migrate.js';
import { SqlMessageStore } from '../../adapters/store/sql-message-store.js';
import { SqlNotificationStore } from '../../adapters/store/sql-notification-store.js';
import { generateNewborns } from './bench-messages.js';
import { procCpuSeconds, serviceCpu, serviceCpuSince } from './proc-cpu.js';
import { adminQuery, databaseUrl } from './bench-postgres.js';

interface StageFigures {
  stage: string;
  processCpuPerMessageUs: number;
  backendCpuPerMessageUs: number | null;
  postgresCpuPerMessageUs: number | null;
  walBytesPerMessage: number;
}

/**
 * Today's cost, the reference of issue 9's target (CPU per birth at least 25% below it): this bench's CPU per birth
 * (this process + its PostgreSQL backend) on the code before issue 9's speed work (main at dbfb0db), on this 2-core
 * machine, median of 3 runs (549, 582, 606 µs) taken alternately with runs of the code after issue 9 (570, 559,
 * 596 µs), load average 4–5, 2026-11-29. An earlier median of 503 µs (470, 503, 538) was taken at load 8–16 and
 * never beside the new code, so it is not used. By messages/batch.
 */
const REFERENCE: Record<string, { perBirthUs: number; commit: string; what: string }> = {
  '5000/100': { perBirthUs: 582, commit: 'dbfb0db', what: 'main at dbfb0db, median of 3 runs alternating with the new code, 2026-11-29' },
};

function settings(): { messages: number; batch: number; adminUrl: string } {
  const { values } = parseArgs({ options: { messages: { type: 'string', short: 'n' }, batch: { type: 'string', short: 'b' } } });
  const int = (v: string | undefined, name: string, fallback: number): number => {
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--${name} must be a positive integer (got ${JSON.stringify(v)})`);
    return Number(v);
  };
  return {
    messages: int(values.messages, 'messages', 10_000),
    batch: int(values.batch, 'batch', 100),
    adminUrl: process.env.STORK_BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  };
}

async function measure(db: Database, backendPid: number, stage: string, messages: number, run: () => Promise<void>): Promise<StageFigures> {
  const lsn0 = (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]?.lsn ?? '0/0';
  const backend0 = procCpuSeconds(backendPid);
  const postgres0 = serviceCpu('postgres');
  const cpu0 = process.cpuUsage();
  await run();
  const cpu = process.cpuUsage(cpu0);
  const backend1 = procCpuSeconds(backendPid);
  const postgres = serviceCpuSince(postgres0, 'postgres');
  const wal = Number(
    (await db.query<{ d: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS d', [lsn0])).rows[0]?.d ?? 0,
  );
  const perMessageUs = (seconds: number): number => Math.round((seconds * 1e6) / messages);
  return {
    stage,
    processCpuPerMessageUs: perMessageUs((cpu.user + cpu.system) / 1e6),
    backendCpuPerMessageUs: backend0 !== undefined && backend1 !== undefined ? perMessageUs(backend1 - backend0) : null,
    postgresCpuPerMessageUs: postgres !== undefined ? perMessageUs(postgres) : null,
    walBytesPerMessage: Math.round(wal / messages),
  };
}

async function main(): Promise<number> {
  const s = settings();
  const name = `stork_stages_${randomBytes(4).toString('hex')}`;
  await adminQuery(s.adminUrl, `CREATE DATABASE ${name}`);
  // One connection: every statement runs on the backend whose CPU is read.
  const db = await openPostgres({ connectionString: databaseUrl(s.adminUrl, name), maxConnections: 1 });
  try {
    await migrate(db);
    const config = loadHubConfig(repoRoot);
    const logger = createLogger('warn', process.stderr);
    const messages = new SqlMessageStore(db);
    const notifications = new SqlNotificationStore(db, demoCipher);
    const queued: string[] = [];
    const intake = new Hl7v2Intake({
      feeds: config.feeds,
      mapper: feedMapper(config.mappings),
      store: messages,
      logger,
      processingJobs: {
        enqueue: (ids) => {
          queued.push(...ids);
          return Promise.resolve();
        },
      },
    });
    const pending: PendingDelivery[] = [];
    const processDeps = {
      families: bindMatcher(loadMatchModel()),
      store: notifications,
      rulebook: config.rulebook,
      catchments: config.catchments,
      logger,
      deliveryJobs: {
        enqueue: (inboxId: string, ids: readonly string[]) => {
          pending.push(...ids.map((notificationId) => ({ inboxId, notificationId })));
          return Promise.resolve();
        },
      },
    };
    const texts = generateNewborns(s.messages, `STAGE-${name}-`, new Set(), { value: 1 });
    const backendPid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
    const inBatches = async (n: number, each: (from: number, to: number) => Promise<void>): Promise<void> => {
      for (let i = 0; i < n; i += s.batch) await each(i, Math.min(n, i + s.batch));
    };
    const figures = [
      // A batch of messages arriving together: their receipts share one group commit, as over MLLP.
      await measure(db, backendPid, 'intake', s.messages, () =>
        inBatches(texts.length, async (from, to) => {
          await Promise.all(texts.slice(from, to).map((bytes) => intake.receive({ bytes, channel: 'mllp', remoteAddress: '127.0.0.1' })));
        }),
      ),
      await measure(db, backendPid, 'processing', s.messages, () =>
        inBatches(queued.length, (from, to) => processMessages(processDeps, queued.slice(from, to))),
      ),
      await measure(db, backendPid, 'delivery', s.messages, () =>
        inBatches(pending.length, async (from, to) => {
          for (const [inboxId, ids] of byInbox(pending.slice(from, to))) await deliverNotifications(notifications, logger, inboxId, ids);
        }),
      ),
    ];
    const inboxItems = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM inbox_items')).rows[0]?.n ?? 0);

    const us = (v: number | null): string => (v === null ? 'n/a' : `${v} µs`);
    const rows = [
      ['stage', 'this process', 'its PG backend', 'all PostgreSQL', 'WAL'],
      ...figures.map((f) => [
        f.stage,
        us(f.processCpuPerMessageUs),
        us(f.backendCpuPerMessageUs),
        us(f.postgresCpuPerMessageUs),
        `${f.walBytesPerMessage} B`,
      ]),
    ];
    const total = (k: 'processCpuPerMessageUs' | 'postgresCpuPerMessageUs' | 'walBytesPerMessage'): number =>
      figures.reduce((a, f) => a + (f[k] ?? 0), 0);
    rows.push([
      'all stages',
      `${total('processCpuPerMessageUs')} µs`,
      '',
      `${total('postgresCpuPerMessageUs')} µs`,
      `${total('walBytesPerMessage')} B`,
    ]);
    // CPU per birth: this process and the PostgreSQL backend that ran its statements, over every stage. Not "all
    // PostgreSQL": on a shared server that counts other clients' work too (the WAL writer's share is left out with it).
    const perBirthUs = figures.reduce(
      (a, f) => a + f.processCpuPerMessageUs + (f.backendCpuPerMessageUs ?? f.postgresCpuPerMessageUs ?? 0),
      0,
    );
    const reference = REFERENCE[`${s.messages}/${s.batch}`] ?? null;
    const change = reference ? Math.round((perBirthUs / reference.perBirthUs - 1) * 1000) / 1000 : null;
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    process.stdout.write(
      `\nStork stage costs per birth: ${s.messages} newborns, batches of ${s.batch}, one PostgreSQL connection, queues left out\n`,
    );
    for (const r of rows) process.stdout.write(`  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('   ')}\n`);
    process.stdout.write(
      `  CPU per birth (this process + its PostgreSQL backend): ${perBirthUs} µs` +
        (reference
          ? `; reference ${reference.perBirthUs} µs (${reference.what}); change ${change !== null && change > 0 ? '+' : ''}${Math.round((change ?? 0) * 100)}%, target ≤ -25%\n`
          : `; no reference for --messages ${s.messages} --batch ${s.batch} (references: ${Object.keys(REFERENCE).join(', ')})\n`),
    );
    const outDir = path.join(repoRoot, '.stork-bench');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(
      path.join(outDir, 'stage-costs.json'),
      JSON.stringify(
        { at: new Date().toISOString(), messages: s.messages, batch: s.batch, stages: figures, inboxItems, perBirthUs, reference, change },
        null,
        2,
      ),
    );
    if (inboxItems !== s.messages) {
      process.stderr.write(`stage costs: ${inboxItems} inbox items for ${s.messages} births\n`);
      return 1;
    }
    return 0;
  } finally {
    await db.close();
    await adminQuery(s.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`stage costs failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
