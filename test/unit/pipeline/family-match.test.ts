import { loadMatchModel } from '../../../src/config/matching.js';
import type { BirthNotification, Mother } from '../../../src/domain/birth-notification.js';
import type { FamilyRecord } from '../../../src/ports/family-store.js';
import { bindMatcher, isDecisiveStatus, planFamilies, type BirthToPlace, type FamilyMatcher } from '../../../src/pipeline/family-match.js';

const model = loadMatchModel();
const matcher: FamilyMatcher = bindMatcher(model);
const AT = new Date('2026-11-29T10:00:00Z');

const JANE: Mother = {
  localIdentifiers: [],
  name: { family: 'SMITH', given: ['JANE'] },
  birthDate: '1990-03-12',
  address: { lines: ['1 High Street'], postcode: 'LS9 7AB' },
  phone: '07700900123',
};

function birth(n: number, mother: Mother | undefined, baby: Partial<BirthNotification['baby']> = {}): BirthToPlace {
  const record: BirthNotification = {
    baby: { localIdentifiers: [{ value: `MRN${n}` }], birthDate: '2026-11-28', deceased: false, nhsNumber: `99900000${n}`, ...baby },
    ...(mother !== undefined ? { mother } : {}),
    confidentiality: 'normal',
    source: { format: 'hl7v2', feedId: 'f', messageControlId: `c${n}`, event: 'ADT^A28' },
  };
  return { notificationId: `n${n}`, messageId: `m${n}`, record, centre: 'osmondthorpe', at: AT };
}

function family(id: string, over: Partial<FamilyRecord> = {}): FamilyRecord {
  return {
    id,
    lead: { name: { family: 'SMITH', given: ['JANE'] }, birthDate: '1990-03-12', phone: '07700900123' },
    address: { lines: [], postcode: 'LS9 7AB' },
    origin: 'register-import',
    ...over,
  };
}

const ids = (): (() => string) => {
  let i = 0;
  return () => `new-${++i}`;
};

describe('planFamilies: which family each birth joins', () => {
  test('the mother’s NHS number decides when verified or unstated; twins in one batch are two children of one family', () => {
    const m = { ...JANE, nhsNumber: '9990000018' };
    const plan = planFamilies(
      [birth(1, m, { birthOrder: 1, multipleBirth: true }), birth(2, m, { birthOrder: 2, multipleBirth: true })],
      [],
      matcher,
      ids(),
    );
    expect(plan.newFamilies.map((f) => f.id)).toEqual(['new-1']);
    expect(plan.newFamilies[0]?.lead.nhsNumber).toBe('9990000018');
    expect(plan.newFamilies[0]?.blockKeys.length).toBeGreaterThan(0);
    expect(plan.placed).toEqual([
      { notificationId: 'n1', familyId: 'new-1', method: 'new-family' },
      { notificationId: 'n2', familyId: 'new-1', method: 'nhs-number' },
    ]);
    expect(plan.children.map((c) => c.childKey)).toEqual(['nhs:999000001', 'nhs:999000002']);
  });

  test('an unverified NHS number is strong evidence only: joins unless the other fields say non-match, then review', () => {
    const led = family('f1', { leadNhsNumber: '9990000018', lead: { ...family('f1').lead, nhsNumber: '9990000018' } });
    const agrees = planFamilies([birth(1, { ...JANE, nhsNumber: '9990000018', nhsNumberStatus: '02' })], [led], matcher, ids());
    expect(agrees.placed[0]).toMatchObject({ familyId: 'f1', method: 'nhs-number' });
    expect(agrees.links[0]?.score).toBeGreaterThan(0);
    const other: Mother = {
      localIdentifiers: [],
      nhsNumber: '9990000018',
      nhsNumberStatus: '03',
      name: { family: 'OKONKWO', given: ['ADAEZE'] },
      birthDate: '1979-08-30',
      address: { lines: [], postcode: 'WF1 2AB' },
    };
    const differs = planFamilies([birth(2, other)], [led], matcher, ids());
    expect(differs.placed[0]?.method).toBe('review');
    expect(differs.reviews[0]).toMatchObject({ candidateFamilyId: 'f1', provisionalFamilyId: 'new-1' });
    // The provisional family does not take the number another family leads with.
    expect(differs.newFamilies[0]?.lead.nhsNumber).toBeUndefined();
    expect(isDecisiveStatus(undefined)).toBe(true);
    expect(isDecisiveStatus('01')).toBe(true);
    expect(isDecisiveStatus('02')).toBe(false);
  });

  test('Fellegi–Sunter: a match joins with its score and contributions; the review band holds it in a provisional family', () => {
    const plan = planFamilies([birth(1, { ...JANE, phone: undefined })], [family('f1')], matcher, ids());
    expect(plan.placed[0]).toMatchObject({ familyId: 'f1', method: 'probabilistic' });
    expect(plan.links[0]?.contributions?.map((c) => c.field)).toEqual(['familyName', 'givenName', 'birthDate', 'postcode', 'phone']);
    expect(plan.refreshes[0]).toMatchObject({ familyId: 'f1', centre: 'osmondthorpe' });
    const audit = JSON.stringify(plan.audit);
    expect(audit).toContain('"method":"probabilistic"');
    for (const v of ['SMITH', 'JANE', '1990', 'LS9', '07700']) expect(audit).not.toContain(v);

    // Moved house, no phone to compare: the names and date of birth agree, the postcode does not.
    const moved: Mother = {
      ...JANE,
      phone: undefined,
      address: { lines: [], postcode: 'WF1 2AB' },
    };
    const held = planFamilies([birth(2, moved)], [family('f1')], matcher, ids());
    expect(held.placed[0]).toEqual({ notificationId: 'n2', familyId: 'new-1', method: 'review' });
    expect(held.links[0]).toMatchObject({ familyId: 'new-1', method: 'new-family' });
    expect(held.reviews).toHaveLength(1);
    expect(held.refreshes).toEqual([]);
    expect(held.audit.map((e) => e.action)).toEqual(['family-linked', 'match-review-created']);
  });

  test('never matched to a family led by another NHS number; a family without one may match; no mother: a family of its own', () => {
    const otherLead = family('f1', { leadNhsNumber: '9990000026' });
    const withNhs = { ...JANE, nhsNumber: '9990000018' };
    expect(planFamilies([birth(1, withNhs)], [otherLead], matcher, ids()).placed[0]?.method).toBe('new-family');
    const plain = planFamilies([birth(2, withNhs)], [family('f2')], matcher, ids());
    expect(plain.placed[0]).toMatchObject({ familyId: 'f2', method: 'probabilistic' });
    // The family learns the lead's NHS number.
    expect(plain.refreshes[0]?.lead?.nhsNumber).toBe('9990000018');
    const orphan = planFamilies([birth(3, undefined), birth(4, undefined)], [family('f1')], matcher, ids());
    expect(orphan.placed.map((p) => p.method)).toEqual(['new-family', 'new-family']);
    expect(orphan.newFamilies).toHaveLength(2);
  });

  test('a family merged into another is not a candidate', () => {
    const plan = planFamilies([birth(1, JANE)], [family('f1', { mergedInto: 'f0' })], matcher, ids());
    expect(plan.placed[0]?.method).toBe('new-family');
  });
});
