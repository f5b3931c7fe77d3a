import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEnvConfig, repoRoot } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/config-error.js';
import { createLogger } from '../../src/logger.js';
import { startHub } from '../../src/hub.js';
import { openStore } from '../../adapters/store/open-store.js';
import { openPglite } from '../../adapters/store/pglite-database.js';

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
