import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../../src/domain/config-error.js';
import { loadRulebook } from '../../../../src/config/rulebook.js';
import { buildRulebook, type Rule } from '../../../../src/pipeline/consent/rulebook.js';
import { defined } from '../../../support/defined.js';

const SAMPLE = join(process.cwd(), 'consent-rules', 'offer-of-support.json');
const dir = mkdtempSync(join(tmpdir(), 'stork-rulebook-'));

interface RawRule {
  id: string;
  description: string;
  when: string[];
  effect: string;
  dataset?: string;
  inbox?: string;
  lawfulBasis: string;
}
interface RawRulebook {
  id: string;
  version: string;
  purpose: string;
  description: string;
  rules: RawRule[];
}

const sample = (): RawRulebook => JSON.parse(readFileSync(SAMPLE, 'utf8')) as RawRulebook;

function write(name: string, data: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(data));
  return file;
}

function loadError(name: string, data: RawRulebook): ConfigError {
  const file = write(name, data);
  try {
    loadRulebook(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      expect(err.message).toContain(file);
      return err;
    }
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const ruleIndex = (rb: RawRulebook, id: string): number => rb.rules.findIndex((r) => r.id === id);
const ruleAt = <R>(rb: { rules: R[] }, i: number): R => defined(rb.rules[i], `rule ${i}`);

describe('loadRulebook', () => {
  it('loads the offer-of-support rulebook with a lawful basis on every rule', () => {
    const rb = loadRulebook(SAMPLE);
    expect(rb.id).toBe('offer-of-support');
    expect(rb.version).toMatch(/^\d+\.\d+/);
    expect(rb.rules.map((r) => r.id).slice(0, 2)).toEqual(['baby-deceased', 'restricted-record']);
    for (const r of rb.rules) expect(r.lawfulBasis.length).toBeGreaterThan(10);
    expect(rb.rules.at(-1)).toMatchObject<Partial<Rule>>({ when: ['always'], effect: 'permit', dataset: 'offer-of-support' });
  });

  it('rejects an unknown condition name, naming the file and field', () => {
    const rb = sample();
    ruleAt(rb, 1).when = ['record-restricted', 'moon-is-full'];
    const err = loadError('unknown-condition.json', rb);
    expect(err.message).toContain('field /rules/1/when/1: unknown condition "moon-is-full"');
  });

  it('rejects an unknown dataset name, naming the file and field', () => {
    const rb = sample();
    const i = ruleIndex(rb, 'offer-of-support');
    ruleAt(rb, i).dataset = 'everything';
    expect(loadError('unknown-dataset.json', rb).message).toContain(`field /rules/${i}/dataset: unknown dataset "everything"`);
  });

  it('rejects schema violations: missing lawful basis, unknown effect, extra fields', () => {
    const rb = sample() as unknown as { rules: Record<string, unknown>[] };
    delete ruleAt(rb, 0).lawfulBasis;
    ruleAt(rb, 1).effect = 'maybe';
    ruleAt(rb, 2).expression = 'baby.deceased == true';
    const msg = loadError('schema.json', rb as unknown as RawRulebook).message;
    expect(msg).toContain('field /rules/0: must have required property');
    expect(msg).toContain('(lawfulBasis)');
    expect(msg).toContain('field /rules/1/effect');
    expect(msg).toContain('(expression)');
  });

  it('refuses a rulebook still naming its review inbox `queue` (renamed `inbox` in issue 9), with the file and field', () => {
    const rb = sample() as unknown as { rules: Record<string, unknown>[] };
    const i = ruleIndex(rb as unknown as RawRulebook, 'restricted-record');
    const rule = ruleAt(rb, i);
    rule.queue = rule.inbox;
    delete rule.inbox;
    const err = loadError('old-queue-field.json', rb as unknown as RawRulebook);
    expect(err.problems).toEqual(
      expect.arrayContaining([expect.stringContaining(`field /rules/${i}: must NOT have additional properties (queue)`)]),
    );
  });

  it('rejects duplicate rule ids and effect-shape mistakes', () => {
    const rb = sample();
    ruleAt(rb, 2).id = ruleAt(rb, 1).id;
    ruleAt(rb, 0).dataset = 'offer-of-support';
    delete ruleAt(rb, 1).inbox;
    const err = loadError('shape.json', rb);
    expect(err.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('/rules/2/id: duplicate rule id "restricted-record"'),
        expect.stringContaining('/rules/0: a deny rule discloses nothing'),
        expect.stringContaining('/rules/1: a review rule must name a dataset and an inbox'),
      ]),
    );
  });
});

describe('safety analysis at load', () => {
  it('refuses a rulebook where restricted comes before deceased', () => {
    const rb = sample();
    const [deceased, restricted] = [ruleAt(rb, 0), ruleAt(rb, 1)];
    rb.rules[0] = restricted;
    rb.rules[1] = deceased;
    expect(loadError('order.json', rb).message).toMatch(/rule "restricted-record" would review for a baby who was stillborn or has died/);
  });

  it('refuses a rulebook without a deceased rule', () => {
    const rb = sample();
    rb.rules.splice(ruleIndex(rb, 'baby-deceased'), 1);
    expect(loadError('no-deceased.json', rb).message).toMatch(/stillborn or has died/);
  });

  it('refuses to permit a restricted record or disclose its contact details in review', () => {
    const rb = sample();
    ruleAt(rb, 1).dataset = 'offer-of-support';
    expect(loadError('restricted-contact.json', rb).message).toMatch(/address or phone of a restricted record/);
    const rb2 = sample();
    rb2.rules.splice(ruleIndex(rb2, 'restricted-record'), 1);
    expect(loadError('no-restricted.json', rb2).message).toMatch(/would permit a restricted record/);
  });

  it('refuses to permit despite an objection', () => {
    const rb = sample();
    rb.rules.splice(ruleIndex(rb, 'parent-objected'), 1);
    expect(loadError('no-objection.json', rb).message).toMatch(/despite a parent's objection/);
  });

  it('lets only a safeguarding review override an objection: the young-parents pathway before the objection rule is refused', () => {
    const rb = sample();
    const young = rb.rules.splice(ruleIndex(rb, 'young-parent'), 1);
    rb.rules.splice(ruleIndex(rb, 'parent-objected'), 0, ...young);
    expect(loadError('young-before-objection.json', rb).message).toMatch(/rule "young-parent" would review despite a parent's objection/);
    const rb2 = sample();
    ruleAt(rb2, ruleIndex(rb2, 'young-parent')).dataset = 'offer-of-support-with-clinical';
    expect(loadError('young-clinical.json', rb2).message).toMatch(/clinical details without recorded consent/);
  });

  it('refuses clinical details without clinical consent', () => {
    const rb = sample();
    ruleAt(rb, ruleIndex(rb, 'offer-of-support')).dataset = 'offer-of-support-with-clinical';
    expect(loadError('clinical.json', rb).message).toMatch(/clinical details without recorded consent/);
  });

  it('accepts a deny-only rulebook (nothing is ever shared)', () => {
    const rb = buildRulebook({
      id: 'nothing',
      version: '1.0',
      purpose: 'p',
      description: 'd',
      rules: [{ id: 'never', description: 'Never share.', when: ['always'], effect: 'deny', lawfulBasis: 'No disclosure at all.' }],
    });
    expect(rb.rules).toHaveLength(1);
  });
});
