import { plainJson, pseudo } from '../support/data-keys.js';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { londonHl7Time, describeNewborn, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { nemsAsXml, nemsBirthBundle, type NemsBirthOptions } from '../support/synthetic/nems-birth.js';
import { fhirBirthBundle, NORTHGATE_FHIR_KEY, type FhirBirthOptions } from '../support/synthetic/fhir-birth.js';
import { pollUntil } from '../support/poll.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY', observations: false } as const;
const KEYS: Record<string, string> = {
  osmondthorpe: 'demo-osmondthorpe-key',
  harehills: 'demo-harehills-key',
  'safeguarding-review': 'demo-safeguarding-review-key',
};
/** Osmondthorpe's catchment (full postcodes) and Harehills' (district LS8). */
const OSMONDTHORPE = 'LS9 7AB';
const OSMONDTHORPE_2 = 'LS9 7AD';
const HAREHILLS = 'LS8 3DR';

interface Item {
  notificationId: string;
  status: string;
  deliveredAt: string;
  updatedAt?: string;
  withdrawnAt?: string;
  record?: {
    baby: { nhsNumber?: string; birthOrder?: number };
    familyAddress?: { postcode?: string; lines?: string[] };
    mother?: { phone?: string };
  };
}
interface AuditItem {
  action: string;
  messageId?: string;
  notificationId?: string;
  recipient?: string;
  ruleId?: string;
  lawfulBasis?: string;
  outcome?: string;
  details?: Record<string, unknown>;
}

/**
 * Updates and moves (issue 12 items 4 and 5) on the real hub: an A08 with a new address in another centre's
 * catchment moves the notification (withdrawn from the old centre without its record, delivered to the new), and
 * back; twins' updates each reach their own twin; a national notification without a valid mother's NHS number and
 * an ADT without the baby's make one notification; re-sent and replayed messages change nothing; an update marking
 * the record restricted withdraws it from the centre and sends it to safeguarding review.
 */
describe('Updates and moves: one baby, one notification, in the right centre', () => {
  let t: TestHub;
  let client: MllpClient;
  beforeAll(async () => {
    t = await startTestHub();
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  /** A baby born two hours ago (to the minute): its ADT messages by event and postcode, all about one baby. */
  function baby(seed: number, base: Partial<NewbornAdtOptions> = {}) {
    const now = new Date();
    const born = base.birthTime ?? new Date(Math.floor((now.getTime() - 2 * 3600_000) / 60_000) * 60_000);
    let n = 0;
    const adt = (o: Partial<NewbornAdtOptions> = {}) =>
      describeNewborn({
        ...RX1,
        postcodes: [OSMONDTHORPE],
        seed,
        messageTime: new Date(),
        birthTime: born,
        controlId: `UPD-${seed}-${base.birthOrder ?? 0}-${(n += 1)}-${o.event ?? 'A28'}`,
        ...base,
        ...o,
      });
    return { adt, born };
  }

  const ackCode = (ack: string) => ack.split('\r')[1]?.split('|')[1];
  const send = async (text: string) => expect(ackCode(await client.send(text))).toBe('CA');
  const messageId = (controlId: string) =>
    pollUntil(async () => {
      const r = await t.database.db.query<{ id: string }>(`SELECT id FROM messages WHERE control_id = $1`, [controlId]);
      return r.rows[0]?.id;
    }, `message ${controlId}`);
  const settled = (id: string) =>
    pollUntil(async () => {
      const r = await t.database.db.query<{ status: string }>(`SELECT status FROM messages WHERE id = $1`, [id]);
      return r.rows[0]?.status === 'queued' ? undefined : r.rows[0]?.status;
    }, 'message processed');
  const inbox = async (centre: string, status = 'all'): Promise<Item[]> => {
    const q = status === 'all' ? '' : `status=${status}&`;
    const res = await api(t.http, KEYS[centre], `/v1/centres/${centre}/notifications?${q}limit=500`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Item[] }).items;
  };
  const itemIn = (centre: string, notificationId: string, status: string) =>
    pollUntil(async () => {
      const found = (await inbox(centre)).find((i) => i.notificationId === notificationId);
      return found?.status === status ? found : undefined;
    }, `${notificationId} ${status} in ${centre}`);
  const notificationOf = (id: string) =>
    pollUntil(async () => {
      const r = await t.database.db.query<{ id: string }>(`SELECT id FROM notifications WHERE message_id = $1`, [id]);
      return r.rows[0]?.id;
    }, 'its notification');
  const notificationRow = async (id: string) => {
    const row = (
      await t.database.db.query<{ status: string; inbox_id: string | null; record: unknown }>(
        `SELECT status, inbox_id, record FROM notifications WHERE id = $1`,
        [id],
      )
    ).rows[0];
    // The record is encrypted at rest (migration 029): read as the store reads it.
    return (
      row && {
        ...row,
        record: plainJson('notifications.record', id, row.record) as { mother?: { address?: { postcode?: string } } } | null,
      }
    );
  };
  const auditOf = async (notificationId: string): Promise<AuditItem[]> => {
    const res = await api(t.http, 'demo-ig-key', `/v1/audit?notification=${notificationId}&limit=500`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: AuditItem[] }).items;
  };
  const notificationsOfMother = async (mother: string) =>
    (await t.database.db.query<{ id: string }>(`SELECT id FROM notifications WHERE mother_nhs_number = $1`, [pseudo(mother)])).rows;

  /** Sends the A28 and waits until it is in Osmondthorpe's inbox. */
  async function delivered(a28: { text: string; controlId: string }): Promise<{ messageId: string; notificationId: string }> {
    await send(a28.text);
    const id = await messageId(a28.controlId);
    const notificationId = await notificationOf(id);
    await itemIn('osmondthorpe', notificationId, 'new');
    return { messageId: id, notificationId };
  }

  test('(a) an A08 with an address in another centre’s catchment moves the notification, and a later one moves it back', async () => {
    const b = baby(9301);
    const first = await delivered(b.adt());

    const away = b.adt({ event: 'A08', postcodes: [HAREHILLS] });
    await send(away.text);
    const awayId = await messageId(away.controlId);
    expect(await settled(awayId)).toBe('processed');
    const inHarehills = await itemIn('harehills', first.notificationId, 'new');
    expect(inHarehills.record?.familyAddress?.postcode).toBe(HAREHILLS);
    // Osmondthorpe sees it withdrawn: no record, so neither the new address nor the new centre.
    const inOsmondthorpe = await itemIn('osmondthorpe', first.notificationId, 'withdrawn');
    expect(inOsmondthorpe.record).toBeUndefined();
    expect(inOsmondthorpe.withdrawnAt).toBeDefined();
    expect(JSON.stringify(inOsmondthorpe)).not.toMatch(/LS8|harehills/i);
    // Still one notification, now Harehills'.
    expect(await notificationRow(first.notificationId)).toMatchObject({ status: 'delivered', inbox_id: 'harehills' });
    expect(await notificationsOfMother(away.mother?.nhsNumber ?? '')).toHaveLength(1);

    const audit = await auditOf(first.notificationId);
    const updated = audit.find((e) => e.action === 'updated' && e.messageId === awayId && e.recipient === undefined);
    expect(updated).toMatchObject({ outcome: 'record-updated', details: { firstMessageId: first.messageId, matchedBy: 'subject-key' } });
    expect(updated?.details?.fields).toEqual(expect.arrayContaining(['mother.address', 'baby.address']));
    const withdrawn = audit.filter((e) => e.action === 'withdrawn');
    expect(withdrawn).toEqual([expect.objectContaining({ messageId: awayId, recipient: 'osmondthorpe', outcome: 'moved-away' })]);
    expect(JSON.stringify(withdrawn)).not.toMatch(/harehills|LS8/i);
    const routed = audit.find((e) => e.action === 'routed' && e.recipient === 'harehills');
    expect(routed).toMatchObject({ messageId: awayId, ruleId: 'offer-of-support' });
    expect(routed?.lawfulBasis).toMatch(/Art 6/);
    expect(audit.filter((e) => e.action === 'delivered').map((e) => [e.recipient, e.ruleId])).toEqual([
      ['osmondthorpe', 'offer-of-support'],
      ['harehills', 'offer-of-support'],
    ]);
    // No values in the audit's details: names of fields only.
    expect(JSON.stringify(audit.map((e) => e.details))).not.toMatch(new RegExp(`${away.baby.family}|${away.mother?.nhsNumber ?? 'x'}`));

    // And back: Harehills' item withdrawn, Osmondthorpe's the same item again, new, with the record.
    const back = b.adt({ event: 'A31', postcodes: [OSMONDTHORPE] });
    await send(back.text);
    expect(await settled(await messageId(back.controlId))).toBe('processed');
    const again = await itemIn('osmondthorpe', first.notificationId, 'new');
    expect(again.record?.familyAddress?.postcode).toBe(OSMONDTHORPE);
    expect(Date.parse(again.deliveredAt)).toBeGreaterThan(Date.parse(inOsmondthorpe.deliveredAt));
    const left = await itemIn('harehills', first.notificationId, 'withdrawn');
    expect(left.record).toBeUndefined();
    const after = await auditOf(first.notificationId);
    expect(after.filter((e) => e.action === 'withdrawn').map((e) => [e.recipient, e.outcome])).toEqual([
      ['osmondthorpe', 'moved-away'],
      ['harehills', 'moved-away'],
    ]);
    expect(after.filter((e) => e.action === 'delivered').map((e) => e.recipient)).toEqual(['osmondthorpe', 'harehills', 'osmondthorpe']);
  });

  test('(b) twins of one mother: two notifications; each twin’s A08 reaches its own twin only', async () => {
    const base = baby(9302);
    const twin1 = baby(9302, { birthOrder: 1, birthTime: base.born });
    const twin2 = baby(9302, { birthOrder: 2, birthTime: new Date(base.born.getTime() + 14 * 60_000) });
    const one = await delivered(twin1.adt());
    const two = await delivered(twin2.adt());
    expect(one.notificationId).not.toBe(two.notificationId);

    // Twin 2's record is updated (another address in the same catchment); twin 1's is not.
    const u2 = twin2.adt({ event: 'A08', postcodes: [OSMONDTHORPE_2] });
    await send(u2.text);
    expect(await settled(await messageId(u2.controlId))).toBe('processed');
    const item2 = await pollUntil(async () => {
      const i = (await inbox('osmondthorpe', 'new')).find((x) => x.notificationId === two.notificationId);
      return i?.record?.familyAddress?.postcode === OSMONDTHORPE_2 ? i : undefined;
    }, 'twin 2 updated');
    expect(item2.updatedAt).toBeDefined();
    const item1 = (await inbox('osmondthorpe', 'new')).find((x) => x.notificationId === one.notificationId);
    expect(item1?.record?.familyAddress?.postcode).toBe(OSMONDTHORPE);
    expect(item1?.updatedAt).toBeUndefined();

    // Twin 1 moves to Harehills; twin 2 stays.
    const u1 = twin1.adt({ event: 'A08', postcodes: [HAREHILLS] });
    await send(u1.text);
    await itemIn('harehills', one.notificationId, 'new');
    await itemIn('osmondthorpe', one.notificationId, 'withdrawn');
    expect((await notificationRow(two.notificationId))?.inbox_id).toBe('osmondthorpe');
    expect(await notificationsOfMother(u1.mother?.nhsNumber ?? '')).toHaveLength(2);
  });

  /** The national notification of an ADT's baby, its mother without a valid NHS number but named as in the ADT. */
  function nemsOf(v2: ReturnType<ReturnType<typeof baby>['adt']>, born: Date, o: Partial<NemsBirthOptions> = {}) {
    const local = londonHl7Time(born);
    const mother = v2.mother;
    const broken = mother ? `${mother.nhsNumber.slice(0, 9)}${(Number(mother.nhsNumber[9]) + 1) % 10}` : '';
    return nemsAsXml(
      nemsBirthBundle({
        bundleId: `upd-${v2.controlId}`,
        timestamp: new Date().toISOString(),
        birthDate: `${local.slice(0, 4)}-${local.slice(4, 6)}-${local.slice(6, 8)}`,
        birthTime: born.toISOString(),
        babyNhsNumber: v2.baby.nhsNumber,
        motherNhsNumber: broken,
        motherFamily: mother?.family ?? '',
        motherGiven: mother?.given ?? '',
        motherBirthDate: mother?.birthDate ?? '',
        sex: v2.baby.sex,
        postcode: OSMONDTHORPE,
        ...o,
      }),
    );
  }
  const sendNems = async (xml: string): Promise<string> => {
    const res = await api(t.http, 'demo-nems-key', '/v1/fhir/$process-message', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+xml' },
      body: xml,
    });
    expect(res.status).toBe(200);
    return res.headers.get('x-stork-message-id') ?? '';
  };

  test.each([
    ['NEMS first', true],
    ['the ADT first', false],
  ])(
    '(c) national notification without a valid mother’s NHS number + ADT without the baby’s NHS number, %s: one notification',
    async (_, nemsFirst) => {
      const b = baby(nemsFirst ? 9303 : 9304, { withoutNhsNumber: true });
      const v2 = b.adt();
      const xml = nemsOf(v2, b.born);
      let firstId: string;
      let laterId: string;
      if (nemsFirst) {
        firstId = await sendNems(xml);
        await itemIn('osmondthorpe', await notificationOf(firstId), 'new');
        await send(v2.text);
        laterId = await messageId(v2.controlId);
      } else {
        firstId = (await delivered(v2)).messageId;
        laterId = await sendNems(xml);
      }
      expect(await settled(laterId)).toBe('duplicate');
      const notificationId = await notificationOf(firstId);
      const r = await t.database.db.query<{ id: string }>(`SELECT id FROM notifications WHERE message_id = ANY($1::uuid[])`, [
        [firstId, laterId],
      ]);
      expect(r.rows).toEqual([{ id: notificationId }]);
      // The centre sees one item for the baby, with the NHS number the national notification brought.
      const items = (await inbox('osmondthorpe', 'new')).filter((i) => i.record?.baby.nhsNumber === v2.baby.nhsNumber);
      expect(items.map((i) => i.notificationId)).toEqual([notificationId]);
      const audit = await auditOf(notificationId);
      expect(audit.find((e) => e.action === 'linked')).toMatchObject({
        messageId: laterId,
        details: { firstMessageId: firstId, matchedBy: 'demographic-key' },
      });
      expect(new Set(audit.map((e) => e.messageId).filter(Boolean))).toEqual(new Set([firstId, laterId]));
      expect(audit.filter((e) => e.action === 'delivered')).toHaveLength(1);
    },
  );

  test('(c) the same pair for twins born in the same minute, without birth orders on both sides: never merged', async () => {
    const b = baby(9305, { withoutNhsNumber: true, birthOrder: 1 });
    const v2 = b.adt();
    const first = await delivered(v2);
    // Twin 2 by NEMS: same mother, minute and sex, another NHS number and birth order 2.
    const twin2 = await sendNems(nemsOf(v2, b.born, { birthOrder: 2, numberOfBirths: 2, babyNhsNumber: '9990001596' }));
    expect(await settled(twin2)).toBe('processed');
    expect(await notificationOf(twin2)).not.toBe(first.notificationId);
  });

  test('(d) a re-sent message and a replayed one (the same birth again, a new control id) leave one notification', async () => {
    const b = baby(9306);
    const a28 = b.adt();
    const first = await delivered(a28);
    // Re-sent: the same MSH-10; the same ACK, nothing new stored.
    await send(a28.text);
    // Replayed from the trust's archive: the same birth, another control id.
    const replay = { ...a28, text: a28.text.replace(a28.controlId, `${a28.controlId}-R`), controlId: `${a28.controlId}-R` };
    await send(replay.text);
    expect(await settled(await messageId(replay.controlId))).toBe('duplicate');
    // An update re-sent: applied once.
    const u = b.adt({ event: 'A08', postcodes: [OSMONDTHORPE_2] });
    await send(u.text);
    await send(u.text);
    const uId = await messageId(u.controlId);
    expect(await settled(uId)).toBe('processed');
    const messages = await t.database.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM messages WHERE control_id LIKE $1`, [
      `UPD-9306-%`,
    ]);
    expect(messages.rows[0]?.n).toBe('3');
    expect(await notificationsOfMother(a28.mother?.nhsNumber ?? '')).toHaveLength(1);
    const audit = await auditOf(first.notificationId);
    expect(audit.filter((e) => e.action === 'updated' && e.recipient === undefined)).toHaveLength(1);
    expect(audit.filter((e) => e.action === 'delivered')).toHaveLength(1);
    expect((await inbox('osmondthorpe')).filter((i) => i.notificationId === first.notificationId)).toHaveLength(1);
  });

  test('(e) an update marking the record restricted after delivery: withdrawn from the centre, sent to safeguarding review', async () => {
    const b = baby(9307);
    const first = await delivered(b.adt());
    const restricted = b.adt({ event: 'A08', restricted: true });
    await send(restricted.text);
    const id = await messageId(restricted.controlId);
    expect(await settled(id)).toBe('processed');
    const gone = await itemIn('osmondthorpe', first.notificationId, 'withdrawn');
    expect(gone.record).toBeUndefined();
    const review = await itemIn('safeguarding-review', first.notificationId, 'new');
    // The review inbox gets the review dataset only: never the family's address or phone.
    expect(review.record?.familyAddress).toBeUndefined();
    expect(review.record?.mother?.phone).toBeUndefined();
    const audit = await auditOf(first.notificationId);
    expect(audit.find((e) => e.action === 'decided' && e.messageId === id)).toMatchObject({
      ruleId: 'restricted-record',
      outcome: 'review',
    });
    expect(audit.find((e) => e.action === 'withdrawn')).toMatchObject({ messageId: id, recipient: 'osmondthorpe', outcome: 'moved-away' });
    expect(audit.filter((e) => e.action === 'delivered').map((e) => [e.recipient, e.ruleId])).toEqual([
      ['osmondthorpe', 'offer-of-support'],
      ['safeguarding-review', 'restricted-record'],
    ]);
    // A later update lifting the flag does not lift the restriction: it stays in review.
    const lifted = b.adt({ event: 'A08' });
    await send(lifted.text);
    expect(await settled(await messageId(lifted.controlId))).toBe('processed');
    expect(await notificationRow(first.notificationId)).toMatchObject({ inbox_id: 'safeguarding-review' });
  });

  test('an update about a baby Stork has never notified is acknowledged, recorded and makes no notification', async () => {
    const u = baby(9308).adt({ event: 'A08' });
    await send(u.text);
    const id = await messageId(u.controlId);
    expect(await settled(id)).toBe('not-relevant');
    const r = await t.database.db.query<{ reason: string }>(`SELECT reason FROM messages WHERE id = $1`, [id]);
    expect(r.rows[0]?.reason).toBe('update about a baby Stork has not notified');
    expect(await notificationsOfMother(u.mother?.nhsNumber ?? '')).toHaveLength(0);
    const audit = await t.database.db.query<{ action: string; outcome: string }>(
      `SELECT action, outcome FROM audit_events WHERE message_id = $1`,
      [id],
    );
    expect(audit.rows).toContainEqual({ action: 'not-relevant', outcome: 'update-not-applied' });
  });

  test('a FHIR R4 update (MessageHeader event birth-notification-update) applies the same way: the baby moves', async () => {
    const born = new Date(Math.floor((Date.now() - 3 * 3600_000) / 60_000) * 60_000);
    const local = londonHl7Time(born);
    const send = async (o: Partial<FhirBirthOptions> & { bundleId: string }) => {
      const res = await api(t.http, NORTHGATE_FHIR_KEY, '/v1/fhir/$process-message', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(
          fhirBirthBundle({
            timestamp: new Date().toISOString(),
            birthDate: `${local.slice(0, 4)}-${local.slice(4, 6)}-${local.slice(6, 8)}`,
            birthTime: born.toISOString(),
            babyNhsNumber: '9990003211',
            motherNhsNumber: '9990003289',
            postcode: OSMONDTHORPE,
            ...o,
          }),
        ),
      });
      expect(res.status).toBe(200);
      return res.headers.get('x-stork-message-id') ?? '';
    };
    const firstId = await send({ bundleId: 'upd-r4-birth' });
    const notificationId = await notificationOf(firstId);
    await itemIn('osmondthorpe', notificationId, 'new');
    const update = { system: 'https://fhir.nhs.uk/CodeSystem/message-event', code: 'birth-notification-update' };
    const updateId = await send({ bundleId: 'upd-r4-update', event: update, postcode: HAREHILLS });
    expect(await settled(updateId)).toBe('processed');
    expect((await itemIn('harehills', notificationId, 'new')).record?.familyAddress?.postcode).toBe(HAREHILLS);
    expect((await itemIn('osmondthorpe', notificationId, 'withdrawn')).record).toBeUndefined();
    const audit = await auditOf(notificationId);
    expect(audit.find((e) => e.action === 'updated' && e.messageId === updateId)).toMatchObject({ outcome: 'record-updated' });
    // An update about a baby Stork has never notified makes none.
    const stray = await send({ bundleId: 'upd-r4-stray', event: update, babyNhsNumber: '9990003327', motherNhsNumber: '9990003378' });
    expect(await settled(stray)).toBe('not-relevant');
    const r = await t.database.db.query(`SELECT 1 FROM notifications WHERE baby_nhs_number = '9990003327'`);
    expect(r.rows).toEqual([]);
  });
});
