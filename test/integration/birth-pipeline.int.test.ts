import { demoCipher, pseudo } from '../support/data-keys.js';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { SqlNotificationStore } from '../../adapters/store/sql-notification-store.js';
import { processMessages } from '../../src/processing/process-messages.js';
import { createLogger } from '../../src/logger.js';
import { describeNewborn, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';

interface InboxPage {
  items: {
    notificationId: string;
    status: string;
    record: {
      dataset: string;
      baby: { nhsNumber?: string; birthOrder?: number };
      familyAddress?: { postcode?: string };
      mother?: { phone?: string };
      birthDetails?: unknown;
    };
  }[];
}

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;

describe('The birth pipeline: a newborn ADT reaches the right centre inbox, audited at every step', () => {
  let t: TestHub;
  let client: MllpClient;
  const newborn = (o: NewbornAdtOptions) => describeNewborn({ ...RX1, messageTime: new Date(), ...o });

  beforeAll(async () => {
    t = await startTestHub();
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  const inbox = async (centre: string, key: string): Promise<InboxPage> => {
    const res = await api(t.http, key, `/v1/centres/${centre}/notifications?status=new`);
    expect(res.status).toBe(200);
    return (await res.json()) as InboxPage;
  };
  const waitForBaby = (centre: string, key: string, nhs: string) =>
    pollUntil(async () => (await inbox(centre, key)).items.find((i) => i.record.baby.nhsNumber === nhs), `baby in ${centre}'s inbox`);

  test('a newborn in LS9 7AB is read by Osmondthorpe; another centre gets 404 and sees nothing of it', async () => {
    const baby = newborn({ seed: 101, controlId: 'PIPE-1', postcodes: ['LS9 7AB'] });
    expect((await client.send(baby.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    const item = await waitForBaby('osmondthorpe', 'demo-osmondthorpe-key', baby.baby.nhsNumber);
    expect(item.record.dataset).toBe('offer-of-support');
    expect(item.record.familyAddress?.postcode).toBe('LS9 7AB');
    expect(item.record.birthDetails).toBeUndefined();

    const other = await api(t.http, 'demo-harehills-key', '/v1/centres/osmondthorpe/notifications');
    expect(other.status).toBe(404);
    const own = await inbox('harehills', 'demo-harehills-key');
    expect(own.items.some((i) => i.record.baby.nhsNumber === baby.baby.nhsNumber)).toBe(false);
    expect((await api(t.http, 'demo-harehills-key', `/v1/centres/harehills/notifications/${item.notificationId}`)).status).toBe(404);

    const ack = await api(t.http, 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${item.notificationId}/ack`, {
      method: 'POST',
    });
    expect(ack.status).toBe(200);
    expect((await inbox('osmondthorpe', 'demo-osmondthorpe-key')).items.some((i) => i.notificationId === item.notificationId)).toBe(false);

    const audit = await api(t.http, 'demo-ig-key', `/v1/audit?subject=${baby.baby.nhsNumber}`);
    expect(audit.status).toBe(200);
    const events = (
      (await audit.json()) as {
        items: { action: string; recipient?: string; ruleId?: string; lawfulBasis?: string; rulebookVersion?: string }[];
      }
    ).items;
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['received', 'mapped', 'validated', 'decided', 'routed', 'delivered', 'read', 'acknowledged']),
    );
    const delivered = events.find((e) => e.action === 'delivered');
    expect(delivered).toMatchObject({ recipient: 'osmondthorpe', ruleId: 'offer-of-support' });
    expect(delivered?.rulebookVersion).toBe(`offer-of-support@${t.hub.config.rulebook.version}#sha256:${t.hub.config.rulebook.hash}`);
    expect(delivered?.lawfulBasis).toMatch(/Art 6\(1\)\(e\)/);
    expect((await api(t.http, 'demo-osmondthorpe-key', `/v1/audit?subject=${baby.baby.nhsNumber}`)).status).toBe(403);
  });

  test('twins become two notifications with birth order 1 and 2 in the same centre', async () => {
    const one = newborn({ seed: 202, controlId: 'TWIN-1', birthOrder: 1, postcodes: ['LS8 3DR'] });
    const two = newborn({ seed: 202, controlId: 'TWIN-2', birthOrder: 2, postcodes: ['LS8 3DR'] });
    await Promise.all([client.send(one.text), client.send(two.text)]);
    const a = await waitForBaby('harehills', 'demo-harehills-key', one.baby.nhsNumber);
    const b = await waitForBaby('harehills', 'demo-harehills-key', two.baby.nhsNumber);
    expect([a.record.baby.birthOrder, b.record.baby.birthOrder]).toEqual([1, 2]);
  });

  test('a restricted record goes to safeguarding review without address or phone; a deceased baby goes nowhere', async () => {
    const restricted = newborn({ seed: 303, controlId: 'RESTRICTED-1', restricted: true, postcodes: ['LS9 7AB'] });
    const deceased = newborn({ seed: 304, controlId: 'DECEASED-1', deceased: true, postcodes: ['LS9 7AB'] });
    await client.send(restricted.text);
    await client.send(deceased.text);
    const review = await waitForBaby('safeguarding-review', 'demo-safeguarding-review-key', restricted.baby.nhsNumber);
    expect(review.record.familyAddress).toBeUndefined();
    expect(review.record.mother?.phone).toBeUndefined();
    expect(JSON.stringify(review.record)).not.toContain(restricted.baby.postcode);
    const withheld = await pollUntil(async () => {
      const r = await t.database.db.query<{ status: string; inbox_id: string | null }>(
        `SELECT status, inbox_id FROM notifications WHERE baby_nhs_number = $1`,
        [pseudo(deceased.baby.nhsNumber)],
      );
      return r.rows[0];
    }, 'deceased baby decision');
    expect(withheld).toEqual({ status: 'withheld', inbox_id: null });
    expect(
      (await inbox('osmondthorpe', 'demo-osmondthorpe-key')).items.some((i) => i.record.baby.nhsNumber === deceased.baby.nhsNumber),
    ).toBe(false);
  });

  test('a retried job (as after a worker crash) creates no second notification, and a second message about the same baby is a duplicate', async () => {
    const baby = newborn({ seed: 404, controlId: 'RETRY-1', postcodes: ['LS9 7AB'] });
    await client.send(baby.text);
    await waitForBaby('osmondthorpe', 'demo-osmondthorpe-key', baby.baby.nhsNumber);
    const { rows } = await t.database.db.query<{ id: string }>(`SELECT id FROM messages WHERE control_id = 'RETRY-1'`);
    const messageId = rows[0]?.id ?? '';
    // Put the message back to 'queued', as if the worker died after its commit was lost, and run the job again.
    await t.database.db.query(`UPDATE messages SET status = 'queued' WHERE id = $1`, [messageId]);
    const store = new SqlNotificationStore(t.database.db, demoCipher);
    const deliveries: string[] = [];
    await processMessages(
      {
        store,
        deliveryJobs: {
          enqueue: (_inboxId, ids) => {
            deliveries.push(...ids);
            return Promise.resolve();
          },
        },
        rulebook: t.hub.config.rulebook,
        catchments: t.hub.config.catchments,
        logger: createLogger('silent'),
      },
      [messageId],
    );
    const count = await t.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM notifications WHERE baby_nhs_number = $1`, [
      pseudo(baby.baby.nhsNumber),
    ]);
    expect(Number(count.rows[0]?.n)).toBe(1);
    expect(deliveries).toEqual([]);

    const again = newborn({ seed: 404, controlId: 'RETRY-2', event: 'A04', postcodes: ['LS9 7AB'] });
    expect(again.baby.nhsNumber).toBe(baby.baby.nhsNumber);
    await client.send(again.text);
    const status = await pollUntil(async () => {
      const r = await t.database.db.query<{ status: string }>(`SELECT status FROM messages WHERE control_id = 'RETRY-2'`);
      return r.rows[0]?.status === 'queued' ? undefined : r.rows[0]?.status;
    }, 'second message processed');
    expect(status).toBe('duplicate');
  });

  test('an invalid NHS number is refused with AE naming PID-3 and quarantined, visible to operators', async () => {
    const bad = newborn({ seed: 505, controlId: 'BADNHS-1', invalidNhsNumber: true });
    const ack = (await client.send(bad.text)).split('\r');
    expect(ack[1]?.split('|')[1]).toBe('CE');
    expect(ack.find((s) => s.startsWith('ERR'))?.split('|')[2]).toMatch(/^PID\^1\^3/);
    const list = await api(t.http, 'demo-admin-key', '/v1/messages?status=quarantined');
    const items = ((await list.json()) as { items: { controlId?: string; issues: { path?: string }[] }[] }).items;
    expect(items.find((i) => i.controlId === 'BADNHS-1')?.issues[0]?.path).toBe('baby.nhsNumber');
  });

  describe('a baby who dies after the birth was notified', () => {
    interface Item {
      notificationId: string;
      status: string;
      withdrawnAt?: string;
      record?: unknown;
    }
    const messageStatus = (controlId: string) =>
      pollUntil(async () => {
        const r = await t.database.db.query<{ status: string }>(`SELECT status FROM messages WHERE control_id = $1`, [controlId]);
        return r.rows[0]?.status === 'queued' ? undefined : r.rows[0]?.status;
      }, `message ${controlId} processed`);

    test('an update reporting the death withdraws the notification from the centre at once, audited with the rule', async () => {
      const baby = newborn({ seed: 606, controlId: 'LIVE-606', postcodes: ['LS9 7AB'] });
      await client.send(baby.text);
      const item = await waitForBaby('osmondthorpe', 'demo-osmondthorpe-key', baby.baby.nhsNumber);

      const death = newborn({ seed: 606, controlId: 'DEATH-606', event: 'A08', deceased: true, postcodes: ['LS9 7AB'] });
      expect(death.baby.nhsNumber).toBe(baby.baby.nhsNumber);
      expect((await client.send(death.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
      const withdrawn = await pollUntil(async () => {
        const res = await api(t.http, 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${item.notificationId}`);
        const body = (await res.json()) as Item;
        return body.status === 'withdrawn' ? body : undefined;
      }, 'notification withdrawn');
      expect(withdrawn.withdrawnAt).toEqual(expect.any(String));
      expect(withdrawn.record).toBeUndefined();
      expect((await inbox('osmondthorpe', 'demo-osmondthorpe-key')).items.some((i) => i.notificationId === item.notificationId)).toBe(
        false,
      );
      const listed = await api(t.http, 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?status=withdrawn');
      const withdrawnItems = ((await listed.json()) as { items: Item[] }).items;
      expect(withdrawnItems.find((i) => i.notificationId === item.notificationId)).toMatchObject({ status: 'withdrawn' });
      expect(withdrawnItems.every((i) => i.record === undefined)).toBe(true);
      const ack = await api(t.http, 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${item.notificationId}/ack`, {
        method: 'POST',
      });
      expect(ack.status).toBe(409);
      expect(await messageStatus('DEATH-606')).toBe('processed');

      const audit = await api(t.http, 'demo-ig-key', `/v1/audit?subject=${baby.baby.nhsNumber}`);
      const events = (
        (await audit.json()) as {
          items: { action: string; notificationId?: string; recipient?: string; ruleId?: string; outcome?: string }[];
        }
      ).items;
      expect(events.filter((e) => e.action === 'withdrawn')).toEqual([
        expect.objectContaining({
          notificationId: item.notificationId,
          recipient: 'osmondthorpe',
          ruleId: 'baby-deceased',
          outcome: 'withdrawn-from-inbox',
        }),
      ]);

      // A second report of the same death changes nothing more.
      await client.send(newborn({ seed: 606, controlId: 'DEATH-606-AGAIN', event: 'A31', deceased: true, postcodes: ['LS9 7AB'] }).text);
      expect(await messageStatus('DEATH-606-AGAIN')).toBe('duplicate');
      const after = (
        (await (await api(t.http, 'demo-ig-key', `/v1/audit?subject=${baby.baby.nhsNumber}`)).json()) as { items: { action: string }[] }
      ).items;
      expect(after.filter((e) => e.action === 'withdrawn')).toHaveLength(1);
    });

    test('a death reported before the birth message means the birth is never notified', async () => {
      const death = newborn({ seed: 707, controlId: 'DEATH-707', event: 'A08', deceased: true, postcodes: ['LS9 7AB'] });
      await client.send(death.text);
      expect(await messageStatus('DEATH-707')).toBe('processed');
      const birthMessage = newborn({ seed: 707, controlId: 'LIVE-707', postcodes: ['LS9 7AB'] });
      await client.send(birthMessage.text);
      expect(await messageStatus('LIVE-707')).toBe('duplicate');
      const r = await t.database.db.query<{ status: string; inbox_id: string | null }>(
        `SELECT status, inbox_id FROM notifications WHERE baby_nhs_number = $1`,
        [pseudo(death.baby.nhsNumber)],
      );
      expect(r.rows).toEqual([{ status: 'withheld', inbox_id: null }]);
      const items = await t.database.db.query(
        `SELECT 1 FROM inbox_items i JOIN notifications n ON n.id = i.notification_id WHERE n.baby_nhs_number = $1`,
        [pseudo(death.baby.nhsNumber)],
      );
      expect(items.rows).toEqual([]);
    });

    test('an update that reports no death is acknowledged and not relevant', async () => {
      const update = newborn({ seed: 808, controlId: 'UPDATE-808', event: 'A08', postcodes: ['LS9 7AB'] });
      expect((await client.send(update.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
      expect(await messageStatus('UPDATE-808')).toBe('not-relevant');
    });
  });
});
