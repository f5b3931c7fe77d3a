import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../../../src/domain/config-error.js';
import { repoRoot } from '../../../../src/config/env.js';
import { loadAntenatalAgreement } from '../../../../src/config/antenatal-agreement.js';
import {
  antenatalConsent,
  buildAntenatalAgreement,
  decideAntenatal,
  validateAntenatalAgreementFile,
} from '../../../../src/pipeline/antenatal/antenatal-agreement.js';
import type { AntenatalBooking } from '../../../../src/domain/antenatal-notification.js';
import type { ConsentRecord } from '../../../../src/domain/consent.js';
import type { Route } from '../../../../src/pipeline/route.js';

const FILE = path.join(repoRoot, 'consent-rules', 'antenatal', 'antenatal-booking.json');
const sample = (): Parameters<typeof buildAntenatalAgreement>[0] => {
  const data: unknown = JSON.parse(readFileSync(FILE, 'utf8'));
  if (!validateAntenatalAgreementFile(data)) throw new Error('the sample agreement must be valid');
  return data;
};
const booking = (confidentiality: AntenatalBooking['confidentiality'] = 'normal'): AntenatalBooking => ({
  mother: { nhsNumber: '9990000018', localIdentifiers: [] },
  estimatedDueDate: '2027-04-10',
  confidentiality,
  source: { feedId: 'f', format: 'hl7v2', messageControlId: 'c', event: 'SIU^S12' },
});
const ROUTE: Route = { kind: 'centre', centreId: 'osmondthorpe', localAuthorityId: 'northgate', matchedBy: 'postcode' };
const record = (o: Partial<ConsentRecord>): ConsentRecord => ({
  id: 'r1',
  kind: 'consent',
  scope: 'antenatal',
  recipient: 'any',
  source: 'antenatal-booking',
  motherNhsNumber: '9990000018',
  recordedAt: '2026-11-01T10:00:00.000Z',
  recordedBy: 'client:x',
  ...o,
});
const problems = (f: () => unknown): string[] => {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
};

describe('the antenatal agreement (issue 17)', () => {
  const agreement = buildAntenatalAgreement(sample(), FILE);
  const at = new Date('2026-11-29T12:00:00Z');

  it('the sample loads from the configuration folder and shares only with the mother’s recorded consent', () => {
    expect(loadAntenatalAgreement(repoRoot)?.hash).toBe(agreement.hash);
    expect(decideAntenatal(booking(), agreement, {})).toMatchObject({ effect: 'deny', ruleId: 'no-consent-recorded' });
    expect(decideAntenatal(booking(), agreement, { consent: true })).toMatchObject({
      effect: 'permit',
      ruleId: 'antenatal-with-consent',
      dataset: 'antenatal',
    });
    expect(decideAntenatal(booking(), agreement, { objection: true })).toMatchObject({ effect: 'deny', ruleId: 'mother-objected' });
    expect(decideAntenatal(booking('restricted'), agreement, { consent: true })).toMatchObject({
      effect: 'deny',
      ruleId: 'restricted-record',
    });
    expect(decideAntenatal(booking(), agreement, { consent: true, ended: true })).toMatchObject({
      effect: 'deny',
      ruleId: 'pregnancy-ended',
    });
  });

  it('refuses to load an agreement that would permit without consent, after a loss, or over an objection', () => {
    const loose = sample();
    loose.rules = loose.rules.map((r) =>
      r.id === 'no-consent-recorded' ? { ...r, effect: 'permit' as const, dataset: 'antenatal' as const } : r,
    );
    expect(problems(() => buildAntenatalAgreement(loose, 'loose.json'))).toEqual([
      'loose.json: field /rules/4: rule "no-consent-recorded" would permit without the mother\'s recorded consent; every permit rule must name antenatal-consent-recorded',
    ]);
    const late = sample();
    late.rules = late.rules.filter((r) => r.id !== 'pregnancy-ended' && r.id !== 'mother-objected');
    expect(problems(() => buildAntenatalAgreement(late, 'late.json'))).toEqual([
      'late.json: field /rules/1: rule "antenatal-with-consent" would permit after the pregnancy ended; a deny rule must come first',
      'late.json: field /rules/1: rule "antenatal-with-consent" would permit despite the mother\'s objection',
    ]);
    const unknown = sample();
    unknown.rules = unknown.rules.map((r, i) => (i === 0 ? { ...r, when: ['baby-deceased'] } : r));
    expect(problems(() => buildAntenatalAgreement(unknown, 'u.json'))[0]).toMatch(
      /^u\.json: field \/rules\/0\/when\/0: unknown condition "baby-deceased"/,
    );
  });

  it('reads the newest antenatal record about the mother, in its period, for the recipient; others do not count', () => {
    expect(antenatalConsent([record({})], '9990000018', ROUTE, at)).toEqual({ consent: true, consentRecords: ['r1'] });
    const later = record({ id: 'r2', kind: 'objection', recordedAt: '2026-11-02T10:00:00.000Z' });
    expect(antenatalConsent([record({}), later], '9990000018', ROUTE, at)).toEqual({ objection: true, consentRecords: ['r2'] });
    expect(antenatalConsent([record({ scope: 'offer-of-support' })], '9990000018', ROUTE, at)).toEqual({});
    expect(antenatalConsent([record({ withdrawnAt: '2026-11-03T00:00:00.000Z' })], '9990000018', ROUTE, at)).toEqual({});
    expect(antenatalConsent([record({ to: '2026-11-28' })], '9990000018', ROUTE, at)).toEqual({});
    expect(antenatalConsent([record({ recipient: 'centre:harehills' })], '9990000018', ROUTE, at)).toEqual({});
    expect(antenatalConsent([record({ motherNhsNumber: '9990000026' })], '9990000018', ROUTE, at)).toEqual({});
  });
});
