/**
 * Runs every `consent-rules/<rulebook>.cases.json` against its rulebook, so operators can add cases
 * without code. Every rulebook must have a case file.
 */
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadRulebook } from '../../../../src/config/rulebook.js';
import {
  applyFragment,
  CASE_BASE_NOTIFICATION,
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
  },
);

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
