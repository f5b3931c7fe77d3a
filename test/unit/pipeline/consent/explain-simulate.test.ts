import { loadHubConfig } from '../../../../src/config/hub-config.js';
import { decide } from '../../../../src/pipeline/consent/decide.js';
import { explainDecision } from '../../../../src/pipeline/consent/explain.js';
import { buildRulebook, type Rulebook } from '../../../../src/pipeline/consent/rulebook.js';
import { reportText, Simulation, type HistoricDecision } from '../../../../src/pipeline/consent/simulate.js';
import { routeNotification } from '../../../../src/pipeline/route.js';
import { applyFragment, CASE_BASE_NOTIFICATION } from '../../../support/rulebook-cases.js';

const config = loadHubConfig(process.cwd());
const northgate = config.rulebook;
const ID = '11111111-1111-4111-8111-111111111111';

describe('explainDecision', () => {
  it('explains a permit in words: agreement and hash, every rule tried and why it did not apply, consent, dataset and what it left out', () => {
    const record = CASE_BASE_NOTIFICATION;
    const decision = decide(record, northgate, { clinicalConsent: true, consentRecords: ['consent-7'] });
    const e = explainDecision({ notificationId: ID, record, decision }, northgate, true);
    expect(e.explained).toBe(true);
    expect(e.caveat).toBeUndefined();
    expect(e.agreement).toMatchObject({ id: 'offer-of-support', version: northgate.version, sha256: northgate.hash, inForce: true });
    expect(e.agreement.parties?.length).toBe(2);
    expect(e.decidingRule).toMatchObject({
      ruleId: 'offer-of-support-with-clinical',
      lawfulBasis: expect.stringContaining('UK GDPR') as unknown,
    });
    expect(e.rulesNotApplied.map((r) => [r.ruleId, r.notHeld.map((c) => c.condition)])).toEqual([
      ['baby-deceased', ['baby-deceased']],
      ['restricted-record', ['record-restricted']],
      ['parent-objected', ['parent-objected']],
      ['young-parent', ['mother-under-18']],
    ]);
    expect(e.rulesNotApplied[1]?.why).toBe('It did not apply because the record is not marked restricted (its confidentiality is normal).');
    expect(e.consent).toEqual({
      clinicalConsent: true,
      consentRecords: ['consent-7'],
      words: 'When the decision was made, consent to share clinical details was recorded (consent records consent-7).',
    });
    expect(e.dataset?.name).toBe('offer-of-support-with-clinical');
    expect(e.dataset?.leftOut.map((f) => f.field)).toEqual(
      expect.arrayContaining(['mother.nhsNumber', 'mother.birthDate', 'baby.birthTime']),
    );
    expect(e.dataset?.leftOut.map((f) => f.field)).not.toContain('birthDetails');
    expect(e.summary.join(' ')).toContain('Rule “parent-objected” was tried and did not apply: no objection from a parent is recorded.');
    expect(e.summary.join(' ')).toContain(
      'Rule “offer-of-support-with-clinical” decided, because a parent has consented to clinical details (birth weight, gestation) being shared',
    );
    expect(e.summary.join(' ')).toContain("It left out the status of the baby's NHS number, the baby's hospital numbers");
    // No personal data: nothing of the record's values appears.
    const text = JSON.stringify(e);
    for (const value of ['9000000009', 'TESTBABY', 'TESTMOTHER', 'LS9 7AB', '07700900123', '1994-07-01']) expect(text).not.toContain(value);
  });

  it('a denial lists nothing disclosed, and the first rule decides with no rule before it', () => {
    const record = applyFragment(CASE_BASE_NOTIFICATION, { baby: { deceased: true } });
    const e = explainDecision({ notificationId: ID, record, decision: decide(record, northgate) }, northgate, true);
    expect(e.rulesNotApplied).toEqual([]);
    expect(e.dataset).toBeUndefined();
    expect(e.summary).toContain('Nothing was disclosed.');
    expect(e.consent.words).toBe('No consent or objection was recorded for this family when the decision was made.');
  });

  it('refuses to explain with another version: an unknown version says so, and keeps only what was stored', () => {
    const record = CASE_BASE_NOTIFICATION;
    const decision = decide(record, northgate);
    const e = explainDecision({ notificationId: ID, record, decision }, undefined, false);
    expect(e.explained).toBe(false);
    expect(e.caveat).toContain(`no longer holds offer-of-support version ${northgate.version} with content hash ${northgate.hash}`);
    expect(e.rulesNotApplied).toEqual([]);
    expect(e.decidingRule.ruleId).toBe('offer-of-support');
    const old = explainDecision({ notificationId: ID, record, decision: { ...decision, rulebookHash: undefined } }, undefined, false);
    expect(old.caveat).toContain('stored before agreements were identified by their content');
  });

  it('says so when re-deriving with the same version gives another rule (the record changed since)', () => {
    const record = applyFragment(CASE_BASE_NOTIFICATION, { confidentiality: 'restricted' });
    const e = explainDecision({ notificationId: ID, record, decision: decide(CASE_BASE_NOTIFICATION, northgate) }, northgate, true);
    expect(e.explained).toBe(false);
    expect(e.caveat).toContain('gives rule “restricted-record”, not “offer-of-support”');
  });
});

/** A history built by construction: i%5 = 3 clinical consent; i%7 = 0 restricted; i%11 = 0 deceased; odd = Southmoor. */
function history(count: number): HistoricDecision[] {
  const out: HistoricDecision[] = [];
  for (let i = 0; i < count; i++) {
    const postcode = i % 2 === 0 ? 'LS9 7AB' : 'LS10 3AA';
    const record = applyFragment(CASE_BASE_NOTIFICATION, {
      baby: { deceased: i % 11 === 0, address: { postcode } },
      mother: { address: { postcode } },
      confidentiality: i % 7 === 0 ? 'restricted' : 'normal',
    });
    const route = routeNotification(postcode, config.catchments);
    const rb = route.localAuthorityId === 'southmoor' ? config.agreements.byId.get('southmoor-early-help') : northgate;
    if (rb === undefined) throw new Error('no agreement');
    const context = i % 5 === 3 ? { clinicalConsent: true } : {};
    out.push({ notificationId: `n-${String(i).padStart(5, '0')}`, record, route, decision: decide(record, rb, context) });
  }
  return out;
}

describe('Simulation', () => {
  const stored = history(1000);
  const withoutClinical: Rulebook = buildRulebook({
    ...northgate,
    version: '1.2.0',
    rules: northgate.rules.filter((r) => r.id !== 'offer-of-support-with-clinical'),
  });

  it('the same agreement changes nothing', () => {
    const s = new Simulation({ proposed: northgate });
    s.add(stored);
    const r = s.report();
    expect(r).toMatchObject({ read: 1000, governed: 500, changed: 0, changes: [] });
  });

  it('removing the clinical-consent rule changes exactly the Northgate births with clinical consent that reached it', () => {
    const expected = stored
      .map((n, i) => ({ n, i }))
      .filter(({ i }) => i % 2 === 0 && i % 5 === 3 && i % 7 !== 0 && i % 11 !== 0)
      .map(({ n }) => n.notificationId);
    expect(expected.length).toBeGreaterThan(50);
    const s = new Simulation({ proposed: withoutClinical });
    s.add(stored.slice(0, 400));
    s.add(stored.slice(400));
    const r = s.report();
    expect(r.agreement).toEqual({ id: 'offer-of-support', version: '1.2.0', sha256: withoutClinical.hash });
    expect(r.governed).toBe(500);
    expect(r.changed).toBe(expected.length);
    expect(r.changes).toEqual([
      {
        from: { ruleId: 'offer-of-support-with-clinical', effect: 'permit', dataset: 'offer-of-support-with-clinical' },
        to: { ruleId: 'offer-of-support', effect: 'permit', dataset: 'offer-of-support' },
        count: expected.length,
        notificationIds: expected,
      },
    ]);
    expect(r.byCentre).toEqual([{ centre: 'osmondthorpe', governed: 500, changed: expected.length, notificationIds: expected }]);
  });

  it('with --area, a proposal for Southmoor counts every Southmoor birth, and reports per rule and per centre by id only', () => {
    // Southmoor moving to the Northgate agreement: live, unrestricted births gain the phone (offer-of-support), and
    // those with clinical consent also birth details.
    const s = new Simulation({ proposed: northgate, area: 'southmoor' });
    s.add(stored);
    const r = s.report();
    const south = stored.map((n, i) => ({ n, i })).filter(({ i }) => i % 2 === 1);
    const live = south.filter(({ i }) => i % 11 !== 0 && i % 7 !== 0);
    const clinical = live.filter(({ i }) => i % 5 === 3);
    expect(r.governed).toBe(south.length);
    expect(r.changed).toBe(live.length);
    expect(r.changes).toEqual([
      {
        from: { ruleId: 'offer-of-support-by-letter', effect: 'permit', dataset: 'offer-of-support-by-letter' },
        to: { ruleId: 'offer-of-support', effect: 'permit', dataset: 'offer-of-support' },
        count: live.length - clinical.length,
        notificationIds: live.filter(({ i }) => i % 5 !== 3).map(({ n }) => n.notificationId),
      },
      {
        from: { ruleId: 'offer-of-support-by-letter', effect: 'permit', dataset: 'offer-of-support-by-letter' },
        to: { ruleId: 'offer-of-support-with-clinical', effect: 'permit', dataset: 'offer-of-support-with-clinical' },
        count: clinical.length,
        notificationIds: clinical.map(({ n }) => n.notificationId),
      },
    ]);
    expect(r.byRule.find((x) => x.ruleId === 'offer-of-support-by-letter')).toEqual({
      ruleId: 'offer-of-support-by-letter',
      now: live.length,
      proposed: 0,
      changedFrom: live.length,
      changedTo: 0,
    });
    expect(r.byCentre.reduce((a, c) => a + c.changed, 0)).toBe(live.length);
    const text = reportText(r, true);
    expect(text).toContain(`${r.changed} decisions would change`);
    for (const value of ['9000000009', 'TESTBABY', 'LS10', '07700900123']) expect(JSON.stringify(r) + text).not.toContain(value);
  });
});
