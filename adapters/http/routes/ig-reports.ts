import { Router, type Request, type Response } from 'express';
import { isValidNhsNumber } from '../../../src/domain/nhs-number.js';
import type { Catchments } from '../../../src/pipeline/catchments.js';
import { describeRecipient, disclosureCsv } from '../../../src/pipeline/reports/disclosure-report.js';
import { readDayRange, readWindowBound, type DayRange } from '../../../src/pipeline/reports/london-days.js';
import type { AuditEventInput } from '../../../src/ports/audit.js';
import type { ReportCounts, SubjectEventSource } from '../../../src/ports/ig-reports.js';
import { generateDisclosureReport } from '../../../src/processing/disclosure-report.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem, type FieldProblem } from '../problem.js';

export interface IgReportDeps {
  source: SubjectEventSource;
  counts: ReportCounts;
  audit: { append(events: readonly AuditEventInput[]): Promise<void> };
  catchments: Catchments;
  clock: () => Date;
}

/** The longest purpose a report's requester may give. */
export const MAX_PURPOSE = 200;

const str = (req: Request, k: string): string | undefined => {
  const v = req.query[k];
  return typeof v === 'string' ? v : undefined;
};

/** Reads `from` and `to` (London dates); answers 400 naming the field, or gives the range. */
function rangeOf(req: Request, res: Response, now: Date): DayRange | undefined {
  const read = readDayRange(str(req, 'from'), str(req, 'to'), now);
  if (!read.ok) {
    sendProblem(res, 400, 'Invalid query', undefined, read.problems);
    return undefined;
  }
  return read.range;
}

const rangeJson = (r: DayRange) => ({ from: r.from, to: r.to, days: r.days, timeZone: 'Europe/London' });

/**
 * For information-governance leads (role `ig`): a person's disclosure report (issue 14 item 4) as JSON or CSV, its
 * generation audited as an export; and the counts reports (item 5) per feed and day, per centre, per rule.
 */
export function igReportRoutes(deps: IgReportDeps): Router {
  const router = Router();

  router.get('/v1/subjects/:nhsNumber/disclosures', requireRole('ig'), async (req, res) => {
    const nhsNumber = String(req.params.nhsNumber ?? '').replace(/\s+/g, '');
    const format = str(req, 'format') ?? (req.accepts(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json');
    const since = str(req, 'since');
    const until = str(req, 'until');
    const purpose = str(req, 'purpose')?.trim();
    const problems: FieldProblem[] = [];
    if (!isValidNhsNumber(nhsNumber))
      problems.push({ field: 'nhsNumber', message: 'must be a valid 10-digit NHS number (Modulus 11 check digit)' });
    if (format !== 'json' && format !== 'csv') problems.push({ field: 'format', message: 'must be json or csv' });
    const sinceAt = since === undefined ? undefined : readWindowBound(since, 'since');
    const untilAt = until === undefined ? undefined : readWindowBound(until, 'until');
    if (since !== undefined && sinceAt === undefined)
      problems.push({ field: 'since', message: 'must be a date (YYYY-MM-DD, London) or an ISO date-time with offset' });
    if (until !== undefined && untilAt === undefined)
      problems.push({ field: 'until', message: 'must be a date (YYYY-MM-DD, London) or an ISO date-time with offset' });
    if (sinceAt && untilAt && sinceAt >= untilAt) problems.push({ field: 'since', message: 'must be before `until`' });
    if (purpose !== undefined && (purpose.length === 0 || purpose.length > MAX_PURPOSE))
      problems.push({ field: 'purpose', message: `must be 1 to ${MAX_PURPOSE} characters` });
    if (problems.length > 0) {
      sendProblem(res, 400, 'Invalid query', undefined, problems);
      return;
    }
    res.set('Cache-Control', 'no-store');
    if (req.method === 'HEAD') {
      // Nothing leaves the hub on a HEAD: the report is neither generated nor exported (so nothing is audited).
      res.type(format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/json').end();
      return;
    }
    const report = await generateDisclosureReport(deps, {
      nhsNumber,
      by: `client:${clientOf(res).id}`,
      ...(purpose !== undefined ? { purpose } : {}),
      ...(sinceAt ? { since: sinceAt } : {}),
      ...(untilAt ? { until: untilAt } : {}),
      format: format === 'csv' ? 'csv' : 'json',
      via: 'api',
      at: deps.clock(),
    });
    if (format === 'csv') {
      res
        .type('text/csv; charset=utf-8; header=present')
        .set('Content-Disposition', 'attachment; filename="disclosures.csv"')
        .send(disclosureCsv(report));
      return;
    }
    res.json(report);
  });

  router.get('/v1/reports/feeds', requireRole('ig'), async (req, res) => {
    const range = rangeOf(req, res, deps.clock());
    if (!range) return;
    const [days, rejections] = await Promise.all([
      deps.counts.feedDays(range.start, range.end),
      deps.counts.feedRejections(range.start, range.end),
    ]);
    res.json({ ...rangeJson(range), days, rejections });
  });

  router.get('/v1/reports/centres', requireRole('ig'), async (req, res) => {
    const range = rangeOf(req, res, deps.clock());
    if (!range) return;
    const centres = await deps.counts.centres(range.start, range.end);
    res.json({
      ...rangeJson(range),
      centres: centres.map((c) => {
        const r = describeRecipient(deps.catchments, c.inboxId);
        return { ...c, name: r.name, kind: r.kind, ...(r.localAuthority !== undefined ? { localAuthority: r.localAuthority } : {}) };
      }),
    });
  });

  router.get('/v1/reports/rules', requireRole('ig'), async (req, res) => {
    const range = rangeOf(req, res, deps.clock());
    if (!range) return;
    res.json({ ...rangeJson(range), rules: await deps.counts.rules(range.start, range.end) });
  });

  return router;
}
