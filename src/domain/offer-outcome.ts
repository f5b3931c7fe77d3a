/**
 * The offer-of-support loop (issue 15 item 3): what a centre records happened with a family after a birth
 * notification reached its inbox, and the figures built from it. Pure: every rule here takes `now` or `today`.
 *
 * Definitions (the README's "Offer-of-support loop and reach" section says the same in words):
 * - Outcomes are append-only. A correction is a new record naming the one it corrects (`corrects`); the corrected
 *   record stays in the history but no longer counts. A record is corrected at most once (correct the correction).
 * - A notification's first contact is the earliest date of its counting `contacted`, `offer-accepted` or
 *   `offer-declined` outcome (an accepted or declined offer means the family was reached).
 * - Its first contact is due by the London date it reached the centre's inbox plus the centre's target days
 *   (that day included): contacted on or before it is "within target".
 * - It is overdue, from the day after that, while it is still in effect (not withdrawn) and has no counting
 *   contact outcome and no `moved-away` (nothing more to do). `no-response` keeps it overdue: still to reach.
 */
import { readNamedWorker } from './named-worker.js';

export const OFFER_OUTCOMES = ['contacted', 'offer-accepted', 'offer-declined', 'no-response', 'moved-away'] as const;
export type OfferOutcomeKind = (typeof OFFER_OUTCOMES)[number];

/** The outcomes that say the family was reached. */
export const CONTACT_OUTCOMES: readonly OfferOutcomeKind[] = ['contacted', 'offer-accepted', 'offer-declined'];
/** The outcomes after which a family is no longer overdue for first contact. */
export const CLOSING_OUTCOMES: readonly OfferOutcomeKind[] = [...CONTACT_OUTCOMES, 'moved-away'];

export const OUTCOME_TEXT: Record<OfferOutcomeKind, string> = {
  contacted: 'Contacted',
  'offer-accepted': 'Offer accepted',
  'offer-declined': 'Offer declined',
  'no-response': 'No response',
  'moved-away': 'Moved away',
};

/** A centre's target days for first contact when catchments.json gives none. */
export const DEFAULT_CONTACT_TARGET_DAYS = 14;

export function isOfferOutcome(value: unknown): value is OfferOutcomeKind {
  return typeof value === 'string' && (OFFER_OUTCOMES as readonly string[]).includes(value);
}

/** One recorded outcome, as the API answers it. */
export interface OfferOutcome {
  id: string;
  notificationId: string;
  centreId: string;
  outcome: OfferOutcomeKind;
  /** The London date it happened, YYYY-MM-DD. */
  date: string;
  /** The named worker who did it (a member of the centre's staff). */
  worker: string;
  recordedAt: string;
  /** The outcome this one corrects, if it is a correction. */
  corrects?: string;
  /** The later outcome that corrects this one: it no longer counts. */
  correctedBy?: string;
}

/** An outcome to record, as read from the API or the form. */
export interface OfferOutcomeInput {
  outcome: OfferOutcomeKind;
  date: string;
  worker: string;
  corrects?: string;
}

export interface OutcomeFieldProblem {
  field: 'outcome' | 'date' | 'worker' | 'corrects' | (string & {});
  message: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FIELDS = new Set(['outcome', 'date', 'worker', 'corrects']);

/** Whether `YYYY-MM-DD` is a real calendar date. */
export function isCalendarDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** `YYYY-MM-DD` plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

const LONDON = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });
/** The London date of an instant, YYYY-MM-DD. */
export function londonDateOf(at: Date): string {
  return LONDON.format(at);
}

/**
 * Reads an outcome to record (the API's JSON body; the web form builds the same object). The date must be a
 * calendar date, not after `today` (London) and not before `deliveredOn`, the London date the notification reached
 * the centre's inbox: the loop measures what the centre did with the notification. Unknown fields are refused.
 */
export function readOfferOutcome(
  body: unknown,
  limits: { today: string; deliveredOn: string },
): { ok: true; value: OfferOutcomeInput } | { ok: false; problems: OutcomeFieldProblem[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, problems: [{ field: '(body)', message: 'must be a JSON object' }] };
  const b = body as Record<string, unknown>;
  const problems: OutcomeFieldProblem[] = [];
  for (const k of Object.keys(b)) if (!FIELDS.has(k)) problems.push({ field: k.slice(0, 50), message: 'is not a field of an outcome' });
  if (!isOfferOutcome(b.outcome)) problems.push({ field: 'outcome', message: `must be one of ${OFFER_OUTCOMES.join(', ')}` });
  const date = b.date;
  if (typeof date !== 'string' || !isCalendarDate(date)) problems.push({ field: 'date', message: 'must be a date, YYYY-MM-DD' });
  else if (date > limits.today) problems.push({ field: 'date', message: 'must be today or in the past' });
  else if (date < limits.deliveredOn)
    problems.push({ field: 'date', message: `must be on or after ${limits.deliveredOn}, the day the notification reached the centre` });
  const worker = readNamedWorker(b.worker);
  if ('problem' in worker) problems.push({ field: 'worker', message: worker.problem });
  const corrects = b.corrects;
  if (corrects !== undefined && (typeof corrects !== 'string' || !UUID.test(corrects)))
    problems.push({ field: 'corrects', message: 'must be the id of an earlier outcome of this notification' });
  if (problems.length > 0 || !isOfferOutcome(b.outcome) || typeof date !== 'string' || 'problem' in worker) return { ok: false, problems };
  return {
    ok: true,
    value: { outcome: b.outcome, date, worker: worker.name, ...(typeof corrects === 'string' ? { corrects: corrects.toLowerCase() } : {}) },
  };
}

/** The outcomes that count: those no later record corrects. */
export function countingOutcomes<T extends { correctedBy?: string }>(outcomes: readonly T[]): T[] {
  return outcomes.filter((o) => o.correctedBy === undefined);
}

/** The last London date first contact is within target: the delivery date plus the target days. */
export function contactDueBy(deliveredAt: Date, targetDays: number): string {
  return addDays(londonDateOf(deliveredAt), targetDays);
}

/**
 * The instant before which a notification delivered, still open, is overdue at `now`: delivered on a London date
 * before today minus the target days (so `delivered_at < cutoff` in SQL).
 */
export function overdueCutoff(now: Date, targetDays: number): string {
  return addDays(londonDateOf(now), -targetDays);
}

/** Whether a notification is overdue for first contact at `now` (see the module's definitions). */
export function isOverdue(
  n: { deliveredAt: Date; withdrawn: boolean; outcomes: readonly { outcome: OfferOutcomeKind; correctedBy?: string }[] },
  targetDays: number,
  now: Date,
): boolean {
  if (n.withdrawn) return false;
  if (countingOutcomes(n.outcomes).some((o) => CLOSING_OUTCOMES.includes(o.outcome))) return false;
  return londonDateOf(now) > contactDueBy(n.deliveredAt, targetDays);
}

/** One notification delivered in a report's period, as the reach report needs it. */
export interface ReachRow {
  deliveredAt: Date;
  withdrawn: boolean;
  /** The earliest date of its counting contact outcomes. */
  firstContactOn?: string;
  /** Its latest counting outcome (by date, then by when it was recorded). */
  latest?: OfferOutcomeKind;
}

/** A centre's reach for a period: the figure inspections ask children's centres for. */
export interface ReachFigures {
  targetDays: number;
  /** Births notified to the centre in the period (delivered to its inbox), not withdrawn since. */
  notified: number;
  /** Notifications delivered in the period and withdrawn since (a death, an objection, a move): not counted. */
  withdrawn: number;
  contactedWithinTarget: number;
  /** contactedWithinTarget / notified, as a percentage with one decimal; null when nothing was notified. */
  contactedWithinTargetPercent: number | null;
  contactedLate: number;
  /** Not contacted yet, and the due date has not passed: the figure may still rise. */
  notYetDue: number;
  /** Not contacted by the due date, and not moved away. */
  overdue: number;
  /** Notified births by their latest counting outcome; `none` for those with none. */
  outcomes: Record<OfferOutcomeKind | 'none', number>;
}

/** The reach figures of a centre's rows, at `now` (which decides what is still "not yet due"). */
export function reachFigures(rows: readonly ReachRow[], targetDays: number, now: Date): ReachFigures {
  const today = londonDateOf(now);
  const outcomes: Record<OfferOutcomeKind | 'none', number> = {
    contacted: 0,
    'offer-accepted': 0,
    'offer-declined': 0,
    'no-response': 0,
    'moved-away': 0,
    none: 0,
  };
  let notified = 0;
  let withdrawn = 0;
  let within = 0;
  let late = 0;
  let notYetDue = 0;
  let overdue = 0;
  for (const r of rows) {
    if (r.withdrawn) {
      withdrawn++;
      continue;
    }
    notified++;
    outcomes[r.latest ?? 'none']++;
    const due = contactDueBy(r.deliveredAt, targetDays);
    if (r.firstContactOn !== undefined) {
      if (r.firstContactOn <= due) within++;
      else late++;
    } else if (r.latest !== 'moved-away') {
      if (today > due) overdue++;
      else notYetDue++;
    }
  }
  return {
    targetDays,
    notified,
    withdrawn,
    contactedWithinTarget: within,
    contactedWithinTargetPercent: notified === 0 ? null : Math.round((within / notified) * 1000) / 10,
    contactedLate: late,
    notYetDue,
    overdue,
    outcomes,
  };
}
