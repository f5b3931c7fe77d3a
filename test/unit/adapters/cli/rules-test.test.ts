import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, main } from '../../../../adapters/cli/rules-test.js';

const RULES = join(process.cwd(), 'consent-rules');

function run(args: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(args, { write: (s) => out.push(s) }, { write: (s) => err.push(s) });
  return { code, out: out.join(''), err: err.join('') };
}

describe('npm run rules:test', () => {
  it('passes for every agreement of the repository: every case, every rule, both sides of every condition', () => {
    const r = run(['--dir', RULES]);
    expect(r.err).toBe('');
    expect(r.out).toContain('offer-of-support@1.2.0#sha256:');
    expect(r.out).toContain('southmoor-early-help@1.0.0#sha256:');
    expect(r.out).toContain('every rule and both sides of every condition reached');
    expect(r.out).toMatch(/rules:test passed\n$/);
    expect(r.code).toBe(EXIT.ok);
  });

  it('fails naming the failing case and each rule or condition side no case reaches', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stork-rules-test-'));
    cpSync(join(RULES, 'southmoor-early-help.json'), join(dir, 'southmoor-early-help.json'));
    const cases = JSON.parse(readFileSync(join(RULES, 'southmoor-early-help.cases.json'), 'utf8')) as {
      cases: { name: string; context?: { objection?: boolean }; expect: { ruleId: string; effect: string } }[];
    };
    const kept = cases.cases.filter((c) => c.expect.ruleId !== 'parent-objected');
    kept.push({ name: 'a wrong expectation', expect: { effect: 'deny', ruleId: 'baby-deceased' } });
    writeFileSync(join(dir, 'southmoor-early-help.cases.json'), JSON.stringify({ cases: kept }));
    const r = run(['--dir', dir]);
    expect(r.code).toBe(EXIT.failed);
    expect(r.out).toContain(
      'FAIL a wrong expectation: expected deny by rule "baby-deceased", got permit by rule "offer-of-support-by-letter"',
    );
    expect(r.out).toContain('UNREACHED rule "parent-objected" (/rules/2) decides no case');
    expect(r.out).toContain(
      'UNREACHED condition "parent-objected" of rule "parent-objected" (/rules/2) is never true in a case where that rule is tried',
    );
    expect(r.out).toMatch(/rules:test FAILED\n$/);
  });

  it('a proposed file without cases, or a broken one, is named; usage problems exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stork-rules-test-'));
    const file = join(dir, 'proposed.json');
    cpSync(join(RULES, 'offer-of-support.json'), file);
    expect(run(['--rulebook', file])).toMatchObject({
      code: EXIT.unusable,
      err: expect.stringContaining('proposed.cases.json: cannot be read') as unknown,
    });
    writeFileSync(file, '{ "id": "x" }');
    expect(run(['--rulebook', file]).err).toContain("proposed.json: field (top level): must have required property 'version'");
    expect(run(['--cases', 'x.cases.json']).code).toBe(EXIT.unusable);
    expect(run(['--bogus']).code).toBe(EXIT.unusable);
  });
});
