import { join } from 'node:path';
import type { BirthNotification, Confidentiality } from '../../../../src/domain/birth-notification.js';
import { decide, minimise, NO_RULE_MATCHED } from '../../../../src/pipeline/consent/decide.js';
import { CONTACT_FIELDS, DATASETS } from '../../../../src/pipeline/consent/datasets.js';
import { loadRulebook } from '../../../../src/config/rulebook.js';
import { buildRulebook } from '../../../../src/pipeline/consent/rulebook.js';
import { applyFragment, CASE_BASE_NOTIFICATION } from '../../../support/rulebook-cases.js';
import { defined } from '../../../support/defined.js';

const rulebook = loadRulebook(join(process.cwd(), 'consent-rules', 'offer-of-support.json'));
const base = CASE_BASE_NOTIFICATION;

/** Deterministic generator of varied notifications (no extra dependencies). */
function generator(seed: number): () => { n: BirthNotification; objection: boolean; clinicalConsent: boolean } {
  let s = seed;
  const rnd = (k: number): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % k;
  };
  const maybe = <T>(v: T): T | undefined => (rnd(2) === 0 ? v : undefined);
  const conf: Confidentiality[] = ['normal', 'normal', 'normal', 'restricted', 'very-restricted'];
  return () => {
    const i = rnd(1_000_000);
    const address = { lines: [`${i} Generated Road`], city: 'Northgate', postcode: `LS9 ${rnd(10)}AB` };
    const n: BirthNotification = {
      baby: {
        nhsNumber: maybe(String(9000000000 + i)),
        localIdentifiers: [{ value: `MRN${i}` }],
        name: maybe({ family: `BABY${i}`, given: [`GIVEN${i}`] }),
        sex: maybe('male'),
        birthDate: '2025-01-01',
        birthOrder: maybe(1 + rnd(3)),
        address: maybe({ ...address, lines: [`${i} Baby Lane`] }),
        deceased: rnd(6) === 0,
        deceasedAt: rnd(20) === 0 ? '2025-01-02' : undefined,
      },
      mother:
        rnd(5) === 0
          ? undefined
          : {
              localIdentifiers: [],
              name: { family: `MOTHER${i}` },
              address: maybe(address),
              phone: maybe(`07700${900000 + i}`),
              preferredLanguage: maybe('pl'),
            },
      gpPractice: maybe({ odsCode: 'B86001' }),
      birthDetails: maybe({ weightGrams: 2000 + rnd(2500), gestationWeeks: 30 + rnd(12) }),
      confidentiality: defined(conf[rnd(conf.length)], 'a confidentiality'),
      source: { format: 'hl7v2', feedId: 'gen', messageControlId: `M${i}`, event: 'ADT^A28' },
    };
    return { n, objection: rnd(4) === 0, clinicalConsent: rnd(3) === 0 };
  };
}

describe('decide', () => {
  it('permits the offer-of-support dataset for a plain live birth, with the audit fields', () => {
    const d = decide(base, rulebook);
    expect({ ...d, lawfulBasis: d.lawfulBasis.includes('Children Act 2004 s10'), reason: typeof d.reason }).toEqual({
      effect: 'permit',
      ruleId: 'offer-of-support',
      rulebookId: 'offer-of-support',
      rulebookVersion: rulebook.version,
      rulebookHash: rulebook.hash,
      lawfulBasis: true,
      dataset: 'offer-of-support',
      reason: 'string',
    });
  });

  it('fires each rule', () => {
    expect(decide(applyFragment(base, { baby: { deceased: true } }), rulebook).ruleId).toBe('baby-deceased');
    expect(decide({ ...base, confidentiality: 'restricted' }, rulebook)).toMatchObject({
      effect: 'review',
      ruleId: 'restricted-record',
      inbox: 'safeguarding-review',
      dataset: 'safeguarding-review',
    });
    expect(decide(base, rulebook, { objection: true })).toMatchObject({ effect: 'deny', ruleId: 'parent-objected' });
    expect(decide(base, rulebook, { clinicalConsent: true })).toMatchObject({
      effect: 'permit',
      dataset: 'offer-of-support-with-clinical',
    });
  });

  it('deceased beats restricted, objection and clinical consent', () => {
    const n = applyFragment(base, { baby: { deceased: true }, confidentiality: 'very-restricted' });
    expect(decide(n, rulebook, { objection: true, clinicalConsent: true })).toMatchObject({ effect: 'deny', ruleId: 'baby-deceased' });
    expect(decide(n, rulebook).dataset).toBeUndefined();
  });

  it('order matters: the first matching rule wins', () => {
    const rules = rulebook.rules.filter((r) => r.id !== 'offer-of-support-with-clinical');
    const withClinicalLast = buildRulebook({
      ...rulebook,
      rules: [
        ...rules,
        defined(
          rulebook.rules.find((r) => r.id === 'offer-of-support-with-clinical'),
          'the clinical rule',
        ),
      ],
    });
    expect(decide(base, rulebook, { clinicalConsent: true }).ruleId).toBe('offer-of-support-with-clinical');
    expect(decide(base, withClinicalLast, { clinicalConsent: true }).ruleId).toBe('offer-of-support');
  });

  it('denies when no rule matches', () => {
    const only = buildRulebook({ ...rulebook, rules: rulebook.rules.filter((r) => r.id !== 'offer-of-support') });
    expect(decide(base, only)).toMatchObject({ effect: 'deny', ruleId: NO_RULE_MATCHED, rulebookId: 'offer-of-support' });
  });

  it('over many generated notifications: safety holds and reasons carry no personal data', () => {
    const next = generator(42);
    for (let k = 0; k < 3000; k++) {
      const { n, objection, clinicalConsent } = next();
      const d = decide(n, rulebook, { objection, clinicalConsent });
      if (n.baby.deceased || n.baby.deceasedAt !== undefined) expect(d).toMatchObject({ effect: 'deny', ruleId: 'baby-deceased' });
      else if (n.confidentiality !== 'normal') expect(d).toMatchObject({ effect: 'review', inbox: 'safeguarding-review' });
      else if (objection) expect(d.effect).toBe('deny');
      else expect(d.effect).toBe('permit');
      if (d.dataset === 'offer-of-support-with-clinical') expect(clinicalConsent).toBe(true);
      const text = `${d.reason} ${d.lawfulBasis}`;
      for (const pd of [n.baby.nhsNumber, n.baby.name?.family, n.mother?.name?.family, n.mother?.phone, familyPostcode(n)]) {
        if (pd !== undefined) expect(text).not.toContain(pd);
      }
    }
  });
});

function familyPostcode(n: BirthNotification): string | undefined {
  return (n.mother?.address ?? n.baby.address)?.postcode;
}

describe('minimise', () => {
  it('offer-of-support holds exactly the agreed fields', () => {
    const r = minimise(base, 'offer-of-support');
    expect(r).toEqual({
      dataset: 'offer-of-support',
      baby: { name: base.baby.name, sex: 'female', birthDate: '2025-03-14', nhsNumber: '9000000009', birthOrder: 1 },
      mother: { name: defined(base.mother, 'the mother').name, phone: '07700900123', preferredLanguage: 'en' },
      familyAddress: defined(base.mother, 'the mother').address,
      gpPractice: { odsCode: 'B86001' },
    });
  });

  it('uses the baby address as the family address when the mother has none', () => {
    const r = minimise(applyFragment(base, { mother: { address: null } }), 'offer-of-support');
    expect(r.familyAddress).toEqual(base.baby.address);
  });

  it('returns a new object that shares nothing with the notification', () => {
    const n = structuredClone(base);
    const r = minimise(n, 'offer-of-support-with-clinical');
    defined(defined(r.baby.name, 'the name').given, 'the given names').push('X');
    defined(r.familyAddress, 'the family address').lines.push('X');
    defined(r.birthDetails, 'the birth details').weightGrams = 1;
    expect(n).toEqual(base);
  });

  it('safeguarding-review keeps identifiers and birth details but no address or phone', () => {
    const r = minimise(base, 'safeguarding-review');
    expect(r.baby.nhsNumber).toBe('9000000009');
    expect(r.confidentiality).toBe('normal');
    expect(r.birthDetails).toEqual(base.birthDetails);
    expect(r.familyAddress).toBeUndefined();
    expect(r.baby.address).toBeUndefined();
    expect(r.mother?.address).toBeUndefined();
    expect(r.mother?.phone).toBeUndefined();
  });

  it('no dataset for review lists a contact field', () => {
    expect(DATASETS['safeguarding-review'].filter((f) => CONTACT_FIELDS.includes(f))).toEqual([]);
  });

  it('over many generated notifications: never birth details for offer-of-support, never address or phone for review', () => {
    const next = generator(7);
    for (let k = 0; k < 3000; k++) {
      const { n, objection, clinicalConsent } = next();
      const d = decide(n, rulebook, { objection, clinicalConsent });
      if (d.dataset === undefined) continue;
      const r = minimise(n, d.dataset);
      const json = JSON.stringify(r);
      if (d.dataset === 'offer-of-support') {
        expect(r.birthDetails).toBeUndefined();
        expect(json).not.toMatch(/weightGrams|gestationWeeks/);
      }
      if (d.dataset === 'safeguarding-review') {
        expect(json).not.toMatch(/Generated Road|Baby Lane|"postcode"|"phone"|"lines"/);
        if (n.mother?.phone !== undefined) expect(json).not.toContain(n.mother.phone);
      }
      if (d.effect === 'permit')
        expect(Object.keys(r.baby).every((k2) => ['name', 'sex', 'birthDate', 'nhsNumber', 'birthOrder'].includes(k2))).toBe(true);
    }
  });
});
