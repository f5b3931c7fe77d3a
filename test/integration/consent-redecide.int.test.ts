import { demoCipher, pseudo } from '../support/data-keys.js';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { SqlAntenatalStore } from '../../adapters/store/sql-antenatal-store.js';
import { SqlConsentRegister } from '../../adapters/store/sql-consent-register.js';
import { localDateOf } from '../../src/domain/hl7-datetime.js';
import { createLogger } from '../../src/logger.js';
import { planDelivery } from '../../src/pipeline/plan-delivery.js';
import { redecideBookings } from '../../src/processing/antenatal-bookings.js';
import { CONSENT_PERIODS_ACTOR, runConsentPeriods, type ConsentPeriodDeps } from '../../src/processing/consent-periods.js';
import {
  auditOf as auditEvents,
  centreItem,
  notificationOf as settled,
  sendAccepted,
  type AuditItem,
  type CentreItem,
} from '../support/consent-helpers.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { bookingMessage, nhsNumberFrom, type ExpectingMotherFixture } from '../support/synthetic/antenatal-booking.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;
const JSON_HEADERS = { 'content-type': 'application/json' };
const FEED = 'demo-northgate-feed-key';
const OSMONDTHORPE = ['osmondthorpe', 'demo-osmondthorpe-key'] as const;
const DAY_MS = 86_400_000;
/** Noon UTC of a date: the same date in London, summer or winter. */
const noonOf = (day: string): Date => new Date(`${day}T12:00:00Z`);
/** The date `n` days after `day` (YYYY-MM-DD). */
const daysAfter = (day: string, n: number): string => new Date(noonOf(day).getTime() + n * DAY_MS).toISOString().slice(0, 10);

/**
 * The consent register's two gaps closed (issue 13), end to end on the real hub: lifting an objection delivers
 * again what it held back (withdrawing it, or its period ending, found by the consent-period job with its clock
 * moved on a day), never what a death or another objection holds; a clinical-details consent ending rebuilds
 * what the centre sees.
 */
describe('Consent register: lifting an objection delivers again; periods that end decide again', () => {
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
  const postConsent = async (body: Record<string, unknown>): Promise<{ id: string }> => {
    const res = await api(t.http, FEED, '/v1/consents', {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ recipient: 'any', source: 'midwife', ...body }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string };
  };
  const withdrawConsent = async (id: string): Promise<{ changed: boolean }> => {
    const res = await api(t.http, FEED, `/v1/consents/${id}/withdraw`, { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as { changed: boolean };
  };
  const item = (id: string): Promise<CentreItem> => centreItem(t, OSMONDTHORPE, id);
  const listed = async (id: string, status: string): Promise<CentreItem | undefined> => {
    const res = await api(t.http, OSMONDTHORPE[1], `/v1/centres/${OSMONDTHORPE[0]}/notifications?status=${status}&limit=500`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: CentreItem[] }).items.find((i) => i.notificationId === id);
  };
  const notificationOf = (controlId: string, status: string) => settled(t, controlId, status);
  const statusOf = async (id: string): Promise<string | undefined> =>
    (await t.database.db.query<{ status: string }>(`SELECT status FROM notifications WHERE id = $1`, [id])).rows[0]?.status;
  const auditOf = (nhs: string): Promise<AuditItem[]> => auditEvents(t, nhs);
  const periodJob = (at: Date): ConsentPeriodDeps => {
    const agreement = t.hub.config.antenatal;
    return {
      register: new SqlConsentRegister(t.database.db, demoCipher),
      replan: (record, consent) => planDelivery(record, '', t.hub.config.agreements, t.hub.config.catchments, consent),
      clock: () => at,
      logger: createLogger('silent'),
      // As the hub wires it, without family matching (the bookings below had their family made when first delivered).
      ...(agreement !== undefined
        ? {
            antenatal: (nhs: string, actor: string, cause: { consentId: string }) =>
              redecideBookings(
                {
                  store: new SqlAntenatalStore(t.database.db, demoCipher),
                  agreement,
                  catchments: t.hub.config.catchments,
                  logger: createLogger('silent'),
                  clock: () => at,
                },
                nhs,
                actor,
                cause,
              ),
          }
        : {}),
    };
  };

  /** The last London day the consent-period job has covered, as the store holds it (the hub's worker saves one as it starts). */
  const coveredDay = (): Promise<string> =>
    pollUntil(async () => {
      const r = await t.database.db.query<{ last_day: string }>(
        `SELECT to_char(last_day, 'YYYY-MM-DD') AS last_day FROM scheduled_runs WHERE job = 'consent-periods'`,
      );
      return r.rows[0]?.last_day;
    }, 'the consent-period job run by the worker');

  test('HL7 v2 birth, objection, withdrawn; the objection withdrawn: the centre sees it again as new, audited, once', async () => {
    const baby = newborn({ seed: 2501, controlId: 'REDECIDE-1' });
    await send(baby.text);
    const n = await notificationOf('REDECIDE-1', 'delivered');
    const first = await item(n.id);
    expect(first.record?.baby.nhsNumber).toBe(baby.baby.nhsNumber);
    const ack = await api(t.http, OSMONDTHORPE[1], `/v1/centres/osmondthorpe/notifications/${n.id}/ack`, { method: 'POST' });
    expect(ack.status).toBe(200);

    const objection = await postConsent({ kind: 'objection', scope: 'offer-of-support', babyNhsNumber: baby.baby.nhsNumber });
    const gone = await item(n.id);
    expect(gone.status).toBe('withdrawn');
    expect(gone.record).toBeUndefined();

    expect(await withdrawConsent(objection.id)).toEqual(expect.objectContaining({ changed: true }));
    const back = await item(n.id);
    expect(back.status).toBe('new');
    expect(back.acknowledgedAt).toBeUndefined();
    expect(back.withdrawnAt).toBeUndefined();
    expect(Date.parse(back.deliveredAt)).toBeGreaterThan(Date.parse(first.deliveredAt));
    expect(back.record?.baby.nhsNumber).toBe(baby.baby.nhsNumber);
    expect(back.record?.dataset).toBe('offer-of-support');
    // A worker polling for new items finds it among them.
    expect((await listed(n.id, 'new'))?.status).toBe('new');
    expect(await statusOf(n.id)).toBe('delivered');

    const events = (await auditOf(baby.baby.nhsNumber)).filter((e) => e.notificationId === n.id);
    const withdrawn = events.find((e) => e.action === 'withdrawn');
    expect(withdrawn).toMatchObject({ ruleId: 'parent-objected', outcome: 'withdrawn-from-inbox' });
    const decided = events.filter((e) => e.action === 'decided').at(-1);
    expect(decided).toMatchObject({ actor: 'client:northgate-feed', ruleId: 'offer-of-support', outcome: 'permit' });
    expect(decided?.details).toMatchObject({ previousRuleId: 'offer-of-support', consentId: objection.id });
    const redelivered = events.filter((e) => e.action === 'delivered' && e.outcome === 'redelivered');
    expect(redelivered).toHaveLength(1);
    expect(redelivered[0]).toMatchObject({ recipient: 'osmondthorpe', ruleId: 'offer-of-support' });
    expect(redelivered[0]?.lawfulBasis).toBeTruthy();
    expect(redelivered[0]?.details).toMatchObject({
      consentId: objection.id,
      redelivered: { heldOutcome: 'withdrawn-from-inbox', heldBy: [objection.id] },
    });

    // Withdrawing it again, or a later consent, changes nothing more.
    expect(await withdrawConsent(objection.id)).toEqual(expect.objectContaining({ changed: false }));
    await postConsent({ kind: 'consent', scope: 'offer-of-support', babyNhsNumber: baby.baby.nhsNumber });
    const after = (await auditOf(baby.baby.nhsNumber)).filter((e) => e.notificationId === n.id && e.action === 'delivered');
    expect(after).toHaveLength(2);
    expect((await item(n.id)).status).toBe('new');
  });

  test('a birth withheld for an objection recorded before it is delivered once a later consent lifts the objection', async () => {
    const baby = newborn({ seed: 2502, controlId: 'REDECIDE-2' });
    const mother = baby.mother?.nhsNumber ?? '';
    await postConsent({ kind: 'objection', scope: 'offer-of-support', motherNhsNumber: mother, source: 'antenatal-booking' });
    await send(baby.text);
    const n = await notificationOf('REDECIDE-2', 'withheld');
    expect(n.inbox_id).toBeNull();
    await postConsent({ kind: 'consent', scope: 'offer-of-support', motherNhsNumber: mother });
    expect(await statusOf(n.id)).toBe('delivered');
    const seen = await item(n.id);
    expect(seen).toMatchObject({ status: 'new', record: { dataset: 'offer-of-support' } });
    const events = (await auditOf(baby.baby.nhsNumber)).filter((e) => e.notificationId === n.id);
    expect(events.find((e) => e.outcome === 'redelivered')?.details).toMatchObject({ redelivered: { heldOutcome: 'withheld' } });
  });

  test('a second objection still standing keeps it withdrawn; lifting both delivers it', async () => {
    const baby = newborn({ seed: 2503, controlId: 'REDECIDE-3' });
    await send(baby.text);
    const n = await notificationOf('REDECIDE-3', 'delivered');
    const byBaby = await postConsent({ kind: 'objection', scope: 'offer-of-support', babyNhsNumber: baby.baby.nhsNumber });
    const byMother = await postConsent({ kind: 'objection', scope: 'offer-of-support', motherNhsNumber: baby.mother?.nhsNumber });
    expect((await item(n.id)).status).toBe('withdrawn');
    await withdrawConsent(byMother.id);
    expect((await item(n.id)).status).toBe('withdrawn');
    expect(await statusOf(n.id)).toBe('withdrawn');
    expect((await item(n.id)).record).toBeUndefined();
    await withdrawConsent(byBaby.id);
    expect((await item(n.id)).status).toBe('new');
  });

  test('never delivered again after a death: reported while it was held, or having withdrawn it first', async () => {
    // Held by an objection, then the death is reported: the hold ends for good.
    const held = newborn({ seed: 2504, controlId: 'REDECIDE-4' });
    await send(held.text);
    const n = await notificationOf('REDECIDE-4', 'delivered');
    const objection = await postConsent({ kind: 'objection', scope: 'offer-of-support', babyNhsNumber: held.baby.nhsNumber });
    expect((await item(n.id)).status).toBe('withdrawn');
    const hold = await t.database.db.query<{ consent_hold: { consentRecords: string[] } | null }>(
      `SELECT consent_hold FROM notifications WHERE id = $1`,
      [n.id],
    );
    expect(hold.rows[0]?.consent_hold?.consentRecords).toEqual([objection.id]);
    const death = newborn({ seed: 2504, controlId: 'REDECIDE-4D', event: 'A08', deceased: true });
    expect(death.baby.nhsNumber).toBe(held.baby.nhsNumber);
    await send(death.text);
    await pollUntil(async () => {
      const r = await t.database.db.query<{ consent_hold: unknown }>(`SELECT consent_hold FROM notifications WHERE id = $1`, [n.id]);
      return r.rows[0]?.consent_hold === null ? true : undefined;
    }, 'the hold ended by the death');
    await withdrawConsent(objection.id);
    expect((await item(n.id)).status).toBe('withdrawn');
    expect(await statusOf(n.id)).toBe('withdrawn');

    // Withdrawn for the death first: an objection recorded and withdrawn afterwards brings nothing back.
    const died = newborn({ seed: 2505, controlId: 'REDECIDE-5' });
    await send(died.text);
    const m = await notificationOf('REDECIDE-5', 'delivered');
    await send(newborn({ seed: 2505, controlId: 'REDECIDE-5D', event: 'A08', deceased: true }).text);
    await notificationOf('REDECIDE-5', 'withdrawn');
    const late = await postConsent({ kind: 'objection', scope: 'offer-of-support', babyNhsNumber: died.baby.nhsNumber });
    await withdrawConsent(late.id);
    expect((await item(m.id)).status).toBe('withdrawn');
    const events = (await auditOf(died.baby.nhsNumber)).filter((e) => e.notificationId === m.id);
    expect(events.filter((e) => e.action === 'delivered')).toHaveLength(1);
  });

  test('a worker covers today with the consent-period job as it starts, and saves the day in the store', async () => {
    const saved = await coveredDay();
    expect(saved >= localDateOf(new Date(Date.now() - DAY_MS))).toBe(true);
  });

  test('the consent-period job: an objection whose period ended yesterday delivers again; once a day, and not again after a restart', async () => {
    // Covered up to today already, as a worker running every few minutes would have. Every later day is counted
    // from the day the store holds, and the objection ends two days on: the hub, deciding on the real clock, holds
    // it as in force even when the test runs across London midnight.
    await runConsentPeriods(periodJob(new Date()));
    const coveredTo = await coveredDay();
    const endsOn = daysAfter(coveredTo, 2);
    const baby = newborn({ seed: 2506, controlId: 'REDECIDE-6' });
    await send(baby.text);
    const n = await notificationOf('REDECIDE-6', 'delivered');
    const objection = await postConsent({ kind: 'objection', scope: 'offer-of-support', babyNhsNumber: baby.baby.nhsNumber, to: endsOn });
    expect((await item(n.id)).status).toBe('withdrawn');

    // A day already covered: nothing to do.
    expect(await runConsentPeriods(periodJob(noonOf(coveredTo)))).toBeUndefined();
    expect((await item(n.id)).status).toBe('withdrawn');

    // The London day after the objection's last day: its period ended yesterday.
    const runDay = daysAfter(endsOn, 1);
    const run = await runConsentPeriods(periodJob(noonOf(runDay)));
    expect(run).toMatchObject({ day: runDay, since: coveredTo });
    expect(run?.effects.redelivered).toBeGreaterThanOrEqual(1);
    expect((await item(n.id)).status).toBe('new');
    const events = (await auditOf(baby.baby.nhsNumber)).filter((e) => e.notificationId === n.id);
    const redelivered = events.filter((e) => e.outcome === 'redelivered');
    expect(redelivered).toHaveLength(1);
    expect(redelivered[0]).toMatchObject({ actor: CONSENT_PERIODS_ACTOR, ruleId: 'offer-of-support' });
    expect(redelivered[0]?.details).toMatchObject({ consentId: objection.id });

    // A restart (a new job over the same store) the same day does nothing; the day is saved in the store.
    expect(await runConsentPeriods(periodJob(new Date(noonOf(runDay).getTime() + 60_000)))).toBeUndefined();
    expect(await coveredDay()).toBe(runDay);
    expect((await auditOf(baby.baby.nhsNumber)).filter((e) => e.outcome === 'redelivered')).toHaveLength(1);
  });

  test('the consent-period job: a clinical-details consent ending rebuilds the record without weight and gestation', async () => {
    const baby = newborn({ seed: 2507, controlId: 'REDECIDE-7' });
    const mother = baby.mother?.nhsNumber ?? '';
    // The consent ends two days after the day the job has covered (in force for the hub on the real clock, across
    // midnight too); the job then runs on the day after it ends.
    const endsOn = daysAfter(await coveredDay(), 2);
    await postConsent({
      kind: 'consent',
      scope: 'clinical-details',
      recipient: 'local-authority:northgate',
      motherNhsNumber: mother,
      to: endsOn,
    });
    await send(baby.text);
    const n = await notificationOf('REDECIDE-7', 'delivered');
    const shown = await item(n.id);
    expect(shown.record?.dataset).toBe('offer-of-support-with-clinical');
    expect(shown.record?.birthDetails?.weightGrams).toBeGreaterThan(0);

    const run = await runConsentPeriods(periodJob(noonOf(daysAfter(endsOn, 1))));
    expect(run?.effects.updated).toBeGreaterThanOrEqual(1);
    const after = await item(n.id);
    expect(after.status).toBe('new');
    expect(after.updatedAt).toBeDefined();
    expect(after.record?.dataset).toBe('offer-of-support');
    expect(after.record?.birthDetails).toBeUndefined();
    const updated = (await auditOf(baby.baby.nhsNumber)).find((e) => e.notificationId === n.id && e.action === 'updated');
    expect(updated).toMatchObject({ actor: CONSENT_PERIODS_ACTOR, recipient: 'osmondthorpe' });
    expect(updated?.details?.fields).toEqual(['birthDetails']);
  });
  test('the consent-period job decides bookings again: a consent that ended withdraws one, one that began delivers one; once, not again after a restart', async () => {
    const expecting = (n: number, family: string): ExpectingMotherFixture => ({
      nhs: nhsNumberFrom(999_300_000 + n * 41),
      family,
      given: 'MAUD',
      dob: '19930704',
      postcode: 'LS9 7AB',
    });
    const bookingOf = (nhs: string, status: string): Promise<{ id: string; status: string; inbox_id: string | null }> =>
      pollUntil(async () => {
        const r = await t.database.db.query<{ id: string; status: string; inbox_id: string | null }>(
          'SELECT id, status, inbox_id FROM antenatal_notifications WHERE mother_nhs_number = $1',
          [pseudo(nhs)],
        );
        return r.rows[0]?.status === status ? r.rows[0] : undefined;
      }, `the booking ${status}`);
    const statusNow = async (id: string): Promise<string | undefined> =>
      (await t.database.db.query<{ status: string }>('SELECT status FROM antenatal_notifications WHERE id = $1', [id])).rows[0]?.status;
    // Days counted from the day the job has covered (in force, or not yet, for the hub on the real clock).
    const coveredTo = await coveredDay();
    const endsOn = daysAfter(coveredTo, 2);
    const startsOn = daysAfter(coveredTo, 2);
    const ending = expecting(1, 'ELLERBY');
    const starting = expecting(2, 'FAWCETT');
    const ended = await postConsent({
      kind: 'consent',
      scope: 'antenatal',
      source: 'antenatal-booking',
      motherNhsNumber: ending.nhs,
      to: endsOn,
    });
    const begun = await postConsent({
      kind: 'consent',
      scope: 'antenatal',
      source: 'antenatal-booking',
      motherNhsNumber: starting.nhs,
      from: startsOn,
    });
    await send(bookingMessage(ending, { controlId: 'REDECIDE-ANC-1', dueDate: '20270901', pregnancyId: 'E1' }));
    await send(bookingMessage(starting, { controlId: 'REDECIDE-ANC-2', dueDate: '20270902', pregnancyId: 'S1' }));
    const delivered = await bookingOf(ending.nhs, 'delivered');
    const withheld = await bookingOf(starting.nhs, 'withheld');

    const runDay = daysAfter(endsOn, 1);
    const run = await runConsentPeriods(periodJob(noonOf(runDay)));
    expect(run).toMatchObject({ day: runDay, since: coveredTo });
    expect(run?.effects).toMatchObject({ antenatalWithdrawn: 1, antenatalDelivered: 1 });
    expect(await statusNow(delivered.id)).toBe('withdrawn');
    expect(await statusNow(withheld.id)).toBe('delivered');
    const withdrawn = (await auditOf(ending.nhs)).filter((e) => e.notificationId === delivered.id && e.action === 'withdrawn');
    expect(withdrawn).toHaveLength(1);
    expect(withdrawn[0]).toMatchObject({
      actor: CONSENT_PERIODS_ACTOR,
      recipient: 'osmondthorpe',
      ruleId: 'no-consent-recorded',
      details: { kind: 'antenatal', consentId: ended.id },
    });
    const shared = (await auditOf(starting.nhs)).filter((e) => e.notificationId === withheld.id && e.action === 'delivered');
    expect(shared).toEqual([
      expect.objectContaining({ actor: CONSENT_PERIODS_ACTOR, recipient: 'osmondthorpe', ruleId: 'antenatal-with-consent' }),
    ]);
    expect(
      (await auditOf(starting.nhs)).find((e) => e.notificationId === withheld.id && e.action === 'decided' && e.outcome === 'permit'),
    ).toMatchObject({ details: { consentId: begun.id } });

    // Once a day: the same day again, or a restart (a new job over the same store), does nothing more.
    expect(await runConsentPeriods(periodJob(new Date(noonOf(runDay).getTime() + 60_000)))).toBeUndefined();
    expect(await coveredDay()).toBe(runDay);
    // Deciding again (the day covered again after a crash before it was saved) changes nothing either.
    await t.database.db.query(`UPDATE scheduled_runs SET last_day = $1 WHERE job = 'consent-periods'`, [coveredTo]);
    const repeat = await runConsentPeriods(periodJob(noonOf(runDay)));
    expect(repeat?.effects.antenatalWithdrawn ?? 0).toBe(0);
    expect(repeat?.effects.antenatalDelivered ?? 0).toBe(0);
    expect((await auditOf(ending.nhs)).filter((e) => e.action === 'withdrawn')).toHaveLength(1);
    expect((await auditOf(starting.nhs)).filter((e) => e.action === 'delivered')).toHaveLength(1);
  });
});
