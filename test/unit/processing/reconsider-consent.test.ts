import type { ConsentRecord } from '../../../src/domain/consent.js';
import { loadCatchments } from '../../../src/config/catchments.js';
import { loadRulebook } from '../../../src/config/rulebook.js';
import { repoRoot } from '../../../src/config/env.js';
import { minimise } from '../../../src/pipeline/consent/decide.js';
import { planDelivery } from '../../../src/pipeline/plan-delivery.js';
import type { FamilyNotification } from '../../../src/ports/consent-register.js';
import { CONSENT_WITHDRAWN_REASON, reconsider, type Replan } from '../../../src/processing/reconsider-consent.js';
import { CASE_BASE_NOTIFICATION } from '../../support/rulebook-cases.js';
import path from 'node:path';

const rulebook = loadRulebook(path.join(repoRoot, 'consent-rules', 'offer-of-support.json'));
const catchments = loadCatchments(path.join(repoRoot, 'mappings', 'catchments.json'));
const replan: Replan = (record, consent) => planDelivery(record, '', rulebook, catchments, consent);
const at = new Date('2026-11-29T12:00:00Z');
const record = CASE_BASE_NOTIFICATION;

const consent = (o: Partial<ConsentRecord>): ConsentRecord => ({
  id: '00000000-0000-4000-8000-000000000001',
  recordedAt: '2026-11-29T11:00:00.000Z',
  recordedBy: 'client:test',
  kind: 'objection',
  scope: 'offer-of-support',
  recipient: 'any',
  source: 'midwife',
  babyNhsNumber: record.baby.nhsNumber,
  ...o,
});

function delivered(records: ConsentRecord[] = []): FamilyNotification {
  const plan = replan(record, { records, at });
  return {
    id: '10000000-0000-4000-8000-000000000001',
    status: 'delivered',
    ...(plan.inboxId !== undefined ? { inboxId: plan.inboxId } : {}),
    babyNhsNumber: record.baby.nhsNumber,
    decision: plan.decision,
    ...(plan.disclosed !== undefined ? { disclosed: plan.disclosed } : {}),
    record,
  };
}

describe('reconsider: what a consent change does to a notification already made', () => {
  it('withdraws a delivered notification when an objection now applies, audited with the rule and records, neutrally', () => {
    const n = delivered();
    const objection = consent({});
    const r = reconsider([n], [objection], replan, at, 'client:osmondthorpe', { consentId: objection.id });
    // Only the objection withdraws it: it is held, so lifting the objection may deliver it again.
    expect(r.withdraw).toEqual([
      { id: n.id, hold: { at: at.toISOString(), outcome: 'withdrawn-from-inbox', consentRecords: [objection.id] } },
    ]);
    expect(r.redecided).toEqual([]);
    expect(r.audit.map((e) => [e.action, e.ruleId, e.outcome])).toEqual([
      ['decided', 'parent-objected', 'deny'],
      ['withdrawn', 'parent-objected', 'withdrawn-from-inbox'],
    ]);
    expect(r.audit[1]?.details).toEqual({ reason: CONSENT_WITHDRAWN_REASON, consentRecords: [objection.id], consentId: objection.id });
    expect(JSON.stringify(r.audit)).not.toContain(record.mother?.name?.family ?? 'x');
  });

  it('rebuilds the disclosed record in place when clinical consent is withdrawn, and stamps the inbox item', () => {
    const clinical = consent({ kind: 'consent', scope: 'clinical-details' });
    const n = delivered([clinical]);
    expect(n.disclosed?.birthDetails).toBeDefined();
    const r = reconsider([n], [{ ...clinical, withdrawnAt: at.toISOString() }], replan, at, 'client:feed', { consentId: clinical.id });
    expect(r.withdraw).toEqual([]);
    expect(r.redecided).toHaveLength(1);
    expect(r.redecided[0]).toMatchObject({ id: n.id, disclosed: minimise(record, 'offer-of-support'), inboxUpdated: true });
    expect(r.redecided[0]?.decision.ruleId).toBe('offer-of-support');
    expect(r.audit.find((e) => e.action === 'updated')?.details).toMatchObject({ fields: ['birthDetails'] });
  });

  it('changes nothing when the decision stays the same (so recording twice is harmless), or for a withdrawn notification', () => {
    const objection = consent({});
    expect(reconsider([delivered()], [], replan, at, 'a', {})).toEqual({ withdraw: [], redecided: [], redeliver: [], audit: [] });
    const restricted = { ...record, confidentiality: 'restricted' as const };
    const plan = replan(restricted, { records: [], at });
    const review: FamilyNotification = { ...delivered(), record: restricted, decision: plan.decision, inboxId: 'safeguarding-review' };
    // A restricted record stays in safeguarding review even with an objection.
    expect(reconsider([review], [objection], replan, at, 'a', {}).withdraw).toEqual([]);
    expect(reconsider([{ ...delivered(), status: 'withdrawn' }], [objection], replan, at, 'a', {}).audit).toEqual([]);
  });
});

describe('reconsider: a notification an objection held back', () => {
  const objection = consent({});
  const hold = { at: '2026-11-28T10:00:00.000Z', outcome: 'withdrawn-from-inbox' as const, consentRecords: [objection.id] };
  const withdrawn = (o: Partial<FamilyNotification> = {}): FamilyNotification => ({
    ...delivered(),
    status: 'withdrawn',
    consentHold: hold,
    ...o,
  });
  const lifted = { ...objection, withdrawnAt: at.toISOString() };

  it('is delivered to the same inbox again once the objection is withdrawn, audited decided and delivered, naming the hold it ends', () => {
    const n = withdrawn();
    const r = reconsider([n], [lifted], replan, at, 'client:feed', { consentId: objection.id });
    expect(r.redeliver).toEqual([
      expect.objectContaining({ id: n.id, inboxId: n.inboxId, disclosed: minimise(record, 'offer-of-support') }),
    ]);
    expect(r.redeliver[0]?.decision.ruleId).toBe('offer-of-support');
    expect(r.audit.map((e) => [e.action, e.ruleId, e.outcome, e.recipient])).toEqual([
      ['decided', 'offer-of-support', 'permit', undefined],
      ['delivered', 'offer-of-support', 'redelivered', n.inboxId],
    ]);
    expect(r.audit[1]?.lawfulBasis).toBe(n.decision.lawfulBasis);
    expect(r.audit[1]?.details).toMatchObject({
      redelivered: { heldAt: hold.at, heldOutcome: 'withdrawn-from-inbox', heldBy: [objection.id] },
      consentId: objection.id,
    });
  });

  it('a later consent lifts an earlier objection; a period ended lifts it too', () => {
    const later = consent({ id: '00000000-0000-4000-8000-000000000002', kind: 'consent', recordedAt: '2026-11-29T11:30:00.000Z' });
    expect(reconsider([withdrawn()], [objection, later], replan, at, 'a', {}).redeliver).toHaveLength(1);
    expect(reconsider([withdrawn()], [{ ...objection, to: '2026-11-28' }], replan, at, 'a', {}).redeliver).toHaveLength(1);
    // Still in its period: nothing.
    expect(reconsider([withdrawn()], [{ ...objection, to: '2026-11-29' }], replan, at, 'a', {})).toMatchObject({
      redeliver: [],
      audit: [],
    });
  });

  it('stays withdrawn while another objection stands, after a death, after a move or restriction, or without a hold', () => {
    const second = consent({
      id: '00000000-0000-4000-8000-000000000003',
      babyNhsNumber: undefined,
      motherNhsNumber: record.mother?.nhsNumber,
    });
    const none = { redeliver: [], audit: [], withdraw: [], redecided: [] };
    expect(reconsider([withdrawn()], [lifted, second], replan, at, 'a', {})).toEqual(none);
    expect(
      reconsider([withdrawn({ record: { ...record, baby: { ...record.baby, deceased: true } } })], [lifted], replan, at, 'a', {}),
    ).toEqual(none);
    // Withdrawn from another inbox than the decision now gives (the family moved): not moved back here.
    expect(reconsider([withdrawn({ inboxId: 'harehills' })], [lifted], replan, at, 'a', {})).toEqual(none);
    // A restricted record now goes to safeguarding review, not back to the centre.
    expect(reconsider([withdrawn({ record: { ...record, confidentiality: 'restricted' } })], [lifted], replan, at, 'a', {})).toEqual(none);
    // Withdrawn for a death, a merge or a move: no hold, never delivered again this way.
    const { consentHold: _h, ...unheld } = withdrawn();
    expect(reconsider([unheld], [lifted], replan, at, 'a', {})).toEqual(none);
  });

  it('one withheld at its decision is delivered where the decision now sends it; deciding again is idempotent', () => {
    const plan = replan(record, { records: [objection], at });
    expect(plan.inboxId).toBeUndefined();
    const withheld: FamilyNotification = {
      id: '10000000-0000-4000-8000-000000000002',
      status: 'withheld',
      babyNhsNumber: record.baby.nhsNumber,
      decision: plan.decision,
      record,
      consentHold: { ...hold, outcome: 'withheld' },
    };
    const r = reconsider([withheld], [lifted], replan, at, 'a', {});
    expect(r.redeliver[0]?.inboxId).toBe(replan(record, { records: [], at }).inboxId);
    // Once delivered it is live and decided as any other: the same decision changes nothing.
    const again = r.redeliver[0];
    if (again === undefined) throw new Error('not redelivered');
    const after = { ...withheld, status: 'delivered' as const, inboxId: again.inboxId, decision: again.decision };
    delete after.consentHold;
    expect(reconsider([after], [lifted], replan, at, 'a', {})).toEqual({ withdraw: [], redecided: [], redeliver: [], audit: [] });
  });

  it('withdrawing for a reason other than an objection (a review inbox changing) puts no hold', () => {
    const young = { ...record, mother: { ...record.mother, birthDate: '2012-01-01' } } as typeof record;
    const n = delivered();
    const r = reconsider([{ ...n, record: young }], [], replan, at, 'a', {});
    expect(r.withdraw).toEqual([{ id: n.id }]);
  });
});
