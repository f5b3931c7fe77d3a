import { Redis } from 'ioredis';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { inboxIds } from '../../src/config/hub-config.js';
import { loadEnvConfig, repoRoot } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/config-error.js';
import { createLogger } from '../../src/logger.js';
import { startHub } from '../../src/hub.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { OwnRedisCluster, OwnRedisSentinel } from '../support/own-redis-cluster.js';
import { inboxItemsPerBaby } from '../support/inbox-arrivals.js';
import { storeKind } from '../support/test-database.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';

const BIRTHS = 6;

const birth = (seed: number, tag: string) => {
  const b = describeNewborn({
    seed,
    controlId: `${tag}-${seed}`,
    sendingFacility: 'RX1',
    sendingApplication: 'MATERNITY',
    messageTime: new Date(),
    postcodes: ['LS9 7AB'],
  });
  // Original acknowledgment mode: AA is the positive answer.
  return { ...b, text: b.text.replace('|AL|NE|', '|||') };
};
const msa1 = (ack: string): string | undefined => ack.split('\r')[1]?.split('|')[1];

/** Births over one MLLP connection, each answered AA, then each in its centre inbox exactly once. */
async function birthsThrough(t: TestHub, firstSeed: number, tag: string): Promise<void> {
  const births = Array.from({ length: BIRTHS }, (_, i) => birth(firstSeed + i, tag));
  const client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  try {
    for (const b of births) expect(msa1(await client.send(b.text))).toBe('AA');
  } finally {
    await client.close().catch(() => client.destroy());
  }
  const nhsNumbers = births.map((b) => b.baby.nhsNumber);
  const delivered = await inboxItemsPerBaby(t.database.db, nhsNumbers, 'every birth in its centre inbox', 20000);
  expect(delivered.filter((r) => Number(r.n) !== 1)).toEqual([]);
  const statuses = await t.database.db.query<{ status: string; n: string | number }>(
    `SELECT status, count(*) AS n FROM messages WHERE control_id LIKE $1 GROUP BY status`,
    [`${tag}-%`],
  );
  expect(statuses.rows.map((r) => [r.status, Number(r.n)])).toEqual([['processed', BIRTHS]]);
}

/** Every key on this server matching the pattern. */
async function keysOn(port: number, pattern: string): Promise<string[]> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  } finally {
    redis.disconnect();
  }
}

/**
 * Stork on a Redis Cluster and on a Sentinel-managed master (README, "Deployment"): real `redis-server` processes on
 * free loopback ports, started and killed by the test. Store-agnostic, so it runs on the PostgreSQL project only.
 */
(storeKind() === 'postgres' ? describe : describe.skip)('Redis modes: cluster and sentinel', () => {
  test('a 3-master Redis Cluster: births over MLLP reach their inboxes; every queue key is hash-tagged; depths and dashboard read', async () => {
    const cluster = await OwnRedisCluster.start();
    let t: TestHub | undefined;
    try {
      t = await startTestHub({
        env: { REDIS_URL: '', STORK_REDIS_MODE: 'cluster', STORK_REDIS_NODES: cluster.nodes, STORK_RECOVERY_SWEEP_MS: '500' },
      });
      await birthsThrough(t, 3100, 'RC');

      // Every BullMQ key lives under a per-queue hash tag, so each queue's keys share one slot (BullMQ's scripts
      // need that) while the queues spread over the masters.
      const keys = (await Promise.all(cluster.ports.map((p) => keysOn(p, '*')))).flat();
      const ours = keys.filter((k) => k.includes(t?.prefix ?? '?'));
      expect(ours.length).toBeGreaterThan(0);
      expect(ours.filter((k) => !/^\{[^}]+\}:/.test(k))).toEqual([]);
      expect(ours.some((k) => k.startsWith(`{${t?.prefix ?? '?'}:process}:process:`))).toBe(true);
      // The retention job's scheduler, upserted at start-up, lives under its queue's tag too.
      expect(ours.some((k) => k.startsWith(`{${t?.prefix ?? '?'}:retention}:retention:`))).toBe(true);

      // The metrics' queue depths and the administrators' dashboard read the cluster too.
      const inboxes = inboxIds(t.hub.config.catchments);
      const depths = await t.hub.queues.depths(inboxes);
      expect(depths.find((d) => d.queue === 'process')).toMatchObject({ waiting: 0, active: 0, failed: 0 });
      const info = await new BullMQAdapter(t.hub.queues.processQueue).getRedisInfo();
      expect(info).toContain('redis_version');
      expect(
        t.sink.records().filter((r) => r.msg === 'worker error' || r.msg === 'job failed for good; kept in the failed set for an operator'),
      ).toEqual([]);
    } finally {
      await Promise.race([t?.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 15000).unref())]);
      await cluster.stop();
    }
  }, 60000);

  test('a master behind Redis Sentinel: births over MLLP reach their inboxes; keys keep the plain prefix', async () => {
    const sentinel = await OwnRedisSentinel.start();
    let t: TestHub | undefined;
    try {
      t = await startTestHub({
        env: {
          REDIS_URL: '',
          STORK_REDIS_MODE: 'sentinel',
          STORK_REDIS_SENTINELS: sentinel.sentinels,
          STORK_REDIS_SENTINEL_MASTER: sentinel.masterName,
          STORK_RECOVERY_SWEEP_MS: '500',
        },
      });
      await birthsThrough(t, 3200, 'RS');
      const keys = await keysOn(sentinel.masterPort, `${t.prefix}:process:*`);
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      await Promise.race([t?.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 15000).unref())]);
      await sentinel.stop();
    }
  }, 60000);

  test.each([
    [
      { STORK_REDIS_MODE: 'cluster', STORK_REDIS_NODES: '127.0.0.1:1,127.0.0.1:2' },
      /^the Redis Cluster of seed nodes 127\.0\.0\.1:1, 127\.0\.0\.1:2 cannot be reached \(.+\)\. Check that the seed nodes of STORK_REDIS_NODES answer/,
    ],
    [
      { STORK_REDIS_MODE: 'sentinel', STORK_REDIS_SENTINELS: '127.0.0.1:1', STORK_REDIS_SENTINEL_MASTER: 'nowhere' },
      /^the Redis master "nowhere" of sentinels 127\.0\.0\.1:1 cannot be reached \(.+\)\. Check STORK_REDIS_SENTINELS/,
    ],
  ])(
    'start-up with %j unreachable says which Redis and what to check, within seconds',
    async (redis, message) => {
      const env = loadEnvConfig({ ...redis, STORK_CONFIG_DIR: repoRoot, STORK_HTTP_PORT: '0', STORK_MLLP_PORT: '0' });
      const started = Date.now();
      const err = await startHub({ env, logger: createLogger('silent') }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(message);
      expect(Date.now() - started).toBeLessThan(10000);
    },
    20000,
  );
});
