import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { bookingMessage, lossMessage, nhsNumberFrom, type ExpectingMotherFixture } from '../support/synthetic/antenatal-booking.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { auditOf, sendAccepted, type AuditItem } from '../support/consent-helpers.js';
import { demoCipher, plainJson, plainRaw, pseudo } from '../support/data-keys.js';
import { SqlAntenatalStore } from '../../adapters/store/sql-antenatal-store.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { OPENAPI_FILE } from '../../adapters/http/routes/openapi.js';
import { ResponseChecker, type OpenApiDocument } from '../support/openapi.js';
import os from 'node:os';
import path from 'node:path';
import { DataCipher } from '../../adapters/store/data-cipher.js';
import { SqlDataKeyRotation } from '../../adapters/store/sql-data-key-rotation.js';
import { dataKeyId, loadDataKeys } from '../../src/config/data-keys.js';
import { repoRoot } from '../../src/config/env.js';
import { SqlRetentionStore } from '../../adapters/store/sql-retention-store.js';
import { runRetention, type RetentionReport } from '../../src/processing/run-retention.js';
import { createLogger } from '../../src/logger.js';
import { localDateOf } from '../../src/domain/hl7-datetime.js';
import type { JsonObject } from '../../src/pipeline/fhir/fhir-xml.js';
import { asJson, asXml, fhirBirthBundle, NORTHGATE_FHIR_KEY } from '../support/synthetic/fhir-birth.js';
import { fhirBookingBundle, fhirLossBundle, type FhirMotherFixture } from '../support/synthetic/fhir-booking.js';

const FEED = 'demo-northgate-feed-key';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const openApi = new ResponseChecker(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument);
const AGREEMENT = /^antenatal-with-consent@1\.0\.0#sha256:[0-9a-f]{64}$/;

interface AntenatalRow {
  id: string;
  status: string;
  inbox_id: string | null;
  disclosed: Record<string, unknown> | null;
  family_id: string | null;
}

/** An NK1 mother segment as the ITK ADT mapping reads it, for the baby's birth message (without her NHS number if asked). */
function nk1(m: ExpectingMotherFixture, withNhs = true): string {
  const f: string[] = ['NK1', '1', `${m.family}^${m.given}^^^MRS^^L`, 'MTH^Mother^HL70063', `2 Booking Road^^LEEDS^^${m.postcode}^GBR^H`];
  f[16] = m.dob;
  f[33] = withNhs ? `${m.nhs}^^^NHS^NH` : '';
  return Array.from({ length: f.length }, (_, i) => f[i] ?? '').join('|');
}

/**
 * Antenatal bookings (issue 17 item 1) end to end on PostgreSQL: bookings sent over MLLP by the sample maternity
 * booking feed reach the covering centre only with the mother's recorded consent (in the register, or carried by the
 * booking's CON segment); without it nothing is delivered and the audit says it was not shared, with rule and basis;
 * the baby's birth joins the family the booking made; a pregnancy loss withdraws the antenatal notification at once.
 */
describe('Antenatal bookings: consent, routing, family, loss', () => {
  let t: TestHub;
  let client: MllpClient;
  const mother = (n: number, family: string, postcode: string): ExpectingMotherFixture => ({
    nhs: nhsNumberFrom(999_100_000 + n * 37),
    family,
    given: 'ROSALIND',
    dob: '19940312',
    postcode,
  });

  beforeAll(async () => {
    t = await startTestHub();
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  /** The antenatal notification of a mother once it has this status (`disclosed` decrypted with the demo key). */
  const antenatalOf = (nhs: string, status: string): Promise<AntenatalRow> =>
    pollUntil(async () => {
      const r = await t.database.db.query<AntenatalRow>(
        'SELECT id, status, inbox_id, disclosed, family_id FROM antenatal_notifications WHERE mother_nhs_number = $1',
        [pseudo(nhs)],
      );
      const row = r.rows[0];
      if (row?.status !== status) return undefined;
      return { ...row, disclosed: plainJson('antenatal_notifications.disclosed', row.id, row.disclosed) as Record<string, unknown> | null };
    }, `the antenatal notification ${status}`);
  /** The row's identifiable columns as stored (text of the jsonb), and the family's. */
  const storedText = async (id: string): Promise<string> => {
    const r = await t.database.db.query<{ stored: string }>(
      `SELECT a.record::text || ' ' || coalesce(a.disclosed::text, '') || ' ' || coalesce(f.lead::text, '') || ' ' || coalesce(f.address::text, '') AS stored
         FROM antenatal_notifications a LEFT JOIN families f ON f.id = a.family_id WHERE a.id = $1`,
      [id],
    );
    return r.rows[0]?.stored ?? '';
  };
  const events = async (nhs: string, id: string): Promise<AuditItem[]> => (await auditOf(t, nhs)).filter((e) => e.notificationId === id);

  test('without consent: not delivered, no family, audited as not shared with the rule, basis and reason', async () => {
    const m = mother(1, 'QUENBY', 'LS9 7AB');
    await sendAccepted(client, bookingMessage(m, { controlId: 'ANC-NOCONSENT', dueDate: '20270410', pregnancyId: 'P1' }));
    const row = await antenatalOf(m.nhs, 'withheld');
    expect(row.inbox_id).toBeNull();
    expect(row.disclosed).toBeNull();
    expect(row.family_id).toBeNull();
    const audit = await events(m.nhs, row.id);
    const decided = audit.find((e) => e.action === 'decided');
    expect(decided).toMatchObject({ ruleId: 'no-consent-recorded', outcome: 'deny', details: { kind: 'antenatal' } });
    const withheld = audit.find((e) => e.action === 'withheld');
    expect(withheld).toMatchObject({ ruleId: 'no-consent-recorded', outcome: 'withheld', details: { kind: 'antenatal', shared: false } });
    expect(withheld?.lawfulBasis).toMatch(/consent/);
    expect(String(withheld?.details?.reason)).toMatch(/No consent to antenatal contact is recorded/);
    expect(audit.some((e) => e.action === 'delivered' || e.action === 'routed')).toBe(false);
    const families = await t.database.db.query('SELECT 1 FROM families WHERE lead_nhs_number = $1', [pseudo(m.nhs)]);
    expect(families.rowCount).toBe(0);
    // The centre's expecting list does not hold it.
    const listed = await t.database.db.query(
      `SELECT 1 FROM antenatal_notifications WHERE inbox_id = 'osmondthorpe' AND mother_nhs_number = $1`,
      [pseudo(m.nhs)],
    );
    expect(listed.rowCount).toBe(0);
  });

  test('a withheld booking is decided again when her consent is recorded later (POST /v1/consents): delivered at once', async () => {
    const m = mother(6, 'ACKROYD', 'LS9 7AB');
    await sendAccepted(client, bookingMessage(m, { controlId: 'ANC-LATER', dueDate: '20270707', pregnancyId: 'P6' }));
    const held = await antenatalOf(m.nhs, 'withheld');
    // A consent in another scope changes nothing.
    const clinical = await api(t.http, FEED, '/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'consent', scope: 'clinical-details', recipient: 'any', source: 'midwife', motherNhsNumber: m.nhs }),
    });
    expect(clinical.status).toBe(201);
    expect((await antenatalOf(m.nhs, 'withheld')).id).toBe(held.id);
    const consent = await api(t.http, FEED, '/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'consent', scope: 'antenatal', recipient: 'any', source: 'antenatal-booking', motherNhsNumber: m.nhs }),
    });
    expect(consent.status).toBe(201);
    const consentId = ((await consent.json()) as { id: string }).id;
    // Delivered before the API answered (no polling needed), in the same row.
    const r = await t.database.db.query<AntenatalRow>(
      'SELECT id, status, inbox_id, disclosed, family_id FROM antenatal_notifications WHERE id = $1',
      [held.id],
    );
    const row = r.rows[0];
    expect(row).toMatchObject({ id: held.id, status: 'delivered', inbox_id: 'osmondthorpe' });
    expect(row?.family_id).not.toBeNull();
    expect(plainJson('antenatal_notifications.disclosed', held.id, row?.disclosed)).toMatchObject({
      mother: { name: { family: 'ACKROYD' } },
      estimatedDueDate: '2027-07-07',
    });
    const audit = await events(m.nhs, held.id);
    const decided = audit.filter((e) => e.action === 'decided');
    expect(decided.map((e) => e.ruleId)).toEqual(['no-consent-recorded', 'antenatal-with-consent']);
    expect(decided[1]).toMatchObject({
      outcome: 'permit',
      details: { kind: 'antenatal', previousRuleId: 'no-consent-recorded', consentId, consentRecords: [consentId] },
    });
    expect(audit.find((e) => e.action === 'delivered')).toMatchObject({ recipient: 'osmondthorpe', ruleId: 'antenatal-with-consent' });
    expect(audit.find((e) => e.action === 'family-linked')).toMatchObject({ outcome: 'new-family' });
    const listed = await new SqlAntenatalStore(t.database.db, demoCipher).listExpecting(
      'osmondthorpe',
      100,
      { actor: 'user:olivia', name: 'Olivia Demo' },
      new Date(),
    );
    expect(listed.find((i) => i.id === held.id)?.disclosed?.mother.name?.family).toBe('ACKROYD');
    // Recording it again delivers nothing twice.
    const again = await api(t.http, FEED, '/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'consent', scope: 'antenatal', recipient: 'any', source: 'antenatal-booking', motherNhsNumber: m.nhs }),
    });
    expect(again.status).toBe(201);
    expect((await events(m.nhs, held.id)).filter((e) => e.action === 'delivered')).toHaveLength(1);
  });

  /** Records a statement in the consent register (the maternity system's key); its id. */
  const postConsent = async (body: Record<string, unknown>): Promise<string> => {
    const res = await api(t.http, FEED, '/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recipient: 'any', source: 'antenatal-booking', ...body }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const withdrawConsent = async (id: string): Promise<void> => {
    const res = await api(t.http, FEED, `/v1/consents/${id}/withdraw`, { method: 'POST' });
    expect(res.status).toBe(200);
  };
  /** The row as the API left it (no polling: a consent change decides bookings before the API answers). */
  const rowNow = async (id: string): Promise<AntenatalRow & { consent_hold: unknown }> => {
    const r = await t.database.db.query<AntenatalRow & { consent_hold: unknown }>(
      'SELECT id, status, inbox_id, disclosed, family_id, consent_hold FROM antenatal_notifications WHERE id = $1',
      [id],
    );
    const row = r.rows[0];
    if (row === undefined) throw new Error('no antenatal notification');
    return row;
  };
  const expectingItem = async (id: string) =>
    (
      await new SqlAntenatalStore(t.database.db, demoCipher).listExpecting(
        'osmondthorpe',
        100,
        { actor: 'user:olivia', name: 'Olivia Demo' },
        new Date(),
      )
    ).find((i) => i.id === id);

  test('a delivered booking is withdrawn at once when her antenatal consent is withdrawn or she objects; her consent recorded again delivers it once; never after a loss', async () => {
    const m = mother(8, 'HEPWORTH', 'LS9 7AB');
    const consentId = await postConsent({ kind: 'consent', scope: 'antenatal', motherNhsNumber: m.nhs });
    await sendAccepted(client, bookingMessage(m, { controlId: 'ANC-WITHDRAW', dueDate: '20270815', pregnancyId: 'P8' }));
    const row = await antenatalOf(m.nhs, 'delivered');
    expect(row.inbox_id).toBe('osmondthorpe');

    // Objections in the birth scopes are about the baby: they do not cover antenatal sharing.
    await postConsent({ kind: 'objection', scope: 'offer-of-support', source: 'midwife', motherNhsNumber: m.nhs });
    await postConsent({ kind: 'objection', scope: 'clinical-details', source: 'midwife', motherNhsNumber: m.nhs });
    expect((await rowNow(row.id)).status).toBe('delivered');

    // Her antenatal consent withdrawn: withdrawn before the API answers, content gone, held for her consent.
    await withdrawConsent(consentId);
    const gone = await rowNow(row.id);
    expect(gone).toMatchObject({ status: 'withdrawn', inbox_id: 'osmondthorpe', disclosed: null });
    expect(gone.consent_hold).toMatchObject({ outcome: 'withdrawn-from-inbox' });
    const shown = await expectingItem(row.id);
    expect(shown?.status).toBe('withdrawn');
    expect(shown?.disclosed).toBeUndefined();
    expect(shown?.withdrawnAt).toMatch(/^\d{4}-/);
    let audit = await events(m.nhs, row.id);
    const withdrawn = audit.filter((e) => e.action === 'withdrawn');
    expect(withdrawn).toHaveLength(1);
    expect(withdrawn[0]).toMatchObject({
      actor: 'client:northgate-feed',
      recipient: 'osmondthorpe',
      ruleId: 'no-consent-recorded',
      outcome: 'withdrawn',
      details: { kind: 'antenatal', consentId, previousStatus: 'delivered' },
    });
    expect(withdrawn[0]?.lawfulBasis).toMatch(/No disclosure/);
    expect(audit.filter((e) => e.action === 'decided').at(-1)).toMatchObject({
      ruleId: 'no-consent-recorded',
      outcome: 'deny',
      details: { previousRuleId: 'antenatal-with-consent', consentId },
    });

    // Recorded again: delivered again to the same centre, once, however often it is recorded.
    const again = await postConsent({ kind: 'consent', scope: 'antenatal', motherNhsNumber: m.nhs });
    const back = await rowNow(row.id);
    expect(back).toMatchObject({ status: 'delivered', inbox_id: 'osmondthorpe', consent_hold: null });
    const item = await expectingItem(row.id);
    expect(item).toMatchObject({ status: 'delivered', disclosed: { mother: { name: { family: 'HEPWORTH' } } } });
    expect(item?.withdrawnAt).toBeUndefined();
    await postConsent({ kind: 'consent', scope: 'antenatal', motherNhsNumber: m.nhs });
    audit = await events(m.nhs, row.id);
    const redelivered = audit.filter((e) => e.action === 'delivered' && e.outcome === 'redelivered');
    expect(redelivered).toHaveLength(1);
    expect(redelivered[0]).toMatchObject({
      recipient: 'osmondthorpe',
      ruleId: 'antenatal-with-consent',
      details: { kind: 'antenatal', consentId: again, redelivered: { heldOutcome: 'withdrawn-from-inbox' } },
    });

    // An antenatal objection (recipient any) withdraws it at once, under rule mother-objected.
    const objection = await postConsent({ kind: 'objection', scope: 'antenatal', source: 'midwife', motherNhsNumber: m.nhs });
    expect((await rowNow(row.id)).status).toBe('withdrawn');
    expect((await events(m.nhs, row.id)).filter((e) => e.action === 'withdrawn').at(-1)).toMatchObject({
      ruleId: 'mother-objected',
      details: { consentId: objection },
    });
    // A loss while it is held ends the hold: lifting the objection brings nothing back.
    await sendAccepted(client, lossMessage(m, { controlId: 'ANC-WITHDRAW-LOSS', pregnancyId: 'P8' }));
    await pollUntil(async () => ((await rowNow(row.id)).consent_hold === null ? true : undefined), 'the hold ended by the loss');
    await withdrawConsent(objection);
    expect((await rowNow(row.id)).status).toBe('withdrawn');
    audit = await events(m.nhs, row.id);
    expect(audit.filter((e) => e.action === 'delivered')).toHaveLength(2);
    expect(audit.filter((e) => e.action === 'withdrawn')).toHaveLength(2);
    expect(audit.filter((e) => e.action === 'decided').at(-1)).toMatchObject({ ruleId: 'pregnancy-ended', outcome: 'deny' });
  });

  test('with consent in the register: delivered to the covering centre; the baby’s birth joins the same family', async () => {
    const m = mother(2, 'WOLSTENHOLME', 'LS9 7AB');
    const consent = await api(t.http, FEED, '/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'consent', scope: 'antenatal', recipient: 'any', source: 'antenatal-booking', motherNhsNumber: m.nhs }),
    });
    expect(consent.status).toBe(201);
    const consentId = ((await consent.json()) as { id: string }).id;
    await sendAccepted(client, bookingMessage(m, { controlId: 'ANC-REGISTER', dueDate: '20270502', pregnancyId: 'P2', type: 'ADT^A05' }));
    const row = await antenatalOf(m.nhs, 'delivered');
    expect(row.inbox_id).toBe('osmondthorpe');
    expect(row.disclosed).toMatchObject({
      estimatedDueDate: '2027-05-02',
      mother: { nhsNumber: m.nhs, name: { family: 'WOLSTENHOLME' }, preferredLanguage: 'EN' },
      address: { postcode: 'LS9 7AB' },
      gpPractice: { odsCode: 'B86001' },
    });
    expect(row.family_id).not.toBeNull();
    // Encrypted at rest: the raw row (and the family it made) holds neither her name, date of birth nor postcode,
    // while the centre's expecting list (which every read decrypts) still shows them.
    const stored = await storedText(row.id);
    expect(stored).toContain('"enc": 1');
    for (const v of ['WOLSTENHOLME', 'ROSALIND', 'LS9 7AB', '1994-03-12', '2027-05-02']) expect(stored).not.toContain(v);
    const record = await t.database.db.query<{ record: unknown }>('SELECT record FROM antenatal_notifications WHERE id = $1', [row.id]);
    expect(plainJson('antenatal_notifications.record', row.id, record.rows[0]?.record)).toMatchObject({
      mother: { name: { family: 'WOLSTENHOLME' }, birthDate: '1994-03-12' },
    });
    const listed = await new SqlAntenatalStore(t.database.db, demoCipher).listExpecting(
      'osmondthorpe',
      100,
      { actor: 'user:olivia', name: 'Olivia Demo' },
      new Date(),
    );
    expect(listed.find((i) => i.id === row.id)?.disclosed).toMatchObject({
      mother: { name: { family: 'WOLSTENHOLME' } },
      address: { postcode: 'LS9 7AB' },
    });
    const audit = await events(m.nhs, row.id);
    const decided = audit.find((e) => e.action === 'decided');
    expect(decided).toMatchObject({ ruleId: 'antenatal-with-consent', outcome: 'permit', details: { consentRecords: [consentId] } });
    expect(decided?.lawfulBasis).toMatch(/Art 9\(2\)\(h\)/);
    expect(audit.find((e) => e.action === 'routed')).toMatchObject({ recipient: 'osmondthorpe', outcome: 'centre' });
    expect(audit.find((e) => e.action === 'delivered')).toMatchObject({ recipient: 'osmondthorpe', ruleId: 'antenatal-with-consent' });
    expect(audit.find((e) => e.action === 'family-linked')).toMatchObject({ outcome: 'new-family', details: { familyId: row.family_id } });
    const label = await t.database.db.query<{ rulebook_version: string }>(
      `SELECT rulebook_version FROM audit_events WHERE notification_id = $1 AND action = 'decided'`,
      [row.id],
    );
    expect(label.rows[0]?.rulebook_version).toMatch(AGREEMENT);

    // The baby is born: the birth (another feed, the ITK ADT) joins the family the booking made, not a new one.
    const birth = describeNewborn({
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
      seed: 1701,
      controlId: 'ANC-BIRTH',
    });
    const text = birth.text
      .split('\r')
      .map((s) => (s.startsWith('NK1|') ? nk1(m) : s))
      .join('\r');
    await sendAccepted(client, text);
    const link = await pollUntil(async () => {
      const r = await t.database.db.query<{ family_id: string; method: string }>(
        `SELECT l.family_id, l.method FROM family_links l JOIN notifications n ON n.id = l.notification_id WHERE n.baby_nhs_number = $1`,
        [pseudo(birth.baby.nhsNumber)],
      );
      return r.rows[0];
    }, 'the birth placed in a family');
    expect(link).toEqual({ family_id: row.family_id, method: 'nhs-number' });
    const children = await t.database.db.query('SELECT 1 FROM family_children WHERE family_id = $1', [row.family_id]);
    expect(children.rowCount).toBe(1);
    // The birth closes the centre's expecting item: still delivered, with born_at, and listed as born.
    const closed = await t.database.db.query<{ status: string; born_at: Date | null }>(
      'SELECT status, born_at FROM antenatal_notifications WHERE id = $1',
      [row.id],
    );
    expect(closed.rows[0]?.status).toBe('delivered');
    expect(closed.rows[0]?.born_at).toBeInstanceOf(Date);
    const after = await new SqlAntenatalStore(t.database.db, demoCipher).listExpecting(
      'osmondthorpe',
      100,
      { actor: 'user:olivia', name: 'Olivia Demo' },
      new Date(),
    );
    const closedItem = after.find((i) => i.id === row.id);
    expect(closedItem?.status).toBe('delivered');
    expect(closedItem?.bornAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // Audited once: the booking's and the birth's notification ids, the family; no personal data in details.
    const births = await t.database.db.query<{ id: string }>('SELECT id FROM notifications WHERE baby_nhs_number = $1', [
      pseudo(birth.baby.nhsNumber),
    ]);
    const closedEvents = (await events(m.nhs, row.id)).filter((e) => e.action === 'antenatal-closed');
    expect(closedEvents).toEqual([
      expect.objectContaining({
        actor: 'system:worker',
        recipient: 'osmondthorpe',
        outcome: 'born',
        details: { kind: 'antenatal', birthNotificationId: births.rows[0]?.id, familyId: row.family_id, via: 'birth-linked' },
      }),
    ]);
  });

  test('a birth held in match review closes the booking when an operator confirms the match: audited antenatal-closed via the merge', async () => {
    const m = mother(9, 'ILLINGWORTH', 'LS9 7AB');
    await sendAccepted(client, bookingMessage(m, { controlId: 'ANC-REVIEW', dueDate: '20270303', pregnancyId: 'P9', consent: 'A' }));
    const row = await antenatalOf(m.nhs, 'delivered');
    // The birth names her without her NHS number, at another postcode: the review band, held apart.
    const birth = describeNewborn({
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
      seed: 1709,
      controlId: 'ANC-REVIEW-BIRTH',
    });
    const text = birth.text
      .split('\r')
      .map((x) => (x.startsWith('NK1|') ? nk1({ ...m, postcode: 'WF1 2AB' }, false) : x))
      .join('\r');
    await sendAccepted(client, text);
    const review = await pollUntil(async () => {
      const r = await api(t.http, 'demo-admin-key', '/v1/match-reviews?status=pending');
      const items = ((await r.json()) as { items: { id: string; candidateFamilyId: string }[] }).items;
      return items.find((i) => i.candidateFamilyId === row.family_id);
    }, 'the birth held in match review');
    expect((await rowNow(row.id)).status).toBe('delivered');
    expect((await events(m.nhs, row.id)).some((e) => e.action === 'antenatal-closed')).toBe(false);
    const confirmed = await api(t.http, 'demo-admin-key', `/v1/match-reviews/${review.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'confirm', reason: 'same mother, moved' }),
    });
    expect(confirmed.status).toBe(200);
    const births = await t.database.db.query<{ id: string }>('SELECT id FROM notifications WHERE baby_nhs_number = $1', [
      pseudo(birth.baby.nhsNumber),
    ]);
    const closed = (await events(m.nhs, row.id)).filter((e) => e.action === 'antenatal-closed');
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({
      outcome: 'born',
      recipient: 'osmondthorpe',
      details: { kind: 'antenatal', birthNotificationId: births.rows[0]?.id, familyId: row.family_id, via: 'families-merged' },
    });
    expect((await expectingItem(row.id))?.bornAt).toMatch(/^\d{4}-/);
  });

  test('consent carried by the booking’s CON segment: recorded, delivered by postcode; a loss withdraws it at once', async () => {
    const m = mother(3, 'PENHALIGON', 'LS8 2QR');
    await sendAccepted(client, bookingMessage(m, { controlId: 'ANC-CON', dueDate: '20270620', pregnancyId: 'P3', consent: 'A' }));
    const row = await antenatalOf(m.nhs, 'delivered');
    expect(row.inbox_id).toBe('harehills');
    const recorded = (await auditOf(t, m.nhs)).find((e) => e.action === 'consent-recorded');
    expect(recorded).toMatchObject({ outcome: 'consent', details: { scope: 'antenatal', source: 'hl7v2' } });

    // Another pregnancy's loss (another id) leaves this one alone; its own loss withdraws it.
    await sendAccepted(client, lossMessage(m, { controlId: 'ANC-LOSS-OTHER', pregnancyId: 'P-OTHER' }));
    await pollUntil(async () => {
      const r = await t.database.db.query<{ status: string; reason: string | null }>(
        `SELECT status, reason FROM messages WHERE control_id = 'ANC-LOSS-OTHER'`,
      );
      return r.rows[0]?.status === 'not-relevant' ? r.rows[0] : undefined;
    }, 'the other pregnancy’s loss not applied');
    await sendAccepted(client, lossMessage(m, { controlId: 'ANC-LOSS', pregnancyId: 'P3' }));
    const gone = await antenatalOf(m.nhs, 'withdrawn');
    expect(gone.disclosed).toBeNull();
    const withdrawn = (await events(m.nhs, row.id)).find((e) => e.action === 'withdrawn');
    expect(withdrawn).toMatchObject({
      ruleId: 'pregnancy-ended',
      recipient: 'harehills',
      outcome: 'withdrawn',
      details: { kind: 'antenatal' },
    });
    expect(withdrawn?.lawfulBasis).toMatch(/No disclosure/);
  });

  test('a coded outcome (A08 with a SNOMED CT loss code) withdraws; another code does not; a booking without a due date is refused naming OBX-5', async () => {
    const m = mother(4, 'TREGENNA', 'LS9 7AD');
    await sendAccepted(client, bookingMessage(m, { controlId: 'ANC-OUTCOME', dueDate: '20270801', consent: 'A' }));
    const row = await antenatalOf(m.nhs, 'delivered');
    await sendAccepted(client, lossMessage(m, { controlId: 'ANC-OUTCOME-LIVE', outcomeCode: '281050002' }));
    await pollUntil(async () => {
      const r = await t.database.db.query<{ status: string }>(`SELECT status FROM messages WHERE control_id = 'ANC-OUTCOME-LIVE'`);
      return r.rows[0]?.status === 'not-relevant' ? r.rows[0] : undefined;
    }, 'an outcome that is not a loss is not relevant');
    expect((await antenatalOf(m.nhs, 'delivered')).id).toBe(row.id);
    await sendAccepted(client, lossMessage(m, { controlId: 'ANC-OUTCOME-LOSS', outcomeCode: '17369002' }));
    expect((await antenatalOf(m.nhs, 'withdrawn')).id).toBe(row.id);

    const ack = await client.send(bookingMessage(mother(5, 'NODATE', 'LS9 7AD'), { controlId: 'ANC-NODUE', consent: 'A' }));
    const segments = ack.split('\r');
    expect(segments[1]?.split('|')[1]).toBe('CE');
    expect(segments.find((s) => s.startsWith('ERR'))).toMatch(/OBX\^1\^5/);
  });

  // FHIR R4 (UK Core) bookings and losses through $process-message on the Northgate FHIR feed (same hub, same agreement).
  const fhirMother = (n: number, family: string, postcode: string): FhirMotherFixture => ({
    nhs: nhsNumberFrom(999_200_000 + n * 41),
    family,
    given: 'AGATA',
    birthDate: '1991-08-23',
    postcode,
  });
  const post = async (body: string, encoding: 'json' | 'xml' = 'json') => {
    const res = await api(t.http, NORTHGATE_FHIR_KEY, '/v1/fhir/$process-message', {
      method: 'POST',
      headers: { 'content-type': `application/fhir+${encoding}` },
      body,
    });
    const text = await res.text();
    const answer =
      encoding === 'json' ? (JSON.parse(text) as JsonObject) : { resourceType: /^<\?xml[^>]*>\s*<(\w+)/.exec(text)?.[1] ?? '' };
    return { status: res.status, body: answer, id: res.headers.get('x-stork-message-id') ?? '' };
  };
  const accepted = async (b: JsonObject, encoding: 'json' | 'xml' = 'json'): Promise<string> => {
    const r = await post(encoding === 'json' ? asJson(b) : asXml(b), encoding);
    expect([r.status, r.body.resourceType]).toEqual([200, 'Bundle']);
    return r.id;
  };
  const messageSettled = (id: string) =>
    pollUntil(async () => {
      const r = await t.database.db.query<{ status: string; reason: string | null }>('SELECT status, reason FROM messages WHERE id = $1', [
        id,
      ]);
      const row = r.rows[0];
      return row === undefined || row.status === 'queued' ? undefined : row;
    }, `FHIR message ${id} settled`);
  const expecting = () =>
    new SqlAntenatalStore(t.database.db, demoCipher).listExpecting(
      'osmondthorpe',
      100,
      { actor: 'user:olivia', name: 'Olivia Demo' },
      new Date(),
    );

  test('FHIR: without consent: withheld, not on any Expecting list, audited as not shared with the rule and reason', async () => {
    const m = fhirMother(1, 'KOWALSKA', 'LS9 7AB');
    await accepted(fhirBookingBundle(m, { bundleId: 'fhir-anc-noconsent', dueDate: '2027-04-10', pregnancyId: 'EP-F1' }));
    const row = await antenatalOf(m.nhs, 'withheld');
    expect([row.inbox_id, row.disclosed, row.family_id]).toEqual([null, null, null]);
    const audit = await events(m.nhs, row.id);
    expect(audit.find((e) => e.action === 'decided')).toMatchObject({
      ruleId: 'no-consent-recorded',
      outcome: 'deny',
      details: { kind: 'antenatal' },
    });
    const withheld = audit.find((e) => e.action === 'withheld');
    expect(withheld).toMatchObject({ ruleId: 'no-consent-recorded', outcome: 'withheld', details: { kind: 'antenatal', shared: false } });
    expect(String(withheld?.details?.reason)).toMatch(/No consent to antenatal contact is recorded/);
    expect(audit.some((e) => e.action === 'delivered' || e.action === 'routed')).toBe(false);
    expect((await expecting()).some((i) => i.id === row.id)).toBe(false);
  });

  test('FHIR: her Consent in the Bundle (XML): recorded, delivered to the covering centre’s Expecting list; the FHIR birth joins the family', async () => {
    const m = fhirMother(2, 'WISNIEWSKA', 'LS9 7AB');
    await accepted(
      fhirBookingBundle(m, { bundleId: 'fhir-anc-consent', dueDate: '2027-05-02', pregnancyId: 'EP-F2', consent: true }),
      'xml',
    );
    const row = await antenatalOf(m.nhs, 'delivered');
    expect(row.inbox_id).toBe('osmondthorpe');
    expect(row.disclosed).toMatchObject({
      estimatedDueDate: '2027-05-02',
      mother: { nhsNumber: m.nhs, name: { family: 'WISNIEWSKA' }, preferredLanguage: 'pl', birthDate: '1991-08-23' },
      address: { postcode: 'LS9 7AB' },
      gpPractice: { odsCode: 'B86001' },
    });
    const stored = await storedText(row.id);
    for (const v of ['WISNIEWSKA', 'LS9 7AB', '1991-08-23', '2027-05-02']) expect(stored).not.toContain(v);
    const audit = await auditOf(t, m.nhs);
    expect(audit.find((e) => e.action === 'consent-recorded')).toMatchObject({
      outcome: 'consent',
      details: { scope: 'antenatal', source: 'fhir' },
    });
    const mine = audit.filter((e) => e.notificationId === row.id);
    expect(mine.find((e) => e.action === 'decided')).toMatchObject({ ruleId: 'antenatal-with-consent', outcome: 'permit' });
    expect(mine.find((e) => e.action === 'delivered')).toMatchObject({ recipient: 'osmondthorpe', ruleId: 'antenatal-with-consent' });
    expect(mine.find((e) => e.action === 'family-linked')).toMatchObject({ outcome: 'new-family', details: { familyId: row.family_id } });
    expect((await expecting()).find((i) => i.id === row.id)?.disclosed?.mother.name?.family).toBe('WISNIEWSKA');

    // The baby is born: a FHIR birth message naming her as mother joins the family the booking made.
    const babyNhs = nhsNumberFrom(999_300_011);
    await accepted(
      fhirBirthBundle({
        bundleId: 'fhir-anc-birth',
        timestamp: new Date().toISOString(),
        birthDate: localDateOf(new Date()),
        babyNhsNumber: babyNhs,
        motherNhsNumber: m.nhs,
        motherAs: 'patient',
        family: 'WISNIEWSKA',
        postcode: 'LS9 7AB',
      }),
    );
    const link = await pollUntil(async () => {
      const r = await t.database.db.query<{ family_id: string; method: string }>(
        `SELECT l.family_id, l.method FROM family_links l JOIN notifications n ON n.id = l.notification_id WHERE n.baby_nhs_number = $1`,
        [pseudo(babyNhs)],
      );
      return r.rows[0];
    }, 'the FHIR birth placed in a family');
    expect(link).toEqual({ family_id: row.family_id, method: 'nhs-number' });
    const closed = await t.database.db.query<{ status: string; born_at: Date | null }>(
      'SELECT status, born_at FROM antenatal_notifications WHERE id = $1',
      [row.id],
    );
    expect(closed.rows[0]?.status).toBe('delivered');
    expect(closed.rows[0]?.born_at).toBeInstanceOf(Date);
  });

  test('FHIR: a loss withdraws the booking at once (audited); another pregnancy’s loss and a live outcome leave it alone', async () => {
    const m = fhirMother(3, 'NOWAKOWSKA', 'LS8 2QR');
    await accepted(fhirBookingBundle(m, { bundleId: 'fhir-anc-loss', dueDate: '2027-06-20', pregnancyId: 'EP-F3', consent: true }));
    const row = await antenatalOf(m.nhs, 'delivered');
    expect(row.inbox_id).toBe('harehills');
    const other = await accepted(fhirLossBundle(m, { bundleId: 'fhir-anc-loss-other', pregnancyId: 'EP-OTHER' }));
    expect(await messageSettled(other)).toEqual({
      status: 'not-relevant',
      reason: 'pregnancy loss about no live antenatal notification',
    });
    const live = await accepted(
      fhirLossBundle(m, { bundleId: 'fhir-anc-live', pregnancyId: 'EP-F3', as: 'observation', code: '281050002' }),
    );
    expect(await messageSettled(live)).toEqual({ status: 'not-relevant', reason: 'antenatal outcome that reports no loss' });
    expect((await antenatalOf(m.nhs, 'delivered')).id).toBe(row.id);
    await accepted(fhirLossBundle(m, { bundleId: 'fhir-anc-lost', pregnancyId: 'EP-F3', as: 'observation', code: '17369002' }));
    const gone = await antenatalOf(m.nhs, 'withdrawn');
    expect([gone.id, gone.disclosed]).toEqual([row.id, null]);
    const withdrawn = (await events(m.nhs, row.id)).find((e) => e.action === 'withdrawn');
    expect(withdrawn).toMatchObject({
      ruleId: 'pregnancy-ended',
      recipient: 'harehills',
      outcome: 'withdrawn',
      details: { kind: 'antenatal' },
    });
    expect(withdrawn?.lawfulBasis).toMatch(/No disclosure/);
  });

  test('FHIR: bad input: no due date, no NHS number → an OperationOutcome naming the element, stored in quarantine, nothing made', async () => {
    const m = fhirMother(4, 'ZIELINSKA', 'LS9 7AD');
    const cases: [JsonObject, string, string][] = [
      [
        fhirBookingBundle(m, { bundleId: 'fhir-anc-nodue', pregnancyId: 'EP-F4', consent: true }),
        'required',
        'Bundle.entry.resource.ofType(Observation).valueDateTime',
      ],
      [
        fhirBookingBundle(m, { bundleId: 'fhir-anc-baddue', dueDate: '2027-13-01', consent: true }),
        'value',
        'Bundle.entry[4].resource.valueDateTime',
      ],
      [
        fhirBookingBundle(m, { bundleId: 'fhir-anc-nonhs', dueDate: '2027-05-02', noNhsNumber: true }),
        'required',
        'Bundle.entry[1].resource.identifier',
      ],
    ];
    for (const [b, code, expression] of cases) {
      const body = asJson(b);
      const r = await post(body);
      expect(r.status).toBe(422);
      expect(r.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, expression: [expression] }] });
      const stored = await t.database.db.query<{ status: string; raw: Buffer | null; key_id: string | null }>(
        'SELECT m.status, b.raw, b.key_id FROM messages m JOIN message_bodies b ON b.message_id = m.id WHERE m.id = $1',
        [r.id],
      );
      expect(stored.rows[0]?.status).toBe('quarantined');
      expect(plainRaw(r.id, stored.rows[0]).toString('utf8')).toBe(body);
    }
    const made = await t.database.db.query('SELECT 1 FROM antenatal_notifications WHERE mother_nhs_number = ANY($1::text[])', [
      [m.nhs, pseudo(m.nhs)],
    ]);
    expect(made.rowCount).toBe(0);
  });

  test('keys:rotate re-encrypts the antenatal records under the new key and counts them; the new key alone reads them', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-anc-keys-'));
    try {
      const key = randomBytes(32);
      const file = path.join(dir, 'new.key');
      writeFileSync(file, key.toString('base64'));
      const demoFile = path.join(repoRoot, 'mappings', 'data-key.DEMO-ONLY.b64');
      const report = await new SqlDataKeyRotation(t.database.db, new DataCipher(loadDataKeys({ keyFiles: [file, demoFile] }))).rotate({
        batchSize: 50,
        actor: 'system:keys-rotate',
        at: new Date(),
      });
      const kid = dataKeyId(key);
      expect(report.undecryptable).toBe(0);
      const rows = await t.database.db.query<{ n: string; shown: string }>(
        `SELECT count(*) AS n, count(disclosed) FILTER (WHERE jsonb_typeof(disclosed) <> 'null') AS shown FROM antenatal_notifications`,
      );
      expect(Number(rows.rows[0]?.n)).toBeGreaterThanOrEqual(4);
      expect(report.remainingByColumn['antenatal_notifications.record']).toEqual({ [kid]: Number(rows.rows[0]?.n) });
      expect(report.remainingByColumn['antenatal_notifications.disclosed']).toEqual({ [kid]: Number(rows.rows[0]?.shown) });
      const listed = await new SqlAntenatalStore(t.database.db, new DataCipher(loadDataKeys({ keyFiles: [file] }))).listExpecting(
        'osmondthorpe',
        100,
        { actor: 'user:olivia', name: 'Olivia Demo' },
        new Date(),
      );
      expect(listed.map((i) => i.disclosed?.mother.name?.family)).toContain('WOLSTENHOLME');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('retention purges antenatal notifications 12 months (antenatalContent) after their last change, not before', async () => {
    const retention = t.hub.config.retention;
    if (retention === undefined) throw new Error('the sample configuration has a retention file');
    expect(retention.config.periods.antenatalContent).toEqual({ months: 12 });
    const store = new SqlRetentionStore(t.database.db);
    const run = (monthsLater: number, dryRun: boolean): Promise<RetentionReport> =>
      runRetention(
        {
          store,
          config: retention.config,
          configSha256: retention.sha256,
          owner: 'antenatal-test',
          clock: () => new Date(Date.now() + monthsLater * 31 * 86_400_000),
          logger: createLogger('silent'),
        },
        { dryRun },
      );
    const antenatal = (r: RetentionReport) =>
      r.kind === 'done' ? r.targets.find((x) => x.target === 'antenatal-notifications') : undefined;
    const total = Number((await t.database.db.query<{ n: string }>('SELECT count(*) AS n FROM antenatal_notifications')).rows[0]?.n);
    expect(antenatal(await run(11, true))?.purged).toBe(0);
    expect(antenatal(await run(13, false))).toMatchObject({ purged: total, heldBack: 0 });
    const left = await t.database.db.query<{
      record: unknown;
      disclosed: unknown;
      mother_nhs_number: string | null;
      pregnancy_key: string;
      id: string;
    }>('SELECT id, record, disclosed, mother_nhs_number, pregnancy_key FROM antenatal_notifications WHERE purged_at IS NOT NULL');
    expect(left.rows).toHaveLength(total);
    for (const r of left.rows)
      expect(r).toEqual({ id: r.id, record: null, disclosed: null, mother_nhs_number: null, pregnancy_key: `purged:${r.id}` });
    const audited = await t.database.db.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE action = 'purged' AND details->>'target' = 'antenatal-notifications'`,
    );
    expect(audited.rows.map((r) => r.details)).toEqual([
      expect.objectContaining({ purged: total, period: { name: 'antenatalContent', months: 12 }, configSha256: retention.sha256 }),
    ]);
    // The centre's list no longer shows them (nor the withdrawn banner): nothing is held.
    expect(
      await new SqlAntenatalStore(t.database.db, demoCipher).listExpecting(
        'osmondthorpe',
        100,
        { actor: 'user:olivia', name: 'Olivia Demo' },
        new Date(),
      ),
    ).toEqual([]);
    // Idempotent: a second run purges nothing more.
    expect(antenatal(await run(13, false))?.purged).toBe(0);
  });

  test('the centre API: own antenatal items only, minimised, paged, filtered, acknowledged, withdrawn without content, audited', async () => {
    const OSM = 'demo-osmondthorpe-key';
    const HARE = 'demo-harehills-key';
    const base = '/v1/centres/osmondthorpe/antenatal';
    /** The answer, checked against the OpenAPI document (status, content type, body schema). */
    const call = async (method: 'GET' | 'POST', template: string, key: string, url: string): Promise<{ status: number; body: unknown }> => {
      const res = await api(t.http, key, url, { method });
      const text = await res.text();
      const body: unknown = text === '' ? undefined : JSON.parse(text);
      expect(openApi.check(method, template, res.status, res.headers.get('content-type'), body)).toEqual([]);
      return { status: res.status, body };
    };
    const LIST = '/v1/centres/{centreId}/antenatal';
    const ONE = '/v1/centres/{centreId}/antenatal/{id}';
    const ACK = '/v1/centres/{centreId}/antenatal/{id}/ack';
    interface Item {
      antenatalId: string;
      kind: string;
      status: string;
      record?: { mother: { nhsNumber: string } };
      withdrawnAt?: string;
    }
    const all = async (key: string, query: string): Promise<Item[]> => {
      const items: Item[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const r = await call('GET', LIST, key, `${base}?limit=1${query}${after !== undefined ? `&after=${after}` : ''}`);
        expect(r.status).toBe(200);
        const page = r.body as { items: Item[]; next?: string };
        expect(page.items.length).toBeLessThanOrEqual(1);
        items.push(...page.items);
        if (page.next === undefined) return items;
        after = page.next;
      }
      throw new Error('more than 100 pages');
    };

    const shared = mother(21, 'APIFIELD', 'LS9 7AB');
    const lost = mother(22, 'APILOSS', 'LS9 7AB');
    const held = mother(23, 'APIHELD', 'LS9 7AB');
    const elsewhere = mother(24, 'APIHARE', 'LS8 2QR');
    await sendAccepted(client, bookingMessage(shared, { controlId: 'ANC-API-1', dueDate: '20270801', pregnancyId: 'PA1', consent: 'A' }));
    await sendAccepted(client, bookingMessage(lost, { controlId: 'ANC-API-2', dueDate: '20270802', pregnancyId: 'PA2', consent: 'A' }));
    await sendAccepted(client, bookingMessage(held, { controlId: 'ANC-API-3', dueDate: '20270803', pregnancyId: 'PA3' }));
    await sendAccepted(
      client,
      bookingMessage(elsewhere, { controlId: 'ANC-API-4', dueDate: '20270804', pregnancyId: 'PA4', consent: 'A' }),
    );
    const a = await antenatalOf(shared.nhs, 'delivered');
    const b = await antenatalOf(lost.nhs, 'delivered');
    const h = await antenatalOf(held.nhs, 'withheld');
    const e = await antenatalOf(elsewhere.nhs, 'delivered');
    expect([a.inbox_id, b.inbox_id, e.inbox_id]).toEqual(['osmondthorpe', 'osmondthorpe', 'harehills']);

    // The list, one a page: its own delivered items, never a withheld one or another centre's.
    const listed = await all(OSM, '');
    const ids = listed.map((i) => i.antenatalId);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(ids).not.toContain(h.id);
    expect(ids).not.toContain(e.id);
    expect(new Set(ids).size).toBe(ids.length);
    // One item: only the disclosed (minimised) record, marked as antenatal.
    const one = await call('GET', ONE, OSM, `${base}/${a.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      antenatalId: a.id,
      kind: 'antenatal',
      inbox: 'osmondthorpe',
      status: 'new',
      record: { mother: { nhsNumber: shared.nhs }, estimatedDueDate: '2027-08-01' },
    });
    expect((one.body as { record: unknown }).record).toEqual(a.disclosed);
    expect(JSON.stringify(one.body)).not.toContain('PA1');

    // Another centre's item is 404 exactly as one that does not exist, on its own path and on the other centre's.
    for (const url of [`/v1/centres/harehills/antenatal/${a.id}`, `/v1/centres/harehills/antenatal/${UNKNOWN_ID}`]) {
      const r = await call('GET', ONE, HARE, url);
      expect([url, r.status]).toEqual([url, 404]);
    }
    expect((await call('GET', LIST, HARE, base)).status).toBe(404);
    expect((await call('GET', ONE, HARE, `${base}/${a.id}`)).status).toBe(404);
    expect((await call('POST', ACK, HARE, `/v1/centres/harehills/antenatal/${a.id}/ack`)).status).toBe(404);
    expect((await call('GET', ONE, OSM, `${base}/${h.id}`)).status).toBe(404);
    expect((await call('GET', ONE, OSM, `${base}/${e.id}`)).status).toBe(404);
    expect((await call('GET', ONE, OSM, `${base}/not-a-uuid`)).status).toBe(404);
    expect((await call('GET', LIST, OSM, `${base}?status=lost`)).status).toBe(400);
    expect((await call('GET', LIST, OSM, `${base}?after=not-a-cursor`)).status).toBe(400);
    expect((await call('GET', LIST, 'demo-ig-key', base)).status).toBe(403);

    // Acknowledged once; again changes nothing; the status filters follow.
    expect((await call('POST', ACK, OSM, `${base}/${a.id}/ack`)).body).toEqual({
      antenatalId: a.id,
      status: 'acknowledged',
      changed: true,
    });
    expect((await call('POST', ACK, OSM, `${base}/${a.id}/ack`)).body).toEqual({
      antenatalId: a.id,
      status: 'acknowledged',
      changed: false,
    });
    expect((await all(OSM, '&status=acknowledged')).map((i) => i.antenatalId)).toContain(a.id);
    const fresh = (await all(OSM, '&status=new')).map((i) => i.antenatalId);
    expect(fresh).toContain(b.id);
    expect(fresh).not.toContain(a.id);

    // A loss withdraws it: shown withdrawn, without content; it cannot be taken on.
    await sendAccepted(client, lossMessage(lost, { controlId: 'ANC-API-LOSS', pregnancyId: 'PA2' }));
    await antenatalOf(lost.nhs, 'withdrawn');
    const gone = await call('GET', ONE, OSM, `${base}/${b.id}`);
    expect(gone.body).toMatchObject({ antenatalId: b.id, kind: 'antenatal', status: 'withdrawn' });
    expect((gone.body as Item).withdrawnAt).toBeDefined();
    expect((gone.body as Item).record).toBeUndefined();
    expect(JSON.stringify(gone.body)).not.toContain(lost.nhs);
    expect((await call('POST', ACK, OSM, `${base}/${b.id}/ack`)).status).toBe(409);
    const withdrawn = await all(OSM, '&status=withdrawn');
    expect(withdrawn.map((i) => i.antenatalId)).toContain(b.id);
    expect(withdrawn.every((i) => i.record === undefined)).toBe(true);

    // Audited like the births': every read by the centre's client, the take-on once; nothing for the refused calls.
    const audit = await t.database.db.query<{
      action: string;
      actor: string;
      recipient: string;
      subject_nhs_number: string;
      details: { kind?: string };
    }>(
      `SELECT action, actor, recipient, subject_nhs_number, details FROM audit_events
        WHERE notification_id = $1 AND action IN ('read', 'acknowledged') ORDER BY seq`,
      [a.id],
    );
    const reads = audit.rows.filter((r) => r.action === 'read');
    expect(reads.length).toBeGreaterThanOrEqual(3);
    for (const r of audit.rows)
      expect(r).toMatchObject({
        actor: 'client:osmondthorpe',
        recipient: 'osmondthorpe',
        subject_nhs_number: pseudo(shared.nhs),
        details: { kind: 'antenatal' },
      });
    expect(audit.rows.filter((r) => r.action === 'acknowledged')).toHaveLength(1);
    const others = await t.database.db.query(
      `SELECT 1 FROM audit_events WHERE notification_id = ANY($1::uuid[]) AND action IN ('read', 'acknowledged')`,
      [[h.id, e.id]],
    );
    expect(others.rowCount).toBe(0);
    const stamped = await t.database.db.query<{ first_read_at: Date | null; acknowledged_by: string | null }>(
      'SELECT first_read_at, acknowledged_by FROM antenatal_notifications WHERE id = $1',
      [a.id],
    );
    expect(stamped.rows[0]?.first_read_at).not.toBeNull();
    expect(stamped.rows[0]?.acknowledged_by).toBe('client:osmondthorpe');
  });

  test('the logs carry none of the mothers’ personal data', () => {
    const logs = JSON.stringify(t.sink.records());
    for (const v of ['QUENBY', 'ACKROYD', 'WOLSTENHOLME', 'PENHALIGON', 'TREGENNA', 'HEPWORTH', 'ILLINGWORTH', 'ROSALIND', '19940312'])
      expect(logs).not.toContain(v);
    for (const v of ['KOWALSKA', 'WISNIEWSKA', 'NOWAKOWSKA', 'ZIELINSKA', 'AGATA', '1991-08-23', '07700 900777'])
      expect(logs).not.toContain(v);
  });
});
