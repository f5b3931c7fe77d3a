import { demoCipher } from '../support/data-keys.js';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SqlWebSessionStore } from '../../adapters/store/sql-web-session-store.js';
import { main as retentionCli } from '../../adapters/cli/retention-run.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { configFiles } from '../../src/config/hub-config.js';
import { copySampleConfig } from '../support/sample-config.js';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { SqlRetentionStore } from '../../adapters/store/sql-retention-store.js';
import { RETENTION_SCHEDULER_ID } from '../../adapters/queue/bullmq-queues.js';
import { createLogger } from '../../src/logger.js';
import { SqlDecisionHistory } from '../../adapters/store/sql-decision-history.js';
import { simulateAgreement } from '../../src/processing/simulate-agreement.js';
import { runRetention, type RetentionReport, type TargetReport } from '../../src/processing/run-retention.js';
import { RETENTION_TARGETS, type RetentionConfig } from '../../src/domain/retention-policy.js';
import type { Database } from '../../src/ports/database.js';
import type { RetentionStore } from '../../src/ports/retention-store.js';
import { describeNewborn, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { pollUntil } from '../support/poll.js';
import { defined } from '../support/defined.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;
const DAY = 86_400_000;
const silent = createLogger('silent');

interface InboxItem {
  notificationId: string;
  status: string;
  purgedAt?: string;
  record?: { baby: { nhsNumber?: string } };
}

const targetOf = (r: RetentionReport, target: TargetReport['target']): TargetReport => {
  if (r.kind !== 'done') throw new Error(`expected a run, got ${r.kind}`);
  return defined(
    r.targets.find((t) => t.target === target),
    target,
  );
};

describe('Retention: the daily purge of personal data past its period (issue 14 item 6)', () => {
  let t: TestHub;
  let client: MllpClient;
  const newborn = (o: NewbornAdtOptions) => describeNewborn({ ...RX1, messageTime: new Date(), ...o });
  let db: Database;
  let store: SqlRetentionStore;
  const started = Date.now();
  const run = (daysLater: number, dryRun = false, owner = 'test') => {
    const retention = defined(t.hub.config.retention, 'retention config');
    return runRetention(
      {
        store,
        config: retention.config,
        configSha256: retention.sha256,
        owner,
        clock: () => new Date(started + daysLater * DAY),
        logger: silent,
      },
      { dryRun },
    );
  };
  let taken: InboxItem; // delivered, read and taken on: purgeable after 24 months
  let waiting: InboxItem; // delivered, still new in the centre's inbox: held back
  let takenMessageId = '';
  let quarantinedId = '';
  let auditOfTaken = 0;
  const cookies = new Map<string, string>();
  const page = async (role: string, path: string): Promise<{ status: number; html: string }> => {
    const res = await fetch(`${t.http}${path}`, { headers: { cookie: cookies.get(role) ?? '' } });
    return { status: res.status, html: await res.text() };
  };

  const inboxItem = async (id: string): Promise<InboxItem> => {
    const res = await api(t.http, 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${id}`);
    expect(res.status).toBe(200);
    return (await res.json()) as InboxItem;
  };
  const purgedEvents = async () =>
    (
      await db.query<{ details: { target: string; purged: number; heldBack: number; cutoff: string; configSha256: string } }>(
        `SELECT details FROM audit_events WHERE action = 'purged' ORDER BY seq`,
      )
    ).rows.map((r) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as (typeof r)['details']);

  beforeAll(async () => {
    t = await startTestHub();
    db = t.database.db;
    store = new SqlRetentionStore(db);
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    // Web sessions as a sign-in leaves them (no identity provider needed): a centre worker and an admin.
    const now = new Date();
    // Sessions that outlive the runs below (clocks years ahead), and one that ends in an hour (purged 30 days later).
    const later = new Date(now.getTime() + 5 * 365 * DAY);
    for (const role of ['centre-worker', 'admin', 'ig-lead'] as const) {
      const id = randomBytes(32).toString('base64url');
      await new SqlWebSessionStore(db).create(
        createHash('sha256').update(id).digest('hex'),
        {
          person: { sub: `sub-${role}`, name: `Test ${role}`, role, ...(role === 'centre-worker' ? { scope: 'osmondthorpe' } : {}) },
          csrfToken: randomBytes(32).toString('base64url'),
          lastSeenAt: now,
          expiresAt: role === 'ig-lead' ? new Date(now.getTime() + 3_600_000) : later,
          absoluteExpiresAt: later,
        },
        now,
      );
      cookies.set(role, `stork_session=${id}`);
    }
    const a = newborn({ seed: 9101, controlId: 'RET-1', postcodes: ['LS9 7AB'] });
    const b = newborn({ seed: 9102, controlId: 'RET-2', postcodes: ['LS9 7AB'] });
    const bad = newborn({ seed: 9103, controlId: 'RET-3', invalidNhsNumber: true });
    for (const m of [a, b, bad]) await client.send(m.text);
    const find = (nhs: string) =>
      pollUntil(async () => {
        const res = await api(t.http, 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?status=new');
        return ((await res.json()) as { items: InboxItem[] }).items.find((i) => i.record?.baby.nhsNumber === nhs);
      }, 'baby in the inbox');
    taken = await find(a.baby.nhsNumber);
    waiting = await find(b.baby.nhsNumber);
    const ack = await api(t.http, 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${taken.notificationId}/ack`, {
      method: 'POST',
    });
    expect(ack.status).toBe(200);
    const ids = await db.query<{ id: string; control_id: string }>(
      `SELECT id, control_id FROM messages WHERE control_id IN ('RET-1', 'RET-3')`,
    );
    takenMessageId = defined(ids.rows.find((r) => r.control_id === 'RET-1')?.id, 'RET-1');
    quarantinedId = defined(ids.rows.find((r) => r.control_id === 'RET-3')?.id, 'RET-3');
    auditOfTaken = Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_events WHERE notification_id = $1', [taken.notificationId])).rows[0]
        ?.n,
    );
    expect(auditOfTaken).toBeGreaterThan(3);
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  test('the worker role schedules one daily purge at the configured London time', async () => {
    const queue = defined(t.hub.retention, 'retention job').queue;
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: RETENTION_SCHEDULER_ID, pattern: '0 30 2 * * *', tz: 'Europe/London' });
  });

  test('a dry run counts and changes nothing; nothing is due today', async () => {
    const today = await run(0, true);
    expect(targetOf(today, 'messages').purged).toBe(0);
    const later = await run(40, true);
    expect(targetOf(later, 'quarantined-messages').purged).toBe(1);
    expect(targetOf(later, 'messages').purged).toBe(0);
    const raw = await db.query<{ raw: unknown }>('SELECT raw FROM message_bodies WHERE message_id = $1', [quarantinedId]);
    expect(raw.rows[0]?.raw).not.toBeNull();
    expect(await purgedEvents()).toEqual([]);
  });

  test('after 30 days the quarantined message is purged: replay answers a clear problem, the raw body is gone', async () => {
    const r = await run(40);
    expect(targetOf(r, 'quarantined-messages').purged).toBe(1);
    expect(targetOf(r, 'messages').purged).toBe(0);
    expect(targetOf(r, 'web-sessions').purged).toBe(1);
    const replay = await api(t.http, 'demo-admin-key', `/v1/messages/${quarantinedId}/replay`, { method: 'POST' });
    expect(replay.status).toBe(409);
    const problem = (await replay.json()) as { detail: string };
    const on = new Date(started + 40 * DAY).toISOString().slice(0, 10);
    expect(problem.detail).toContain(`purged under retention on ${on}`);
    const detail = await api(t.http, 'demo-admin-key', `/v1/messages/${quarantinedId}`);
    const body = (await detail.json()) as { raw?: string; purgedAt?: string; sha256: string };
    expect(body.raw).toBeUndefined();
    expect(body.purgedAt?.slice(0, 10)).toBe(on);
    expect(body.sha256).toMatch(/^[0-9a-f]{64}$/);
    const raw = await page('admin', `/app/operations/messages/${quarantinedId}/raw`);
    expect(raw.status).toBe(200);
    expect(raw.html).toContain('This message is no longer held');
    expect(raw.html).not.toContain('<textarea');
    // Each table's purge is audited once per run, with counts and the cut-off, never ids or personal data.
    const events = await purgedEvents();
    expect(events.map((e) => e.target).sort()).toEqual([...RETENTION_TARGETS].sort());
    expect(events.find((e) => e.target === 'quarantined-messages')).toMatchObject({
      purged: 1,
      configSha256: t.hub.config.retention?.sha256,
      cutoff: new Date(started + 10 * DAY).toISOString(),
    });
  });

  test('after 90 days the bytes of processed messages go; the canonical record a live notification is built on stays', async () => {
    const r = await run(100);
    expect(targetOf(r, 'messages').purged).toBe(2);
    const bodies = await db.query<{ raw: unknown; ack: unknown; canonical: unknown }>(
      'SELECT raw, ack, canonical FROM message_bodies WHERE message_id = $1',
      [takenMessageId],
    );
    expect(bodies.rows[0]).toMatchObject({ raw: null, ack: null });
    expect(bodies.rows[0]?.canonical).not.toBeNull();
    // The centre still sees the records: their notifications are within 24 months.
    expect((await inboxItem(taken.notificationId)).record?.baby.nhsNumber).toBe(taken.record?.baby.nhsNumber);
  });

  test('after 24 months the content of the taken-on notification is purged; the one still awaiting the centre is held back', async () => {
    const before = await db.query<{ seq: string }>('SELECT seq FROM audit_events WHERE notification_id = $1 OR message_id = $2', [
      taken.notificationId,
      takenMessageId,
    ]);
    const r = await run(25 * 31);
    expect(targetOf(r, 'notifications')).toMatchObject({ purged: 1, heldBack: 1 });
    // The centre's inbox item remains, its content reads as no longer held.
    const item = await inboxItem(taken.notificationId);
    expect(item.status).toBe('acknowledged');
    expect(item.record).toBeUndefined();
    expect(item.purgedAt?.slice(0, 10)).toBe(new Date(started + 25 * 31 * DAY).toISOString().slice(0, 10));
    const fhir = await api(t.http, 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${taken.notificationId}`, {
      headers: { accept: 'application/fhir+json' },
    });
    expect(JSON.stringify(await fhir.json())).toContain('no longer held');
    expect((await inboxItem(waiting.notificationId)).record?.baby.nhsNumber).toBe(waiting.record?.baby.nhsNumber);
    // "Why was this shared?" can no longer re-derive it, and says so; the one still held is explained as before.
    const why = await api(t.http, 'demo-ig-key', `/v1/notifications/${taken.notificationId}/decision`);
    expect(why.status).toBe(410);
    expect(((await why.json()) as { detail: string }).detail).toContain('purged under retention on');
    expect((await api(t.http, 'demo-ig-key', `/v1/notifications/${waiting.notificationId}/decision`)).status).toBe(200);
    // What-if runs skip it, and say how many they left out.
    const whatIf = await simulateAgreement(new SqlDecisionHistory(db, demoCipher), { proposed: t.hub.config.agreements.default });
    expect(whatIf.report.purged).toBe(1);
    expect(whatIf.report.read).toBe(1);
    const web = await page('centre-worker', `/app/families/${taken.notificationId}`);
    expect(web.status).toBe(200);
    expect(web.html).toContain('The details of this notification are no longer held');
    const nhs = defined(taken.record?.baby.nhsNumber, 'NHS number');
    expect(web.html).not.toContain(`${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`);
    // The row keeps its ids, status and times; its identifiable columns are empty.
    const row = await db.query(
      `SELECT n.subject_key, n.baby_nhs_number, n.mother_nhs_number, n.record, n.disclosed, n.birth_key, n.status, n.created_at, b.canonical
         FROM notifications n JOIN message_bodies b ON b.message_id = n.message_id WHERE n.id = $1`,
      [taken.notificationId],
    );
    expect(row.rows[0]).toMatchObject({
      subject_key: `purged:${taken.notificationId}`,
      baby_nhs_number: null,
      mother_nhs_number: null,
      record: null,
      disclosed: null,
      birth_key: null,
      canonical: null,
      status: 'delivered',
    });
    // Nor is it found any more by its mother's local identifiers (the blind index of migration 029).
    const indexed = await db.query('SELECT hash FROM mother_identifier_index WHERE notification_id = $1', [taken.notificationId]);
    expect(indexed.rows).toEqual([]);
    // Its audit events are all still there (the audit trail is never purged), and the purge is audited with counts.
    const after = await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_events WHERE seq = ANY($1::bigint[])', [
      before.rows.map((x) => x.seq),
    ]);
    expect(Number(after.rows[0]?.n)).toBe(before.rows.length);
    expect(before.rows.length).toBeGreaterThanOrEqual(auditOfTaken);
    const events = await purgedEvents();
    expect(events.filter((e) => e.target === 'notifications').at(-1)).toMatchObject({ purged: 1, heldBack: 1 });
    expect(JSON.stringify(events)).not.toContain(defined(taken.record?.baby.nhsNumber, 'NHS number'));
  });

  test('a second run the same day purges nothing more (idempotent) and is audited as such', async () => {
    const r = await run(25 * 31);
    if (r.kind !== 'done') throw new Error('skipped');
    expect(r.targets.map((x) => x.purged)).toEqual(RETENTION_TARGETS.map(() => 0));
    const last = await db.query<{ outcome: string }>(
      `SELECT outcome FROM audit_events WHERE action = 'purged' ORDER BY seq DESC LIMIT $1`,
      [RETENTION_TARGETS.length],
    );
    expect(last.rows.map((x) => x.outcome)).toEqual(RETENTION_TARGETS.map(() => 'nothing-due'));
  });

  test('a message about a purged baby, received later, is processed afresh: a new notification, nothing stuck', async () => {
    const again = newborn({ seed: 9101, controlId: 'RET-1-AGAIN', postcodes: ['LS9 7AB'] });
    await client.send(again.text);
    const status = await pollUntil(async () => {
      const r = await db.query<{ status: string }>(`SELECT status FROM messages WHERE control_id = 'RET-1-AGAIN'`);
      return r.rows[0]?.status === 'queued' ? undefined : r.rows[0]?.status;
    }, 'the later message processed');
    expect(status).toBe('processed');
    const fresh = await pollUntil(async () => {
      const res = await api(t.http, 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?status=new');
      return ((await res.json()) as { items: InboxItem[] }).items.find((i) => i.record?.baby.nhsNumber === taken.record?.baby.nhsNumber);
    }, 'the baby in the inbox again');
    expect(fresh.notificationId).not.toBe(taken.notificationId);
  });

  test('the BullMQ job runs the purge: a job on the retention queue is audited', async () => {
    const queue = defined(t.hub.retention, 'retention job').queue;
    const count = async () =>
      Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_events WHERE action = 'purged'`)).rows[0]?.n);
    const was = await count();
    await queue.add('purge', {});
    await pollUntil(async () => ((await count()) >= was + RETENTION_TARGETS.length ? true : undefined), 'purge audited by the job');
  });
});

describe('Retention configuration at start-up', () => {
  test('a hub whose retention.json has a zero period does not start, naming the file and the field', async () => {
    const dir = copySampleConfig('stork-retention-');
    const file = configFiles(dir).retention;
    const sample = JSON.parse(readFileSync(file, 'utf8')) as { periods: Record<string, unknown> };
    writeFileSync(file, JSON.stringify({ ...sample, periods: { ...sample.periods, notificationContent: { months: 0 } } }));
    const database = await createTestDatabase();
    try {
      await expect(startTestHub({ configDir: dir, database })).rejects.toThrow(/retention\.json: field \/periods\/notificationContent/);
    } finally {
      await database.drop();
    }
  });
});

describe('Retention store: batches, idempotence and concurrent runs', () => {
  let t: TestDatabase;
  const N = 1200;
  const config: RetentionConfig = {
    schedule: { dailyAt: '02:30', timeZone: 'Europe/London' },
    batchSize: 100,
    periods: {
      rawMessages: { days: 90 },
      quarantinedMessages: { days: 30 },
      notificationContent: { months: 24 },
      signalEvents: { days: 90 },
      webSessions: { days: 30 },
      triggerFirings: { months: 6 },
    },
  };
  const now = new Date('2025-06-01T02:30:00Z');
  const runAt = (owner: string) =>
    runRetention({ store: new SqlRetentionStore(t.db), config, configSha256: 'x', owner, clock: () => now, logger: silent });

  beforeAll(async () => {
    t = await createTestDatabase();
    const rows = Array.from({ length: N }, (_, i) => ({
      id: randomUUID(),
      at: new Date(now.getTime() - (i % 2 === 0 ? 200 : 10) * DAY).toISOString(),
    }));
    await t.db.query(
      `INSERT INTO messages (id, received_at, channel, size_bytes, sha256, status, updated_at)
       SELECT x.id, x.at, 'http', 3, 'h', 'processed', x.at FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, at timestamptz)`,
      [JSON.stringify(rows)],
    );
    await t.db.query(
      `INSERT INTO message_bodies (message_id, raw, canonical)
       SELECT x.id, '\\x616263'::bytea, '{"baby":{}}'::jsonb FROM jsonb_to_recordset($1::jsonb) AS x(id uuid)`,
      [JSON.stringify(rows)],
    );
  });
  afterAll(async () => {
    await t.drop();
  });

  test('two runs at once purge each old message once, in batches, without deadlock; a third purges nothing', async () => {
    const [a, b] = await Promise.all([runAt('hub-a'), runAt('hub-b')]);
    const purged = [a, b].map((r) => (r.kind === 'done' ? targetOf(r, 'messages').purged : 0));
    expect(purged.reduce((x, y) => x + y, 0)).toBe(N / 2);
    const done = [a, b].filter((r) => r.kind === 'done');
    expect(done.length).toBeGreaterThanOrEqual(1);
    // 600 rows in batches of 100: six transactions (the run that did them; another found the lease held, or nothing left).
    expect(done.map((r) => targetOf(r, 'messages').batches).sort()).toContain(N / 2 / 100);
    const left = await t.db.query<{ purged: string; kept: string }>(
      `SELECT count(*) FILTER (WHERE b.raw IS NULL) AS purged, count(*) FILTER (WHERE b.raw IS NOT NULL) AS kept
         FROM messages m JOIN message_bodies b ON b.message_id = m.id`,
    );
    expect(Number(left.rows[0]?.purged)).toBe(N / 2);
    expect(Number(left.rows[0]?.kept)).toBe(N / 2);
    const again = await runAt('hub-c');
    expect(targetOf(again, 'messages').purged).toBe(0);
  });

  test('concurrent batches without the lease still never purge a row twice (FOR UPDATE SKIP LOCKED, purged_at)', async () => {
    await t.db.query('UPDATE messages SET purged_at = NULL');
    const s = new SqlRetentionStore(t.db);
    const cutoff = new Date(now.getTime() - 90 * DAY);
    const drain = async () => {
      let n = 0;
      let after: string | undefined;
      for (;;) {
        const b = await s.purgeBatch('messages', cutoff, now, after, 50);
        n += b.purged;
        if (b.purged < 50 || b.lastKey === undefined) return n;
        after = b.lastKey;
      }
    };
    const counts = await Promise.all([drain(), drain(), drain()]);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(N / 2);
  });

  test('npm run retention:run -- --dry-run reports counts only and changes nothing; a bad flag is refused', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const write = (to: string[]) => ({ write: (x: string) => to.push(x) });
    expect(await retentionCli(['--dry-runn'], write(out), write(err))).toBe(2);
    expect(err.join('')).toContain('usage: npm run retention:run');
    if (t.url === undefined) return; // PGlite here is in memory: the command opens a folder store
    await t.db.query('UPDATE messages SET purged_at = NULL');
    await t.db.query('UPDATE message_bodies SET raw = $1', [Buffer.from('abc')]);
    out.length = 0;
    expect(await retentionCli(['--dry-run', '--json'], write(out), write(err), { DATABASE_URL: t.url })).toBe(0);
    const report = JSON.parse(out.join('')) as RetentionReport;
    // Every message here is years old by the real clock, so all are due; none is purged by a dry run.
    expect(targetOf(report, 'messages').purged).toBe(N);
    const held = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM message_bodies WHERE raw IS NOT NULL');
    expect(Number(held.rows[0]?.n)).toBe(N);
    out.length = 0;
    expect(await retentionCli([], write(out), write(err), { DATABASE_URL: t.url })).toBe(0);
    expect(out.join('')).toMatch(/messages\s+1200 purged/);
  });

  test('a run failing part-way audits what its committed batches purged, leaves the lease, and the next run finishes', async () => {
    await t.db.query('UPDATE messages SET purged_at = NULL');
    const real = new SqlRetentionStore(t.db);
    let calls = 0;
    const failing: RetentionStore = {
      acquireLease: (...a) => real.acquireLease(...a),
      releaseLease: (...a) => real.releaseLease(...a),
      count: (...a) => real.count(...a),
      appendAudit: (...a) => real.appendAudit(...a),
      purgeBatch: async (...a) => {
        if (a[0] === 'messages' && ++calls === 3) throw new Error('the store went away');
        return real.purgeBatch(...a);
      },
    };
    const deps = { store: failing, config, configSha256: 'x', owner: 'hub-x', clock: () => now, logger: silent };
    await expect(runRetention(deps)).rejects.toThrow('the store went away');
    const failed = await t.db.query<{ details: unknown }>(
      `SELECT details FROM audit_events WHERE action = 'purged' AND outcome = 'failed' ORDER BY seq DESC LIMIT 1`,
    );
    const details = failed.rows[0]?.details;
    expect(typeof details === 'string' ? JSON.parse(details) : details).toMatchObject({ target: 'messages', purged: 200, batches: 2 });
    const next = await runAt('hub-y');
    expect(targetOf(next, 'messages').purged).toBe(N / 2 - 200);
  });

  test('a run that finds the lease held by another is skipped', async () => {
    const s = new SqlRetentionStore(t.db);
    expect(await s.acquireLease('retention', 'other-hub', now, new Date(now.getTime() + 60_000))).toBe(true);
    const r = await runAt('late-hub');
    expect(r.kind).toBe('skipped');
    await s.releaseLease('retention', 'other-hub', now, now);
    expect((await runAt('late-hub')).kind).toBe('done');
  });
});
