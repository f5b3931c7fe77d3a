/**
 * The reach report (issue 15 item 3): per centre and per period, births notified, contacted within the centre's
 * target days, and outcomes. The period is a range of London dates (`from`/`to`) or a calendar month (`month`).
 */
import { DEFAULT_CONTACT_TARGET_DAYS, reachFigures, type ReachFigures, type ReachRow } from '../../domain/offer-outcome.js';
import type { Catchments } from '../catchments.js';
import { toCsv } from './csv.js';
import { addDays, dayRange, readDayRange, type DayRange } from './london-days.js';

/** A centre's target days for first contact: its `contactTargetDays` in catchments.json, else 14. */
export function contactTargetDays(catchments: Catchments, centreId: string): number {
  return catchments.centres.get(centreId)?.contactTargetDays ?? DEFAULT_CONTACT_TARGET_DAYS;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export type PeriodResult = { ok: true; range: DayRange } | { ok: false; problems: { field: string; message: string }[] };

/**
 * Reads a reach report's period: `month` (YYYY-MM, the whole London month) or `from`/`to` (as every report reads
 * them: without `to` today, without `from` 29 days before `to`, at most 366 days), not both.
 */
export function readReachPeriod(q: { month?: string; from?: string; to?: string }, now: Date): PeriodResult {
  if (q.month !== undefined) {
    if (q.from !== undefined || q.to !== undefined)
      return { ok: false, problems: [{ field: 'month', message: 'give either month or from/to, not both' }] };
    const m = MONTH.exec(q.month);
    if (!m) return { ok: false, problems: [{ field: 'month', message: 'must be a month, YYYY-MM' }] };
    const first = `${q.month}-01`;
    const nextFirst = m[2] === '12' ? `${Number(m[1]) + 1}-01-01` : `${m[1]}-${String(Number(m[2]) + 1).padStart(2, '0')}-01`;
    return { ok: true, range: dayRange(first, addDays(nextFirst, -1)) };
  }
  return readDayRange(q.from, q.to, now);
}

export interface CentreReach extends ReachFigures {
  centreId: string;
  name: string;
}

export interface ReachReport {
  from: string;
  to: string;
  days: number;
  timeZone: 'Europe/London';
  /** When the figures were computed: "not yet due" and "overdue" are as of then. */
  asOf: string;
  centres: CentreReach[];
}

/** The report over the rows the store gave for each centre. */
export function reachReport(
  catchments: Catchments,
  range: DayRange,
  rows: ReadonlyMap<string, readonly ReachRow[]>,
  now: Date,
): ReachReport {
  return {
    from: range.from,
    to: range.to,
    days: range.days,
    timeZone: 'Europe/London',
    asOf: now.toISOString(),
    centres: [...rows].map(([centreId, r]) => ({
      centreId,
      name: catchments.centres.get(centreId)?.name ?? centreId,
      ...reachFigures(r, contactTargetDays(catchments, centreId), now),
    })),
  };
}

const CSV_HEAD = [
  'centre_id',
  'centre',
  'from',
  'to',
  'target_days',
  'notified',
  'contacted_within_target',
  'contacted_within_target_percent',
  'contacted_late',
  'not_yet_due',
  'overdue',
  'withdrawn',
  'latest_contacted',
  'latest_offer_accepted',
  'latest_offer_declined',
  'latest_no_response',
  'latest_moved_away',
  'no_outcome',
];

/** The report as CSV, one row per centre. */
export function reachCsv(report: ReachReport): string {
  return toCsv(
    CSV_HEAD,
    report.centres.map((c) => [
      c.centreId,
      c.name,
      report.from,
      report.to,
      c.targetDays,
      c.notified,
      c.contactedWithinTarget,
      c.contactedWithinTargetPercent,
      c.contactedLate,
      c.notYetDue,
      c.overdue,
      c.withdrawn,
      c.outcomes.contacted,
      c.outcomes['offer-accepted'],
      c.outcomes['offer-declined'],
      c.outcomes['no-response'],
      c.outcomes['moved-away'],
      c.outcomes.none,
    ]),
  );
}
