import { MAX_PURPOSE, readConsentForm } from '../../../../../adapters/http/app/consent-form.js';
import { consentLine, periodInWords, recorderInWords } from '../../../../../adapters/http/app/consent-sentences.js';
import { readNhsNumber } from '../../../../../adapters/http/app/consent-history-pages.js';
import type { ConsentRecord } from '../../../../../src/domain/consent.js';

const names = { inboxName: (id: string) => (id === 'osmondthorpe' ? 'Osmondthorpe Family Hub' : undefined), laName: () => 'Leeds' };

describe('The form a centre worker records a parent’s call with', () => {
  it('needs what was said and what about, each error linking to its field', () => {
    const f = readConsentForm({});
    expect(f.kind).toBe('invalid');
    expect(f.kind === 'invalid' && f.errors).toEqual([
      { text: 'Select whether the parent gave consent or objected', href: '#kind' },
      { text: 'Select what the consent or objection is about', href: '#scope' },
    ]);
  });

  it('refuses a scope a centre does not record (antenatal) and values not offered', () => {
    const f = readConsentForm({ kind: 'maybe', scope: 'antenatal' });
    expect(f.kind === 'invalid' && Object.keys(f.fieldErrors).sort()).toEqual(['kind', 'scope']);
  });

  it('reads an objection with a period and a note', () => {
    const f = readConsentForm({
      kind: 'objection',
      scope: 'offer-of-support',
      'from-day': '3',
      'from-month': '12',
      'from-year': '2026',
      'to-day': '31',
      'to-month': '3',
      'to-year': '2027',
      purpose: '  Not now, thank you  ',
    });
    expect(f.kind === 'valid' && f.statement).toEqual({
      kind: 'objection',
      scope: 'offer-of-support',
      from: '2026-12-03',
      to: '2027-03-31',
      purpose: 'Not now, thank you',
    });
  });

  it('leaves out a period and note not given', () => {
    const f = readConsentForm({ kind: 'consent', scope: 'clinical-details', purpose: '' });
    expect(f.kind === 'valid' && f.statement).toEqual({ kind: 'consent', scope: 'clinical-details' });
  });

  it('names half-typed, unreal and out-of-order dates, and a note too long, keeping what was typed', () => {
    const half = readConsentForm({ kind: 'consent', scope: 'clinical-details', 'from-day': '3' });
    expect(half.kind === 'invalid' && half.errors).toEqual([{ text: 'Start date must include a month and year', href: '#from-month' }]);
    const unreal = readConsentForm({ kind: 'consent', scope: 'clinical-details', 'to-day': '31', 'to-month': '2', 'to-year': '2027' });
    expect(unreal.kind === 'invalid' && unreal.fieldErrors.to).toBe('End date must be a real date');
    const backwards = readConsentForm({
      kind: 'consent',
      scope: 'clinical-details',
      'from-day': '2',
      'from-month': '1',
      'from-year': '2027',
      'to-day': '1',
      'to-month': '1',
      'to-year': '2027',
    });
    expect(backwards.kind === 'invalid' && backwards.errors).toEqual([
      { text: 'End date must be the same as or after the start date', href: '#to-day' },
    ]);
    const long = readConsentForm({ kind: 'consent', scope: 'clinical-details', purpose: 'x'.repeat(MAX_PURPOSE + 1) });
    expect(long.kind === 'invalid' && long.fieldErrors.purpose).toBe(`Note must be ${MAX_PURPOSE} characters or fewer`);
    expect(long.values.kind).toBe('consent');
  });
});

describe('Consent records in words', () => {
  const record: ConsentRecord = {
    id: '5b0e5f0a-0000-4000-8000-000000000001',
    kind: 'objection',
    scope: 'offer-of-support',
    recipient: 'centre:osmondthorpe',
    source: 'parent-by-phone',
    motherNhsNumber: '9434765919',
    recordedAt: '2026-12-03T10:04:00Z',
    recordedBy: 'user:abc',
    recordedByName: 'Olivia Demo',
  };

  it('says what, how, when and by whom', () => {
    const line = consentLine(record, names);
    expect(line.sentence).toBe(
      'Objection to being offered support by the children’s centre, recorded by phone on 3 December 2026 by Olivia Demo.',
    );
    expect(line).toMatchObject({ active: true, recipient: 'Osmondthorpe Family Hub', mother: '943 476 5919', period: 'Until withdrawn' });
    expect(line.withdrawal).toBeUndefined();
  });

  it('says who withdrew it and when (London time)', () => {
    const line = consentLine(
      { ...record, withdrawnAt: '2026-07-05T09:30:00Z', withdrawnBy: 'client:ig-tool', kind: 'consent', scope: 'clinical-details' },
      names,
    );
    expect(line.what).toBe('Consent to sharing clinical details (birth weight and gestation)');
    expect(line.withdrawal).toBe('Withdrawn on 5 July 2026 at 10:30 by the API client ig-tool.');
    expect(line.active).toBe(false);
  });

  it('names recorders without a name, and periods', () => {
    expect(recorderInWords('message:1234', undefined)).toBe('the maternity system (with the birth message)');
    expect(recorderInWords('user:abc', undefined)).toBe('a person whose name was not recorded');
    expect(periodInWords({ from: '2026-12-03', to: '2027-03-31' })).toBe('From 3 December 2026 to 31 March 2027');
    expect(periodInWords({ from: '2026-12-03' })).toBe('From 3 December 2026 until withdrawn');
    expect(periodInWords({ to: '2027-03-31' })).toBe('Until 31 March 2027');
    expect(consentLine({ ...record, recipient: 'local-authority:leeds' }, names).recipient).toBe('Leeds');
    expect(consentLine({ ...record, recipient: 'any' }, names).recipient).toBe('Any service');
  });
});

describe('The NHS number of the IG lead’s consent history', () => {
  it('accepts ten digits with spaces and a right check digit, and says what is wrong otherwise', () => {
    expect(readNhsNumber(' 943 476 5919 ')).toEqual({ ok: true, value: '9434765919' });
    expect(readNhsNumber('9434765918')).toMatchObject({ ok: false, message: 'Enter a real NHS number: this one’s check digit is wrong' });
    expect(readNhsNumber('94347659')).toMatchObject({ ok: false, message: 'NHS number must be 10 digits, like 943 476 5919' });
    expect(readNhsNumber(undefined)).toMatchObject({ ok: false, message: 'Enter an NHS number' });
  });
});
