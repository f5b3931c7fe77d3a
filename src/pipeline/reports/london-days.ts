/**
 * Reports count by London day (Europe/London: GMT in winter, BST in summer), so a day is what a person in England
 * calls that day, 23 or 25 hours long at the clock changes. A range is two London dates, both included.
 */

/** Days a report may cover at most: a year and a day (a leap year's whole). */
export const MAX_REPORT_DAYS = 366;
/** Days a report covers when no range is given: the last 30 London days, today included. */
export const DEFAULT_REPORT_DAYS = 30;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LONDON_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });

/** The London date of an instant, `YYYY-MM-DD`. */
export function londonDate(at: Date): string {
  return LONDON_DATE.format(at);
}

/** `YYYY-MM-DD` plus `days` (negative to go back), as calendar dates. */
export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** Whether `YYYY-MM-DD` is a real calendar date. */
export function isCalendarDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** The instant a London date starts (midnight in London), found from the offset at noon of that day. */
export function londonMidnight(date: string): Date {
  const noonUtc = new Date(`${date}T12:00:00Z`);
  // London is UTC+0 or UTC+1: the midnight is either 00:00Z or 23:00Z the day before; pick the one whose London date is `date`.
  const candidates = [new Date(noonUtc.getTime() - 13 * 3_600_000), new Date(noonUtc.getTime() - 12 * 3_600_000)];
  return candidates.find((c) => londonDate(c) === date) ?? candidates[1] ?? noonUtc;
}

/** A range of London dates, both included, and the instants it spans (`from` ≤ at < `before`). */
export interface DayRange {
  from: string;
  to: string;
  start: Date;
  end: Date;
  days: number;
}

export function dayRange(from: string, to: string): DayRange {
  return {
    from,
    to,
    start: londonMidnight(from),
    end: londonMidnight(addDays(to, 1)),
    days: Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1,
  };
}

export type RangeResult = { ok: true; range: DayRange } | { ok: false; problems: { field: 'from' | 'to'; message: string }[] };

/**
 * Reads a report's range: `from` and `to` London dates (`YYYY-MM-DD`), both optional. Without `to`, today; without
 * `from`, 29 days before `to`. Refused: a date that is not a calendar date, `from` after `to`, more than
 * MAX_REPORT_DAYS days.
 */
export function readDayRange(from: string | undefined, to: string | undefined, now: Date): RangeResult {
  const problems: { field: 'from' | 'to'; message: string }[] = [];
  if (from !== undefined && !isCalendarDate(from)) problems.push({ field: 'from', message: 'must be a date, YYYY-MM-DD' });
  if (to !== undefined && !isCalendarDate(to)) problems.push({ field: 'to', message: 'must be a date, YYYY-MM-DD' });
  if (problems.length > 0) return { ok: false, problems };
  const end = to ?? londonDate(now);
  const start = from ?? addDays(end, -(DEFAULT_REPORT_DAYS - 1));
  if (start > end) return { ok: false, problems: [{ field: 'from', message: 'must be on or before `to`' }] };
  const range = dayRange(start, end);
  if (range.days > MAX_REPORT_DAYS)
    return { ok: false, problems: [{ field: 'from', message: `the range may cover at most ${MAX_REPORT_DAYS} days` }] };
  return { ok: true, range };
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A bound of a time window: a London date (`since` from its midnight; `until` to the end of that day, so the day
 * is included) or an ISO date-time with its offset, taken as it is. Undefined when it is neither.
 */
export function readWindowBound(s: string, bound: 'since' | 'until'): Date | undefined {
  if (isCalendarDate(s)) return londonMidnight(bound === 'since' ? s : addDays(s, 1));
  if (!DATE_TIME.test(s)) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
