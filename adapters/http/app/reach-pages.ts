import { Router, type Request, type Response } from 'express';
import { OFFER_OUTCOMES, OUTCOME_TEXT } from '../../../src/domain/offer-outcome.js';
import type { Catchments } from '../../../src/pipeline/catchments.js';
import { reachCsv, reachReport, readReachPeriod, type ReachReport } from '../../../src/pipeline/reports/reach.js';
import type { OfferOutcomeStore } from '../../../src/ports/offer-outcomes.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import type { PageKit } from './web-app.js';

export interface ReachPagesDeps {
  outcomes: OfferOutcomeStore;
  catchments: Catchments;
}

const FIELD_TEXT: Record<string, string> = { month: 'Month', from: 'Date from', to: 'Date to' };

/**
 * The reach figure (issue 15 item 3) for people: a centre worker sees their own centre's, the IG lead and operators
 * every centre's, for a month or a range of London dates; downloadable as CSV. Counts only: no personal data.
 */
export function reachPages(kit: PageKit, deps: ReachPagesDeps): WebPages {
  const router = Router();
  const allowed = kit.requireRole('centre-worker', 'ig-lead', 'operator');

  /** The centres this person may see: their own (a centre worker), or every centre. */
  const centresOf = (res: Response): string[] => {
    const person = signedIn(res);
    if (person?.role === 'centre-worker')
      return person.scope !== undefined && deps.catchments.centres.has(person.scope) ? [person.scope] : [];
    return [...deps.catchments.centres.keys()];
  };

  /** The report, or the page with the period's problems (400); undefined when answered. */
  const build = async (req: Request, res: Response): Promise<{ report: ReachReport; values: Record<string, string> } | undefined> => {
    const q = (k: string): string | undefined => {
      const v = req.query[k];
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const values = { month: q('month') ?? '', from: q('from') ?? '', to: q('to') ?? '' };
    const now = kit.clock();
    const period = readReachPeriod({ month: q('month'), from: q('from'), to: q('to') }, now);
    if (!period.ok) {
      const text = (p: { field: string; message: string }) => `${FIELD_TEXT[p.field] ?? p.field} ${p.message}`;
      kit.render(
        res,
        'reach.njk',
        {
          title: 'Reach',
          current: '/app/reach',
          values,
          errors: period.problems.map((p) => ({ text: text(p), href: `#${p.field}` })),
          fieldErrors: Object.fromEntries(period.problems.map((p) => [p.field, { text: text(p) }])),
        },
        400,
      );
      return undefined;
    }
    const rows = await deps.outcomes.reachRows(centresOf(res), period.range.start, period.range.end);
    return { report: reachReport(deps.catchments, period.range, rows, now), values };
  };

  router.get('/reach', allowed, async (req, res) => {
    const built = await build(req, res);
    if (!built) return;
    const { report, values } = built;
    const csvQuery = new URLSearchParams(Object.entries(values).filter(([, v]) => v !== '')).toString();
    kit.render(res, 'reach.njk', {
      title: 'Reach',
      current: '/app/reach',
      values,
      rangeText: `${report.from} to ${report.to} (${report.days} London day${report.days === 1 ? '' : 's'})`,
      csvHref: `/app/reach.csv${csvQuery ? `?${csvQuery}` : ''}`,
      outcomeHead: OFFER_OUTCOMES.map((o) => OUTCOME_TEXT[o]),
      centres: report.centres.map((c) => ({
        name: c.name,
        targetDays: c.targetDays,
        notified: c.notified,
        within: c.contactedWithinTarget,
        percent: c.contactedWithinTargetPercent === null ? 'No births notified' : `${c.contactedWithinTargetPercent}%`,
        late: c.contactedLate,
        notYetDue: c.notYetDue,
        overdue: c.overdue,
        withdrawn: c.withdrawn,
        outcomes: [...OFFER_OUTCOMES.map((o) => c.outcomes[o]), c.outcomes.none],
      })),
    });
  });

  router.get('/reach.csv', allowed, async (req, res) => {
    const built = await build(req, res);
    if (!built) return;
    res
      .type('text/csv; charset=utf-8; header=present')
      .set('Content-Disposition', 'attachment; filename="reach.csv"')
      .set('Cache-Control', 'no-store')
      .send(reachCsv(built.report));
  });

  return { nav: [{ href: '/app/reach', text: 'Reach', roles: ['centre-worker', 'ig-lead', 'operator'] }], router };
}
