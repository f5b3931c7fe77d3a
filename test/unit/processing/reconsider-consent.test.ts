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
    expect(r.withdraw).toEqual([n.id]);
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
    expect(reconsider([delivered()], [], replan, at, 'a', {})).toEqual({ withdraw: [], redecided: [], audit: [] });
    const restricted = { ...record, confidentiality: 'restricted' as const };
    const plan = replan(restricted, { records: [], at });
    const review: FamilyNotification = { ...delivered(), record: restricted, decision: plan.decision, inboxId: 'safeguarding-review' };
    // A restricted record stays in safeguarding review even with an objection.
    expect(reconsider([review], [objection], replan, at, 'a', {}).withdraw).toEqual([]);
    expect(reconsider([{ ...delivered(), status: 'withdrawn' }], [objection], replan, at, 'a', {}).audit).toEqual([]);
  });
});
