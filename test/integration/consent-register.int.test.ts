import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { localDateOf } from '../../src/domain/hl7-datetime.js';
import { nhsCheckDigit } from '../../src/domain/nhs-number.js';
import type { JsonObject } from '../../src/pipeline/fhir/fhir-xml.js';
import { CONSENT_SCOPE_SYSTEM } from '../../src/pipeline/fhir/map-consent.js';
import {
  auditOf as auditEvents,
  centreItem,
  notificationOf as settled,
  sendAccepted,
  type AuditItem,
  type Centre,
  type CentreItem,
} from '../support/consent-helpers.js';
import { pollUntil } from '../support/poll.js';
import { asJson, fhirBirthBundle, NORTHGATE_FHIR_KEY } from '../support/synthetic/fhir-birth.js';
import { describeNewborn, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pseudo } from '../support/data-keys.js';

type Item = CentreItem;

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;
const JSON_HEADERS = { 'content-type': 'application/json' };
const OSMONDTHORPE = ['osmondthorpe', 'demo-osmondthorpe-key'] as const;
const SAFEGUARDING = ['safeguarding-review', 'demo-safeguarding-review-key'] as const;
const YOUNG_PARENTS = ['young-parents-review', 'demo-young-parents-review-key'] as const;

/** A valid NHS number from nine digits (the check digit added; retries the rare prefix that has none). */
function nhsNumber(seed: number): string {
  for (let n = seed; ; n++) {
    const first9 = String(900000000 + (n % 99999999)).padStart(9, '0');
    const check = nhsCheckDigit(first9);
    if (check !== undefined) return `${first9}${check}`;
  }
}

/** A consent segment line: HL7 v2.6 CON with CON-2 the type and CON-11 the status. */
function conSegment(type: string, status: string): string {
  const fields = ['CON', '1', type, '', '', '', '', '', '', '', '', status];
  return fields.join('|');
}

/** A Consent resource about the message's baby (the MessageHeader's focus). */
function withConsent(bundle: JsonObject, provisionType: 'permit' | 'deny', scope: string): JsonObject {
  const entries = bundle.entry as { fullUrl?: string; resource: JsonObject }[];
  const header = entries[0]?.resource as { focus?: { reference: string }[] };
  const baby = header.focus?.[0]?.reference ?? '';
  entries.push({
    fullUrl: `urn:uuid:5b0e5f0a-0000-4000-8000-${String(entries.length).padStart(12, '0')}`,
    resource: {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: CONSENT_SCOPE_SYSTEM, code: scope }] }],
      patient: { reference: baby },
      provision: { type: provisionType, period: { start: '2026-01-01' } },
    },
  });
  return bundle;
}

/**
 * The safety rules of the consent register end to end (issue 13), on the real hub: HL7 v2 and FHIR messages in,
 * the consent register fed by the API, an HL7 v2 CON segment, a feed's ZCN Z-segment and FHIR Consent resources,
 * and what each centre (or review inbox) can and cannot see through its own API key.
 */
describe('Consent register: objections, clinical consent, young parents and safeguarding, end to end', () => {
  let t: TestHub;
  let client: MllpClient;
  const newborn = (o: NewbornAdtOptions) => describeNewborn({ ...RX1, messageTime: new Date(), postcodes: ['LS9 7AB'], ...o });

  beforeAll(async () => {
    t = await startTestHub();
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  const send = (text: string): Promise<void> => sendAccepted(client, text);
  const postConsent = (key: string, body: unknown) =>
    api(t.http, key, '/v1/consents', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
  const inbox = async ([centre, key]: readonly [string, string]): Promise<Item[]> => {
    const res = await api(t.http, key, `/v1/centres/${centre}/notifications?limit=500`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Item[] }).items;
  };
  const item = (box: Centre, id: string): Promise<Item> => centreItem(t, box, id);
  /** The notification of a message once processing has settled it, with its status. */
  const notificationOf = (controlId: string, status: string) => settled(t, controlId, status);
  const auditOf = (nhs: string): Promise<AuditItem[]> => auditEvents(t, nhs);
  const notIn = async (box: readonly [string, string], nhs: string): Promise<void> => {
    expect((await inbox(box)).some((i) => i.record?.baby.nhsNumber === nhs)).toBe(false);
  };

  test('an objection recorded before the HL7 v2 birth is processed: nothing reaches the centre, the decision names the record', async () => {
    const baby = newborn({ seed: 1301, controlId: 'CONSENT-1' });
    const mother = baby.mother?.nhsNumber ?? '';
    const recorded = await postConsent('demo-northgate-feed-key', {
      kind: 'objection',
      scope: 'offer-of-support',
      purpose: 'offer of early support',
      recipient: 'any',
      source: 'antenatal-booking',
      motherNhsNumber: mother,
    });
    expect(recorded.status).toBe(201);
    const record = (await recorded.json()) as { id: string; status: string; recordedBy: string };
    expect(record).toMatchObject({ status: 'active', recordedBy: 'client:northgate-feed' });
    await send(baby.text);
    const n = await notificationOf('CONSENT-1', 'withheld');
    expect(n.inbox_id).toBeNull();
    await notIn(OSMONDTHORPE, baby.baby.nhsNumber);
    const decided = (await auditOf(baby.baby.nhsNumber)).find((e) => e.action === 'decided');
    expect(decided).toMatchObject({ ruleId: 'parent-objected', outcome: 'deny' });
    expect(decided?.details?.consentRecords).toEqual([record.id]);
    const stored = await t.database.db.query<{ decision: { consentRecords?: string[] } }>(
      `SELECT decision FROM notifications WHERE id = $1`,
      [n.id],
    );
    expect(stored.rows[0]?.decision.consentRecords).toEqual([record.id]);
  });

  test('an objection a centre records by phone after delivery withdraws the item at once, without content or reason', async () => {
    const baby = newborn({ seed: 1302, controlId: 'CONSENT-2' });
    await send(baby.text);
    const n = await notificationOf('CONSENT-2', 'delivered');
    expect((await item(OSMONDTHORPE, n.id)).record?.baby.nhsNumber).toBe(baby.baby.nhsNumber);

    // Another centre cannot record for this family, nor name another centre as recipient.
    const statement = {
      kind: 'objection',
      scope: 'offer-of-support',
      recipient: 'centre:harehills',
      source: 'parent-by-phone',
      babyNhsNumber: baby.baby.nhsNumber,
    };
    expect((await postConsent('demo-harehills-key', statement)).status).toBe(404);
    const wrongRecipient = await postConsent('demo-osmondthorpe-key', statement);
    expect(wrongRecipient.status).toBe(403);
    expect(((await wrongRecipient.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('recipient');
    expect((await postConsent('demo-osmondthorpe-key', { ...statement, recipient: 'centre:osmondthorpe', source: 'midwife' })).status).toBe(
      403,
    );
    expect((await item(OSMONDTHORPE, n.id)).status).toBe('new');

    const res = await postConsent('demo-osmondthorpe-key', { ...statement, recipient: 'centre:osmondthorpe' });
    expect(res.status).toBe(201);
    const seen = await item(OSMONDTHORPE, n.id);
    expect(seen.status).toBe('withdrawn');
    expect(seen.withdrawnAt).toBeDefined();
    expect(seen.record).toBeUndefined();
    expect(JSON.stringify(seen)).not.toMatch(/objection|consent/i);
    const listed = (await inbox(OSMONDTHORPE)).find((i) => i.notificationId === n.id);
    expect(listed).toMatchObject({ status: 'withdrawn' });
    expect(listed?.record).toBeUndefined();
    const ack = await api(t.http, OSMONDTHORPE[1], `/v1/centres/osmondthorpe/notifications/${n.id}/ack`, { method: 'POST' });
    expect(ack.status).toBe(409);

    const events = await auditOf(baby.baby.nhsNumber);
    expect(events.find((e) => e.action === 'consent-recorded')).toMatchObject({ actor: 'client:osmondthorpe', outcome: 'objection' });
    const withdrawn = events.find((e) => e.action === 'withdrawn');
    expect(withdrawn).toMatchObject({ recipient: 'osmondthorpe', ruleId: 'parent-objected', outcome: 'withdrawn-from-inbox' });
    expect(String(withdrawn?.details?.reason)).toMatch(/withdrawn/);

    // Recording the same objection again changes nothing more.
    expect((await postConsent('demo-osmondthorpe-key', { ...statement, recipient: 'centre:osmondthorpe' })).status).toBe(201);
    expect((await auditOf(baby.baby.nhsNumber)).filter((e) => e.action === 'withdrawn')).toHaveLength(1);
  });

  test('a FHIR Consent (deny) in a later message about a delivered baby withdraws the notification', async () => {
    const babyNhs = nhsNumber(41301);
    const motherNhs = nhsNumber(51301);
    const birth = {
      timestamp: new Date().toISOString(),
      birthDate: localDateOf(new Date()),
      babyNhsNumber: babyNhs,
      motherNhsNumber: motherNhs,
    };
    const post = (body: JsonObject) =>
      api(t.http, NORTHGATE_FHIR_KEY, '/v1/fhir/$process-message', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: asJson(body),
      });
    expect((await post(fhirBirthBundle({ ...birth, bundleId: 'consent-fhir-1' }))).status).toBe(200);
    const n = await pollUntil(async () => {
      const r = await t.database.db.query<{ id: string; status: string }>(
        `SELECT id, status FROM notifications WHERE baby_nhs_number = $1`,
        [pseudo(babyNhs)],
      );
      return r.rows[0]?.status === 'delivered' ? r.rows[0] : undefined;
    }, 'the FHIR birth delivered');
    expect((await item(OSMONDTHORPE, n.id)).status).toBe('new');

    const later = withConsent(fhirBirthBundle({ ...birth, bundleId: 'consent-fhir-2' }), 'deny', 'offer-of-support');
    expect((await post(later)).status).toBe(200);
    await pollUntil(async () => ((await item(OSMONDTHORPE, n.id)).status === 'withdrawn' ? true : undefined), 'the item withdrawn');
    const seen = await item(OSMONDTHORPE, n.id);
    expect(seen.record).toBeUndefined();
    const history = await api(t.http, 'demo-ig-key', `/v1/consents?nhsNumber=${babyNhs}`);
    expect(history.status).toBe(200);
    const items = ((await history.json()) as { items: { kind: string; source: string; recordedBy: string }[] }).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'objection', source: 'fhir' });
    expect(items[0]?.recordedBy).toMatch(/^message:/);
  });

  test('clinical details are shown only with recorded consent, and removed when it is withdrawn', async () => {
    const baby = newborn({ seed: 1304, controlId: 'CONSENT-4' });
    const mother = baby.mother?.nhsNumber ?? '';
    const res = await postConsent('demo-northgate-feed-key', {
      kind: 'consent',
      scope: 'clinical-details',
      recipient: 'local-authority:northgate',
      source: 'midwife',
      motherNhsNumber: mother,
    });
    expect(res.status).toBe(201);
    const consent = (await res.json()) as { id: string };
    await send(baby.text);
    const n = await notificationOf('CONSENT-4', 'delivered');
    const shown = await item(OSMONDTHORPE, n.id);
    expect(shown.record?.dataset).toBe('offer-of-support-with-clinical');
    expect(shown.record?.birthDetails?.weightGrams).toBeGreaterThan(0);

    // Only the client that recorded it (or an IG lead) may withdraw it.
    expect((await api(t.http, 'demo-osmondthorpe-key', `/v1/consents/${consent.id}/withdraw`, { method: 'POST' })).status).toBe(404);
    const withdrawn = await api(t.http, 'demo-northgate-feed-key', `/v1/consents/${consent.id}/withdraw`, { method: 'POST' });
    expect(withdrawn.status).toBe(200);
    expect(await withdrawn.json()).toMatchObject({ status: 'withdrawn', changed: true });
    const after = await item(OSMONDTHORPE, n.id);
    expect(after.status).toBe('new');
    expect(after.updatedAt).toBeDefined();
    expect(after.record?.dataset).toBe('offer-of-support');
    expect(after.record?.birthDetails).toBeUndefined();
    const again = await api(t.http, 'demo-northgate-feed-key', `/v1/consents/${consent.id}/withdraw`, { method: 'POST' });
    expect(await again.json()).toMatchObject({ changed: false });

    const events = await auditOf(baby.baby.nhsNumber);
    expect(events.find((e) => e.action === 'updated')).toMatchObject({ recipient: 'osmondthorpe', ruleId: 'offer-of-support' });
    expect(events.find((e) => e.action === 'updated')?.details?.fields).toEqual(['birthDetails']);
    // The history keeps the record and its withdrawal.
    const history = await api(t.http, 'demo-ig-key', `/v1/consents?nhsNumber=${mother}`);
    const records = ((await history.json()) as { items: { id: string; status: string; withdrawnBy?: string }[] }).items;
    expect(records.find((r) => r.id === consent.id)).toMatchObject({ status: 'withdrawn', withdrawnBy: 'client:northgate-feed' });
  });

  test('a mother under 18 at the birth: the young-parents pathway, not the centre', async () => {
    const baby = newborn({ seed: 1305, controlId: 'CONSENT-5' });
    const motherBirth = (baby.mother?.birthDate ?? '').replaceAll('-', '');
    const sixteen = `${new Date().getUTCFullYear() - 16}0101`;
    expect(baby.text).toContain(motherBirth);
    await send(baby.text.replace(motherBirth, sixteen));
    const n = await notificationOf('CONSENT-5', 'delivered');
    expect(n.inbox_id).toBe('young-parents-review');
    expect((await item(YOUNG_PARENTS, n.id)).record?.baby.nhsNumber).toBe(baby.baby.nhsNumber);
    await notIn(OSMONDTHORPE, baby.baby.nhsNumber);
    expect((await api(t.http, OSMONDTHORPE[1], `/v1/centres/osmondthorpe/notifications/${n.id}`)).status).toBe(404);
  });

  test('a restricted record with an objection (HL7 v2 CON segment) still goes to safeguarding review', async () => {
    const baby = newborn({ seed: 1306, controlId: 'CONSENT-6', restricted: true });
    await send(`${baby.text}${conSegment('OFFER^Offer of support', 'R')}\r`);
    const n = await notificationOf('CONSENT-6', 'delivered');
    expect(n.inbox_id).toBe('safeguarding-review');
    const seen = await item(SAFEGUARDING, n.id);
    expect(seen.record?.dataset).toBe('safeguarding-review');
    await notIn(OSMONDTHORPE, baby.baby.nhsNumber);
    const events = await auditOf(baby.baby.nhsNumber);
    expect(events.find((e) => e.action === 'consent-recorded')).toMatchObject({ actor: 'system:worker', outcome: 'objection' });
    const decided = events.find((e) => e.action === 'decided');
    expect(decided?.ruleId).toBe('restricted-record');
    expect(decided?.lawfulBasis).toMatch(/Sch 1 para 18/);
  });

  test("a feed's ZCN objection: the birth is withheld; a restricted one goes to safeguarding", async () => {
    const plain = describeNewborn({
      seed: 1307,
      northvale: true,
      sendingFacility: 'RX9',
      controlId: 'CONSENT-7',
      messageTime: new Date(),
      postcodes: ['LS9 7AB'],
    });
    await send(`${plain.text}ZCN|objection|offer-of-support\r`);
    await notificationOf('CONSENT-7', 'withheld');
    await notIn(OSMONDTHORPE, plain.baby.nhsNumber);

    const restricted = describeNewborn({
      seed: 1308,
      northvale: true,
      sendingFacility: 'RX9',
      controlId: 'CONSENT-8',
      messageTime: new Date(),
      postcodes: ['LS9 7AB'],
      restricted: true,
    });
    await send(`${restricted.text}ZCN|objection|offer-of-support\r`);
    const n = await notificationOf('CONSENT-8', 'delivered');
    expect(n.inbox_id).toBe('safeguarding-review');

    // A code the mapping does not know is refused, not dropped.
    const unknown = describeNewborn({
      seed: 1309,
      northvale: true,
      sendingFacility: 'RX9',
      controlId: 'CONSENT-9',
      messageTime: new Date(),
    });
    const ack = await client.send(`${unknown.text}ZCN|maybe|offer-of-support\r`);
    expect(ack.split('\r')[1]?.split('|')[1]).toBe('CE');
    expect(ack).toMatch(/ZCN/);
  });

  test('who may record and read: problems name the field; a feed cannot read the history; reads are audited', async () => {
    const nhs = nhsNumber(61301);
    const bad = await postConsent('demo-northgate-feed-key', {
      kind: 'maybe',
      scope: 'offer-of-support',
      recipient: 'any',
      source: 'midwife',
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const fields = ((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['kind', 'motherNhsNumber']));
    const checkDigit = await postConsent('demo-northgate-feed-key', {
      kind: 'objection',
      scope: 'offer-of-support',
      recipient: 'any',
      source: 'midwife',
      babyNhsNumber: '9000000001',
    });
    expect(((await checkDigit.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('babyNhsNumber');
    const period = await postConsent('demo-northgate-feed-key', {
      kind: 'objection',
      scope: 'offer-of-support',
      recipient: 'any',
      source: 'midwife',
      babyNhsNumber: nhs,
      from: '2026-12-01',
      to: '2026-11-01',
    });
    expect(((await period.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('to');
    const notJson = await api(t.http, 'demo-northgate-feed-key', '/v1/consents', { method: 'POST', headers: JSON_HEADERS, body: '{' });
    expect(notJson.status).toBe(400);
    const huge = await postConsent('demo-northgate-feed-key', { kind: 'objection', purpose: 'x'.repeat(20000) });
    expect(huge.status).toBe(413);
    expect((await postConsent('demo-ig-key', { kind: 'objection' })).status).toBe(403);
    expect((await api(t.http, 'demo-northgate-feed-key', `/v1/consents?nhsNumber=${nhs}`)).status).toBe(403);
    expect((await api(t.http, 'demo-osmondthorpe-key', `/v1/consents?nhsNumber=${nhs}`)).status).toBe(403);
    expect((await api(t.http, 'demo-ig-key', '/v1/consents?nhsNumber=123')).status).toBe(400);
    expect((await api(t.http, 'demo-ig-key', '/v1/consents/not-a-uuid/withdraw', { method: 'POST' })).status).toBe(404);
    expect((await api(t.http, 'demo-ig-key', `/v1/consents?nhsNumber=${nhs}`)).status).toBe(200);
    const reads = (await auditOf(nhs)).filter((e) => e.action === 'read' && e.details?.query === 'consent-history');
    expect(reads).toHaveLength(1);
  });

  test('no NHS number, name or date of birth of these families reaches the logs', () => {
    const text = t.sink.text;
    expect(text.length).toBeGreaterThan(0);
    for (const n of [nhsNumber(41301), nhsNumber(51301), nhsNumber(61301)]) expect(text).not.toContain(n);
    expect(text).not.toMatch(/"(babyNhsNumber|motherNhsNumber)"/);
  });
});
