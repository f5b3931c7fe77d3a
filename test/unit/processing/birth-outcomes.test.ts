import type { BirthNotification } from '../../../src/domain/birth-notification.js';
import type { Decision } from '../../../src/pipeline/consent/decide.js';
import type { DeliveryPlan } from '../../../src/pipeline/plan-delivery.js';
import type { LiveNotification, ProcessedBirth } from '../../../src/ports/notification-store.js';
import { decisionAudit, deathReports, quarantineAudit, settleBatch } from '../../../src/processing/birth-outcomes.js';

const at = new Date('2026-11-18T10:00:00Z');
const permit: Decision = {
  effect: 'permit',
  ruleId: 'offer-of-support',
  rulebookId: 'offer-of-support',
  rulebookVersion: '3',
  lawfulBasis: 'public-task',
  dataset: 'offer-of-support',
  reason: 'a newborn in a covered area',
};
const deny: Decision = { ...permit, effect: 'deny', ruleId: 'baby-deceased', reason: 'the baby has died' };
delete (deny as { dataset?: unknown }).dataset;
const centre = { kind: 'centre', centreId: 'osmondthorpe', localAuthorityId: 'northgate', matchedBy: 'district' } as const;

function birth(n: number, opts: { deceased?: boolean; nhs?: string; decision?: Decision } = {}): ProcessedBirth {
  const nhsNumber = opts.nhs ?? `943476591${n}`;
  const record = {
    baby: { nhsNumber, localIdentifiers: [], birthDate: '2026-11-18', deceased: opts.deceased ?? false },
    confidentiality: 'normal',
    source: { format: 'hl7v2', feedId: 'rx1', messageControlId: `C${n}`, event: 'ADT^A28' },
  } as BirthNotification;
  const decision = opts.decision ?? permit;
  const plan: DeliveryPlan = {
    subjectKey: `nhs:${nhsNumber}`,
    decision,
    route: centre,
    ...(decision.effect === 'permit' ? { inboxId: 'osmondthorpe' } : {}),
  };
  const planned = { messageId: `m${n}`, notificationId: `n${n}`, record, plan, at };
  return { ...planned, audit: decisionAudit(planned) };
}

describe('decisionAudit: each decision audited with its rule', () => {
  test('a permitted birth: decided (rule, lawful basis, dataset), then routed to its inbox', () => {
    const events = birth(1).audit;
    expect(events.map((e) => e.action)).toEqual(['decided', 'routed']);
    expect(events[0]).toMatchObject({
      actor: 'system:worker',
      messageId: 'm1',
      notificationId: 'n1',
      subjectNhsNumber: '9434765911',
      ruleId: 'offer-of-support',
      rulebookVersion: 'offer-of-support@3',
      lawfulBasis: 'public-task',
      outcome: 'permit',
      details: { reason: permit.reason, dataset: 'offer-of-support' },
    });
    expect(events[1]).toMatchObject({ action: 'routed', recipient: 'osmondthorpe', outcome: 'centre', details: { route: centre } });
  });

  test('a denied birth: decided, then withheld with the rule that denied it', () => {
    const events = birth(2, { decision: deny }).audit;
    expect(events.map((e) => [e.action, e.outcome, e.ruleId])).toEqual([
      ['decided', 'deny', 'baby-deceased'],
      ['withheld', 'withheld', 'baby-deceased'],
    ]);
    expect(events[1]?.recipient).toBeUndefined();
  });

  test('a quarantined message is audited as rejected with its reason', () => {
    expect(quarantineAudit('m9', 'no canonical record', at)).toEqual({
      at,
      actor: 'system:worker',
      action: 'rejected',
      messageId: 'm9',
      outcome: 'quarantined',
      details: { reason: 'no canonical record' },
    });
  });
});

describe('settleBatch: what a birth whose notification was not created means', () => {
  test('all created: every outcome created with its inbox id, nothing else to write', () => {
    const items = [birth(1), birth(2, { decision: deny })];
    const s = settleBatch(items, new Set(['n1', 'n2']), new Set(), [], at);
    expect(s.outcomes).toEqual([
      { kind: 'created', messageId: 'm1', notificationId: 'n1', inboxId: 'osmondthorpe' },
      { kind: 'created', messageId: 'm2', notificationId: 'n2' },
    ]);
    expect([s.processed, s.duplicates, s.withdraw, s.audit]).toEqual([[], [], [], []]);
  });

  test('a retried job: the message already has its notification, so it is processed and nothing is audited again', () => {
    const s = settleBatch([birth(1)], new Set(), new Set(['m1']), [], at);
    expect(s.outcomes).toEqual([{ kind: 'already-processed', messageId: 'm1' }]);
    expect(s.processed).toEqual(['m1']);
    expect(s.audit).toEqual([]);
  });

  test('a second message about a birth already notified is a duplicate, audited as such', () => {
    const second = birth(3, { nhs: '9434765919' });
    const s = settleBatch([second], new Set(), new Set(), [], at);
    expect(s.outcomes).toEqual([{ kind: 'duplicate-birth', messageId: 'm3' }]);
    expect(s.duplicates).toEqual(['m3']);
    expect(s.audit).toEqual([
      {
        at,
        actor: 'system:worker',
        action: 'duplicate-birth',
        messageId: 'm3',
        subjectNhsNumber: '9434765919',
        details: { reason: 'This birth was already notified by an earlier message' },
      },
    ]);
  });

  test('a death report withdraws the live notifications of its subject: from the inbox or before delivery, with the rule that now denies it', () => {
    const death = birth(4, { nhs: '9434765919', deceased: true, decision: deny });
    const live: LiveNotification[] = [
      { id: 'old-1', subjectKey: 'nhs:9434765919', status: 'delivered', inboxId: 'osmondthorpe', babyNhsNumber: '9434765919' },
      { id: 'old-2', subjectKey: 'nhs:9434765919', status: 'routed', inboxId: 'safeguarding-review', babyNhsNumber: '9434765919' },
      { id: 'other', subjectKey: 'nhs:0000000000', status: 'delivered', inboxId: 'harehills' },
    ];
    const s = settleBatch([death], new Set(), new Set(), live, at);
    expect(s.outcomes).toEqual([{ kind: 'withdrew', messageId: 'm4', notificationIds: ['old-1', 'old-2'] }]);
    expect(s.withdraw).toEqual(['old-1', 'old-2']);
    expect(s.processed).toEqual(['m4']);
    expect(s.duplicates).toEqual([]);
    expect(s.audit.map((e) => [e.action, e.notificationId, e.recipient, e.outcome, e.ruleId, e.lawfulBasis])).toEqual([
      ['withdrawn', 'old-1', 'osmondthorpe', 'withdrawn-from-inbox', 'baby-deceased', 'public-task'],
      ['withdrawn', 'old-2', 'safeguarding-review', 'withdrawn-before-delivery', 'baby-deceased', 'public-task'],
    ]);
    expect(s.audit[0]).toMatchObject({ at, messageId: 'm4', subjectNhsNumber: '9434765919', rulebookVersion: 'offer-of-support@3' });
  });

  test('a death report with nothing live to withdraw (withheld, or already withdrawn) is a duplicate', () => {
    const death = birth(5, { deceased: true, decision: deny });
    const s = settleBatch([death], new Set(), new Set(), [], at);
    expect(s.outcomes).toEqual([{ kind: 'duplicate-birth', messageId: 'm5' }]);
  });

  test('a retried death report withdraws nothing again', () => {
    const death = birth(6, { nhs: '9434765919', deceased: true, decision: deny });
    const live: LiveNotification[] = [{ id: 'old', subjectKey: 'nhs:9434765919', status: 'delivered', inboxId: 'osmondthorpe' }];
    expect(deathReports([death], new Set(['m6']))).toEqual([]);
    const s = settleBatch([death], new Set(), new Set(['m6']), live, at);
    expect(s.outcomes).toEqual([{ kind: 'already-processed', messageId: 'm6' }]);
    expect(s.withdraw).toEqual([]);
  });

  test('a mixed batch: outcomes in batch order; withdrawals audited before duplicates', () => {
    const items = [birth(7), birth(8, { nhs: '9434765919' }), birth(9, { nhs: '9434765900', deceased: true, decision: deny })];
    const live: LiveNotification[] = [{ id: 'old', subjectKey: 'nhs:9434765900', status: 'routed', inboxId: 'osmondthorpe' }];
    const s = settleBatch(items, new Set(['n7']), new Set(), live, at);
    expect(s.outcomes.map((o) => o.kind)).toEqual(['created', 'duplicate-birth', 'withdrew']);
    expect(s.audit.map((e) => e.action)).toEqual(['withdrawn', 'duplicate-birth']);
  });
});
