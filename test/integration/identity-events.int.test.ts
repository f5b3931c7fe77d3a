import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { describeNewborn, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { cx, linkAdt, mergeAdt } from '../support/synthetic/identity-adt.js';
import { pollUntil } from '../support/poll.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pseudo } from '../support/data-keys.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY', postcodes: ['LS9 7AB'] } as const;
const CENTRE = { id: 'osmondthorpe', key: 'demo-osmondthorpe-key' };

interface Item {
  notificationId: string;
  status: string;
  updatedAt?: string;
  withdrawnAt?: string;
  record?: { baby: { name?: { given?: string[] }; birthOrder?: number } };
}
interface AuditItem {
  action: string;
  messageId?: string;
  notificationId?: string;
  recipient?: string;
  outcome?: string;
  details?: Record<string, unknown>;
}

/** Sets field `n` of the first PID segment (the synthetic generator's text), e.g. PID-24 cleared or PID-3 replaced. */
function withPid(text: string, field: number, value: string): string {
  return text
    .split('\r')
    .map((s) => {
      if (!s.startsWith('PID|')) return s;
      const f = s.split('|');
      while (f.length <= field) f.push('');
      f[field] = value;
      return f.join('|');
    })
    .join('\r');
}

/**
 * Identity events end to end (issue 12 item 5), on the real hub over MLLP: an A40 merging two notifications of one
 * baby leaves the centre one live item; an A40 about twins is refused and waits for an operator; an A40 about
 * patients Stork has never seen is recorded and acknowledged, and a later birth under the merged identifier takes the
 * surviving one; a malformed A40 is stored and answered with an ERR naming MRG-1.
 */
describe('HL7 v2 identity events: A40 merges and A24 links', () => {
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

  const baby = (o: NewbornAdtOptions) => describeNewborn({ ...RX1, messageTime: new Date(), withoutNhsNumber: true, ...o });
  const ackOf = async (text: string) => (await client.send(text)).split('\r');
  const sendOk = async (text: string) => expect((await ackOf(text))[1]?.split('|')[1]).toBe('CA');
  const message = (controlId: string) =>
    pollUntil(async () => {
      const r = await t.database.db.query<{ id: string; status: string; reason: string | null }>(
        `SELECT id, status, reason FROM messages WHERE control_id = $1`,
        [controlId],
      );
      const row = r.rows[0];
      return row === undefined || row.status === 'queued' ? undefined : row;
    }, `message ${controlId} settled`);
  const notificationOf = async (messageId: string) =>
    pollUntil(async () => {
      const r = await t.database.db.query<{ id: string; status: string; subject_key: string }>(
        `SELECT id, status, subject_key FROM notifications WHERE message_id = $1`,
        [messageId],
      );
      return r.rows[0];
    }, 'its notification');
  const inbox = async (status?: string): Promise<Item[]> => {
    const res = await api(t.http, CENTRE.key, `/v1/centres/${CENTRE.id}/notifications?limit=500${status ? `&status=${status}` : ''}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Item[] }).items;
  };
  const delivered = (notificationId: string) =>
    pollUntil(
      async () => (await inbox()).find((i) => i.notificationId === notificationId && i.status === 'new'),
      'delivered to the centre',
    );
  const familyOf = (notificationId: string) =>
    pollUntil(async () => {
      const r = await t.database.db.query<{ family_id: string }>(`SELECT family_id FROM family_links WHERE notification_id = $1`, [
        notificationId,
      ]);
      return r.rows[0]?.family_id;
    }, 'its family');
  const childrenOf = async (familyId: string) =>
    (
      await t.database.db.query<{ notification_id: string | null }>(
        `SELECT notification_id FROM family_children WHERE family_id = $1 ORDER BY added_at, child_key`,
        [familyId],
      )
    ).rows.map((r) => r.notification_id);
  const audit = async (query: string): Promise<AuditItem[]> => {
    const res = await api(t.http, 'demo-ig-key', `/v1/audit?${query}&limit=500`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: AuditItem[] }).items;
  };

  test('one baby notified twice under two MRNs, then an A40: one notification remains, the centre sees one live item', async () => {
    const first = baby({ seed: 7101, controlId: 'ID-A28-1' });
    // The same baby registered again under a second MRN, without its mother (no birth order and no mother sent, so
    // neither the birth key nor the mother's details link the two on arrival).
    const secondMrn = `${first.baby.mrn}9`;
    const firstText = withPid(first.text, 24, '');
    const secondText = withPid(firstText, 3, `${secondMrn}^^^RX1^MR`)
      .replace('|ID-A28-1|', '|ID-A28-2|')
      .split('\r')
      .filter((segment) => !segment.startsWith('NK1|'))
      .join('\r');
    await sendOk(firstText);
    await sendOk(secondText);
    const m1 = await message('ID-A28-1');
    const m2 = await message('ID-A28-2');
    const n1 = await notificationOf(m1.id);
    const n2 = await notificationOf(m2.id);
    expect(n1.id).not.toBe(n2.id);
    await delivered(n1.id);
    await delivered(n2.id);

    await sendOk(mergeAdt({ controlId: 'ID-A40-1', pairs: [{ surviving: cx({ mrn: first.baby.mrn }), merged: cx({ mrn: secondMrn }) }] }));
    expect((await message('ID-A40-1')).status).toBe('processed');
    const items = (await inbox()).filter((i) => i.notificationId === n1.id || i.notificationId === n2.id);
    expect(items.map((i) => [i.notificationId, i.status]).sort()).toEqual(
      [
        [n1.id, 'new'],
        [n2.id, 'withdrawn'],
      ].sort(),
    );
    expect(items.find((i) => i.notificationId === n2.id)?.record).toBeUndefined();
    expect((await inbox('new')).filter((i) => i.notificationId === n1.id || i.notificationId === n2.id)).toHaveLength(1);

    const trail = await audit(`notification=${n1.id}`);
    const merged = trail.find((e) => e.action === 'merged');
    expect(merged).toMatchObject({ outcome: 'notifications-merged', details: { mergedNotificationId: n2.id } });
    expect(merged?.details?.identifiers).toEqual({ surviving: ['local:RX1/MR'], merged: ['local:RX1/MR'] });
    expect(trail.find((e) => e.action === 'linked' && e.messageId === m2.id)).toMatchObject({ outcome: 'merged' });
    expect((await audit(`notification=${n2.id}`)).find((e) => e.action === 'withdrawn')).toMatchObject({
      recipient: CENTRE.id,
      outcome: 'withdrawn-from-inbox',
    });

    // The mother's family keeps one child: the survivor.
    const family = await familyOf(n1.id);
    expect(await childrenOf(family)).toEqual([n1.id]);

    // The trust's PAS sends the retired MRN again later: it reaches the survivor, never a second offer.
    await sendOk(secondText.replace('|ID-A28-2|', '|ID-A28-3|'));
    const m3 = await message('ID-A28-3');
    expect(m3.status).toBe('duplicate');
    const linked = (await audit(`notification=${n1.id}`)).find((e) => e.action === 'linked' && e.messageId === m3.id);
    expect(linked).toMatchObject({ details: { matchedBy: 'subject-key' } });
    const r = await t.database.db.query(`SELECT id FROM notifications WHERE message_id = $1`, [m3.id]);
    expect(r.rows).toEqual([]);
  });

  test('twins are never merged: an A40 naming both is refused, audited merge-refused, and waits in quarantine for an operator', async () => {
    const one = baby({ seed: 7202, controlId: 'ID-TWIN-1', birthOrder: 1 });
    const two = baby({ seed: 7202, controlId: 'ID-TWIN-2', birthOrder: 2 });
    await sendOk(one.text);
    await sendOk(two.text);
    const a = await notificationOf((await message('ID-TWIN-1')).id);
    const b = await notificationOf((await message('ID-TWIN-2')).id);
    await delivered(a.id);
    await delivered(b.id);

    await sendOk(
      mergeAdt({ controlId: 'ID-A40-TWINS', pairs: [{ surviving: cx({ mrn: one.baby.mrn }), merged: cx({ mrn: two.baby.mrn }) }] }),
    );
    const m = await message('ID-A40-TWINS');
    expect(m.status).toBe('quarantined');
    expect(m.reason).toMatch(/merge refused/i);
    const live = (await inbox('new')).filter((i) => i.notificationId === a.id || i.notificationId === b.id);
    expect(live).toHaveLength(2);
    const refused = (await audit(`notification=${a.id}`)).find((e) => e.action === 'merge-refused');
    expect(refused).toMatchObject({ outcome: 'different-babies', details: { otherNotificationId: b.id } });
    expect(refused?.details?.fields).toEqual(expect.arrayContaining(['baby.birthOrder', 'baby.birthTime']));
    // The operators' queue shows it.
    const q = await api(t.http, 'demo-admin-key', '/v1/messages?status=quarantined&limit=100');
    expect(q.status).toBe(200);
    expect(((await q.json()) as { items: { id: string }[] }).items.map((x) => x.id)).toContain(m.id);
  });

  test('A40s about patients Stork has never seen are recorded and acknowledged; a later birth under a merged MRN takes the surviving one, through a chain of merges', async () => {
    const later = baby({ seed: 7303, controlId: 'ID-LATE-1' });
    const survivingMrn = `${later.baby.mrn}7`;
    await sendOk(
      mergeAdt({ controlId: 'ID-A40-UNKNOWN', pairs: [{ surviving: cx({ mrn: survivingMrn }), merged: cx({ mrn: later.baby.mrn }) }] }),
    );
    const m = await message('ID-A40-UNKNOWN');
    expect(m.status).toBe('processed');
    expect((await audit(`message=${m.id}`)).find((e) => e.action === 'merged')).toMatchObject({ outcome: 'not-known' });

    // A second merge, of the surviving MRN into a third: the first MRN now resolves to the third in one step.
    const thirdMrn = `${later.baby.mrn}8`;
    await sendOk(mergeAdt({ controlId: 'ID-A40-CHAIN', pairs: [{ surviving: cx({ mrn: thirdMrn }), merged: cx({ mrn: survivingMrn }) }] }));
    expect((await message('ID-A40-CHAIN')).status).toBe('processed');
    // Stored as pseudonyms (migration 038), in both columns.
    const local = (mrn: string): string => pseudo(`local:northgate-maternity:RX1:${mrn}`);
    const keys = await t.database.db.query<{ key: string; subject_key: string }>(
      `SELECT key, subject_key FROM identity_keys WHERE key = ANY($1::text[]) ORDER BY key`,
      [[local(later.baby.mrn), local(survivingMrn), local(thirdMrn)]],
    );
    expect(keys.rows).toEqual(
      [
        { key: local(later.baby.mrn), subject_key: local(thirdMrn) },
        { key: local(survivingMrn), subject_key: local(thirdMrn) },
      ].sort((a, b) => (a.key < b.key ? -1 : 1)),
    );

    await sendOk(later.text);
    const n = await notificationOf((await message('ID-LATE-1')).id);
    expect(n.subject_key).toBe(local(thirdMrn));
    await delivered(n.id);
  });

  test('a malformed A40 (no MRG) is stored and answered with an error naming MRG-1', async () => {
    const text = mergeAdt({ controlId: 'ID-A40-BAD', pairs: [{ surviving: cx({ mrn: 'RX1000000001' }) }] });
    const ack = await ackOf(text);
    expect(ack[1]?.split('|')[1]).toBe('CE');
    const err = ack.find((s) => s.startsWith('ERR'));
    expect(err).toMatch(/MRG\^1\^1/);
    expect(err).toContain('101');
    const m = await message('ID-A40-BAD');
    expect(m.status).toBe('quarantined');
  });

  test('an A24 about patients Stork does not know is recorded and acknowledged', async () => {
    await sendOk(linkAdt({ controlId: 'ID-A24-UNKNOWN', first: cx({ mrn: 'RX1NOONE1' }), second: cx({ mrn: 'RX1NOONE2' }) }));
    const m = await message('ID-A24-UNKNOWN');
    expect(m.status).toBe('processed');
    expect((await audit(`message=${m.id}`)).find((e) => e.action === 'patients-linked')).toMatchObject({ outcome: 'recorded' });
  });

  test('an A40 merging two mothers (one woman under two NHS numbers) merges their families: children and links move', async () => {
    const x = baby({ seed: 7401, controlId: 'ID-MUM-1' });
    const y = baby({ seed: 7402, controlId: 'ID-MUM-2' });
    await sendOk(x.text);
    await sendOk(y.text);
    const nx = await notificationOf((await message('ID-MUM-1')).id);
    const ny = await notificationOf((await message('ID-MUM-2')).id);
    const fx = await familyOf(nx.id);
    const fy = await familyOf(ny.id);
    expect(fx).not.toBe(fy);

    await sendOk(
      mergeAdt({
        controlId: 'ID-A40-MUM',
        pairs: [{ surviving: cx({ nhsNumber: x.mother?.nhsNumber ?? '' }), merged: cx({ nhsNumber: y.mother?.nhsNumber ?? '' }) }],
      }),
    );
    const m = await message('ID-A40-MUM');
    expect(m.status).toBe('processed');
    const merged = await t.database.db.query<{ merged_into: string | null }>(`SELECT merged_into FROM families WHERE id = $1`, [fy]);
    expect(merged.rows[0]?.merged_into).toBe(fx);
    expect(await familyOf(ny.id)).toBe(fx);
    expect((await childrenOf(fx)).sort()).toEqual([nx.id, ny.id].sort());
    const event = (await audit(`message=${m.id}`)).find((e) => e.action === 'merged');
    expect(event).toMatchObject({ outcome: 'families-merged', details: { familyId: fx, mergedFamilyId: fy } });
    expect(event?.details?.identifiers).toEqual({ surviving: ['nhs-number'], merged: ['nhs-number'] });
    // Both babies stay notified: a mothers' merge never touches the babies' notifications.
    expect((await inbox('new')).filter((i) => i.notificationId === nx.id || i.notificationId === ny.id)).toHaveLength(2);
  });

  test('an A24 linking a notified baby (known only by its MRN, no mother in its message) to a mother puts the baby in her family', async () => {
    const sibling = baby({ seed: 7501, controlId: 'ID-SIB-1' });
    await sendOk(sibling.text);
    const ns = await notificationOf((await message('ID-SIB-1')).id);
    const family = await familyOf(ns.id);

    const newborn = baby({ seed: 7502, controlId: 'ID-SIB-2' });
    const noMother = newborn.text
      .split('\r')
      .filter((s) => !s.startsWith('NK1'))
      .join('\r');
    await sendOk(noMother);
    const nb = await notificationOf((await message('ID-SIB-2')).id);
    await delivered(nb.id);

    await sendOk(
      linkAdt({ controlId: 'ID-A24-1', first: cx({ nhsNumber: sibling.mother?.nhsNumber ?? '' }), second: cx({ mrn: newborn.baby.mrn }) }),
    );
    const m = await message('ID-A24-1');
    expect(m.status).toBe('processed');
    expect(await familyOf(nb.id)).toBe(family);
    expect(await childrenOf(family)).toEqual(expect.arrayContaining([ns.id, nb.id]));
    const event = (await audit(`notification=${nb.id}`)).find((e) => e.action === 'patients-linked');
    expect(['baby-joined-family', 'families-joined']).toContain(event?.outcome);
    expect(event?.details?.familyId).toBe(family);

    // A baby already in a family led by another NHS number is not moved by an A24: refused, for an operator.
    const other = baby({ seed: 7503, controlId: 'ID-SIB-3' });
    await sendOk(other.text);
    const no = await notificationOf((await message('ID-SIB-3')).id);
    const itsFamily = await familyOf(no.id);
    await sendOk(
      linkAdt({ controlId: 'ID-A24-2', first: cx({ nhsNumber: sibling.mother?.nhsNumber ?? '' }), second: cx({ mrn: other.baby.mrn }) }),
    );
    const refused = await message('ID-A24-2');
    expect(refused.status).toBe('quarantined');
    expect(refused.reason).toMatch(/A24 link refused/);
    expect(await familyOf(no.id)).toBe(itsFamily);
    expect((await audit(`notification=${no.id}`)).find((e) => e.action === 'link-refused')).toMatchObject({ outcome: 'different-mother' });
  });

  test('no personal data in the logs of identity events', () => {
    const text = t.sink.lines.join('\n');
    expect(text).toContain('identity event processed');
    expect(text).not.toMatch(/RR8[0-9]{7}/);
  });
});
