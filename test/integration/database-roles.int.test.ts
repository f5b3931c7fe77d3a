import { randomUUID } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { openStore } from '../../adapters/store/open-store.js';
import { SqlAuditLog } from '../../adapters/store/sql-audit-log.js';
import { ConfigError } from '../../src/domain/config-error.js';
import { loadEnvConfig, repoRoot } from '../../src/config/env.js';
import { startHub, type Hub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import type { Database } from '../../src/ports/database.js';
import type { AuditEventInput } from '../../src/ports/audit.js';
import { LogSink } from '../support/log-sink.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { ADMIN_URL, createTestDatabase, storeKind, type TestDatabase } from '../support/test-database.js';
import { api, deleteKeys, REDIS_URL } from '../support/test-hub.js';
import { defined } from '../support/defined.js';

const RELATIONS = `SELECT c.oid, c.relname FROM pg_class c
  WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`;

function auditEvent(outcome: string): AuditEventInput {
  return { at: new Date(), actor: 'system:test', action: 'received', outcome, details: { probe: true } };
}

async function auditCount(db: Database): Promise<number> {
  return Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_events')).rows[0]?.n);
}

/** What `promise` was rejected with; fails the test if it resolved. */
async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  return promise.then(
    () => {
      throw new Error('expected the statement to be refused, and it succeeded');
    },
    (err: unknown) => err as { code?: string; message: string },
  );
}

/**
 * The audit trail's own defences, on both stores: TRUNCATE fires no row trigger, so it needs a statement trigger
 * of its own, and it holds for every role, the schema's owner and a superuser included.
 */
describe('The audit trail refuses TRUNCATE, whoever asks', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });

  it('refuses TRUNCATE audit_events from the owner of the schema, and the events stay', async () => {
    await new SqlAuditLog(t.db).append([auditEvent('one'), auditEvent('two')]);
    const err = await rejection(t.db.query('TRUNCATE audit_events'));
    expect(err.message).toMatch(/audit_events is append-only/);
    // The two, and the audit chain's genesis event (migration 020).
    expect(await auditCount(t.db)).toBe(3);
  });

  it('gives every table, view and sequence an explicit entry in app_privileges, and the audit SELECT and INSERT only', async () => {
    const missing = await t.db.query<{ relname: string }>(
      `SELECT relname FROM (${RELATIONS}) r WHERE relname NOT IN (SELECT relation FROM app_privileges) ORDER BY relname`,
    );
    expect(missing.rows).toEqual([]);
    const audit = await t.db.query<{ privileges: string[] }>(`SELECT privileges FROM app_privileges WHERE relation = 'audit_events'`);
    expect(audit.rows.map((r) => [...r.privileges].sort())).toEqual([['INSERT', 'SELECT']]);
    await expect(
      t.db.query(`UPDATE app_privileges SET privileges = '{SELECT,INSERT,DELETE}' WHERE relation = 'audit_events'`),
    ).rejects.toThrow(/check constraint/);
    await expect(t.db.query(`UPDATE app_privileges SET privileges = '{SELECT,TRUNCATE}' WHERE relation = 'messages'`)).rejects.toThrow(
      /check constraint/,
    );
  });
});

/**
 * PostgreSQL only (PGlite has a single user, so it has no roles to separate): a fresh database owned by an owner
 * role, migrated by it, and an application role that owns nothing. What the application role cannot do is what
 * keeps the audit trail out of the hub's reach; the hub running on that role shows its privileges are enough.
 */
describe('On PostgreSQL, the hub runs as an application role that cannot alter the audit trail', () => {
  if (storeKind() !== 'postgres') return;

  const suffix = randomUUID().replaceAll('-', '').slice(0, 12);
  const ownerRole = `stork_test_owner_${suffix}`;
  const appRole = `stork_test_app_${suffix}`;
  let t: TestDatabase;
  let ownerUrl: string;
  let appUrl: string;
  let app: Database | undefined;
  /** The application role's pool, opened in beforeAll. */
  const appDb = (): Database => defined(app, 'the application role pool');
  const sink = new LogSink();
  const logger = createLogger('debug', sink);
  const as = (role: string): string => {
    const u = new URL(t.url ?? '');
    u.username = role;
    return u.toString();
  };
  const open = (databaseUrl: string, migrationDatabaseUrl?: string, log = logger) =>
    openStore({ databaseUrl, dataDir: os.tmpdir(), logger: log, ...(migrationDatabaseUrl ? { migrationDatabaseUrl } : {}) });

  beforeAll(async () => {
    t = await createTestDatabase('postgres', { migrated: false });
    const name = t.name ?? '';
    // What the README asks an operator to run, with this run's names (no passwords: the local server trusts loopback).
    await t.db.query(`CREATE ROLE ${ownerRole} LOGIN`);
    await t.db.query(`CREATE ROLE ${appRole} LOGIN`);
    await t.db.query(`ALTER DATABASE ${name} OWNER TO ${ownerRole}`);
    await t.db.query(`ALTER SCHEMA public OWNER TO ${ownerRole}`);
    await t.db.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    await t.db.query(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
    await t.db.query(`GRANT CONNECT ON DATABASE ${name} TO ${appRole}`);
    ownerUrl = as(ownerRole);
    appUrl = as(appRole);
    app = await open(appUrl, ownerUrl);
  });
  afterAll(async () => {
    await app?.close();
    await t.drop();
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${appRole}`);
    await admin.query(`DROP ROLE IF EXISTS ${ownerRole}`);
    await admin.end();
  });

  it('migrated the schema as the owner: every relation belongs to the owner and the application role owns nothing', async () => {
    const who = await appDb().query<{ role: string; superuser: boolean }>(
      'SELECT current_user AS role, rolsuper AS superuser FROM pg_roles WHERE rolname = current_user',
    );
    expect(who.rows).toEqual([{ role: appRole, superuser: false }]);
    const owners = await t.db.query<{ owner: string }>(
      `SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM (${RELATIONS}) r JOIN pg_class c ON c.oid = r.oid`,
    );
    expect(owners.rows).toEqual([{ owner: ownerRole }]);
    const versions = await appDb().query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.rows.map((r) => r.version)).toContain('006');
    expect(sink.text).toContain('migrations and privileges applied by the owner');
  });

  it('as the application role, appends to the audit trail and reads it', async () => {
    const before = await auditCount(appDb());
    await new SqlAuditLog(appDb()).append([auditEvent('appended by the app role')]);
    expect(await auditCount(appDb())).toBe(before + 1);
    const found = await new SqlAuditLog(appDb()).query({ limit: 1000 });
    expect(found.some((e) => e.outcome === 'appended by the app role')).toBe(true);
  });

  it('as the application role, UPDATE, DELETE and TRUNCATE of the audit trail and its checkpoints are refused for want of the privilege', async () => {
    await new SqlAuditLog(appDb()).append([auditEvent('must stay')]);
    await appDb().query(
      `INSERT INTO audit_checkpoints (seq, at, chain_id, hash, key_id, signature) SELECT seq, now(), 'c', hash, 'k', 's' FROM audit_events ORDER BY seq DESC LIMIT 1`,
    );
    const before = await auditCount(appDb());
    const checkpoints = async (): Promise<number> =>
      Number((await appDb().query<{ n: string }>('SELECT count(*) AS n FROM audit_checkpoints')).rows[0]?.n);
    expect(await checkpoints()).toBe(1);
    for (const table of ['audit_events', 'audit_checkpoints']) {
      for (const statement of [`UPDATE ${table} SET hash = 'altered'`, `DELETE FROM ${table}`, `TRUNCATE ${table}`]) {
        const err = await rejection(appDb().query(statement));
        expect({ statement, code: err.code, message: err.message }).toEqual({
          statement,
          code: '42501',
          message: `permission denied for table ${table}`,
        });
      }
    }
    expect(await auditCount(appDb())).toBe(before);
    expect(await checkpoints()).toBe(1);
    // The application role's events are chained all the same (the trigger runs with its privileges).
    const last = await appDb().query<{ ok: boolean }>(
      'SELECT hash = audit_event_hash(e) AND prev_hash IS NOT NULL AS ok FROM audit_events e ORDER BY seq DESC LIMIT 1',
    );
    expect(last.rows).toEqual([{ ok: true }]);
  });

  it('as the application role, disabling the triggers, replica mode, dropping or re-owning the audit trail are refused', async () => {
    const refused = [
      'ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update',
      'ALTER TABLE audit_events DISABLE TRIGGER ALL',
      'SET session_replication_role = replica',
      'DROP TABLE audit_events',
      `ALTER TABLE audit_events OWNER TO ${appRole}`,
      'DROP TRIGGER audit_events_no_truncate ON audit_events',
      'CREATE TABLE audit_events_copy (seq bigint)',
      `SELECT stork_grant_app_privileges('${appRole}')`,
    ];
    for (const statement of refused) {
      const err = await rejection(appDb().query(statement));
      expect({ statement, code: err.code }).toEqual({ statement, code: '42501' });
    }
    // The triggers are all still enabled ('O'), as the owner sees them.
    const triggers = await t.db.query<{ tgname: string; tgenabled: string }>(
      `SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal ORDER BY tgname`,
    );
    expect(triggers.rows).toEqual([
      { tgname: 'audit_events_chain', tgenabled: 'O' },
      { tgname: 'audit_events_no_truncate', tgenabled: 'O' },
      { tgname: 'audit_events_no_update', tgenabled: 'O' },
    ]);
  });

  it('as the owner, TRUNCATE of the audit trail is still refused by its trigger', async () => {
    const owner = new pg.Client({ connectionString: ownerUrl });
    await owner.connect();
    try {
      const err = await rejection(owner.query('TRUNCATE audit_events'));
      expect(err.message).toBe('audit_events is append-only');
    } finally {
      await owner.end();
    }
  });

  it('gives the application role exactly what app_privileges lists, and nothing on any other relation', async () => {
    const r = await t.db.query<{ relname: string; wanted: string[]; has: string[] }>(
      `SELECT r.relname, ARRAY(SELECT x FROM unnest(coalesce(p.privileges, '{}')) x ORDER BY 1) AS wanted,
              ARRAY(SELECT x FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'USAGE']) x
                     WHERE CASE WHEN c.relkind = 'S' THEN x IN ('SELECT', 'UPDATE', 'USAGE') AND has_sequence_privilege($1, c.oid, x)
                                ELSE x <> 'USAGE' AND has_table_privilege($1, c.oid, x) END ORDER BY 1) AS has
         FROM (${RELATIONS}) r JOIN pg_class c ON c.oid = r.oid LEFT JOIN app_privileges p ON p.relation = r.relname ORDER BY r.relname`,
      [appRole],
    );
    const has = Object.fromEntries(r.rows.map((x) => [x.relname, x.has]));
    expect(has).toEqual(Object.fromEntries(r.rows.map((x) => [x.relname, x.wanted])));
    expect(has).toMatchObject({
      audit_events: ['INSERT', 'SELECT'],
      audit_checkpoints: ['INSERT', 'SELECT'],
      audit_events_seq_seq: ['USAGE'],
      messages: ['INSERT', 'SELECT', 'UPDATE'],
      app_privileges: [],
    });
    const schema = await t.db.query<{ create: boolean }>(`SELECT has_schema_privilege($1, 'public', 'CREATE') AS create`, [appRole]);
    expect(schema.rows).toEqual([{ create: false }]);
  });

  it('refuses to start when the application role is a superuser, the owner, may set session_replication_role, or the URLs name two databases', async () => {
    for (const [databaseUrl, reason] of [
      [ownerUrl, /can act as the owner/],
      [ADMIN_URL.replace(/\/[^/]*$/, `/${t.name ?? ''}`), /is a superuser/],
    ] as const) {
      const err = await open(databaseUrl, ownerUrl, createLogger('silent')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(reason);
    }
    // The owner's URL naming another database would migrate that one and leave this one empty.
    const elsewhere = new URL(ownerUrl);
    elsewhere.pathname = '/postgres';
    const wrongDatabase = await open(appUrl, elsewhere.toString(), createLogger('silent')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(wrongDatabase).toBeInstanceOf(ConfigError);
    expect((wrongDatabase as Error).message).toMatch(/both must name the same database/);
    // PostgreSQL 15 can let any role set the parameter that turns triggers off: such a role is refused too.
    await t.db.query(`GRANT SET ON PARAMETER session_replication_role TO ${appRole}`);
    try {
      const err = await open(appUrl, ownerUrl, createLogger('silent')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/may SET session_replication_role/);
    } finally {
      await t.db.query(`REVOKE SET ON PARAMETER session_replication_role FROM ${appRole}`);
    }
    // The owner still has every privilege on its tables (nothing was revoked from it).
    const owner = await t.db.query<{ ok: boolean }>(`SELECT has_table_privilege($1, 'audit_events', 'SELECT, INSERT') AS ok`, [ownerRole]);
    expect(owner.rows).toEqual([{ ok: true }]);
  });

  it('with DATABASE_URL alone: warns when its role owns the schema; an application role on a migrated schema starts quietly', async () => {
    const ownerSink = new LogSink();
    const asOwner = await open(ownerUrl, undefined, createLogger('debug', ownerSink));
    await asOwner.close();
    const warning = ownerSink.records().find((l) => l.level === 40 && String(l.msg).includes('could truncate the audit trail'));
    expect(warning).toMatchObject({ role: ownerRole, owner: true, superuser: false });

    const appSink = new LogSink();
    const asApp = await open(appUrl, undefined, createLogger('debug', appSink));
    const who = await asApp.query<{ role: string }>('SELECT current_user AS role');
    await asApp.close();
    expect(who.rows).toEqual([{ role: appRole }]);
    expect(appSink.records().filter((l) => Number(l.level) >= 40)).toEqual([]);
  });

  it('with DATABASE_URL alone as an application role and migrations pending: refuses to start, asking for the owner', async () => {
    const empty = await createTestDatabase('postgres', { migrated: false });
    try {
      const u = new URL(empty.url ?? '');
      u.username = appRole;
      const err = await open(u.toString(), undefined, createLogger('silent')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/may not apply the pending migrations.*STORK_MIGRATION_DATABASE_URL/);
    } finally {
      await empty.drop();
    }
  });

  it('the hub on the application role, with the owner for migrations, takes a newborn to its centre, read, acknowledged and audited', async () => {
    const prefix = `stork-test-${randomUUID().slice(0, 8)}`;
    const env = loadEnvConfig({
      STORK_HTTP_PORT: '0',
      STORK_MLLP_PORT: '0',
      STORK_HOST: '127.0.0.1',
      REDIS_URL,
      DATABASE_URL: appUrl,
      STORK_MIGRATION_DATABASE_URL: ownerUrl,
      STORK_CONFIG_DIR: repoRoot,
      STORK_QUEUE_PREFIX: prefix,
      STORK_WORKER_CONCURRENCY: '4',
      LOG_LEVEL: 'debug',
    });
    const hubSink = new LogSink();
    let hub: Hub | undefined;
    let client: MllpClient | undefined;
    try {
      hub = await startHub({ env, logger: createLogger('debug', hubSink) });
      const who = await hub.db.query<{ role: string }>('SELECT current_user AS role');
      expect(who.rows).toEqual([{ role: appRole }]);
      const http = `http://127.0.0.1:${hub.httpPort ?? 0}`;
      client = await MllpClient.connect({ host: '127.0.0.1', port: hub.mllpPort ?? 0, timeoutMs: 10000 });
      const baby = describeNewborn({
        sendingFacility: 'RX1',
        sendingApplication: 'MATERNITY',
        messageTime: new Date(),
        seed: 707,
        controlId: `ROLES-${suffix}`,
        postcodes: ['LS9 7AB'],
      });
      expect((await client.send(baby.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
      const key = 'demo-osmondthorpe-key';
      const item = await pollUntil(async () => {
        const res = await api(http, key, '/v1/centres/osmondthorpe/notifications?status=new');
        const page = (await res.json()) as { items: { notificationId: string; record: { baby: { nhsNumber?: string } } }[] };
        return page.items.find((i) => i.record.baby.nhsNumber === baby.baby.nhsNumber);
      }, 'the newborn in the centre inbox');
      expect((await api(http, key, `/v1/centres/osmondthorpe/notifications/${item.notificationId}`)).status).toBe(200);
      const ack = await api(http, key, `/v1/centres/osmondthorpe/notifications/${item.notificationId}/ack`, { method: 'POST' });
      expect(ack.status).toBe(200);
      const audit = await api(http, 'demo-ig-key', `/v1/audit?subject=${baby.baby.nhsNumber}`);
      expect(audit.status).toBe(200);
      const actions = ((await audit.json()) as { items: { action: string }[] }).items.map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['received', 'decided', 'routed', 'delivered', 'read', 'acknowledged']));
      expect(hubSink.records().filter((l) => Number(l.level) >= 50)).toEqual([]);
    } finally {
      await client?.close();
      await hub?.stop();
      await deleteKeys(prefix);
    }
  });
});
