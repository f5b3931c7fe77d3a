import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { Redis } from 'ioredis';
import { BullmqQueues } from '../../adapters/queue/bullmq-queues.js';
import { openPostgres } from '../../adapters/store/postgres-database.js';
import { repoRoot } from '../../src/config/env.js';
import { feedMapper, loadHubConfig } from '../../src/config/hub-config.js';
import { Hl7v2Intake } from '../../src/intake/hl7v2-intake.js';
import { LogSink } from '../support/log-sink.js';
import { SqlMessageStore } from '../../adapters/store/sql-message-store.js';
import { createLogger } from '../../src/logger.js';
import { RequeueStranded } from '../../src/processing/requeue-stranded.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { createTestDatabase, storeKind } from '../support/test-database.js';
import { startTestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { pseudo } from '../support/data-keys.js';

const baby = (seed: number, controlId: string) =>
  describeNewborn({
    seed,
    controlId,
    sendingFacility: 'RX1',
    sendingApplication: 'MATERNITY',
    messageTime: new Date(),
    postcodes: ['LS9 7AB'],
  });

const msa1 = (ack: string): string | undefined => ack.split('\r')[1]?.split('|')[1];

/**
 * Intake answers a message once it is committed as `queued`, and adds its processing job after the ACK. A job that
 * never reaches the workers' queue must not leave the message waiting for a restart: the workers' recovery sweep
 * queues it again (STORK_RECOVERY_SWEEP_MS).
 */
describe('Recovery sweep: a stored message whose job never reached the workers is processed without a restart', () => {
  test('a message positively ACKed by an intake whose job went to a queue no worker reads is delivered by a running worker', async () => {
    const database = await createTestDatabase();
    // The worker runs first, so its boot recovery has nothing to find: only the sweep can pick the message up.
    const worker = await startTestHub({ database, env: { STORK_ROLES: 'worker', STORK_RECOVERY_SWEEP_MS: '200' } });
    // The intake adds its jobs under another queue prefix, which no worker reads: for the worker, the job never arrived.
    const intake = await startTestHub({ database, env: { STORK_ROLES: 'intake' } });
    try {
      const b = baby(811, 'SWEEP-1');
      const client = await MllpClient.connect({ host: '127.0.0.1', port: intake.mllpPort });
      const ack = await client.send(b.text);
      await client.close();
      // The synthetic feed sends in enhanced mode: CA is its positive commit ACK.
      expect(msa1(ack)).toBe('CA');
      const delivered = await pollUntil(
        async () => {
          const r = await database.db.query<{ inbox_id: string }>(
            `SELECT i.inbox_id FROM inbox_items i JOIN notifications n ON n.id = i.notification_id WHERE n.baby_nhs_number = $1`,
            [pseudo(b.baby.nhsNumber)],
          );
          return r.rows[0]?.inbox_id;
        },
        'the swept message in a centre inbox',
        20000,
      );
      expect(delivered).toBe('osmondthorpe');
      expect(worker.sink.text).toContain('recovery sweep: stranded messages queued again');
      expect(worker.sink.text).not.toContain('recovered unfinished work at boot');
      const status = await database.db.query<{ status: string }>(`SELECT status FROM messages WHERE control_id = 'SWEEP-1'`);
      expect(status.rows[0]?.status).toBe('processed');
    } finally {
      await intake.hub.stop();
      await worker.stop();
    }
  });

  test('with Redis unreachable, intake still answers positively: the message is stored as queued and the failed enqueue is logged', async () => {
    const t = await createTestDatabase();
    // A real client to a port where nothing listens, failing at once instead of queueing commands offline.
    const deadRedis = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    deadRedis.on('error', () => undefined);
    const queues = new BullmqQueues(deadRedis, 'stork-test-dead-redis');
    queues.processQueue.on('error', () => undefined);
    try {
      const config = loadHubConfig(repoRoot);
      const sink = new LogSink();
      const intake = new Hl7v2Intake({
        feeds: config.feeds,
        mapper: feedMapper(config.mappings),
        store: new SqlMessageStore(t.db),
        processingJobs: queues,
        logger: createLogger('debug', sink),
      });
      const b = baby(812, 'REDIS-DOWN-1');
      const result = await intake.receive({ bytes: Buffer.from(b.text, 'utf8'), channel: 'mllp', remoteAddress: '127.0.0.1' });
      expect(result.code).toBe('CA');
      expect(result.stored).toBe(true);
      expect(result.status).toBe('queued');
      // Shutdown waits for the enqueue, which has failed by then.
      await intake.drained();
      expect(sink.text).toContain('enqueue failed after commit');
      const row = await t.db.query<{ status: string }>(`SELECT status FROM messages WHERE control_id = 'REDIS-DOWN-1'`);
      expect(row.rows[0]?.status).toBe('queued');
    } finally {
      await queues.close().catch(() => undefined);
      deadRedis.disconnect();
      await t.drop();
    }
  });

  test('the sweep leaves alone a message received within the interval, holds back while the queue has a backlog, and queues a message again only once', async () => {
    const t = await createTestDatabase();
    try {
      const store = new SqlMessageStore(t.db);
      const id = '0b7c5a3e-3f0e-4a51-9a55-2f4f7c1d9e01';
      const receivedAt = new Date('2026-11-29T06:00:00Z');
      const [outcome] = await store.recordReceipts([
        {
          id,
          receivedAt,
          channel: 'mllp',
          raw: Buffer.from('MSH|^~\\&|'),
          rawTruncated: false,
          sizeBytes: 9,
          sha256: 'x',
          status: 'queued',
          issues: [],
          audit: [],
        },
      ]);
      expect(outcome?.kind).toBe('stored');
      const enqueued: string[][] = [];
      let backlog = 0;
      const processingJobs = {
        enqueue: (ids: readonly string[]) => {
          enqueued.push([...ids]);
          return Promise.resolve();
        },
        backlog: () => Promise.resolve(backlog),
      };
      // The worker started a second before the message arrived; the sweep interval is a minute.
      let now = receivedAt.getTime() - 1000;
      const sweep = new RequeueStranded({ store, processingJobs, logger: createLogger('silent'), clock: () => new Date(now) }, 60_000);
      // 10 s after receipt: not stranded yet.
      now = receivedAt.getTime() + 10_000;
      expect(await sweep.sweepOnce()).toBe(0);
      expect(enqueued).toEqual([]);
      // 2 minutes after receipt, but jobs are waiting in the queue: held back.
      now = receivedAt.getTime() + 120_000;
      backlog = 3;
      expect(await sweep.sweepOnce()).toBeUndefined();
      expect(enqueued).toEqual([]);
      // The backlog drained: queued again.
      backlog = 0;
      expect(await sweep.sweepOnce()).toBe(1);
      expect(enqueued).toEqual([[id]]);
      // Still queued a sweep later (its processing keeps failing, say): not queued again and again.
      now = receivedAt.getTime() + 300_000;
      expect(await sweep.sweepOnce()).toBe(0);
      expect(enqueued).toEqual([[id]]);
    } finally {
      await t.drop();
    }
  });

  // Two processes at once need two connections: PostgreSQL only (PGlite is one connection in one process).
  (storeKind() === 'postgres' ? test : test.skip)('two workers sweeping at the same moment: one sweeps, the other holds back', async () => {
    const t = await createTestDatabase();
    try {
      const store = new SqlMessageStore(t.db);
      // A second pool on the same database, as a second worker process would have.
      const secondPool = await openPostgres({ connectionString: t.url ?? '' });
      const secondStore = new SqlMessageStore(secondPool);
      try {
        const receivedAt = new Date(Date.now() - 600_000);
        await store.recordReceipts([
          {
            id: '5d7f3c1a-8b2e-4c6d-9e0f-1a2b3c4d5e6f',
            receivedAt,
            channel: 'mllp',
            raw: Buffer.from('MSH|^~\\&|'),
            rawTruncated: false,
            sizeBytes: 9,
            sha256: 'x',
            status: 'queued',
            issues: [],
            audit: [],
          },
        ]);
        let secondSweep: number | undefined | 'not run' = 'not run';
        const since = new Date(0);
        const first = await store.withStrandedIds(since, new Date(), 100, async () => {
          secondSweep = await secondStore.withStrandedIds(since, new Date(), 100, () => Promise.resolve());
        });
        expect(first).toBe(1);
        expect(secondSweep).toBeUndefined();
        // Once the first has finished, the lock is free again.
        expect(await secondStore.withStrandedIds(since, new Date(), 100, () => Promise.resolve())).toBe(1);
      } finally {
        await secondPool.close();
      }
    } finally {
      await t.drop();
    }
  });
});
