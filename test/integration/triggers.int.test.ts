import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { SqlTriggerStore } from '../../adapters/store/sql-trigger-store.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { aeAttendance, type AeAttendanceOptions } from '../support/synthetic/ae-attendance.js';
import { pollUntil } from '../support/poll.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { NORTHGATE_FHIR_ENDPOINT, NORTHGATE_FHIR_KEY } from '../support/synthetic/fhir-birth.js';
import { demoCipher, plainJson, pseudo } from '../support/data-keys.js';
import { isEnvelope } from '../../adapters/store/data-cipher.js';
import { SqlRetentionStore } from '../../adapters/store/sql-retention-store.js';
import { runRetention } from '../../src/processing/run-retention.js';
import { createLogger } from '../../src/logger.js';

const ALCOHOL = 'F10.0^Acute alcohol intoxication^I10';
const FRACTURE = 'S52.5^Fracture of lower end of radius^I10';
const FREE_TEXT = 'FELL OVER AFTER DRINKING';

interface AuditRow {
  action: string;
  rule_id: string | null;
  rulebook_version: string | null;
  lawful_basis: string | null;
  recipient: string | null;
  outcome: string | null;
  subject_nhs_number: string | null;
  details: Record<string, unknown> | null;
}

/**
 * Triggers end to end (issue 17 item 2) on the real hub over MLLP and PostgreSQL: an alcohol-coded A&E attendance of a
 * mother Stork knows reaches Northgate's early-help queue with the minimum dataset only; the same attendance of an
 * adult with no known children, of a parent whose area declares no trigger, or with an unverified NHS number fires
 * nothing and is audited as not fired; a code outside the value set is not relevant; a restricted record is held for
 * safeguarding review and reaches the queue only once released. Each decision's audit names rule, agreement and basis.
 */
describe('triggers: A&E attendances of known parents reach early help', () => {
  let t: TestHub;
  let client: MllpClient;
  let store: SqlTriggerStore;
  beforeAll(async () => {
    t = await startTestHub();
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    store = new SqlTriggerStore(t.hub.db, demoCipher);
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  const ackCode = async (text: string): Promise<string | undefined> => (await client.send(text)).split('\r')[1]?.split('|')[1];
  const settled = (controlId: string) =>
    pollUntil(async () => {
      const r = await t.hub.db.query<{ id: string; status: string; reason: string | null }>(
        `SELECT id, status, reason FROM messages WHERE control_id = $1`,
        [controlId],
      );
      const row = r.rows[0];
      return row === undefined || row.status === 'queued' ? undefined : row;
    }, `message ${controlId} settled`);
  const auditOf = async (messageId: string): Promise<AuditRow[]> =>
    (
      await t.hub.db.query<AuditRow>(
        `SELECT action, rule_id, rulebook_version, lawful_basis, recipient, outcome, subject_nhs_number, details FROM audit_events
         WHERE message_id = $1 AND action LIKE 'trigger-%' ORDER BY seq`,
        [messageId],
      )
    ).rows;
  const firingsOf = async (messageId: string) =>
    (
      await t.hub.db.query<{ id: string; status: string; inbox_id: string; dataset: unknown }>(
        `SELECT id, status, inbox_id, dataset FROM trigger_firings WHERE message_id = $1`,
        [messageId],
      )
    ).rows;
  /** A newborn to a mother (with her NHS number) in `postcode`: she becomes the lead of a family with a child. */
  const mother = async (seed: number, postcode: string, restricted = false) => {
    const birth = describeNewborn({
      seed,
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      postcodes: [postcode],
      messageTime: new Date(),
      restricted,
      controlId: `BIRTH${seed}`,
    });
    expect(await ackCode(birth.text)).toBe('CA');
    const m = birth.mother;
    if (m === undefined) throw new Error('the synthetic birth has no mother');
    await pollUntil(async () => {
      const r = await t.hub.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM families f JOIN family_children c ON c.family_id = f.id WHERE f.lead_nhs_number = $1`,
        [pseudo(m.nhsNumber)],
      );
      return Number(r.rows[0]?.n) > 0 ? true : undefined;
    }, 'her family with its child');
    return { birth, mother: m };
  };
  const attend = async (o: Partial<AeAttendanceOptions> & { controlId: string }) => {
    const text = aeAttendance({
      family: 'PARENT',
      given: 'PAT',
      birthDate: '19900312',
      diagnoses: [ALCOHOL],
      admitReason: `^${FREE_TEXT}`,
      ...o,
    });
    expect(await ackCode(text)).toBe('CA');
    return settled(o.controlId);
  };

  let knownMother: Awaited<ReturnType<typeof mother>>;
  let firstFiring = '';
  beforeAll(async () => {
    knownMother = await mother(1701, 'LS9 7AB');
  });

  test('an alcohol-coded attendance of a known mother reaches the early-help queue with the minimum dataset only', async () => {
    const { birth, mother: m } = knownMother;
    const msg = await attend({
      controlId: 'AE1',
      nhsNumber: m.nhsNumber,
      family: m.family,
      given: m.given,
      birthDate: m.birthDate.replace(/-/g, ''),
    });
    expect(msg.status).toBe('processed');
    const [firing, ...others] = await firingsOf(msg.id);
    expect(others).toHaveLength(0);
    expect(firing?.status).toBe('delivered');
    expect(firing?.inbox_id).toBe('northgate-early-help');
    firstFiring = firing?.id ?? '';
    const queue = await store.queue('northgate-early-help', 50);
    expect(queue.map((q) => q.id)).toContain(firing?.id);
    const view = await store.get(firing?.id ?? '');
    expect(view?.dataset).toEqual({
      trigger: { id: 'parent-ae-alcohol', name: 'A parent attended A&E for an alcohol-related reason' },
      parent: { name: { family: m.family, given: [m.given] }, nhsNumber: m.nhsNumber, birthDate: m.birthDate },
      children: [expect.objectContaining({ nhsNumber: birth.baby.nhsNumber, birthDate: birth.baby.birthDate }) as unknown],
      occurredOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) as unknown,
      familyAddress: expect.objectContaining({ postcode: 'LS9 7AB' }) as unknown,
    });
    // No diagnosis code, no display text, no free text: only the trigger's name.
    const delivered = JSON.stringify(view?.dataset);
    for (const clinical of ['F10', 'F100', 'intoxication', 'Intoxication', FREE_TEXT, 'I10', 'alcohol intox'])
      expect(delivered).not.toContain(clinical);
    const audit = await auditOf(msg.id);
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'trigger-fired',
        rule_id: 'parent-ae-alcohol',
        rulebook_version: expect.stringMatching(/^northgate-early-help-triggers@1\.0\.0#sha256:[0-9a-f]{64}$/) as unknown,
        lawful_basis: expect.stringContaining('Children Act 2004 s11') as unknown,
        recipient: 'northgate-early-help',
        subject_nhs_number: pseudo(m.nhsNumber),
      }),
    ]);
    expect(JSON.stringify(audit)).not.toContain('F10');
    // At rest the dataset is sealed under the data key: the raw row holds no name, NHS number, birth date or postcode.
    const raw = JSON.stringify(firing?.dataset);
    expect(isEnvelope(firing?.dataset)).toBe(true);
    for (const pii of [m.family, m.given, m.nhsNumber, m.birthDate, 'LS9 7AB', birth.baby.nhsNumber]) expect(raw).not.toContain(pii);
    expect(plainJson('trigger_firings.dataset', firing?.id ?? '', firing?.dataset)).toEqual(view?.dataset);
    // ...while the early-help queue and the firing's page (which read through the store) still show them.
    expect(queue.find((q) => q.id === firing?.id)).toEqual(expect.objectContaining({ children: 1, occurredOn: view?.dataset.occurredOn }));
  });

  test('the same attendance of an adult with no known children fires nothing and is audited as not fired', async () => {
    const stranger = '9991234578'; // valid Modulus 11, no family leads it
    const msg = await attend({ controlId: 'AE2', nhsNumber: stranger });
    expect(msg.status).toBe('processed');
    expect(await firingsOf(msg.id)).toEqual([]);
    expect(await auditOf(msg.id)).toEqual([
      expect.objectContaining({
        action: 'trigger-not-fired',
        rule_id: 'parent-ae-alcohol',
        rulebook_version: expect.stringMatching(/^northgate-early-help-triggers@1\.0\.0#sha256:/) as unknown,
        lawful_basis: expect.stringContaining('Children Act 2004 s11') as unknown,
        outcome: 'no-known-children',
        subject_nhs_number: pseudo(stranger),
        recipient: null,
      }),
    ]);
  });

  test('a code outside the value set fires nothing: the message is not relevant and no trigger decision is audited', async () => {
    const m = knownMother.mother;
    const msg = await attend({ controlId: 'AE3', nhsNumber: m.nhsNumber, diagnoses: [FRACTURE], admitReason: '' });
    expect(msg.status).toBe('not-relevant');
    expect(msg.reason).toMatch(/no trigger's value set/);
    expect(await firingsOf(msg.id)).toEqual([]);
    expect(await auditOf(msg.id)).toEqual([]);
  });

  test('a mother whose area declares no trigger, or whose NHS number is not verified: not fired, audited with the reason', async () => {
    const southmoor = await mother(1702, 'LS10 3AA');
    const noBasis = await attend({ controlId: 'AE4', nhsNumber: southmoor.mother.nhsNumber });
    expect(await firingsOf(noBasis.id)).toEqual([]);
    const [event] = await auditOf(noBasis.id);
    expect(event).toEqual(
      expect.objectContaining({
        action: 'trigger-not-fired',
        outcome: 'no-lawful-basis',
        rule_id: 'parent-ae-alcohol',
        lawful_basis: null,
      }),
    );
    const unverified = await attend({ controlId: 'AE5', nhsNumber: knownMother.mother.nhsNumber, nhsNumberStatus: 'NSTS02' });
    expect(await firingsOf(unverified.id)).toEqual([]);
    expect((await auditOf(unverified.id)).map((e) => e.outcome)).toEqual(['nhs-number-not-verified']);
  });

  test('a restricted record goes to safeguarding review and is delivered only when released', async () => {
    const m = knownMother.mother;
    const msg = await attend({ controlId: 'AE6', nhsNumber: m.nhsNumber, restricted: true, diagnoses: ['Y91.2^^I10'] });
    const [firing] = await firingsOf(msg.id);
    expect(firing?.status).toBe('held');
    const id = firing?.id ?? '';
    expect((await store.queue('northgate-early-help', 200)).map((q) => q.id)).not.toContain(id);
    expect((await store.held(200)).map((q) => q.id)).toContain(id);
    expect(await auditOf(msg.id)).toEqual([
      expect.objectContaining({
        action: 'trigger-held',
        rule_id: 'parent-ae-alcohol',
        recipient: 'safeguarding-review',
        outcome: 'held-for-safeguarding-review',
      }),
    ]);
    const who = { actor: 'user:iris', name: 'Iris Demo' };
    const released = await store.review(id, 'release', who, 'agreed with the safeguarding lead', new Date());
    expect(released.kind).toBe('reviewed');
    expect((await store.queue('northgate-early-help', 200)).map((q) => q.id)).toContain(id);
    expect((await store.review(id, 'close', who, undefined, new Date())).kind).toBe('already-reviewed');
    const review = await t.hub.db.query<AuditRow & { actor: string }>(
      `SELECT action, actor, rule_id, rulebook_version, lawful_basis, recipient, outcome, subject_nhs_number, details FROM audit_events
       WHERE action = 'trigger-reviewed' AND details ->> 'firingId' = $1`,
      [id],
    );
    expect(review.rows).toEqual([
      expect.objectContaining({
        actor: 'user:iris',
        outcome: 'released',
        rule_id: 'parent-ae-alcohol',
        recipient: 'northgate-early-help',
        lawful_basis: expect.stringContaining('Sch 1 para 18') as unknown,
      }),
    ]);
    // A child's restricted record holds it too: a family whose baby's record is restricted.
    const hidden = await mother(1703, 'LS9 7AD', true);
    const second = await attend({ controlId: 'AE7', nhsNumber: hidden.mother.nhsNumber });
    expect((await firingsOf(second.id)).map((f) => f.status)).toEqual(['held']);
  });

  const takenOnEvents = async (id: string) =>
    (
      await t.hub.db.query<AuditRow & { actor: string }>(
        `SELECT action, actor, rule_id, rulebook_version, lawful_basis, recipient, outcome, subject_nhs_number, details FROM audit_events
         WHERE action = 'firing-taken-on' AND details ->> 'firingId' = $1`,
        [id],
      )
    ).rows;

  test('early help takes a delivered firing on once, audited once; a held firing or another queue is refused', async () => {
    const erin = { actor: 'user:erin', name: 'Erin Demo' };
    const at = new Date();
    // Another queue's worker, an unknown id and a held firing: not found, nothing written.
    expect(await store.takeOn(firstFiring, 'southmoor-early-help', erin, at)).toBe('not-found');
    expect(await store.takeOn('00000000-0000-4000-8000-000000000000', 'northgate-early-help', erin, at)).toBe('not-found');
    const held = await t.hub.db.query<{ id: string; inbox_id: string }>(`SELECT id, inbox_id FROM trigger_firings WHERE status = 'held'`);
    expect(held.rows).toHaveLength(1);
    for (const h of held.rows) expect(await store.takeOn(h.id, h.inbox_id, erin, at)).toBe('not-found');
    expect(await t.hub.db.query(`SELECT 1 FROM audit_events WHERE action = 'firing-taken-on'`)).toMatchObject({ rows: [] });

    expect(await store.takeOn(firstFiring, 'northgate-early-help', erin, at)).toBe('taken-on');
    expect(await store.takeOn(firstFiring, 'northgate-early-help', erin, new Date(at.getTime() + 60_000))).toBe('already');
    const row = await t.hub.db.query<{ taken_on_at: Date; taken_on_by: string }>(
      'SELECT taken_on_at, taken_on_by FROM trigger_firings WHERE id = $1',
      [firstFiring],
    );
    expect(row.rows[0]?.taken_on_by).toBe('user:erin');
    expect(row.rows[0]?.taken_on_at.toISOString()).toBe(at.toISOString());
    expect((await store.get(firstFiring))?.takenOnAt).toBe(at.toISOString());
    expect(await takenOnEvents(firstFiring)).toEqual([
      {
        action: 'firing-taken-on',
        actor: 'user:erin',
        rule_id: 'parent-ae-alcohol',
        rulebook_version: expect.stringMatching(/^northgate-early-help-triggers@1\.0\.0#sha256:/) as unknown,
        lawful_basis: expect.stringContaining('Children Act 2004 s11') as unknown,
        recipient: 'northgate-early-help',
        outcome: null,
        subject_nhs_number: pseudo(knownMother.mother.nhsNumber),
        details: { name: 'Erin Demo', role: 'early-help-worker', purpose: 'safeguarding', firingId: firstFiring },
      },
    ]);
    // The queue lists the firings not yet taken on first.
    const queue = await store.queue('northgate-early-help', 200);
    expect(queue.map((q) => q.takenOnAt !== undefined)).toEqual([false, true]);
  });

  test('the IG counts per trigger include firings and decisions not to fire', async () => {
    const counts = (await store.counts()).get('parent-ae-alcohol');
    expect(counts).toEqual({ delivered: 2, released: 1, takenOn: 1, held: 1, closed: 0, notFired: 3 });
  });

  test('retention: past its period a firing opened by early help loses its dataset and NHS number; unopened and held ones stay', async () => {
    const retention = t.hub.config.retention;
    if (retention === undefined) throw new Error('the test hub has no retention config');
    expect(retention.config.periods.triggerFirings).toEqual({ months: 6 });
    await store.markRead(firstFiring, new Date());
    const at = new Date(Date.now() + 7 * 31 * 86_400_000);
    const report = await runRetention({
      store: new SqlRetentionStore(t.hub.db),
      config: retention.config,
      configSha256: retention.sha256,
      owner: 'triggers-test',
      clock: () => at,
      logger: createLogger('silent'),
    });
    if (report.kind !== 'done') throw new Error('retention run skipped');
    // The released one was never opened and the other is still held for review: both held back.
    expect(report.targets.find((x) => x.target === 'trigger-firings')).toMatchObject({ purged: 1, heldBack: 2 });
    const row = await t.hub.db.query<{ dataset: unknown; subject_nhs_number: string | null; purged_at: Date | null; status: string }>(
      'SELECT dataset, subject_nhs_number, purged_at, status FROM trigger_firings WHERE id = $1',
      [firstFiring],
    );
    expect(row.rows[0]).toMatchObject({ dataset: null, subject_nhs_number: null, status: 'delivered' });
    expect(row.rows[0]?.purged_at).not.toBeNull();
    expect(await store.get(firstFiring)).toBeUndefined();
    // A purged firing cannot be taken on (again): refused as not found, no second event; when it was taken on is kept.
    expect(await store.takeOn(firstFiring, 'northgate-early-help', { actor: 'user:erin', name: 'Erin Demo' }, at)).toBe('not-found');
    expect(await takenOnEvents(firstFiring)).toHaveLength(1);
    expect(
      (await t.hub.db.query('SELECT 1 FROM trigger_firings WHERE id = $1 AND taken_on_at IS NOT NULL', [firstFiring])).rows,
    ).toHaveLength(1);
    expect((await store.queue('northgate-early-help', 200)).map((q) => q.id)).not.toContain(firstFiring);
    // The IG lead's counts are whole, and the held one is still there to review.
    expect((await store.counts()).get('parent-ae-alcohol')).toEqual({
      delivered: 2,
      released: 1,
      takenOn: 1,
      held: 1,
      closed: 0,
      notFired: 3,
    });
    expect(await store.held(200)).toHaveLength(1);
    const again = await runRetention({
      store: new SqlRetentionStore(t.hub.db),
      config: retention.config,
      configSha256: retention.sha256,
      owner: 'triggers-test',
      clock: () => at,
      logger: createLogger('silent'),
    });
    expect(again.kind === 'done' ? again.targets.find((x) => x.target === 'trigger-firings')?.purged : -1).toBe(0);
  });

  describe('FHIR R4: an Encounter (class EMER) through $process-message', () => {
    const SNOMED = 'http://snomed.info/sct';
    const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
    const CLINICAL_TEXT = 'Patient states drank heavily before the fall';
    const encounterBundle = (o: {
      id: string;
      nhsNumber: string;
      family: string;
      given: string;
      birthDate: string;
      reason: { system: string; code: string; display: string };
      condition?: { system: string; code: string; display: string };
    }) => ({
      resourceType: 'Bundle',
      id: o.id,
      type: 'message',
      timestamp: new Date().toISOString(),
      entry: [
        {
          fullUrl: `urn:uuid:00000000-0000-4000-8000-${o.id.replace(/\D/g, '').padStart(12, '0')}`,
          resource: {
            resourceType: 'MessageHeader',
            id: `${o.id}-h`,
            eventCoding: { system: 'https://fhir.nhs.uk/CodeSystem/message-event', code: 'emergency-attendance' },
            source: { endpoint: NORTHGATE_FHIR_ENDPOINT },
            focus: [{ reference: 'Encounter/ed1' }],
          },
        },
        {
          fullUrl: 'https://ed.northgate.example/fhir/Encounter/ed1',
          resource: {
            resourceType: 'Encounter',
            id: 'ed1',
            status: 'in-progress',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER', display: 'emergency' },
            subject: { reference: 'Patient/pt1' },
            period: { start: new Date(Date.now() - 3_600_000).toISOString() },
            reasonCode: [{ coding: [o.reason], text: CLINICAL_TEXT }],
            ...(o.condition ? { diagnosis: [{ condition: { reference: 'Condition/c1' } }] } : {}),
          },
        },
        {
          fullUrl: 'https://ed.northgate.example/fhir/Patient/pt1',
          resource: {
            resourceType: 'Patient',
            id: 'pt1',
            identifier: [
              {
                extension: [
                  {
                    url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
                    valueCodeableConcept: {
                      coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland', code: '01' }],
                    },
                  },
                ],
                system: 'https://fhir.nhs.uk/Id/nhs-number',
                value: o.nhsNumber,
              },
            ],
            name: [{ use: 'official', family: o.family, given: [o.given] }],
            birthDate: o.birthDate,
          },
        },
        ...(o.condition
          ? [
              {
                fullUrl: 'https://ed.northgate.example/fhir/Condition/c1',
                resource: {
                  resourceType: 'Condition',
                  id: 'c1',
                  subject: { reference: 'Patient/pt1' },
                  code: { coding: [o.condition], text: CLINICAL_TEXT },
                  note: [{ text: CLINICAL_TEXT }],
                },
              },
            ]
          : []),
      ],
    });
    const post = async (body: unknown) => {
      const res = await api(t.http, NORTHGATE_FHIR_KEY, '/v1/fhir/$process-message', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown>, id: res.headers.get('x-stork-message-id') ?? '' };
    };
    const settledById = (id: string) =>
      pollUntil(async () => {
        const r = await t.hub.db.query<{ status: string; reason: string | null }>('SELECT status, reason FROM messages WHERE id = $1', [
          id,
        ]);
        const row = r.rows[0];
        return row === undefined || row.status === 'queued' ? undefined : row;
      }, `FHIR message ${id} settled`);
    const parent = () => ({
      nhsNumber: knownMother.mother.nhsNumber,
      family: knownMother.mother.family,
      given: knownMother.mother.given,
      birthDate: knownMother.mother.birthDate,
    });

    test('a value-set code (Condition, SNOMED reasonCode outside it) fires for the known parent; no clinical text in the firing', async () => {
      const res = await post(
        encounterBundle({
          id: 'ed-fhir-1',
          ...parent(),
          reason: { system: SNOMED, code: '609328004', display: 'Allergic disposition' },
          condition: { system: ICD10, code: 'F10.0', display: 'Acute alcohol intoxication' },
        }),
      );
      expect(res.status).toBe(200);
      expect(res.body.resourceType).toBe('Bundle');
      expect(await settledById(res.id)).toEqual({ status: 'processed', reason: null });
      const [firing, ...others] = await firingsOf(res.id);
      expect(others).toHaveLength(0);
      expect(firing?.status).toBe('delivered');
      expect(firing?.inbox_id).toBe('northgate-early-help');
      const view = await store.get(firing?.id ?? '');
      const m = knownMother.mother;
      expect(view?.dataset).toMatchObject({
        trigger: { id: 'parent-ae-alcohol' },
        parent: { nhsNumber: m.nhsNumber, birthDate: m.birthDate },
        children: [expect.objectContaining({ nhsNumber: knownMother.birth.baby.nhsNumber }) as unknown],
      });
      const delivered = JSON.stringify(view?.dataset);
      for (const clinical of ['F10', 'intoxication', CLINICAL_TEXT, '609328004', 'Allergic', 'EMER'])
        expect(delivered).not.toContain(clinical);
      expect(isEnvelope(firing?.dataset)).toBe(true);
      expect((await auditOf(res.id)).map((e) => [e.action, e.rule_id, e.subject_nhs_number])).toEqual([
        ['trigger-fired', 'parent-ae-alcohol', pseudo(m.nhsNumber)],
      ]);
    });

    test('a reasonCode outside every value set is not relevant; a bad NHS number is refused naming the element', async () => {
      const res = await post(
        encounterBundle({
          id: 'ed-fhir-2',
          ...parent(),
          reason: { system: ICD10, code: 'S52.5', display: 'Fracture of lower end of radius' },
        }),
      );
      expect(res.status).toBe(200);
      expect(await settledById(res.id)).toEqual({
        status: 'not-relevant',
        reason: expect.stringMatching(/no trigger's value set/) as unknown,
      });
      expect(await firingsOf(res.id)).toEqual([]);
      const bad = await post(
        encounterBundle({ id: 'ed-fhir-3', ...parent(), nhsNumber: '9990001544', reason: { system: ICD10, code: 'F10.0', display: 'x' } }),
      );
      expect(bad.status).toBeGreaterThanOrEqual(400);
      expect(bad.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(bad.body)).toContain('Bundle.entry[2].resource.identifier[0].value');
    });
  });
});
