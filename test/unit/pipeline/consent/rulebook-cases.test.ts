/**
 * Runs every `consent-rules/<rulebook>.cases.json` against its rulebook, so operators can add cases
 * without code. Every rulebook must have a case file.
 */
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadRulebook } from '../../../../src/config/rulebook.js';
import { buildRulebook } from '../../../../src/pipeline/consent/rulebook.js';
import {
  applyFragment,
  CASE_BASE_NOTIFICATION,
  caseCoverage,
  findRulebooks,
  loadRulebookCases,
  runRulebookCases,
} from '../../../support/rulebook-cases.js';

const RULES_DIR = join(process.cwd(), 'consent-rules');
const found = findRulebooks(RULES_DIR);

describe('consent-rules directory', () => {
  it('holds at least one rulebook, each with a case file', () => {
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((f) => f.casesFile === undefined).map((f) => f.rulebookFile)).toEqual([]);
  });
});

describe.each(found.flatMap((f) => (f.casesFile !== undefined ? [[f.rulebookFile, f.casesFile] as const] : [])))(
  '%s',
  (rulebookFile, casesFile) => {
    const rulebook = loadRulebook(rulebookFile);
    const cases = loadRulebookCases(casesFile);
    const results = runRulebookCases(rulebook, cases);

    it.each(results.map((r) => [r.name, r] as const))('%s', (_name, r) => {
      expect(r.actual).toMatchObject(r.expected);
      expect(r.passed).toBe(true);
    });

    it('fires every rule of the rulebook at least once', () => {
      const fired = new Set(results.map((r) => r.actual.ruleId));
      expect(rulebook.rules.map((r) => r.id).filter((id) => !fired.has(id))).toEqual([]);
    });

    it('reaches both sides of every condition where its rule is tried (what `npm run rules:test` checks)', () => {
      expect(caseCoverage(rulebook, results).map((g) => g.message)).toEqual([]);
    });
  },
);

describe('case coverage', () => {
  const rulebook = loadRulebook(join(RULES_DIR, 'offer-of-support.json'));

  it('names each rule no case makes decide and each condition side no case reaches where its rule is tried', () => {
    const results = runRulebookCases(rulebook, {
      cases: [
        { name: 'plain', expect: { effect: 'permit', ruleId: 'offer-of-support' } },
        { name: 'dead', notification: { baby: { deceased: true } }, expect: { effect: 'deny', ruleId: 'baby-deceased' } },
      ],
    });
    const gaps = caseCoverage(rulebook, results);
    expect(gaps.map((g) => g.message).sort()).toEqual(
      [
        'condition "record-restricted" of rule "restricted-record" (/rules/1) is never true in a case where that rule is tried',
        'rule "restricted-record" (/rules/1) decides no case',
        'rule "parent-objected" (/rules/2) decides no case',
        'condition "parent-objected" of rule "parent-objected" (/rules/2) is never true in a case where that rule is tried',
        'rule "young-parent" (/rules/3) decides no case',
        'condition "mother-under-18" of rule "young-parent" (/rules/3) is never true in a case where that rule is tried',
        'rule "offer-of-support-with-clinical" (/rules/4) decides no case',
        'condition "clinical-consent-recorded" of rule "offer-of-support-with-clinical" (/rules/4) is never true in a case where that rule is tried',
      ].sort(),
    );
    expect(gaps).toHaveLength(8);
    // `always` needs no false side; baby-deceased was seen both ways where its rule is tried.
    expect(gaps.some((g) => g.condition === 'always' || g.condition === 'baby-deceased')).toBe(false);
  });

  it('a condition that cannot be false where its rule is tried is reported (dead condition)', () => {
    const [first, ...rest] = rulebook.rules;
    if (first === undefined) throw new Error('no rules');
    // A rule after baby-deceased that also asks baby-deceased: where it is tried, the baby is never deceased.
    const odd = buildRulebook({
      ...rulebook,
      rules: [first, { ...rest[0], id: 'restricted-and-dead', when: ['record-restricted', 'baby-deceased'] } as typeof first, ...rest],
    });
    const all = [
      ...runRulebookCases(odd, {
        cases: [{ name: 'x', notification: { confidentiality: 'restricted' }, expect: { effect: 'review', ruleId: 'restricted-record' } }],
      }),
    ];
    expect(caseCoverage(odd, all).map((g) => g.message)).toEqual(
      expect.arrayContaining([
        'condition "baby-deceased" of rule "restricted-and-dead" (/rules/1) is never true in a case where that rule is tried',
      ]),
    );
  });
});

describe('case files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stork-cases-'));

  it('a malformed case file fails naming the file and field', () => {
    const file = join(dir, 'x.cases.json');
    writeFileSync(file, JSON.stringify({ cases: [{ name: 'no expectation' }] }));
    expect(() => loadRulebookCases(file)).toThrow(/x\.cases\.json: field \/cases\/0: must have required property 'expect' \(expect\)/);
  });

  it('applyFragment merges deeply, replaces arrays, removes on null and never mutates the base', () => {
    const before = structuredClone(CASE_BASE_NOTIFICATION);
    const n = applyFragment(CASE_BASE_NOTIFICATION, { baby: { deceased: true, localIdentifiers: [] }, mother: null });
    expect(n.baby.deceased).toBe(true);
    expect(n.baby.localIdentifiers).toEqual([]);
    expect(n.baby.birthDate).toBe(CASE_BASE_NOTIFICATION.baby.birthDate);
    expect(n.mother).toBeUndefined();
    expect(CASE_BASE_NOTIFICATION).toEqual(before);
  });

  it('a failing case is reported as failed, not thrown', () => {
    const rulebook = loadRulebook(join(RULES_DIR, 'offer-of-support.json'));
    const [r] = runRulebookCases(rulebook, { cases: [{ name: 'wrong', expect: { effect: 'deny', ruleId: 'offer-of-support' } }] });
    expect(r).toMatchObject({ name: 'wrong', passed: false, actual: { effect: 'permit' } });
  });
});
