import { demoCipher, pseudo } from '../support/data-keys.js';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { SqlNotificationStore } from '../../adapters/store/sql-notification-store.js';
import { createLogger } from '../../src/logger.js';
import { processMessages, type ProcessDeps } from '../../src/processing/process-messages.js';
import { PausingStore } from '../support/pausing-store.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn, londonHl7Time } from '../support/synthetic/newborn-adt.js';
import { nemsAsXml, nemsBirthBundle } from '../support/synthetic/nems-birth.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';

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
  async function receiveBoth(seed: number, noSharedNhsNumber = false): Promise<{ adtId: string; nemsId: string; mother: string }> {
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
          sex: v2.baby.sex,
          // The gap case: the national notification without the mother's NHS number, named as the ADT names her.
          ...(noSharedNhsNumber
            ? { motherFamily: v2.mother?.family ?? '', motherGiven: v2.mother?.given ?? '', motherBirthDate: v2.mother?.birthDate ?? '' }
            : { motherNhsNumber: v2.mother?.nhsNumber ?? '' }),
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
    const notes = await t.database.db.query<{ id: string }>(`SELECT id FROM notifications WHERE mother_nhs_number = $1`, [pseudo(mother)]);
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
    await processMessages(deps(new SqlNotificationStore(t.database.db, demoCipher)), [nemsId, adtId]);
    await oneNotification(mother, [adtId, nemsId]);
  });

  for (const [seed, firstRoute, gap] of [
    [9202, 'the ADT', false],
    [9203, 'NEMS', false],
    [9204, 'NEMS', true],
  ] as const) {
    const what = gap ? ' (no NHS number shared: the demographic key arbitrates)' : '';
    test(`two workers at once, ${firstRoute} inserting first: one notification${what}`, async () => {
      const { adtId, nemsId, mother } = await receiveBoth(seed, gap);
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
      const pausing = new PausingStore(t.database.db, {
        afterInsert: async () => {
          inserted();
          // PostgreSQL: hold the uncommitted notification until the other worker's insert waits on it. PGlite has
          // one connection, so its transactions take turns: the second worker simply runs after the first.
          if (postgres) await pollUntil(waiting, "the second worker's insert waiting on the first");
        },
      });
      const one = processMessages(deps(pausing), [first]);
      await firstInserted;
      const two = processMessages(deps(new SqlNotificationStore(t.database.db, demoCipher)), [second]);
      await Promise.all([one, two]);
      await oneNotification(mother, [adtId, nemsId]);
      const firstMade = await t.database.db.query<{ message_id: string }>(
        `SELECT message_id FROM notifications WHERE mother_nhs_number = $1`,
        [pseudo(mother)],
      );
      expect(firstMade.rows[0]?.message_id).toBe(first);
    });
  }

  test('the same A08 moving a delivered notification, processed by two workers at once: one move, audited once', async () => {
    const now = new Date();
    const born = new Date(Math.floor((now.getTime() - 3600_000) / 60_000) * 60_000);
    const adt = (event: string, postcode: string) =>
      describeNewborn({
        seed: 9205,
        sendingFacility: 'RX1',
        sendingApplication: 'MATERNITY',
        postcodes: [postcode],
        messageTime: now,
        birthTime: born,
        event,
        controlId: `RACE-9205-${event}`,
      });
    const idOf = async (controlId: string) =>
      (await t.database.db.query<{ id: string }>(`SELECT id FROM messages WHERE control_id = $1`, [controlId])).rows[0]?.id ?? '';
    const a28 = adt('A28', 'LS9 7AB');
    expect((await client.send(a28.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    const store = new SqlNotificationStore(t.database.db, demoCipher);
    await processMessages(deps(store), [await idOf(a28.controlId)]);
    const n = (await t.database.db.query<{ id: string }>(`SELECT id FROM notifications WHERE message_id = $1`, [await idOf(a28.controlId)]))
      .rows[0]?.id;
    expect(await store.deliver('osmondthorpe', [n ?? ''], new Date())).toEqual([n]);

    const a08 = adt('A08', 'LS8 3DR');
    expect((await client.send(a08.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    const a08Id = await idOf(a08.controlId);
    const postgres = t.database.kind === 'postgres';
    let locked: () => void = () => undefined;
    const firstLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const waiting = async () => {
      const r = await t.database.db.query<{ n: string | number }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return Number(r.rows[0]?.n) > 0 ? true : undefined;
    };
    const pausing = new PausingStore(t.database.db, {
      afterLock: async () => {
        locked();
        if (postgres) await pollUntil(waiting, "the second worker's lock waiting on the first");
      },
    });
    enqueued.length = 0;
    const one = processMessages(deps(pausing), [a08Id]);
    await firstLocked;
    const two = processMessages(deps(new SqlNotificationStore(t.database.db, demoCipher)), [a08Id]);
    await Promise.all([one, two]);

    const row = await t.database.db.query<{ status: string; inbox_id: string }>(
      `SELECT status, inbox_id FROM notifications WHERE id = $1`,
      [n],
    );
    expect(row.rows).toEqual([{ status: 'routed', inbox_id: 'harehills' }]);
    const audit = await t.database.db.query<{ action: string; recipient: string | null; outcome: string | null }>(
      `SELECT action, recipient, outcome FROM audit_events WHERE message_id = $1 AND action IN ('updated', 'withdrawn', 'routed', 'duplicate-birth') ORDER BY seq`,
      [a08Id],
    );
    expect(audit.rows).toEqual([
      { action: 'updated', recipient: null, outcome: 'record-updated' },
      { action: 'withdrawn', recipient: 'osmondthorpe', outcome: 'moved-away' },
      { action: 'routed', recipient: 'harehills', outcome: 'centre' },
    ]);
    const items = await t.database.db.query<{ inbox_id: string; status: string }>(
      `SELECT inbox_id, status FROM inbox_items WHERE notification_id = $1`,
      [n],
    );
    expect(items.rows).toEqual([{ inbox_id: 'osmondthorpe', status: 'withdrawn' }]);
    // Both workers hand the move's delivery to Harehills' delivery job (the second finds it by the update's id):
    // delivering twice is harmless, delivering never would not be.
    expect(new Set(enqueued)).toEqual(new Set([n]));
    expect(await store.deliver('harehills', [n ?? ''], new Date())).toEqual([n]);
    expect(await store.deliver('harehills', [n ?? ''], new Date())).toEqual([]);
  });
});
