import { csvCell, toCsv } from '../../../../src/pipeline/reports/csv.js';
import { londonMidnight, readDayRange, readWindowBound } from '../../../../src/pipeline/reports/london-days.js';
import { describeRecipient, withdrawalCategory } from '../../../../src/pipeline/reports/disclosure-report.js';
import { buildCatchments } from '../../../../src/pipeline/catchments.js';

describe('CSV (RFC 4180, spreadsheet-safe)', () => {
  it('quotes commas, quotes and line breaks, doubling quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(12)).toBe('12');
  });

  it('neutralises cells a spreadsheet would run as formulas (= + - @, tab, CR)', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+44 113')).toBe("'+44 113");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=x')).toBe("'\t=x");
    expect(csvCell('=HYPERLINK("http://x", "y")')).toBe(`"'=HYPERLINK(""http://x"", ""y"")"`);
    expect(csvCell(-2)).toBe('-2');
  });

  it('ends every record with CRLF', () => {
    expect(toCsv(['a', 'b'], [[1, 'x,y']])).toBe('a,b\r\n1,"x,y"\r\n');
  });
});

describe('London days', () => {
  it('finds London midnight in winter (GMT) and summer (BST), and 25-hour and 23-hour days', () => {
    expect(londonMidnight('2026-01-15').toISOString()).toBe('2026-01-15T00:00:00.000Z');
    expect(londonMidnight('2026-07-15').toISOString()).toBe('2026-07-14T23:00:00.000Z');
    expect(londonMidnight('2026-10-25').toISOString()).toBe('2026-10-24T23:00:00.000Z');
    expect(londonMidnight('2026-10-26').toISOString()).toBe('2026-10-26T00:00:00.000Z');
    expect(londonMidnight('2026-03-29').toISOString()).toBe('2026-03-29T00:00:00.000Z');
    expect(londonMidnight('2026-03-30').toISOString()).toBe('2026-03-29T23:00:00.000Z');
  });

  it('defaults to the last 30 London days, refuses bad dates, reversed and over-long ranges naming the field', () => {
    const now = new Date('2026-07-01T23:30:00Z'); // already 2 July in London
    const r = readDayRange(undefined, undefined, now);
    expect(r).toMatchObject({ ok: true, range: { from: '2026-06-03', to: '2026-07-02', days: 30 } });
    expect(readDayRange('2026-02-29', undefined, now)).toMatchObject({ ok: false, problems: [{ field: 'from' }] });
    expect(readDayRange(undefined, '2026/07/01', now)).toMatchObject({ ok: false, problems: [{ field: 'to' }] });
    expect(readDayRange('2026-07-02', '2026-07-01', now)).toMatchObject({ ok: false, problems: [{ field: 'from' }] });
    expect(readDayRange('2025-01-01', '2026-01-01', now)).toMatchObject({ ok: true, range: { days: 366 } });
    expect(readDayRange('2025-01-01', '2026-01-02', now)).toMatchObject({ ok: false, problems: [{ field: 'from' }] });
  });

  it('reads a window bound as a London date (until includes the day) or an ISO date-time with offset', () => {
    expect(readWindowBound('2026-07-01', 'since')?.toISOString()).toBe('2026-06-30T23:00:00.000Z');
    expect(readWindowBound('2026-07-01', 'until')?.toISOString()).toBe('2026-07-01T23:00:00.000Z');
    expect(readWindowBound('2026-07-01T10:00:00+01:00', 'since')?.toISOString()).toBe('2026-07-01T09:00:00.000Z');
    expect(readWindowBound('2026-07-01T10:00:00', 'since')).toBeUndefined();
    expect(readWindowBound('yesterday', 'until')).toBeUndefined();
  });
});

describe('Disclosure report wording', () => {
  const catchments = buildCatchments({
    localAuthorities: [
      {
        id: 'northgate',
        name: 'Northgate City Council',
        districts: ['LS9'],
        centres: [
          {
            id: 'osmondthorpe',
            name: 'Osmondthorpe Family Hub',
            districts: ['LS9'],
            sectors: [],
            postcodes: [],
            delivery: { mode: 'pull' },
          },
        ],
      },
    ],
  });

  it('names a centre with its local authority, an unallocated inbox, a review inbox', () => {
    expect(describeRecipient(catchments, 'osmondthorpe')).toEqual({
      inboxId: 'osmondthorpe',
      name: 'Osmondthorpe Family Hub',
      kind: 'centre',
      localAuthority: 'Northgate City Council',
    });
    expect(describeRecipient(catchments, 'northgate-unallocated')).toMatchObject({
      kind: 'local-authority-unallocated',
      localAuthority: 'Northgate City Council',
    });
    expect(describeRecipient(catchments, 'unallocated').kind).toBe('unallocated');
    expect(describeRecipient(catchments, 'safeguarding-review').kind).toBe('review');
    expect(describeRecipient(catchments, 'gone-centre')).toEqual({ inboxId: 'gone-centre', name: 'gone-centre', kind: 'other' });
  });

  it('gives a withdrawal a neutral category, never its reason', () => {
    expect(withdrawalCategory({ outcome: 'moved-away', details: { reason: 'x' } })).toBe('moved-area');
    expect(
      withdrawalCategory({ outcome: 'withdrawn-from-inbox', details: { reason: 'A consent record made after the decision changes it' } }),
    ).toBe('consent-changed');
    expect(withdrawalCategory({ outcome: 'withdrawn-from-inbox', details: { reason: 'r', mergedInto: 'n2' } })).toBe('records-merged');
    expect(withdrawalCategory({ outcome: 'withdrawn-from-inbox', details: { reason: 'A later message reports the baby has died' } })).toBe(
      'record-changed',
    );
  });
});
