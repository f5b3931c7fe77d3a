import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgreements, loadRulebook } from '../../../../src/config/rulebook.js';
import { loadHubConfig } from '../../../../src/config/hub-config.js';
import { agreementFor, overdueReviews } from '../../../../src/pipeline/consent/agreements.js';
import { decide, decisionAgreement, traceDecision } from '../../../../src/pipeline/consent/decide.js';
import { buildRulebook, canonicalJson, rulebookHash, type RulebookFile } from '../../../../src/pipeline/consent/rulebook.js';
import { planDelivery } from '../../../../src/pipeline/plan-delivery.js';
import { applyFragment, CASE_BASE_NOTIFICATION } from '../../../support/rulebook-cases.js';
import { configError, copySampleConfig } from '../../../support/sample-config.js';

const REPO = process.cwd();
const RULES = join(REPO, 'consent-rules');
const LAS = new Set(['northgate', 'southmoor']);
const config = loadHubConfig(REPO);
const at = (postcode: string) =>
  applyFragment(CASE_BASE_NOTIFICATION, { baby: { address: { postcode } }, mother: { address: { postcode } } });

describe('agreements per area', () => {
  it('loads every agreement in consent-rules with its parties, purpose and review date', () => {
    const ids = [...config.agreements.byId.keys()].sort();
    expect(ids).toEqual(['offer-of-support', 'southmoor-early-help']);
    for (const a of config.agreements.byId.values()) {
      expect(a.parties?.length).toBeGreaterThanOrEqual(2);
      expect(a.reviewDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(a.purpose.length).toBeGreaterThan(10);
      expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(config.rulebook.id).toBe('offer-of-support');
  });

  it('the receiving local authority chooses the agreement; unallocated births get the default', () => {
    const north = planDelivery(at('LS9 7AB'), 'm1', config.agreements, config.catchments);
    const south = planDelivery(at('LS10 3AA'), 'm2', config.agreements, config.catchments);
    const nowhere = planDelivery(at('ZZ99 9ZZ'), 'm3', config.agreements, config.catchments);
    expect(north.route).toMatchObject({ kind: 'centre', localAuthorityId: 'northgate' });
    expect(north.decision).toMatchObject({ rulebookId: 'offer-of-support', ruleId: 'offer-of-support', dataset: 'offer-of-support' });
    expect(north.disclosed?.mother?.phone).toBe('07700900123');
    expect(south.route).toMatchObject({ localAuthorityId: 'southmoor' });
    expect(south.decision).toMatchObject({ rulebookId: 'southmoor-early-help', ruleId: 'offer-of-support-by-letter' });
    // Southmoor's agreement: no phone number, whatever the record holds.
    expect(south.disclosed?.mother?.phone).toBeUndefined();
    expect(south.disclosed?.mother?.name).toBeDefined();
    expect(nowhere.route.kind).toBe('unallocated');
    expect(nowhere.decision.rulebookId).toBe('offer-of-support');
    expect(
      agreementFor(
        { kind: 'unallocated', inboxId: 'southmoor-unallocated', localAuthorityId: 'southmoor', reason: 'no-centre-covers-postcode' },
        config.agreements,
      ).id,
    ).toBe('southmoor-early-help');
  });

  it('clinical consent adds birth details in Northgate, never in Southmoor', () => {
    const n = config.agreements.byId.get('offer-of-support');
    const s = config.agreements.byId.get('southmoor-early-help');
    if (n === undefined || s === undefined) throw new Error('sample agreements missing');
    expect(decide(CASE_BASE_NOTIFICATION, n, { clinicalConsent: true }).dataset).toBe('offer-of-support-with-clinical');
    expect(decide(CASE_BASE_NOTIFICATION, s, { clinicalConsent: true }).dataset).toBe('offer-of-support-by-letter');
  });

  it('every decision names the agreement id, version and content hash', () => {
    const d = planDelivery(at('LS9 7AB'), 'm1', config.agreements, config.catchments).decision;
    expect(d.rulebookHash).toBe(config.rulebook.hash);
    expect(decisionAgreement(d)).toBe(`offer-of-support@${config.rulebook.version}#sha256:${config.rulebook.hash}`);
    expect(decisionAgreement({ rulebookId: 'x', rulebookVersion: '1.0' })).toBe('x@1.0');
  });

  it('a mappings/agreements.json naming an unknown agreement or local authority stops start-up, naming file and field', () => {
    const dir = copySampleConfig();
    const file = join(dir, 'mappings', 'agreements.json');
    writeFileSync(file, JSON.stringify({ default: 'nope', localAuthorities: { southmoor: 'also-nope', atlantis: 'offer-of-support' } }));
    const err = configError(() => loadHubConfig(dir));
    expect(err.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/agreements\.json: field \/default: no agreement "nope" in consent-rules/),
        expect.stringMatching(/agreements\.json: field \/localAuthorities\/southmoor: no agreement "also-nope"/),
        expect.stringMatching(/agreements\.json: field \/localAuthorities\/atlantis: no local authority "atlantis"/),
      ]),
    );
  });

  it('two agreement files with one id, or several agreements without an agreements file, stop start-up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stork-agreements-'));
    cpSync(RULES, dir, { recursive: true });
    const copy = JSON.parse(readFileSync(join(RULES, 'offer-of-support.json'), 'utf8')) as RulebookFile;
    writeFileSync(join(dir, 'zz-copy.json'), JSON.stringify(copy));
    const file = join(mkdtempSync(join(tmpdir(), 'stork-agreements-map-')), 'agreements.json');
    writeFileSync(file, JSON.stringify({ default: 'offer-of-support', localAuthorities: {} }));
    expect(configError(() => loadAgreements(dir, file, LAS)).message).toMatch(
      /zz-copy\.json: field \/id: agreement id "offer-of-support" is also the id of .*offer-of-support\.json/,
    );
    expect(configError(() => loadAgreements(dir, join(dir, 'missing.json'), LAS)).message).toMatch(
      /missing\.json: cannot be read \(ENOENT\); it is required when .* holds more than one agreement/,
    );
  });

  it('a file without parties or review date, or with a review date that is no date, is refused naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stork-agreement-'));
    const raw = JSON.parse(readFileSync(join(RULES, 'southmoor-early-help.json'), 'utf8')) as Record<string, unknown>;
    const { parties: _p, ...noParties } = raw;
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ ...noParties, reviewDate: '31/03/2027' }));
    const err = configError(() => loadRulebook(join(dir, 'a.json')));
    expect(err.message).toMatch(/a\.json: field \(top level\): must have required property 'parties'/);
    expect(err.message).toMatch(/a\.json: field \/reviewDate: must match format "date"/);
  });

  it('a review date in the past is a warning (overdueReviews), not a failure', () => {
    const all = [...config.agreements.byId.values()];
    expect(overdueReviews(all, '2026-11-29')).toEqual([]);
    expect(overdueReviews(all, '2027-04-01').map((a) => a.id)).toEqual(['southmoor-early-help']);
    const dir = copySampleConfig();
    const f = join(dir, 'consent-rules', 'southmoor-early-help.json');
    writeFileSync(f, JSON.stringify({ ...(JSON.parse(readFileSync(f, 'utf8')) as object), reviewDate: '2020-01-01' }));
    expect(loadHubConfig(dir).agreements.byId.get('southmoor-early-help')?.reviewDate).toBe('2020-01-01');
  });
});

describe('agreement content hash', () => {
  const file = JSON.parse(readFileSync(join(RULES, 'offer-of-support.json'), 'utf8')) as RulebookFile;

  it('is the SHA-256 of the canonical content: key order, whitespace and $schema do not change it', () => {
    const reordered = Object.fromEntries(Object.entries(file).reverse()) as unknown as RulebookFile;
    expect(rulebookHash(reordered)).toBe(rulebookHash(file));
    expect(rulebookHash({ ...file, $schema: './schema.json' })).toBe(rulebookHash(file));
    expect(loadRulebook(join(RULES, 'offer-of-support.json')).hash).toBe(rulebookHash(file));
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}');
  });

  it('changes with any change of content, even one the version number does not show', () => {
    const edited = structuredClone(file);
    const rule = edited.rules[0];
    if (rule === undefined) throw new Error('no rule');
    rule.description = `${rule.description} `;
    expect(rulebookHash(edited)).not.toBe(rulebookHash(file));
    expect(buildRulebook(edited).hash).toBe(rulebookHash(edited));
  });
});

describe('traceDecision', () => {
  it('makes the same decision as decide for every combination of conditions, tracing every rule tried', () => {
    for (const rb of config.agreements.byId.values()) {
      for (const deceased of [false, true])
        for (const confidentiality of ['normal', 'restricted'] as const)
          for (const objection of [false, true])
            for (const clinicalConsent of [false, true]) {
              const n = applyFragment(CASE_BASE_NOTIFICATION, { baby: { deceased }, confidentiality });
              const context = { objection, clinicalConsent };
              const { decision, trace } = traceDecision(n, rb, context);
              expect(decision).toEqual(decide(n, rb, context));
              expect(trace.filter((t) => t.decided).map((t) => t.ruleId)).toEqual([decision.ruleId]);
              expect(trace[trace.length - 1]?.ruleId).toBe(decision.ruleId);
              for (const t of trace.slice(0, -1)) expect(t.conditions.some((c) => !c.holds)).toBe(true);
            }
    }
  });

  it('the consent context the decision saw is kept with it (for explanations), and only when there is one', () => {
    expect(decide(CASE_BASE_NOTIFICATION, config.rulebook).consent).toBeUndefined();
    expect(decide(CASE_BASE_NOTIFICATION, config.rulebook, { objection: true, consentRecords: ['c-1'] }).consent).toEqual({
      objection: true,
      consentRecords: ['c-1'],
    });
  });
});
