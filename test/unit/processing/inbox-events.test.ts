import { acknowledgedEvent, deliveredEvent, readEvent } from '../../../src/processing/inbox-events.js';

const at = new Date('2026-11-29T08:00:00Z');

describe('the audit events of an inbox (the store only saves them)', () => {
  test('delivered: a disclosure to the inbox under the rule, rulebook version and lawful basis of the decision', () => {
    const event = deliveredEvent(
      {
        notificationId: 'n-1',
        messageId: 'm-1',
        babyNhsNumber: '9434765919',
        decision: { ruleId: 'offer-support', rulebookId: 'offer-of-support', rulebookVersion: '3', lawfulBasis: 'UK GDPR 6(1)(e)' },
        dataset: 'family-offer',
      },
      'osmondthorpe',
      at,
    );
    expect(event).toEqual({
      at,
      actor: 'system:worker',
      action: 'delivered',
      messageId: 'm-1',
      notificationId: 'n-1',
      subjectNhsNumber: '9434765919',
      recipient: 'osmondthorpe',
      ruleId: 'offer-support',
      rulebookVersion: 'offer-of-support@3',
      lawfulBasis: 'UK GDPR 6(1)(e)',
      details: { dataset: 'family-offer' },
    });
  });

  test('delivered without an NHS number or dataset: no subject, dataset null', () => {
    const event = deliveredEvent(
      { notificationId: 'n-2', messageId: 'm-2', decision: { ruleId: 'r', rulebookId: 'b', rulebookVersion: '1', lawfulBasis: 'l' } },
      'northgate-unallocated',
      at,
    );
    expect(event).not.toHaveProperty('subjectNhsNumber');
    expect(event.details).toEqual({ dataset: null });
  });

  test('read and acknowledged name the person or client, the inbox and the subject', () => {
    expect(readEvent('n-1', '9434765919', 'osmondthorpe', 'client:osmondthorpe', at)).toEqual({
      at,
      actor: 'client:osmondthorpe',
      action: 'read',
      notificationId: 'n-1',
      recipient: 'osmondthorpe',
      subjectNhsNumber: '9434765919',
      details: { role: 'centre', purpose: 'care' },
    });
    expect(acknowledgedEvent('n-1', undefined, 'osmondthorpe', 'client:osmondthorpe', at)).toEqual({
      at,
      actor: 'client:osmondthorpe',
      action: 'acknowledged',
      notificationId: 'n-1',
      recipient: 'osmondthorpe',
      details: { role: 'centre', purpose: 'care' },
    });
  });
});
