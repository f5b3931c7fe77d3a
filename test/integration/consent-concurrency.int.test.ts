import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { createLogger } from '../../src/logger.js';
import { processMessages, type ProcessDeps } from '../../src/processing/process-messages.js';
import { PausingStore } from '../support/pausing-store.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';

/**
 * An objection recorded while a worker is deciding a birth of the same family: the worker has read the register
 * (no objection) and inserted the notification, uncommitted. The API's transaction waits on the family's lock
 * (seen waiting in pg_stat_activity on PostgreSQL; PGlite's single connection makes it take its turn), then finds
 * the committed notification and withdraws it. Neither order lets the notification out.
 */
describe('Consent recorded while a birth of the family is being processed', () => {
  let t: TestHub;
  let client: MllpClient;
  beforeAll(async () => {
    t = await startTestHub({ env: { STORK_ROLES: 'intake' } });
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  test('the objection waits for the worker, then withdraws the notification before it is delivered', async () => {
    const baby = describeNewborn({
      seed: 1401,
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
      controlId: 'CONCUR-1',
    });
    expect((await client.send(baby.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    const id = (await t.database.db.query<{ id: string }>(`SELECT id FROM messages WHERE control_id = 'CONCUR-1'`)).rows[0]?.id ?? '';
    const postgres = t.database.kind === 'postgres';
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let paused: () => void = () => undefined;
    const pausedAt = new Promise<void>((resolve) => (paused = resolve));
    const enqueued: string[] = [];
    const deps: ProcessDeps = {
      store: new PausingStore(t.database.db, {
        afterInsert: async () => {
          paused();
          await released;
        },
      }),
      deliveryJobs: {
        enqueue: (_inbox, ids) => {
          enqueued.push(...ids);
          return Promise.resolve();
        },
      },
      rulebook: t.hub.config.rulebook,
      catchments: t.hub.config.catchments,
      logger: createLogger('silent'),
    };
    const worker = processMessages(deps, [id]);
    await pausedAt;
    const recording = api(t.http, 'demo-northgate-feed-key', '/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'objection',
        scope: 'offer-of-support',
        recipient: 'any',
        source: 'midwife',
        motherNhsNumber: baby.mother?.nhsNumber,
      }),
    });
    if (postgres) {
      await pollUntil(async () => {
        const r = await t.database.db.query<{ n: string | number }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
        );
        return Number(r.rows[0]?.n) > 0 ? true : undefined;
      }, 'the consent waiting on the family lock');
    }
    release();
    await worker;
    expect((await recording).status).toBe(201);
    const n = await t.database.db.query<{ id: string; status: string }>(`SELECT id, status FROM notifications WHERE message_id = $1`, [id]);
    expect(n.rows[0]?.status).toBe('withdrawn');
    const events = await t.database.db.query<{ outcome: string }>(
      `SELECT outcome FROM audit_events WHERE notification_id = $1 AND action = 'withdrawn'`,
      [n.rows[0]?.id],
    );
    expect(events.rows.map((e) => e.outcome)).toEqual(['withdrawn-before-delivery']);
    // Delivery finds nothing to deliver: the worker's job names it, but it is no longer routed.
    expect(await t.hub.db.query(`SELECT 1 FROM inbox_items WHERE notification_id = $1`, [n.rows[0]?.id]).then((r) => r.rows.length)).toBe(
      0,
    );
  });
});
