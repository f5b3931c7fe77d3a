import { plainJson, pseudo } from '../support/data-keys.js';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { londonHl7Time, describeNewborn, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { nemsAsXml, nemsBirthBundle, type NemsBirthOptions } from '../support/synthetic/nems-birth.js';
import { fhirBirthBundle, NORTHGATE_FHIR_KEY } from '../support/synthetic/fhir-birth.js';
import { pollUntil } from '../support/poll.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY', postcodes: ['LS9 7AB'], observations: false } as const;
const CENTRE = { id: 'osmondthorpe', key: 'demo-osmondthorpe-key' };

interface Item {
  notificationId: string;
  status: string;
  deliveredAt: string;
  updatedAt?: string;
  record?: {
    baby: { nhsNumber?: string; birthOrder?: number; name?: { given?: string[] } };
    mother?: { name?: { given?: string[] } };
    gpPractice?: { odsCode: string };
    familyAddress?: { postcode?: string };
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
  details?: { firstMessageId?: string; matchedBy?: string; enriched?: string[]; conflicts?: string[]; fields?: string[] };
}

/**
 * One birth, one offer, whatever the route (issue 10 item 6), on the real hub: the trust's ADT over MLLP and the
 * national birth notification (NEMS, STU3 XML over HTTP) about the same baby, in both orders, with and without the
 * baby's NHS number on the HL7 v2 side, give one notification in Osmondthorpe's inbox, enriched, with both messages
 * linked in the audit; twins of one mother stay two notifications.
 */
describe('One birth, one offer: the same baby by HL7 v2 ADT and by the national birth notification', () => {
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

  /** A baby born two hours ago (to the minute) whose ADT is built from `seed`; the NEMS options describe the same baby. */
  function sameBaby(seed: number, adt: Partial<NewbornAdtOptions> = {}) {
    const now = new Date();
    const born = new Date(Math.floor((now.getTime() - 2 * 3600_000) / 60_000) * 60_000);
    const local = londonHl7Time(born);
    const birthDate = `${local.slice(0, 4)}-${local.slice(4, 6)}-${local.slice(6, 8)}`;
    const v2 = describeNewborn({ ...RX1, seed, messageTime: now, birthTime: born, controlId: `ONE-${seed}-${adt.event ?? 'A28'}`, ...adt });
    const nems = (o: Partial<NemsBirthOptions> = {}): string =>
      nemsAsXml(
        nemsBirthBundle({
          bundleId: `one-${seed}-${o.birthOrder ?? 1}`,
          timestamp: now.toISOString(),
          birthDate,
          birthTime: born.toISOString(),
          babyNhsNumber: v2.baby.nhsNumber,
          motherNhsNumber: v2.mother?.nhsNumber ?? '',
          sex: v2.baby.sex,
          ...o,
        }),
      );
    return { v2, nems, mother: v2.mother?.nhsNumber ?? '' };
  }

  const sendAdt = async (text: string) => expect((await client.send(text)).split('\r')[1]?.split('|')[1]).toBe('CA');
  const sendNems = async (xml: string): Promise<string> => {
    const res = await api(t.http, 'demo-nems-key', '/v1/fhir/$process-message', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+xml' },
      body: xml,
    });
    expect(res.status).toBe(200);
    return res.headers.get('x-stork-message-id') ?? '';
  };
  const messageId = async (controlId: string) =>
    pollUntil(async () => {
      const r = await t.database.db.query<{ id: string }>(`SELECT id FROM messages WHERE control_id LIKE $1`, [`${controlId}%`]);
      return r.rows[0]?.id;
    }, `message ${controlId}`);
  const settled = (id: string) =>
    pollUntil(async () => {
      const r = await t.database.db.query<{ status: string }>(`SELECT status FROM messages WHERE id = $1`, [id]);
      return r.rows[0]?.status === 'queued' ? undefined : r.rows[0]?.status;
    }, 'message processed');
  const notificationsOfMother = async (mother: string) =>
    (
      await t.database.db.query<{ id: string; message_id: string; record: unknown; status: string }>(
        `SELECT id, message_id, record, status FROM notifications WHERE mother_nhs_number = $1 ORDER BY created_at`,
        [pseudo(mother)],
      )
    ).rows.map((r) => ({ ...r, record: plainJson('notifications.record', r.id, r.record) }));
  const inboxItems = async (status = 'new'): Promise<Item[]> => {
    const res = await api(t.http, CENTRE.key, `/v1/centres/${CENTRE.id}/notifications?status=${status}&limit=500`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Item[] }).items;
  };
  /** The inbox item of the notification this message made, once delivered. */
  const delivered = async (id: string): Promise<Item> => {
    const notificationId = await pollUntil(async () => {
      const r = await t.database.db.query<{ id: string }>(`SELECT id FROM notifications WHERE message_id = $1`, [id]);
      return r.rows[0]?.id;
    }, 'its notification');
    return pollUntil(async () => (await inboxItems()).find((i) => i.notificationId === notificationId), 'its notification in the inbox');
  };
  const auditOf = async (notificationId: string): Promise<AuditItem[]> => {
    const res = await api(t.http, 'demo-ig-key', `/v1/audit?notification=${notificationId}&limit=500`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: AuditItem[] }).items;
  };

  test('ADT first without the NHS number, then NEMS: one notification, enriched with the NHS number, the centre sees it updated', async () => {
    const { v2, nems, mother } = sameBaby(9101, { withoutNhsNumber: true });
    await sendAdt(v2.text);
    const adtId = await messageId(v2.controlId);
    const first = await delivered(adtId);
    expect(first.record?.baby.nhsNumber).toBeUndefined();
    expect(first.updatedAt).toBeUndefined();

    const nemsId = await sendNems(nems());
    expect(await settled(nemsId)).toBe('duplicate');
    const notes = await notificationsOfMother(mother);
    expect(notes.map((n) => [n.id, n.message_id])).toEqual([[first.notificationId, adtId]]);
    // The centre's inbox holds exactly one notification about this baby: the first one, enriched.
    const [item, ...others] = (await inboxItems()).filter((i) => i.record?.baby.nhsNumber === v2.baby.nhsNumber);
    expect(others).toEqual([]);
    expect(item).toMatchObject({ notificationId: first.notificationId, status: 'new' });
    expect(Date.parse(item?.updatedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(first.deliveredAt));
    expect(item?.record?.baby).toMatchObject({ nhsNumber: v2.baby.nhsNumber, birthOrder: 1 });
    expect(item?.record?.familyAddress?.postcode).toBe('LS9 7AB');
    // The enriched record keeps what the centre may not see: the verified status, the weight.
    expect(notes[0]?.record).toMatchObject({
      baby: { nhsNumber: v2.baby.nhsNumber, nhsNumberStatus: '01' },
      birthDetails: { weightGrams: 3310 },
    });

    const audit = await auditOf(first.notificationId);
    const linked = audit.find((e) => e.action === 'linked');
    expect(linked).toMatchObject({
      messageId: nemsId,
      notificationId: first.notificationId,
      outcome: 'enriched',
      details: { firstMessageId: adtId, matchedBy: 'birth-key' },
    });
    expect(linked?.details?.enriched).toEqual(
      expect.arrayContaining(['baby.nhsNumber', 'baby.nhsNumberStatus', 'baby.birthOrder', 'birthDetails.weightGrams']),
    );
    // The names differ between the two routes' samples: kept as first sent, named (not valued) as a conflict.
    expect(linked?.details?.conflicts).toEqual(expect.arrayContaining(['baby.name']));
    expect(JSON.stringify(linked)).not.toContain(v2.baby.family);
    const updated = audit.find((e) => e.action === 'updated');
    expect(updated).toMatchObject({ recipient: CENTRE.id, ruleId: 'offer-of-support' });
    expect(updated?.lawfulBasis).toMatch(/Art 6/);
    expect(updated?.details?.fields).toEqual(expect.arrayContaining(['baby.nhsNumber', 'baby.birthOrder']));
    // Both sources are in the notification's audit; the NEMS message made no notification of its own.
    expect(new Set(audit.map((e) => e.messageId).filter(Boolean))).toEqual(new Set([adtId, nemsId]));
    expect(audit.filter((e) => e.action === 'delivered')).toHaveLength(1);
  });

  test('NEMS first, then the ADT with the NHS number (A04): linked by the NHS number; one notification', async () => {
    const { v2, nems, mother } = sameBaby(9102, { event: 'A04', nhsNumberStatus: 'NSTS02' });
    const nemsId = await sendNems(nems());
    const first = await pollUntil(
      async () => (await inboxItems()).find((i) => i.record?.baby.nhsNumber === v2.baby.nhsNumber),
      'the NEMS baby in the inbox',
    );
    await sendAdt(v2.text);
    const adtId = await messageId(v2.controlId);
    expect(await settled(adtId)).toBe('duplicate');
    const notes = await notificationsOfMother(mother);
    expect(notes.map((n) => n.message_id)).toEqual([nemsId]);
    expect((await inboxItems()).filter((i) => i.record?.baby.nhsNumber === v2.baby.nhsNumber)).toEqual([
      expect.objectContaining({ notificationId: first.notificationId }),
    ]);
    // The ADT adds the hospital number; the verified status from the national record is kept.
    expect(notes[0]?.record).toMatchObject({
      baby: { nhsNumberStatus: '01', localIdentifiers: [expect.objectContaining({ value: v2.baby.mrn })] },
    });
    const linked = (await auditOf(first.notificationId)).find((e) => e.action === 'linked');
    expect(linked).toMatchObject({ messageId: adtId, details: { firstMessageId: nemsId, matchedBy: 'subject-key' } });
    expect(linked?.details?.conflicts).toEqual(expect.arrayContaining(['baby.nhsNumberStatus']));
  });

  test('NEMS first, then the ADT without the NHS number: linked by mother, date and time of birth, order', async () => {
    const { v2, nems, mother } = sameBaby(9103, { withoutNhsNumber: true });
    const nemsId = await sendNems(nems());
    await pollUntil(
      async () => (await inboxItems()).find((i) => i.record?.baby.nhsNumber === v2.baby.nhsNumber),
      'the NEMS baby in the inbox',
    );
    await sendAdt(v2.text);
    const adtId = await messageId(v2.controlId);
    expect(await settled(adtId)).toBe('duplicate');
    const notes = await notificationsOfMother(mother);
    expect(notes.map((n) => n.message_id)).toEqual([nemsId]);
    const linked = (await auditOf(notes[0]?.id ?? '')).find((e) => e.action === 'linked');
    expect(linked).toMatchObject({ messageId: adtId, details: { firstMessageId: nemsId, matchedBy: 'birth-key' } });
  });

  test('ADT first with the NHS number (unverified), then NEMS: the verified status enriches the one notification', async () => {
    const { v2, nems, mother } = sameBaby(9104, { nhsNumberStatus: 'NSTS02' });
    await sendAdt(v2.text);
    const adtId = await messageId(v2.controlId);
    await pollUntil(
      async () => (await inboxItems()).find((i) => i.record?.baby.nhsNumber === v2.baby.nhsNumber),
      'the ADT baby in the inbox',
    );
    const nemsId = await sendNems(nems());
    expect(await settled(nemsId)).toBe('duplicate');
    const notes = await notificationsOfMother(mother);
    expect(notes.map((n) => n.message_id)).toEqual([adtId]);
    expect(notes[0]?.record).toMatchObject({ baby: { nhsNumberStatus: '01' } });
    expect((await inboxItems()).filter((i) => i.record?.baby.nhsNumber === v2.baby.nhsNumber)).toHaveLength(1);
  });

  test('twins of one mother by the two routes (twin 1 by ADT without NHS number, twin 2 by NEMS) are never merged', async () => {
    const { v2, nems, mother } = sameBaby(9105, { withoutNhsNumber: true, birthOrder: 1 });
    await sendAdt(v2.text);
    const adtId = await messageId(v2.controlId);
    expect(await settled(adtId)).toBe('processed');
    const twin2 = await sendNems(nems({ birthOrder: 2, numberOfBirths: 2, babyNhsNumber: '9990001596' }));
    expect(await settled(twin2)).toBe('processed');
    const notes = await notificationsOfMother(mother);
    expect(notes.map((n) => n.message_id).sort()).toEqual([adtId, twin2].sort());
    for (const n of notes) expect((await auditOf(n.id)).some((e) => e.action === 'linked')).toBe(false);
  });

  test('a stillbirth reported by NEMS for a baby the ADT (without NHS number) notified as live withdraws that notification', async () => {
    const { v2, nems } = sameBaby(9107, { withoutNhsNumber: true });
    await sendAdt(v2.text);
    const first = await delivered(await messageId(v2.controlId));
    const nemsId = await sendNems(nems({ stillbornIndicator: '2' }));
    expect(await settled(nemsId)).toBe('processed');
    const withdrawn = (await inboxItems('withdrawn')).find((i) => i.notificationId === first.notificationId);
    expect(withdrawn).toMatchObject({ status: 'withdrawn' });
    expect(withdrawn?.record).toBeUndefined();
    const audit = await auditOf(first.notificationId);
    expect(audit.filter((e) => e.action === 'withdrawn')).toEqual([
      expect.objectContaining({ messageId: nemsId, recipient: CENTRE.id, outcome: 'withdrawn-from-inbox' }),
    ]);
    expect(audit.find((e) => e.action === 'linked')).toMatchObject({ messageId: nemsId, outcome: 'death-reported' });
  });

  test('a FHIR R4 message after the ADT (without NHS number) is linked the same way: one notification', async () => {
    const { v2, mother } = sameBaby(9108, { withoutNhsNumber: true });
    await sendAdt(v2.text);
    const adtId = await messageId(v2.controlId);
    const first = await delivered(adtId);
    const canonical = await t.database.db.query<{ canonical: unknown }>(
      'SELECT b.canonical FROM message_bodies b WHERE b.message_id = $1',
      [adtId],
    );
    // Encrypted at rest (migration 029): read as the store reads it.
    const birthTime = (plainJson('message_bodies.canonical', adtId, canonical.rows[0]?.canonical) as { baby: { birthTime?: string } }).baby
      .birthTime;
    const born = { rows: [{ birth_time: birthTime }] };
    const res = await api(t.http, NORTHGATE_FHIR_KEY, '/v1/fhir/$process-message', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(
        fhirBirthBundle({
          bundleId: 'one-r4-9108',
          timestamp: new Date().toISOString(),
          birthDate: v2.baby.birthDate,
          birthTime: born.rows[0]?.birth_time ?? '',
          babyNhsNumber: v2.baby.nhsNumber,
          motherNhsNumber: mother,
          sex: v2.baby.sex,
          // multipleBirthInteger 1: a Patient that says nothing of a multiple birth could be either twin, so has no birth key.
          birthOrder: 1,
          motherAs: 'both',
        }),
      ),
    });
    expect(res.status).toBe(200);
    const r4Id = res.headers.get('x-stork-message-id') ?? '';
    expect(await settled(r4Id)).toBe('duplicate');
    expect((await notificationsOfMother(mother)).map((n) => n.message_id)).toEqual([adtId]);
    const linked = (await auditOf(first.notificationId)).find((e) => e.action === 'linked');
    expect(linked).toMatchObject({ messageId: r4Id, details: { firstMessageId: adtId, matchedBy: 'birth-key' } });
    expect(linked?.details?.enriched).toEqual(expect.arrayContaining(['baby.nhsNumber']));
  });

  test('the same baby by both routes at once: still one notification, both messages settled', async () => {
    const { v2, nems, mother } = sameBaby(9106, { withoutNhsNumber: true });
    const [nemsId] = await Promise.all([sendNems(nems()), sendAdt(v2.text)]);
    const adtId = await messageId(v2.controlId);
    const statuses = [await settled(nemsId), await settled(adtId)].sort();
    expect(statuses).toEqual(['duplicate', 'processed']);
    const notes = await notificationsOfMother(mother);
    expect(notes).toHaveLength(1);
    const linked = (await auditOf(notes[0]?.id ?? '')).filter((e) => e.action === 'linked');
    expect(linked).toHaveLength(1);
    expect(new Set([linked[0]?.messageId, linked[0]?.details?.firstMessageId])).toEqual(new Set([adtId, nemsId]));
  });
});
