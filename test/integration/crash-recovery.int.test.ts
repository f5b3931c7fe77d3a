import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { PROCESS_QUEUE, type ProcessJobData } from '../../adapters/queue/bullmq-queues.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { createTestDatabase } from '../support/test-database.js';
import { deleteKeys, REDIS_URL, startTestHub } from '../support/test-hub.js';
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

describe('Nothing is lost when a worker dies or a job goes missing', () => {
  test('a job taken by a worker that dies mid-job is taken up again and makes exactly one notification', async () => {
    // Intake only: the job waits in Redis until something takes it.
    const database = await createTestDatabase();
    const intake = await startTestHub({ database, env: { STORK_ROLES: 'intake', STORK_JOB_LOCK_MS: '1000' } });
    const prefix = intake.prefix;
    const b = baby(701, 'CRASH-1');
    const client = await MllpClient.connect({ host: '127.0.0.1', port: intake.mllpPort });
    await client.send(b.text);
    await client.close();

    // A worker takes the job and dies without finishing it (its connection is cut, its lock lapses).
    const doomedConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const doomed = new Worker<ProcessJobData>(PROCESS_QUEUE, null, { connection: doomedConnection, prefix, lockDuration: 1000 });
    const job = await pollUntil(async () => await doomed.getNextJob('doomed-token'), 'the job to be taken');
    expect(job.data.messageIds).toHaveLength(1);
    doomedConnection.disconnect();
    await doomed.close(true).catch(() => undefined);

    // A real worker starts against the same store and Redis: the stalled job is moved back and processed.
    await intake.hub.stop();
    const worker = await startTestHub({
      database,
      env: { STORK_ROLES: 'intake,worker', STORK_JOB_LOCK_MS: '1000', STORK_QUEUE_PREFIX: prefix },
    });
    try {
      const count = await pollUntil(
        async () => {
          const r = await database.db.query<{ n: string | number }>(
            `SELECT count(*) AS n FROM inbox_items i JOIN notifications n ON n.id = i.notification_id WHERE n.baby_nhs_number = $1`,
            [pseudo(b.baby.nhsNumber)],
          );
          return Number(r.rows[0]?.n) > 0 ? Number(r.rows[0]?.n) : undefined;
        },
        'the notification in the inbox',
        20000,
      );
      expect(count).toBe(1);
      const notifications = await database.db.query<{ n: string | number }>(
        `SELECT count(*) AS n FROM notifications WHERE baby_nhs_number = $1`,
        [pseudo(b.baby.nhsNumber)],
      );
      expect(Number(notifications.rows[0]?.n)).toBe(1);
      // The dead worker's job itself was moved back as stalled and run to completion (boot recovery also
      // re-queued the message: both ran, and still one notification).
      const connection = new Redis(REDIS_URL);
      const queue = new Queue(PROCESS_QUEUE, { connection, prefix });
      const state = await pollUntil(
        async () => {
          const s = await queue.getJobState(job.id ?? '');
          return s === 'completed' ? s : undefined;
        },
        'the stalled job to complete',
        20000,
      );
      expect(state).toBe('completed');
      await queue.close();
      connection.disconnect();
    } finally {
      await worker.stop();
    }
  });

  test('a message whose job vanished from Redis is queued again when a worker starts', async () => {
    const database = await createTestDatabase();
    const intake = await startTestHub({ database, env: { STORK_ROLES: 'intake' } });
    const prefix = intake.prefix;
    const b = baby(702, 'LOST-JOB-1');
    const client = await MllpClient.connect({ host: '127.0.0.1', port: intake.mllpPort });
    await client.send(b.text);
    await client.close();
    await intake.hub.stop();
    // Redis loses the job (a flush, a failover without persistence…).
    const connection = new Redis(REDIS_URL);
    const queue = new Queue(PROCESS_QUEUE, { connection, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
    await deleteKeys(prefix);
    const row = await database.db.query<{ status: string }>(`SELECT status FROM messages WHERE control_id = 'LOST-JOB-1'`);
    expect(row.rows[0]?.status).toBe('queued');

    const worker = await startTestHub({ database, env: { STORK_ROLES: 'intake,worker', STORK_QUEUE_PREFIX: prefix } });
    try {
      const status = await pollUntil(
        async () => {
          const r = await database.db.query<{ status: string }>(`SELECT status FROM messages WHERE control_id = 'LOST-JOB-1'`);
          return r.rows[0]?.status === 'processed' ? r.rows[0].status : undefined;
        },
        'the message to be processed after boot recovery',
        20000,
      );
      expect(status).toBe('processed');
      expect(worker.sink.text).toContain('recovered unfinished work at boot');
    } finally {
      await worker.stop();
    }
  });

  test('a worker-only process serves /healthz and /readyz for its probes, and no API', async () => {
    const worker = await startTestHub({ env: { STORK_ROLES: 'worker' } });
    try {
      expect(worker.mllpPort).toBe(0);
      expect((await fetch(`${worker.http}/healthz`)).status).toBe(200);
      const ready = await fetch(`${worker.http}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { store: 'ok', redis: 'ok' } });
      expect((await fetch(`${worker.http}/v1/messages`)).status).toBe(404);
    } finally {
      await worker.stop();
    }
  });
});
