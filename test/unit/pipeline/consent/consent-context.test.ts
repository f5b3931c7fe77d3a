import type { BirthNotification } from '../../../../src/domain/birth-notification.js';
import type { ConsentRecord } from '../../../../src/domain/consent.js';
import { ageInYears, CONDITIONS } from '../../../../src/pipeline/consent/conditions.js';
import { consentContext, coversRecipient, inPeriod, isAbout } from '../../../../src/pipeline/consent/consent-context.js';
import type { Route } from '../../../../src/pipeline/route.js';
import { CASE_BASE_NOTIFICATION } from '../../../support/rulebook-cases.js';

const n: BirthNotification = CASE_BASE_NOTIFICATION; // baby 9000000009, mother 9449307946, born 2025-03-14
const route: Route = { kind: 'centre', centreId: 'osmondthorpe', localAuthorityId: 'northgate', matchedBy: 'postcode' };
const at = new Date('2026-11-29T12:00:00Z');
let seq = 0;
const record = (o: Partial<ConsentRecord>): ConsentRecord => ({
  id: `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`,
  recordedAt: `2026-11-${String(10 + seq).padStart(2, '0')}T09:00:00.000Z`,
  recordedBy: 'client:test',
  kind: 'objection',
  scope: 'offer-of-support',
  recipient: 'any',
  source: 'midwife',
  motherNhsNumber: '9449307946',
  ...o,
});

describe('mother-under-18', () => {
  const young = (birthDate: string | undefined): boolean =>
    CONDITIONS['mother-under-18']({
      ...n,
      mother: { localIdentifiers: [], ...(birthDate !== undefined ? { birthDate } : {}) },
    });
  it('holds for a mother of 17 on the birth date, not on her 18th birthday', () => {
    expect(young('2007-03-15')).toBe(true);
    expect(young('2007-03-14')).toBe(false);
    expect(young('1994-07-01')).toBe(false);
  });
  it('is false when the date of birth is unknown, partial or after the birth', () => {
    expect(young(undefined)).toBe(false);
    expect(CONDITIONS['mother-under-18']({ baby: n.baby, confidentiality: 'normal', source: n.source })).toBe(false);
    expect(young('2007-03')).toBe(false);
    expect(young('2026-01-01')).toBe(false);
  });
  it('counts whole years, a 29 February birthday turning over on 1 March', () => {
    expect(ageInYears('2008-02-29', '2026-02-28')).toBe(17);
    expect(ageInYears('2008-02-29', '2026-03-01')).toBe(18);
    expect(ageInYears('2000-12-31', '2001-01-01')).toBe(0);
  });
});

describe('the consent context from register records', () => {
  it('is empty without records, and names the records it used', () => {
    expect(consentContext([], n, route, at)).toEqual({});
    const r = record({});
    expect(consentContext([r], n, route, at)).toEqual({ objection: true, consentRecords: [r.id] });
  });

  it('takes the newest record per scope: a later consent lifts an objection, and the other way round', () => {
    const objection = record({});
    const consent = record({ kind: 'consent' });
    expect(consentContext([objection, consent], n, route, at).objection).toBe(false);
    const again = record({});
    expect(consentContext([consent, again, objection], n, route, at)).toMatchObject({ objection: true, consentRecords: [again.id] });
  });

  it('reads clinical-details consent and ignores the antenatal scope', () => {
    const clinical = record({ kind: 'consent', scope: 'clinical-details' });
    const antenatal = record({ scope: 'antenatal' });
    expect(consentContext([clinical, antenatal], n, route, at)).toEqual({ clinicalConsent: true, consentRecords: [clinical.id] });
    const refused = record({ kind: 'objection', scope: 'clinical-details' });
    expect(consentContext([clinical, refused], n, route, at).clinicalConsent).toBe(false);
  });

  it('ignores withdrawn records, so the one before it applies again', () => {
    const consent = record({ kind: 'consent' });
    const objection = record({ withdrawnAt: '2026-11-28T00:00:00.000Z', withdrawnBy: 'client:test' });
    expect(consentContext([consent, objection], n, route, at).objection).toBe(false);
    expect(consentContext([objection], n, route, at)).toEqual({});
  });

  it('honours the period, both ends inclusive, on the London date of the decision', () => {
    expect(inPeriod({ from: '2026-11-29', to: '2026-11-29' }, '2026-11-29')).toBe(true);
    expect(inPeriod({ from: '2026-11-30' }, '2026-11-29')).toBe(false);
    expect(inPeriod({ to: '2026-11-28' }, '2026-11-29')).toBe(false);
    expect(consentContext([record({ from: '2026-12-01' })], n, route, at)).toEqual({});
    expect(consentContext([record({ to: '2026-11-01' })], n, route, at)).toEqual({});
    // 23:30 UTC on 31 May is 1 June in London.
    expect(consentContext([record({ from: '2026-06-01' })], n, route, new Date('2026-05-31T23:30:00Z')).objection).toBe(true);
  });

  it('honours the recipient: any, the centre the family routes to, or its local authority', () => {
    expect(coversRecipient('any', undefined)).toBe(true);
    expect(coversRecipient('centre:osmondthorpe', route)).toBe(true);
    expect(coversRecipient('centre:harehills', route)).toBe(false);
    expect(coversRecipient('local-authority:northgate', route)).toBe(true);
    expect(coversRecipient('local-authority:southmoor', route)).toBe(false);
    const unallocated: Route = {
      kind: 'unallocated',
      inboxId: 'northgate-unallocated',
      localAuthorityId: 'northgate',
      reason: 'no-centre-covers-postcode',
    };
    expect(coversRecipient('centre:osmondthorpe', unallocated)).toBe(false);
    expect(coversRecipient('local-authority:northgate', unallocated)).toBe(true);
    expect(consentContext([record({ recipient: 'centre:harehills' })], n, route, at)).toEqual({});
  });

  it("applies a mother's record to her babies, but a record naming one baby not to its twin", () => {
    expect(isAbout(record({}), n)).toBe(true);
    expect(isAbout(record({ motherNhsNumber: '9990001545' }), n)).toBe(false);
    expect(isAbout(record({ babyNhsNumber: '9000000009' }), n)).toBe(true);
    const twin = record({ babyNhsNumber: '9990001561' });
    expect(isAbout(twin, n)).toBe(false);
    expect(consentContext([twin], n, route, at)).toEqual({});
    // A baby without an NHS number yet: its mother's records apply, whichever baby they name.
    const { nhsNumber: _nhs, ...unnumbered } = n.baby;
    const noNhs: BirthNotification = { ...n, baby: unnumbered };
    expect(isAbout(twin, noNhs)).toBe(true);
  });
});
