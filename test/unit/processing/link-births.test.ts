import { repoRoot } from '../../../src/config/env.js';
import { loadHubConfig } from '../../../src/config/hub-config.js';
import type { BirthNotification } from '../../../src/domain/birth-notification.js';
import { planDelivery } from '../../../src/pipeline/plan-delivery.js';
import type { ExistingNotification, ProcessedBirth } from '../../../src/ports/notification-store.js';
import { decisionAudit } from '../../../src/processing/birth-outcomes.js';
import { settleBatch } from '../../../src/processing/birth-outcomes.js';
import { changedDisclosedFields, matchKeys, settleLinks, withLinks } from '../../../src/processing/link-births.js';

const config = loadHubConfig(repoRoot);
const replan = (r: BirthNotification) => planDelivery(r, '', config.rulebook, config.catchments);
const at = new Date('2026-11-28T10:00:00Z');
const MOTHER = '9995875217';
const BABY = '9998853931';

/** The trust's ADT about a baby born in Osmondthorpe: local id only. */
function adtRecord(over: Partial<BirthNotification['baby']> = {}): BirthNotification {
  return {
    baby: {
      localIdentifiers: [{ value: 'RR81234567', assigner: 'RR8', type: 'MR' }],
      name: { family: 'OKAFOR', given: ['OLIVIA'] },
      sex: 'female',
      birthDate: '2026-11-28',
      birthTime: '2026-11-28T03:04:00+00:00',
      multipleBirth: false,
      deceased: false,
      ...over,
    },
    mother: {
      nhsNumber: MOTHER,
      localIdentifiers: [],
      name: { family: 'OKAFOR', given: ['CHLOE'] },
      address: { lines: ['47 PARK AVENUE'], postcode: 'LS9 7AB' },
    },
    confidentiality: 'normal',
    source: { format: 'hl7v2', feedId: 'leeds-pas', messageControlId: 'C1', event: 'ADT^A28' },
  };
}

/** The national notification of the same baby: the NHS number, verified, and the GP. */
function nemsRecord(over: Partial<BirthNotification['baby']> = {}, top: Partial<BirthNotification> = {}): BirthNotification {
  return {
    baby: {
      nhsNumber: BABY,
      nhsNumberStatus: '01',
      localIdentifiers: [],
      name: { family: 'OKAFOR', given: ['OLIVIA'] },
      sex: 'female',
      birthDate: '2026-11-28',
      birthTime: '2026-11-28T03:04:00Z',
      birthOrder: 1,
      multipleBirth: false,
      deceased: false,
      ...over,
    },
    mother: { nhsNumber: MOTHER, localIdentifiers: [], name: { family: 'OKAFOR', given: ['CHLOE'] } },
    gpPractice: { odsCode: 'Y99901', name: 'WYKEBECK MEDICAL PRACTICE' },
    confidentiality: 'normal',
    source: { format: 'nems-stu3', feedId: 'nems-births', messageControlId: 'B1', event: 'pds-birth-notification-1' },
    ...top,
  };
}

function birth(messageId: string, record: BirthNotification): ProcessedBirth {
  const planned = {
    messageId,
    notificationId: `new-${messageId}`,
    record,
    plan: planDelivery(record, messageId, config.rulebook, config.catchments),
    at,
  };
  return { ...planned, audit: decisionAudit(planned) };
}

/** The notification the ADT made, as the store returns it locked. */
function existing(status: ExistingNotification['status'] = 'delivered', record = adtRecord()): ExistingNotification {
  const plan = planDelivery(record, 'm-adt', config.rulebook, config.catchments);
  return {
    id: 'n-adt',
    messageId: 'm-adt',
    subjectKey: plan.subjectKey,
    ...(plan.birthKey !== undefined ? { birthKey: plan.birthKey } : {}),
    ...(record.baby.nhsNumber !== undefined ? { babyNhsNumber: record.baby.nhsNumber } : {}),
    status,
    ...(plan.inboxId !== undefined ? { inboxId: plan.inboxId } : {}),
    decision: plan.decision,
    ...(plan.disclosed !== undefined ? { disclosed: plan.disclosed } : {}),
    record,
  };
}

describe('settleLinks: a later message about a baby already notified enriches its one notification', () => {
  test('the sample rulebook routes the ADT baby to Osmondthorpe with the offer of support', () => {
    expect(existing()).toMatchObject({ inboxId: 'osmondthorpe', decision: { effect: 'permit', dataset: 'offer-of-support' } });
  });

  test('NEMS after the ADT (local id only): linked by birth key, NHS number and GP enriched, the centre inbox updated', () => {
    const later = birth('m-nems', nemsRecord());
    expect(matchKeys([later])).toEqual({
      subjectKeys: [`nhs:${BABY}`],
      babyNhsNumbers: [BABY],
      birthKeys: [`birth:${MOTHER}:2026-11-28:1`],
      demographicKeys: [],
    });
    const s = settleLinks([later], [existing()], replan, at);
    expect(s.resolved).toEqual(new Set(['m-nems']));
    expect(s.outcomes).toEqual([{ kind: 'linked', messageId: 'm-nems', notificationId: 'n-adt', inboxUpdated: true }]);
    expect(s.linked).toEqual(['m-nems']);
    expect(s.unlinked).toEqual([]);
    expect(s.updates).toHaveLength(1);
    const u = s.updates[0];
    expect(u).toMatchObject({ id: 'n-adt', babyNhsNumber: BABY, motherNhsNumber: MOTHER, inboxUpdated: true });
    expect(u?.birthKey).toBeUndefined();
    expect(u?.record.baby).toMatchObject({ nhsNumber: BABY, nhsNumberStatus: '01', localIdentifiers: [{ value: 'RR81234567' }] });
    expect(u?.disclosed).toMatchObject({ dataset: 'offer-of-support', baby: { nhsNumber: BABY }, gpPractice: { odsCode: 'Y99901' } });
    // Only the dataset's fields: the verification status and local id are enriched in the record, not disclosed.
    expect(u?.disclosed?.baby.nhsNumberStatus).toBeUndefined();
    expect(u?.disclosed?.baby.localIdentifiers).toBeUndefined();
    expect(s.audit.map((e) => e.action)).toEqual(['linked', 'updated']);
    expect(s.audit[0]).toMatchObject({
      messageId: 'm-nems',
      notificationId: 'n-adt',
      subjectNhsNumber: BABY,
      outcome: 'enriched',
      details: {
        firstMessageId: 'm-adt',
        matchedBy: 'birth-key',
        enriched: ['baby.nhsNumber', 'baby.nhsNumberStatus', 'baby.birthOrder', 'gpPractice'],
        conflicts: [],
      },
    });
    expect(s.audit[1]).toMatchObject({
      recipient: 'osmondthorpe',
      ruleId: 'offer-of-support',
      details: { dataset: 'offer-of-support', fields: ['baby.birthOrder', 'baby.nhsNumber', 'gpPractice'] },
    });
    expect(s.audit[1]?.lawfulBasis).toEqual(expect.any(String));
    // Field names and ids only: no name, address or NHS number in any details.
    expect(JSON.stringify(s.audit.map((e) => e.details))).not.toMatch(/OKAFOR|PARK|LS9|9998853931|9995875217|Y99901/);
  });

  test('the ADT after NEMS, same NHS number: linked by subject key; the local id is kept in the record', () => {
    const first = existing('routed', nemsRecord());
    const s = settleLinks(
      [birth('m-adt2', { ...adtRecord(), baby: { ...adtRecord().baby, nhsNumber: BABY, nhsNumberStatus: '02' } })],
      [first],
      replan,
      at,
    );
    // NEMS gave no address (routed to the unallocated inbox); the ADT's address routes it to Osmondthorpe: it moves.
    expect(first.inboxId).toBe('unallocated');
    expect(s.outcomes).toEqual([
      { kind: 'linked', messageId: 'm-adt2', notificationId: 'n-adt', inboxUpdated: false, routedTo: 'osmondthorpe' },
    ]);
    expect(s.audit[0]).toMatchObject({ details: { matchedBy: 'subject-key', conflicts: ['baby.nhsNumberStatus'] } });
    // The verified status is kept; the notification was not yet delivered, so nothing is withdrawn: it is routed anew.
    expect(s.updates[0]?.record.baby.nhsNumberStatus).toBe('01');
    expect(s.updates[0]?.record.baby.localIdentifiers).toHaveLength(1);
    expect(s.updates[0]?.reroute).toMatchObject({ inboxId: 'osmondthorpe', route: { kind: 'centre', centreId: 'osmondthorpe' } });
    expect(s.updates[0]?.reroute?.withdrawFrom).toBeUndefined();
    expect(s.audit.map((e) => [e.action, e.recipient])).toEqual([
      ['linked', undefined],
      ['routed', 'osmondthorpe'],
    ]);
  });

  test('the ADT after NEMS without the NHS number: linked by birth key', () => {
    const s = settleLinks([birth('m-adt3', adtRecord())], [existing('delivered', nemsRecord())], replan, at);
    expect(s.audit[0]).toMatchObject({ action: 'linked', details: { matchedBy: 'birth-key' } });
    expect(s.audit[0]?.details?.enriched).toContain('baby.localIdentifiers');
  });

  test('a twin is never merged with the other twin: same mother and date, different order — no key shared', () => {
    const twin2 = birth('m-twin2', nemsRecord({ multipleBirth: true, birthOrder: 2 }));
    const twin1 = existing('delivered', adtRecord({ multipleBirth: true, birthOrder: 1 }));
    expect(settleLinks([twin2], [twin1], replan, at).resolved.size).toBe(0);
  });

  test('same birth key but not clearly the same baby: not merged, inserted keyless with a note naming the fields', () => {
    const later = birth('m-odd', nemsRecord({ birthTime: '2026-11-28T03:40:00Z', sex: 'male' }));
    const s = settleLinks([later], [existing()], replan, at);
    expect(s.outcomes).toEqual([]);
    expect(s.updates).toEqual([]);
    expect(s.unlinked).toHaveLength(1);
    expect(s.unlinked[0]?.plan.birthKey).toBeUndefined();
    expect(s.unlinked[0]?.plan.subjectKey).toBe(`nhs:${BABY}`);
    expect(s.unlinked[0]?.audit.at(-1)).toMatchObject({
      action: 'not-linked',
      messageId: 'm-odd',
      notificationId: 'new-m-odd',
      outcome: 'ambiguous',
      details: { candidateNotificationId: 'n-adt', candidateMessageId: 'm-adt', fields: ['baby.birthTime', 'baby.sex'] },
    });
  });

  test('a linked record reporting a death withdraws the live notification', () => {
    const death = birth('m-death', nemsRecord({ deceased: true }));
    const s = settleLinks([death], [existing()], replan, at);
    expect(s.withdraw).toEqual(['n-adt']);
    expect(s.processed).toEqual(['m-death']);
    expect(s.outcomes).toEqual([{ kind: 'withdrew', messageId: 'm-death', notificationIds: ['n-adt'] }]);
    expect(s.audit.map((e) => [e.action, e.outcome])).toEqual([
      ['linked', 'death-reported'],
      ['withdrawn', 'withdrawn-from-inbox'],
    ]);
  });

  test('a withdrawn notification is only linked, never enriched', () => {
    const s = settleLinks([birth('m-late', nemsRecord())], [existing('withdrawn')], replan, at);
    expect(s.updates).toEqual([]);
    expect(s.audit).toEqual([expect.objectContaining({ action: 'linked', outcome: 'withdrawn' })]);
  });

  const hold = { at: '2026-11-28T09:00:00.000Z', outcome: 'withdrawn-from-inbox' as const, consentRecords: ['c-1'] };

  test('one an objection withdrew: a later message is not applied, and the hold ends (withdrawn for good)', () => {
    const s = settleLinks([birth('m-late', nemsRecord())], [{ ...existing('withdrawn'), consentHold: hold }], replan, at);
    expect(s.updates).toEqual([]);
    expect(s.withdraw).toEqual(['n-adt']);
    expect(s.audit).toEqual([expect.objectContaining({ action: 'linked', outcome: 'withdrawn' })]);
    expect(s.audit[0]?.details).toMatchObject({ consentHoldEnded: true });
  });

  test('one an objection withheld: a death reported withdraws it for good, so lifting the objection never delivers it', () => {
    const s = settleLinks(
      [birth('m-death', nemsRecord({ deceased: true }))],
      [{ ...existing('withheld'), consentHold: { ...hold, outcome: 'withheld' } }],
      replan,
      at,
    );
    expect(s.withdraw).toEqual(['n-adt']);
    expect(s.outcomes).toEqual([{ kind: 'withdrew', messageId: 'm-death', notificationIds: ['n-adt'] }]);
    // Withheld without a hold (denied for another reason), a death is only linked as before.
    const unheld = settleLinks([birth('m-death', nemsRecord({ deceased: true }))], [existing('withheld')], replan, at);
    expect(unheld.withdraw).toEqual([]);
  });

  test('a later record marked restricted: withdrawn from the centre (neutral reason), routed to safeguarding review with its dataset', () => {
    const s = settleLinks([birth('m-r', nemsRecord({}, { confidentiality: 'restricted' }))], [existing()], replan, at);
    expect(s.updates[0]?.record.confidentiality).toBe('restricted');
    expect(s.updates[0]?.disclosed).toBeUndefined();
    const review = replan(s.updates[0]?.record ?? adtRecord());
    expect(review.decision.effect).toBe('review');
    expect(s.updates[0]?.reroute).toEqual({
      decision: review.decision,
      route: review.route,
      inboxId: review.inboxId,
      disclosed: review.disclosed,
      withdrawFrom: 'osmondthorpe',
    });
    // The review inbox gets no more than the review decision's dataset: no address, no phone.
    expect(review.disclosed).not.toHaveProperty('familyAddress');
    expect(s.outcomes).toEqual([expect.objectContaining({ kind: 'linked', inboxUpdated: false, routedTo: review.inboxId })]);
    expect(s.audit[0]?.details?.conflicts).toContain('confidentiality');
    expect(s.audit.slice(1).map((e) => [e.action, e.recipient, e.outcome])).toEqual([
      ['decided', undefined, 'review'],
      ['withdrawn', 'osmondthorpe', 'moved-away'],
      ['routed', review.inboxId, 'centre'],
    ]);
    expect(JSON.stringify(s.audit.find((e) => e.action === 'withdrawn'))).not.toContain(review.inboxId ?? 'none');
  });

  test('two later messages in one batch enrich the same notification one after the other: one update', () => {
    const gpOnly = nemsRecord();
    delete gpOnly.baby.nhsNumber;
    delete gpOnly.baby.nhsNumberStatus;
    const s = settleLinks([birth('m-a', gpOnly), birth('m-b', nemsRecord())], [existing()], replan, at);
    expect(s.linked).toEqual(['m-a', 'm-b']);
    expect(s.updates).toHaveLength(1);
    expect(s.updates[0]?.record.baby.nhsNumber).toBe(BABY);
    expect(s.updates[0]?.record.gpPractice?.odsCode).toBe('Y99901');
    expect(s.audit.filter((e) => e.action === 'linked').map((e) => e.details?.enriched)).toEqual([
      ['baby.birthOrder', 'gpPractice'],
      ['baby.nhsNumber', 'baby.nhsNumberStatus'],
    ]);
  });

  test('a birth key another notification already holds is not set on this one (the column is unique)', () => {
    // NEMS came without the mother (no birth key), the ADT with its local id only: two notifications neither could link.
    const nemsFirst = nemsRecord();
    delete nemsFirst.mother;
    const fromNems: ExistingNotification = { ...existing('delivered', nemsFirst), id: 'n-nems', messageId: 'm-nems' };
    expect(fromNems.birthKey).toBeUndefined();
    const fromAdt = existing();
    // An ADT update with the NHS number and the mother: linked to the NEMS one by identity, which cannot take the key.
    const update = birth('m-a08', { ...adtRecord(), baby: { ...adtRecord().baby, nhsNumber: BABY } });
    const s = settleLinks([update], [fromAdt, fromNems], replan, at);
    expect(s.outcomes).toEqual([expect.objectContaining({ kind: 'linked', notificationId: 'n-nems' })]);
    expect(s.audit[0]?.details).toMatchObject({ matchedBy: 'subject-key' });
    expect(s.updates[0]?.record.mother?.nhsNumber).toBe(MOTHER);
    expect(s.updates[0]?.birthKey).toBeUndefined();
  });

  test('nothing matching: left a duplicate, as before', () => {
    const s = settleLinks([birth('m-x', nemsRecord({ birthDate: '2026-11-01' }))], [existing()], replan, at);
    expect(s.resolved.size).toBe(0);
    expect(s.audit).toEqual([]);
  });
});

describe('changedDisclosedFields', () => {
  test('names the disclosed fields that differ, dataset aside', () => {
    expect(
      changedDisclosedFields(
        { dataset: 'offer-of-support', baby: { sex: 'female' }, mother: { name: { family: 'A' } } },
        {
          dataset: 'offer-of-support',
          baby: { sex: 'female', nhsNumber: BABY },
          gpPractice: { odsCode: 'Y99901' },
          mother: { name: { family: 'B' } },
        },
      ),
    ).toEqual(['baby.nhsNumber', 'gpPractice', 'mother.name']);
    expect(changedDisclosedFields(undefined, { dataset: 'offer-of-support', baby: {} })).toEqual([]);
  });
});

describe('withLinks: the batch settlement after the second look', () => {
  const nemsBirth = birth('m-nems', nemsRecord());
  const other = birth('m-other', nemsRecord({ nhsNumber: '9434765870', birthDate: '2026-11-01' }));
  const odd = birth('m-odd', nemsRecord({ nhsNumber: '9434765919', birthTime: '2026-11-28T03:40:00Z' }));
  const items = [nemsBirth, other, odd];
  // None created: all three were duplicates for settleBatch.
  const settled = settleBatch(items, new Set(), new Set(), [], at);

  test('linked births are duplicates audited `linked`; an unlinked one inserted again is created; the rest stay duplicates', () => {
    const links = settleLinks(items, [existing()], replan, at);
    expect(links.unlinked.map((b) => b.messageId)).toEqual(['m-odd']);
    const s = withLinks(settled, links, new Set(['new-m-odd']));
    expect(s.outcomes).toEqual([
      { kind: 'linked', messageId: 'm-nems', notificationId: 'n-adt', inboxUpdated: true },
      { kind: 'duplicate-birth', messageId: 'm-other' },
      // Its own notification, routed as its own record says (the national record gives no address here).
      { kind: 'created', messageId: 'm-odd', notificationId: 'new-m-odd', inboxId: 'unallocated' },
    ]);
    expect(s.duplicates.sort()).toEqual(['m-nems', 'm-other']);
    expect(s.processed).toEqual([]);
    expect(s.audit.map((e) => [e.action, e.messageId])).toEqual([
      ['duplicate-birth', 'm-other'],
      ['linked', 'm-nems'],
      ['updated', 'm-nems'],
    ]);
  });

  test('an unlinked birth whose second insert created nothing (another worker was first) stays a duplicate', () => {
    const links = settleLinks([odd], [existing()], replan, at);
    const s = withLinks(settleBatch([odd], new Set(), new Set(), [], at), links, new Set());
    expect(s.outcomes).toEqual([{ kind: 'duplicate-birth', messageId: 'm-odd' }]);
    expect(s.duplicates).toEqual(['m-odd']);
    expect(s.audit.map((e) => e.action)).toEqual(['duplicate-birth']);
  });

  test('a death linked by birth key: processed, the notification withdrawn', () => {
    const death = birth('m-death', nemsRecord({ deceased: true }));
    const s = withLinks(settleBatch([death], new Set(), new Set(), [], at), settleLinks([death], [existing()], replan, at), new Set());
    expect(s.processed).toEqual(['m-death']);
    expect(s.withdraw).toEqual(['n-adt']);
    expect(s.duplicates).toEqual([]);
  });
});

describe('settleLinks: updates (A08/A31, FHIR updates) and moves between catchments', () => {
  const a08 = (postcode: string, over: Partial<BirthNotification['baby']> = {}): BirthNotification => {
    const r = adtRecord(over);
    r.source = { ...r.source, event: 'ADT^A08', messageControlId: 'U1', update: true };
    if (r.mother) r.mother.address = { lines: ['2 NEW STREET'], postcode };
    return r;
  };

  test('an address in another centre’s catchment moves a delivered notification: withdrawn from the old, routed to the new', () => {
    const s = settleLinks([birth('m-a08', a08('LS8 3DR'))], [existing()], replan, at);
    expect(s.processed).toEqual(['m-a08']);
    expect(s.linked).toEqual([]);
    expect(s.outcomes).toEqual([
      { kind: 'updated', messageId: 'm-a08', notificationId: 'n-adt', inboxUpdated: false, routedTo: 'harehills' },
    ]);
    expect(s.updates[0]?.record.mother?.address?.postcode).toBe('LS8 3DR');
    expect(s.updates[0]?.reroute).toMatchObject({ inboxId: 'harehills', withdrawFrom: 'osmondthorpe', route: { centreId: 'harehills' } });
    expect(s.updates[0]?.reroute?.disclosed).toMatchObject({ familyAddress: { postcode: 'LS8 3DR' } });
    expect(s.audit.map((e) => [e.action, e.recipient, e.outcome])).toEqual([
      ['updated', undefined, 'record-updated'],
      ['withdrawn', 'osmondthorpe', 'moved-away'],
      ['routed', 'harehills', 'centre'],
    ]);
    expect(s.audit[0]?.details).toMatchObject({ matchedBy: 'subject-key', fields: ['mother.address'] });
    // The old centre's withdrawal names no new centre, no address.
    const withdrawn = JSON.stringify(s.audit[1]);
    expect(withdrawn).not.toMatch(/harehills|LS8|NEW STREET/);
    expect(s.audit[2]).toMatchObject({ ruleId: 'offer-of-support' });
    expect(s.audit[2]?.lawfulBasis).toMatch(/Art 6/);
  });

  test('an address in the same catchment updates the delivered record in place (the centre sees it updated)', () => {
    const s = settleLinks([birth('m-a08', a08('LS9 7AD'))], [existing()], replan, at);
    expect(s.updates[0]?.reroute).toBeUndefined();
    expect(s.updates[0]?.disclosed).toMatchObject({ familyAddress: { postcode: 'LS9 7AD' } });
    expect(s.outcomes).toEqual([{ kind: 'updated', messageId: 'm-a08', notificationId: 'n-adt', inboxUpdated: true }]);
    expect(s.audit.map((e) => [e.action, e.recipient])).toEqual([
      ['updated', undefined],
      ['updated', 'osmondthorpe'],
    ]);
    expect(s.audit[1]?.details).toMatchObject({ fields: ['familyAddress'] });
  });

  test('an update about a baby Stork has not notified is recorded, not relevant, and makes no notification', () => {
    const s = settleLinks([birth('m-a08', a08('LS8 3DR'))], [], replan, at);
    expect(s.resolved).toEqual(new Set(['m-a08']));
    expect(s.notRelevant).toEqual(['m-a08']);
    expect(s.unlinked).toEqual([]);
    expect(s.outcomes).toEqual([{ kind: 'update-not-applied', messageId: 'm-a08' }]);
    expect(s.audit).toEqual([expect.objectContaining({ action: 'not-relevant', outcome: 'update-not-applied', messageId: 'm-a08' })]);
    expect(s.audit[0]?.notificationId).toBeUndefined();
  });

  test('an update of a withdrawn notification changes nothing', () => {
    const s = settleLinks([birth('m-a08', a08('LS8 3DR'))], [existing('withdrawn')], replan, at);
    expect(s.updates).toEqual([]);
    expect(s.audit).toEqual([expect.objectContaining({ action: 'updated', outcome: 'withdrawn' })]);
  });

  test('a routed (not yet delivered) notification moves without any withdrawal', () => {
    const s = settleLinks([birth('m-a08', a08('LS8 3DR'))], [existing('routed')], replan, at);
    expect(s.updates[0]?.reroute?.withdrawFrom).toBeUndefined();
    expect(s.audit.map((e) => e.action)).toEqual(['updated', 'routed']);
  });

  test('two updates in one batch: moved away, then back: one write, ending where it started', () => {
    const s = settleLinks([birth('m-1', a08('LS8 3DR')), birth('m-2', a08('LS9 7AB'))], [existing()], replan, at);
    expect(s.updates).toHaveLength(1);
    // Its first inbox's item is withdrawn, and it is delivered there again (the delivery job re-opens the item).
    expect(s.updates[0]?.reroute).toMatchObject({ inboxId: 'osmondthorpe', withdrawFrom: 'osmondthorpe' });
    expect(s.audit.filter((e) => e.action === 'withdrawn')).toHaveLength(1);
    expect(s.outcomes.map((o) => (o.kind === 'updated' ? o.routedTo : undefined))).toEqual(['harehills', 'osmondthorpe']);
  });
});
