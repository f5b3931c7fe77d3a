import { daysBetweenDates, localDateOf, parseHl7DateTime } from '../../../src/domain/hl7-datetime.js';

const utc = (text: string): string | undefined => {
  const i = parseHl7DateTime(text)?.instant;
  return i === undefined ? undefined : new Date(i).toISOString();
};

describe('parseHl7DateTime', () => {
  it('matches the UCLH oracles (NOTES §1.3): Europe/London local time', () => {
    expect(parseHl7DateTime('19250704')).toEqual({ date: '1925-07-04', precision: 'day', offsetGiven: false });
    expect(parseHl7DateTime('19250704044401')?.date).toBe('1925-07-04');
    expect(utc('19250704044401')).toBe('1925-07-04T03:44:01.000Z');
    const midnight = parseHl7DateTime('19250704000000');
    expect(midnight?.date).toBe('1925-07-04');
    expect(midnight?.instant).toBe('1925-07-04T00:00:00+01:00');
    expect(utc('19250704000000')).toBe('1925-07-03T23:00:00.000Z');
    expect(parseHl7DateTime('19800101')?.date).toBe('1980-01-01');
    expect(utc('19800101034401')).toBe('1980-01-01T03:44:01.000Z');
    expect(utc('20130211083456')).toBe('2013-02-11T08:34:56.000Z');
  });

  it('keeps the sign of given offsets', () => {
    expect(parseHl7DateTime('20250101101500-0500')).toEqual({
      date: '2025-01-01',
      instant: '2025-01-01T10:15:00-05:00',
      precision: 'second',
      offsetGiven: true,
    });
    expect(parseHl7DateTime('20140529080238.241+0100')?.instant).toBe('2014-05-29T08:02:38.241+01:00');
    expect(parseHl7DateTime('202406150930+0000')?.instant).toBe('2024-06-15T09:30:00+00:00');
  });

  it('reports precision and partial dates', () => {
    expect(parseHl7DateTime('2024')).toEqual({ date: '2024', precision: 'year', offsetGiven: false });
    expect(parseHl7DateTime('202402')?.date).toBe('2024-02');
    expect(parseHl7DateTime('2024061509')).toMatchObject({ precision: 'hour', instant: '2024-06-15T09:00:00+01:00' });
    expect(parseHl7DateTime('202406150930')?.precision).toBe('minute');
    expect(parseHl7DateTime('20240615093012.5')?.instant).toBe('2024-06-15T09:30:12.500+01:00');
  });

  it('rejects impossible and malformed values', () => {
    for (const s of [
      '20261323',
      '20260230',
      '20250229',
      '19000229',
      '202601010',
      '2026010124',
      '202601011260',
      '20260101120060',
      '20260101+1500',
      '20260101120000+0060',
      '2026-01-01',
      'notadate',
      '',
      '""',
      '20260101 1200',
      '20260101120000.12345',
    ]) {
      expect([s, parseHl7DateTime(s)]).toEqual([s, undefined]);
    }
    expect(parseHl7DateTime('20240229')?.date).toBe('2024-02-29');
    expect(parseHl7DateTime('20000229')?.date).toBe('2000-02-29');
  });

  it('handles the clock changes', () => {
    // 2025: BST from 30 March 01:00Z to 26 October 01:00Z.
    expect(parseHl7DateTime('202503300030')?.instant).toBe('2025-03-30T00:30:00+00:00');
    expect(parseHl7DateTime('202503300130')?.instant).toBe('2025-03-30T01:30:00+00:00'); // skipped hour
    expect(parseHl7DateTime('202503300230')?.instant).toBe('2025-03-30T02:30:00+01:00');
    expect(parseHl7DateTime('202510260130')?.instant).toBe('2025-10-26T01:30:00+01:00'); // first of two
    expect(parseHl7DateTime('202510260230')?.instant).toBe('2025-10-26T02:30:00+00:00');
    expect(parseHl7DateTime('202510261200')?.instant).toBe('2025-10-26T12:00:00+00:00');
    expect(parseHl7DateTime('202507040030')?.instant).toBe('2025-07-04T00:30:00+01:00');
  });
});

describe('date helpers', () => {
  it('counts calendar days and finds the London date of an instant', () => {
    expect(daysBetweenDates('2025-01-01', '2025-01-29')).toBe(28);
    expect(daysBetweenDates('2025-03-29', '2025-03-31')).toBe(2);
    expect(daysBetweenDates('2025-01-02', '2025-01-01')).toBe(-1);
    expect(localDateOf(new Date('2025-07-03T23:30:00Z'))).toBe('2025-07-04');
    expect(localDateOf(new Date('2025-01-03T23:30:00Z'))).toBe('2025-01-03');
  });
});
