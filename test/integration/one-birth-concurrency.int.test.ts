import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { SqlNotificationStore } from '../../adapters/store/sql-notification-store.js';
import { createLogger } from '../../src/logger.js';
import type { ProcessingTransaction } from '../../src/ports/notification-store.js';
import { processMessages, type ProcessDeps } from '../../src/processing/process-messages.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn, londonHl7Time } from '../support/synthetic/newborn-adt.js';
import { nemsAsXml, nemsBirthBundle } from '../support/synthetic/nems-birth.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';

/**
 * A store whose processing transactions stop after their insert until `afterInsert` resolves: with it, one worker
 * holds its new (uncommitted) notification while the other worker's insert of the same baby runs into it.
 */
class PausingStore extends SqlNotificationStore {
  constructor(
    db: ConstructorParameters<typeof SqlNotificationStore>[0],
    private readonly afterInsert: () => Promise<void>,
  ) {
    super(db);
  }

  override processingTransaction<T>(work: (tx: ProcessingTransaction) => Promise<T>): Promise<T> {
    return super.processingTransaction((tx) =>
      work({
        createNotifications: async (items, at) => {
          const created = await tx.createNotifications(items, at);
          await this.afterInsert();
          return created;
        },
        messagesWithNotification: (ids) => tx.messagesWithNotification(ids),
        lockLiveNotifications: (keys) => tx.lockLiveNotifications(keys),
        lockMatchingNotifications: (keys) => tx.lockMatchingNotifications(keys),
        enrichNotifications: (updates, at) => tx.enrichNotifications(updates, at),
        withdrawNotifications: (ids, at) => tx.withdrawNotifications(ids, at),
        markMessages: (ids, status, at, reason) => tx.markMessages(ids, status, at, reason),
        appendAudit: (events) => tx.appendAudit(events),
        consents: () => tx.consents(),
      }),
    );
  }
}

/**
 * Two messages about one baby (the trust's ADT without the NHS number, the national notification with it),
 * processed in one batch or by two workers at once, make one notification: the unique birth key is the arbiter.
 * The messages are received by an intake-only hub (real MLLP and HTTP, real canonical records); the test then runs
 * the processing job itself, so it decides when each worker runs. On PostgreSQL the first worker holds its insert
 * until the second worker's insert is seen waiting on it (pg_stat_activity), so the race is real, every run.
 */
describe('One birth, one offer under concurrency', () => {
  let t: TestHub;
  let client: MllpClient;
  const enqueued: string[] = [];
  beforeAll(async () => {
    t = await startTestHub({ env: { STORK_ROLES: 'intake' } });
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  const deps = (store: SqlNotificationStore): ProcessDeps => ({
    store,
    deliveryJobs: {
      enqueue: (_inbox, ids) => {
        enqueued.push(...ids);
        return Promise.resolve();
      },
    },
    rulebook: t.hub.config.rulebook,
    catchments: t.hub.config.catchments,
    logger: createLogger('silent'),
  });

  /** Receives the same baby by both routes; returns the two stored (queued) message ids and the mother's NHS number. */
  async function receiveBoth(seed: number): Promise<{ adtId: string; nemsId: string; mother: string }> {
    const now = new Date();
    const born = new Date(Math.floor((now.getTime() - 3600_000) / 60_000) * 60_000);
    const local = londonHl7Time(born);
    const v2 = describeNewborn({
      seed,
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      postcodes: ['LS9 7AB'],
      messageTime: now,
      birthTime: born,
      withoutNhsNumber: true,
      controlId: `RACE-${seed}`,
    });
    expect((await client.send(v2.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    const res = await api(t.http, 'demo-nems-key', '/v1/fhir/$process-message', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+xml' },
      body: nemsAsXml(
        nemsBirthBundle({
          bundleId: `race-${seed}`,
          timestamp: now.toISOString(),
          birthDate: `${local.slice(0, 4)}-${local.slice(4, 6)}-${local.slice(6, 8)}`,
          birthTime: born.toISOString(),
          babyNhsNumber: v2.baby.nhsNumber,
          motherNhsNumber: v2.mother?.nhsNumber ?? '',
          sex: v2.baby.sex,
        }),
      ),
    });
    expect(res.status).toBe(200);
    const r = await t.database.db.query<{ id: string; status: string }>(`SELECT id, status FROM messages WHERE control_id = $1`, [
      `RACE-${seed}`,
    ]);
    expect(r.rows[0]?.status).toBe('queued');
    return { adtId: r.rows[0]?.id ?? '', nemsId: res.headers.get('x-stork-message-id') ?? '', mother: v2.mother?.nhsNumber ?? '' };
  }

  async function oneNotification(mother: string, ids: readonly string[]): Promise<void> {
    const notes = await t.database.db.query<{ id: string }>(`SELECT id FROM notifications WHERE mother_nhs_number = $1`, [mother]);
    expect(notes.rows).toHaveLength(1);
    const statuses = await t.database.db.query<{ status: string }>(
      `SELECT status FROM messages WHERE id = ANY($1::uuid[]) ORDER BY status`,
      [ids],
    );
    expect(statuses.rows.map((x) => x.status)).toEqual(['duplicate', 'processed']);
    const linked = await t.database.db.query<{ message_id: string; details: { firstMessageId: string } }>(
      `SELECT message_id, details FROM audit_events WHERE action = 'linked' AND notification_id = $1`,
      [notes.rows[0]?.id],
    );
    expect(linked.rows).toHaveLength(1);
    expect([linked.rows[0]?.message_id, linked.rows[0]?.details.firstMessageId].sort()).toEqual([...ids].sort());
  }

  test('in one batch: one notification, the second message linked', async () => {
    const { adtId, nemsId, mother } = await receiveBoth(9201);
    await processMessages(deps(new SqlNotificationStore(t.database.db)), [nemsId, adtId]);
    await oneNotification(mother, [adtId, nemsId]);
  });

  for (const [seed, firstRoute] of [
    [9202, 'the ADT'],
    [9203, 'NEMS'],
  ] as const) {
    test(`two workers at once, ${firstRoute} inserting first: one notification`, async () => {
      const { adtId, nemsId, mother } = await receiveBoth(seed);
      const [first, second] = firstRoute === 'the ADT' ? [adtId, nemsId] : [nemsId, adtId];
      const postgres = t.database.kind === 'postgres';
      let inserted: () => void = () => undefined;
      const firstInserted = new Promise<void>((resolve) => {
        inserted = resolve;
      });
      const waiting = async () => {
        const r = await t.database.db.query<{ n: string | number }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return Number(r.rows[0]?.n) > 0 ? true : undefined;
      };
      const pausing = new PausingStore(t.database.db, async () => {
        inserted();
        // PostgreSQL: hold the uncommitted notification until the other worker's insert waits on it. PGlite has
        // one connection, so its transactions take turns: the second worker simply runs after the first.
        if (postgres) await pollUntil(waiting, "the second worker's insert waiting on the first");
      });
      const one = processMessages(deps(pausing), [first]);
      await firstInserted;
      const two = processMessages(deps(new SqlNotificationStore(t.database.db)), [second]);
      await Promise.all([one, two]);
      await oneNotification(mother, [adtId, nemsId]);
      const firstMade = await t.database.db.query<{ message_id: string }>(
        `SELECT message_id FROM notifications WHERE mother_nhs_number = $1`,
        [mother],
      );
      expect(firstMade.rows[0]?.message_id).toBe(first);
    });
  }
});
