import { contactDueBy, isOverdue, reachFigures, readOfferOutcome, type ReachRow } from '../../../src/domain/offer-outcome.js';
import { readReachPeriod } from '../../../src/pipeline/reports/reach.js';

/** 10:00 London on a winter day (GMT), and 00:30 London on a summer day (BST: 23:30 UTC the day before). */
const WINTER = new Date('2026-01-05T10:00:00Z');
const SUMMER_MIDNIGHT = new Date('2026-06-30T23:30:00Z');

describe('Overdue for first contact', () => {
  const open = { deliveredAt: WINTER, withdrawn: false, outcomes: [] };

  it('is due by the delivery date plus the target days, that day included; overdue from the day after', () => {
    expect(contactDueBy(WINTER, 14)).toBe('2026-01-19');
    expect(isOverdue(open, 14, new Date('2026-01-19T23:59:00Z'))).toBe(false);
    expect(isOverdue(open, 14, new Date('2026-01-20T00:00:00Z'))).toBe(true);
    expect(isOverdue(open, 10, new Date('2026-01-16T00:00:00Z'))).toBe(true);
  });

  it('counts days in London: a notification delivered at 00:30 BST belongs to that London day', () => {
    expect(contactDueBy(SUMMER_MIDNIGHT, 14)).toBe('2026-07-15');
    // 23:30 UTC on 15 July is already 16 July in London.
    expect(isOverdue({ ...open, deliveredAt: SUMMER_MIDNIGHT }, 14, new Date('2026-07-15T22:59:00Z'))).toBe(false);
    expect(isOverdue({ ...open, deliveredAt: SUMMER_MIDNIGHT }, 14, new Date('2026-07-15T23:00:00Z'))).toBe(true);
  });

  it('ends with contact, an accepted or declined offer or a move; not with no response, a corrected record or a withdrawal', () => {
    const late = new Date('2026-03-01T12:00:00Z');
    const with_ = (outcome: 'contacted' | 'offer-accepted' | 'offer-declined' | 'no-response' | 'moved-away', correctedBy?: string) =>
      isOverdue({ ...open, outcomes: [{ outcome, ...(correctedBy ? { correctedBy } : {}) }] }, 14, late);
    expect(with_('contacted')).toBe(false);
    expect(with_('offer-accepted')).toBe(false);
    expect(with_('offer-declined')).toBe(false);
    expect(with_('moved-away')).toBe(false);
    expect(with_('no-response')).toBe(true);
    expect(with_('contacted', 'a-later-record')).toBe(true);
    expect(isOverdue({ ...open, withdrawn: true }, 14, late)).toBe(false);
  });
});

describe('Reach figures', () => {
  it('counts within target on the boundary day, late the day after, and what is not yet due', () => {
    const row = (firstContactOn?: string, latest?: ReachRow['latest'], withdrawn = false): ReachRow => ({
      deliveredAt: WINTER,
      withdrawn,
      ...(firstContactOn ? { firstContactOn } : {}),
      ...(latest ? { latest } : {}),
    });
    const rows = [
      row('2026-01-19', 'contacted'),
      row('2026-01-20', 'offer-declined'),
      row(undefined, 'moved-away'),
      row(undefined, 'no-response'),
      row(),
      row('2026-01-06', 'contacted', true),
    ];
    const f = reachFigures(rows, 14, new Date('2026-01-10T12:00:00Z'));
    expect(f).toEqual({
      targetDays: 14,
      notified: 5,
      withdrawn: 1,
      contactedWithinTarget: 1,
      contactedWithinTargetPercent: 20,
      contactedLate: 1,
      notYetDue: 2,
      overdue: 0,
      outcomes: { contacted: 1, 'offer-accepted': 0, 'offer-declined': 1, 'no-response': 1, 'moved-away': 1, none: 1 },
    });
    expect(reachFigures(rows, 14, new Date('2026-02-10T12:00:00Z')).overdue).toBe(2);
    expect(reachFigures([], 14, WINTER).contactedWithinTargetPercent).toBeNull();
    expect(reachFigures([row('2026-01-05'), row(), row()], 14, WINTER).contactedWithinTargetPercent).toBe(33.3);
  });
});

describe('Reading an outcome', () => {
  const limits = { today: '2026-01-20', deliveredOn: '2026-01-05' };
  const ok = { outcome: 'contacted', date: '2026-01-05', worker: '  Wendy  ' };

  it('accepts the delivery day and today, trims the worker', () => {
    expect(readOfferOutcome(ok, limits)).toEqual({ ok: true, value: { outcome: 'contacted', date: '2026-01-05', worker: 'Wendy' } });
    expect(readOfferOutcome({ ...ok, date: '2026-01-20' }, limits).ok).toBe(true);
  });

  it('names each bad field', () => {
    const fieldsOf = (body: unknown) => {
      const r = readOfferOutcome(body, limits);
      return r.ok ? [] : r.problems.map((p) => p.field);
    };
    expect(fieldsOf({ ...ok, date: '2026-01-04' })).toEqual(['date']);
    expect(fieldsOf({ ...ok, date: '2026-01-21' })).toEqual(['date']);
    expect(fieldsOf({ ...ok, date: '5 January' })).toEqual(['date']);
    expect(fieldsOf({ outcome: 'phoned', worker: 1, corrects: 'x', extra: true })).toEqual([
      'extra',
      'outcome',
      'date',
      'worker',
      'corrects',
    ]);
    expect(fieldsOf(null)).toEqual(['(body)']);
  });
});

describe('A reach period', () => {
  const now = new Date('2026-11-29T12:00:00Z');
  it('is a whole London month, or from/to', () => {
    const month = readReachPeriod({ month: '2026-03' }, now);
    expect(month.ok && [month.range.from, month.range.to, month.range.start.toISOString(), month.range.end.toISOString()]).toEqual([
      '2026-03-01',
      '2026-03-31',
      '2026-03-01T00:00:00.000Z',
      '2026-03-31T23:00:00.000Z', // 1 April starts at 23:00 UTC: British Summer Time began on 29 March
    ]);
    const december = readReachPeriod({ month: '2025-12' }, now);
    expect(december.ok && december.range.to).toBe('2025-12-31');
    expect(readReachPeriod({ month: '2026-3' }, now).ok).toBe(false);
    expect(readReachPeriod({ month: '2026-03', to: '2026-03-05' }, now).ok).toBe(false);
    const range = readReachPeriod({ from: '2026-11-01' }, now);
    expect(range.ok && range.range.to).toBe('2026-11-29');
  });
});
