import { repoRoot } from '../../../src/config/env.js';
import { loadHubConfig } from '../../../src/config/hub-config.js';
import type { BirthNotification } from '../../../src/domain/birth-notification.js';
import type { MergePair } from '../../../src/domain/identity-event.js';
import { planDelivery } from '../../../src/pipeline/plan-delivery.js';
import type { ExistingNotification, ProcessedBirth } from '../../../src/ports/notification-store.js';
import { decisionAudit } from '../../../src/processing/birth-outcomes.js';
import {
  decideMerge,
  followIdentityKeys,
  mergeEffects,
  MERGED_REASON,
  plainlyDifferentBabies,
} from '../../../src/processing/identity-decisions.js';

const config = loadHubConfig(repoRoot);
const replan = (r: BirthNotification) => planDelivery(r, '', config.rulebook, config.catchments);
const at = new Date('2026-11-28T10:00:00Z');
const FEED = 'northgate-maternity';
const MOTHER = '9995875217';

/** A baby of the trust known by one MRN (no NHS number yet), born in Osmondthorpe's catchment. */
function record(mrn: string, over: Partial<BirthNotification['baby']> = {}, top: Partial<BirthNotification> = {}): BirthNotification {
  return {
    baby: {
      localIdentifiers: [{ value: mrn, assigner: 'RX1', type: 'MR' }],
      name: { family: 'OKAFOR', given: ['OLIVIA'] },
      sex: 'female',
      birthDate: '2026-11-28',
      birthTime: '2026-11-28T03:04:00Z',
      deceased: false,
      ...over,
    },
    mother: { nhsNumber: MOTHER, localIdentifiers: [], address: { lines: ['47 PARK AVENUE'], postcode: 'LS9 7AB' } },
    confidentiality: 'normal',
    source: { format: 'hl7v2', feedId: FEED, messageControlId: `C-${mrn}`, event: 'ADT^A28' },
    ...top,
  };
}

function existing(id: string, r: BirthNotification, status: ExistingNotification['status'] = 'delivered'): ExistingNotification {
  const plan = planDelivery(r, `m-${id}`, config.rulebook, config.catchments);
  return {
    id,
    messageId: `m-${id}`,
    subjectKey: plan.subjectKey,
    ...(r.baby.nhsNumber !== undefined ? { babyNhsNumber: r.baby.nhsNumber } : {}),
    status,
    ...(plan.inboxId !== undefined ? { inboxId: plan.inboxId } : {}),
    decision: plan.decision,
    ...(plan.disclosed !== undefined ? { disclosed: plan.disclosed } : {}),
    record: r,
  };
}

const pair = (surviving: string, merged: string): MergePair => ({
  surviving: { local: [{ value: surviving, assigner: 'RX1', type: 'MR' }] },
  merged: { local: [{ value: merged, assigner: 'RX1', type: 'MR' }] },
});

describe('decideMerge and mergeEffects: an A40 about notified babies', () => {
  test('two notifications of one baby under two MRNs: one remains, the merged one is withdrawn from its inbox, its message linked', () => {
    const survivor = existing('n-1', record('RX1A', {}, { gpPractice: { odsCode: 'B86001' } }));
    const merged = existing('n-2', record('RX1B', { name: { family: 'OKAFOR', given: ['OLIVIA', 'GRACE'] }, birthOrder: 1 }));
    expect(survivor.subjectKey).toBe(`local:${FEED}:RX1:RX1A`);
    const d = decideMerge(pair('RX1A', 'RX1B'), FEED, [merged, survivor], new Map());
    expect(d).toEqual({ kind: 'merge', survivor, merged });
    const fx = mergeEffects(d, pair('RX1A', 'RX1B'), FEED, 'm-a40', at, replan);
    expect(fx.withdraw).toEqual(['n-2']);
    expect(fx.subjectKey).toBe(survivor.subjectKey);
    expect(fx.keys).toEqual([`local:${FEED}:RX1:RX1A`, `local:${FEED}:RX1:RX1B`]);
    expect(fx.updates).toHaveLength(1);
    expect(fx.updates[0]?.record.baby.birthOrder).toBe(1);
    expect(fx.audit.map((e) => [e.action, e.notificationId, e.messageId, e.outcome])).toEqual([
      ['merged', 'n-1', 'm-a40', 'notifications-merged'],
      ['linked', 'n-1', 'm-n-2', 'merged'],
      ['withdrawn', 'n-2', 'm-a40', 'withdrawn-from-inbox'],
      // The survivor now shows the birth order the merged record had: its centre sees it updated.
      ['updated', 'n-1', 'm-a40', undefined],
    ]);
    const withdrawn = fx.audit.find((e) => e.action === 'withdrawn');
    expect(withdrawn).toMatchObject({ recipient: 'osmondthorpe', details: { reason: MERGED_REASON, mergedInto: 'n-1' } });
    // Identifier kinds, never values.
    const text = JSON.stringify(fx.audit);
    expect(text).toContain('local:RX1/MR');
    expect(text).not.toContain('RX1A');
    expect(text).not.toContain('RX1B');
  });

  test('twins (birth order 1 and 2, minutes apart) are never merged: refused, with the field names, nothing written', () => {
    const one = existing('n-1', record('RX1A', { birthOrder: 1, multipleBirth: true }));
    const two = existing('n-2', record('RX1B', { birthOrder: 2, multipleBirth: true, birthTime: '2026-11-28T03:18:00Z' }));
    const d = decideMerge(pair('RX1A', 'RX1B'), FEED, [one, two], new Map());
    expect(d).toMatchObject({ kind: 'refuse', fields: ['baby.birthOrder', 'baby.birthTime'] });
    const fx = mergeEffects(d, pair('RX1A', 'RX1B'), FEED, 'm-a40', at, replan);
    expect(fx).toMatchObject({ withdraw: [], updates: [], keys: [], refused: expect.stringContaining('refused') as string });
    expect(fx.audit).toEqual([expect.objectContaining({ action: 'merge-refused', outcome: 'different-babies', notificationId: 'n-1' })]);
  });

  test('plainlyDifferentBabies: a different sex, day or mother is enough; a different baby NHS number is not (that is what A40s resolve)', () => {
    const a = record('X');
    expect(plainlyDifferentBabies(a, record('Y'))).toEqual([]);
    expect(plainlyDifferentBabies(a, record('Y', { sex: 'male' }))).toEqual(['baby.sex']);
    expect(plainlyDifferentBabies(a, record('Y', { birthDate: '2026-11-27' }))).toEqual(['baby.birthDate']);
    expect(plainlyDifferentBabies(a, record('Y', { sex: 'unknown', birthTime: undefined }))).toEqual([]);
    expect(plainlyDifferentBabies(a, record('Y', {}, { mother: { nhsNumber: '9000000009', localIdentifiers: [] } }))).toEqual([
      'mother.nhsNumber',
    ]);
    expect(plainlyDifferentBabies(record('X', { nhsNumber: '9000000009' }), record('Y', { nhsNumber: '9449307946' }))).toEqual([]);
  });

  test('only the merged baby is known: it takes on the surviving NHS number, and every key of both resolves to it', () => {
    const n = existing('n-2', record('RX1B'));
    const p: MergePair = {
      surviving: { nhsNumber: '9449307946', local: [{ value: 'RX1A', assigner: 'RX1' }] },
      merged: pair('x', 'RX1B').merged,
    };
    const d = decideMerge(p, FEED, [n], new Map());
    expect(d).toEqual({ kind: 'merged-known', merged: n });
    const fx = mergeEffects(d, p, FEED, 'm-a40', at, replan);
    expect(fx.subjectKey).toBe(`local:${FEED}:RX1:RX1B`);
    expect(fx.keys).toEqual(['nhs:9449307946', `local:${FEED}:RX1:RX1A`, `local:${FEED}:RX1:RX1B`]);
    expect(fx.updates[0]).toMatchObject({ id: 'n-2', babyNhsNumber: '9449307946', inboxUpdated: true });
    expect(fx.updates[0]?.record.baby.localIdentifiers.map((l) => l.value)).toEqual(['RX1B', 'RX1A']);
    expect(fx.audit.map((e) => [e.action, e.outcome])).toEqual([
      ['merged', 'took-surviving-identifiers'],
      ['updated', undefined],
    ]);
  });

  test('neither known: the merged keys resolve to the surviving key; a notification found through an earlier merge counts', () => {
    const fx = mergeEffects(decideMerge(pair('RX1A', 'RX1B'), FEED, [], new Map()), pair('RX1A', 'RX1B'), FEED, 'm', at, replan);
    expect(fx).toMatchObject({ subjectKey: `local:${FEED}:RX1:RX1A`, withdraw: [], updates: [] });
    expect(fx.audit).toEqual([expect.objectContaining({ action: 'merged', outcome: 'not-known' })]);

    const n = existing('n-9', record('RX1Z'));
    const resolved = new Map([[`local:${FEED}:RX1:RX1A`, n.subjectKey]]);
    expect(decideMerge(pair('RX1A', 'RX1B'), FEED, [n], resolved)).toEqual({ kind: 'surviving-known', survivor: n });
  });

  test('followIdentityKeys gives a birth under a merged identifier the survivor’s subject key', () => {
    const r = record('RX1B');
    const planned = { messageId: 'm', notificationId: 'n', record: r, plan: planDelivery(r, 'm', config.rulebook, config.catchments), at };
    const b: ProcessedBirth = { ...planned, audit: decisionAudit(planned) };
    const [out] = followIdentityKeys([b], new Map([[`local:${FEED}:RX1:RX1B`, 'nhs:9449307946']]));
    expect(out?.plan.subjectKey).toBe('nhs:9449307946');
    expect(followIdentityKeys([b], new Map())[0]).toBe(b);
  });
});
