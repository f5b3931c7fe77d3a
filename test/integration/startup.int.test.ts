import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadEnvConfig, repoRoot } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/config-error.js';
import { createLogger } from '../../src/logger.js';
import { startHub } from '../../src/hub.js';
import { openStore } from '../../adapters/store/open-store.js';
import { openPglite } from '../../adapters/store/pglite-database.js';
import { ADMIN_URL, createTestDatabase, storeKind } from '../support/test-database.js';
import { deleteKeys, REDIS_URL } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';

const logger = createLogger('silent');

describe('Start-up says what is wrong, where, and how to fix it', () => {
  test('Redis unreachable: names Redis, its address and how to start one', async () => {
    const env = loadEnvConfig({ REDIS_URL: 'redis://127.0.0.1:1', STORK_CONFIG_DIR: repoRoot, STORK_HTTP_PORT: '0', STORK_MLLP_PORT: '0' });
    const err = await startHub({ env, logger }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /^Redis at 127\.0\.0\.1:1 cannot be reached \(ECONNREFUSED\)\. Start one locally with `redis-server/,
    );
  });

  test('PostgreSQL unreachable: names PostgreSQL, its address (no password) and how to start one', async () => {
    const err = await openStore({ databaseUrl: 'postgres://stork:secret@127.0.0.1:1/stork', dataDir: os.tmpdir(), logger }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /^PostgreSQL at 127\.0\.0\.1:1\/stork cannot be reached \(ECONNREFUSED\)\. Start one locally with `pg_ctlcluster/,
    );
    expect((err as Error).message).not.toContain('secret');
  });

  test('a bad configuration file stops start-up naming the file and the field', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-bad-config-'));
    const env = loadEnvConfig({ STORK_CONFIG_DIR: dir, STORK_HTTP_PORT: '0', STORK_MLLP_PORT: '0' });
    const err = await startHub({ env, logger }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.some((p) => p.startsWith(path.join(dir, 'mappings', 'feeds.json')))).toBe(true);
  });

  test('the embedded store admits one process: a second opening of the same folder is refused', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-pglite-'));
    const first = await openPglite(dir);
    try {
      await expect(openPglite(dir)).rejects.toThrow(/already open in this process/);
    } finally {
      await first.close();
    }
    // A lock left by another live process (here: our parent) is respected; one left by a dead process is taken over.
    writeFileSync(path.join(dir, 'stork.lock'), String(process.ppid));
    await expect(openPglite(dir)).rejects.toThrow(new RegExp(`in use by process ${process.ppid}. PGlite allows one process only`));
    writeFileSync(path.join(dir, 'stork.lock'), '999999999');
    const reopened = await openPglite(dir);
    await reopened.close();
  });
});

describe('A start-up that fails part-way leaves nothing open', () => {
  /** Redis connections named for this hub's queue prefix: its own (`<prefix>:producer`, `<prefix>:worker`) and BullMQ's. */
  async function redisClients(prefix: string): Promise<number> {
    const admin = new Redis(REDIS_URL);
    try {
      const list = (await admin.client('LIST')) as string;
      return list.split('\n').filter((line) => new RegExp(`\\bname=${prefix}:`).test(line)).length;
    } finally {
      admin.disconnect();
    }
  }

  /** Sessions connected to one PostgreSQL database. */
  async function pgSessions(database: string): Promise<number> {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      const r = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [database]);
      return Number(r.rows[0]?.n ?? 0);
    } finally {
      await admin.end();
    }
  }

  test('the MLLP port is taken: startHub rejects naming the port and setting, and closes its Redis connections, workers and pool', async () => {
    const kind = storeKind();
    const prefix = `stork-test-${randomUUID().slice(0, 8)}`;
    // PostgreSQL: the hub opens its own pool on a fresh database. PGlite: its own folder (one process, one opening).
    const database = kind === 'postgres' ? await createTestDatabase('postgres') : undefined;
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'stork-startup-'));
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as net.AddressInfo).port;
    const settings = (mllpPort: string) =>
      loadEnvConfig({
        REDIS_URL,
        STORK_CONFIG_DIR: repoRoot,
        STORK_HOST: '127.0.0.1',
        STORK_HTTP_PORT: '0',
        STORK_MLLP_PORT: mllpPort,
        STORK_QUEUE_PREFIX: prefix,
        STORK_DATA_DIR: dataDir,
        ...(database?.url ? { DATABASE_URL: database.url } : {}),
      });
    const sessions = async () => (database?.name ? pgSessions(database.name) : 0);
    try {
      const baseline = await sessions();
      expect(await redisClients(prefix)).toBe(0);

      // The counts can see a hub: one that starts has Redis connections (and a pool) open, and stop() closes them.
      const hub = await startHub({ env: settings('0'), logger });
      expect(await redisClients(prefix)).toBeGreaterThanOrEqual(2);
      if (database) expect(await sessions()).toBeGreaterThan(baseline);
      await hub.stop();
      await pollUntil(
        async () => ((await redisClients(prefix)) === 0 ? true : undefined),
        'the stopped hub to close its Redis connections',
      );
      await pollUntil(async () => ((await sessions()) === baseline ? true : undefined), 'the stopped hub to close its pool');

      // The MLLP port is taken: start-up opens Redis, the store and the workers, then fails at the listener.
      const err = await startHub({ env: settings(String(takenPort)), logger }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toBe(
        `The MLLP port 127.0.0.1:${takenPort} is already in use (EADDRINUSE). Stop the other process or set STORK_MLLP_PORT (and STORK_HOST).`,
      );
      await pollUntil(
        async () => ((await redisClients(prefix)) === 0 ? true : undefined),
        'the failed start to close its Redis connections',
      );
      await pollUntil(async () => ((await sessions()) === baseline ? true : undefined), 'the failed start to close its pool');
      // PGlite allows one opening per folder: opening it again proves the failed start closed it and released its lock.
      if (!database) await (await openPglite(path.join(dataDir, 'pglite'))).close();
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
      await database?.drop();
      await deleteKeys(prefix);
    }
  });
});
