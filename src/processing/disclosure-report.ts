/**
 * Generating a subject-access disclosure report (issue 14 item 4), whichever way it is asked for (the API, the IG
 * lead's page, the command line): the person's events read from the store, the report built, and its generation
 * audited as an export (who, when, whose, why, in which format) before it is handed out.
 */
import type { Catchments } from '../pipeline/catchments.js';
import { buildDisclosureReport, type DisclosureReport } from '../pipeline/reports/disclosure-report.js';
import { actorFields, type AuditActor, type AuditEventInput } from '../ports/audit.js';
import type { SubjectEventSource, TimeWindow } from '../ports/ig-reports.js';

export interface DisclosureReportDeps {
  source: SubjectEventSource;
  audit: { append(events: readonly AuditEventInput[]): Promise<void> };
  catchments: Catchments;
}

export interface DisclosureReportRequest extends TimeWindow {
  nhsNumber: string;
  /** Who asks: a client, a signed-in person, or the operator at the command line. */
  by: AuditActor;
  /** The person's role, when a person asks. */
  role?: string;
  /** Why (e.g. "subject access request ref 123"): recorded with the export. */
  purpose?: string;
  format: 'json' | 'csv' | 'html';
  via: 'api' | 'web' | 'cli';
  at: Date;
}

export async function generateDisclosureReport(deps: DisclosureReportDeps, req: DisclosureReportRequest): Promise<DisclosureReport> {
  const window: TimeWindow = { ...(req.since ? { since: req.since } : {}), ...(req.until ? { until: req.until } : {}) };
  const { notifications, events } = await deps.source.subjectEvents(req.nhsNumber, window);
  const report = buildDisclosureReport({
    nhsNumber: req.nhsNumber,
    generatedAt: req.at,
    ...window,
    notifications,
    events,
    catchments: deps.catchments,
  });
  const who = actorFields(req.by);
  await deps.audit.append([
    {
      at: req.at,
      ...who,
      action: 'exported',
      subjectNhsNumber: req.nhsNumber,
      outcome: req.format,
      details: {
        ...who.details,
        ...(req.role !== undefined ? { role: req.role } : {}),
        report: 'subject-disclosures',
        via: req.via,
        purpose: req.purpose ?? null,
        ...(req.since ? { since: req.since.toISOString() } : {}),
        ...(req.until ? { until: req.until.toISOString() } : {}),
        notifications,
        entries: report.entries.length,
      },
    },
  ]);
  return report;
}
