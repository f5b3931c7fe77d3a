import { Router, type Request, type Response } from 'express';
import { normaliseNhsNumber, isValidNhsNumber } from '../../../src/domain/nhs-number.js';
import type { Catchments } from '../../../src/pipeline/catchments.js';
import {
  describeRecipient,
  disclosureCsv,
  KIND_TEXT,
  WITHDRAWAL_CATEGORY_TEXT,
  type DisclosureEntry,
  type DisclosureReport,
} from '../../../src/pipeline/reports/disclosure-report.js';
import { readDayRange, type DayRange } from '../../../src/pipeline/reports/london-days.js';
import type { AuditEventInput } from '../../../src/ports/audit.js';
import type { ReportCounts, SubjectEventSource } from '../../../src/ports/ig-reports.js';
import type { SignedInPerson } from '../../../src/ports/web-sessions.js';
import { generateDisclosureReport } from '../../../src/processing/disclosure-report.js';
import { londonDateTime } from './audit-sentences.js';
import { barChartSvg, CHART_COLOURS } from './bar-chart.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import type { PageKit } from './web-app.js';

export interface ReportPagesDeps {
  source: SubjectEventSource;
  counts: ReportCounts;
  audit: { append(events: readonly AuditEventInput[]): Promise<void> };
  catchments: Catchments;
  feedName: (feedId: string) => string | undefined;
  ruleDescription: (ruleId: string) => string | undefined;
}

const MIN_REASON = 3;
const MAX_REASON = 200;

interface FieldError {
  text: string;
  href: string;
}

/** The disclosure form's fields, read from a POST body: the NHS number (spaced or not) and the reason. */
function readDisclosureForm(
  body: unknown,
):
  | { ok: true; nhsNumber: string; reason: string; values: Record<string, string> }
  | { ok: false; values: Record<string, string>; errors: FieldError[]; fieldErrors: Record<string, string> } {
  const b = (body ?? {}) as Record<string, unknown>;
  const rawNhs = typeof b.nhsNumber === 'string' ? b.nhsNumber : '';
  const reason = (typeof b.reason === 'string' ? b.reason : '').trim();
  const values = { nhsNumber: rawNhs, reason };
  const errors: FieldError[] = [];
  const fieldErrors: Record<string, string> = {};
  const fail = (field: string, message: string): void => {
    errors.push({ text: message, href: `#${field}` });
    fieldErrors[field] = message;
  };
  const nhsNumber = normaliseNhsNumber(rawNhs);
  if (rawNhs.trim() === '') fail('nhsNumber', 'Enter the NHS number of the person (baby or mother)');
  else if (nhsNumber === undefined || !isValidNhsNumber(nhsNumber))
    fail('nhsNumber', 'Enter a valid NHS number: 10 digits, like 943 476 5919');
  if (reason.length === 0) fail('reason', 'Enter the reason for this report, for example the subject access request reference');
  else if (reason.length < MIN_REASON || reason.length > MAX_REASON)
    fail('reason', `The reason for this report must be ${MIN_REASON} to ${MAX_REASON} characters`);
  if (errors.length > 0 || nhsNumber === undefined) return { ok: false, values, errors, fieldErrors };
  return { ok: true, nhsNumber, reason, values };
}

const spaced = (n: string): string => `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;

/** An agreement label with its hash in groups of 16, so it wraps on the page and in print (JSON and CSV keep it whole). */
export const readableAgreement = (label: string): string =>
  label.replace(/#sha256:([0-9a-f]{64})$/, (_m, h: string) => ` sha256: ${(h.match(/.{16}/g) ?? [h]).join(' ')}`);

const ROLE_TEXT = { baby: 'As the baby', mother: 'As the mother', 'baby and mother': 'As the baby and the mother' } as const;

/** One row of the report's table, as text cells (nunjucks escapes them). */
function entryRow(e: DisclosureEntry) {
  const recipient = e.recipient
    ? [e.recipient.name, e.recipient.localAuthority ? `Local authority: ${e.recipient.localAuthority}` : undefined].filter(Boolean)
    : [];
  const what: string[] = [];
  if (e.dataset) what.push(`Dataset: ${e.dataset}`);
  if (e.fields) what.push(`Fields: ${e.fields.join(', ')}`);
  if (e.withdrawalReason) what.push(`Reason: ${WITHDRAWAL_CATEGORY_TEXT[e.withdrawalReason]}`);
  if (e.by) what.push(`By: ${e.by.name ? `${e.by.name} (${e.by.actor})` : e.by.actor}`);
  const under: string[] = [];
  if (e.ruleId) under.push(`Rule: ${e.ruleId}`);
  if (e.agreement) under.push(`Agreement: ${readableAgreement(e.agreement)}`);
  if (e.lawfulBasis) under.push(`Lawful basis: ${e.lawfulBasis}`);
  return {
    at: londonDateTime(new Date(e.at)),
    kind: KIND_TEXT[e.kind],
    notification: e.notificationId,
    role: ROLE_TEXT[e.subjectRole],
    recipient,
    what,
    under,
  };
}

function reportContext(report: DisclosureReport, reason: string) {
  return {
    nhsNumberSpaced: spaced(report.nhsNumber),
    generatedAt: londonDateTime(new Date(report.generatedAt)),
    reason,
    notifications: report.notifications,
    summary: report.summary,
    rows: report.entries.map(entryRow),
  };
}

const FEED_SERIES = [
  { key: 'accepted', label: 'Accepted', colour: CHART_COLOURS.green },
  { key: 'rejected', label: 'Rejected', colour: CHART_COLOURS.red },
  { key: 'quarantined', label: 'Quarantined', colour: CHART_COLOURS.purple },
  { key: 'notRelevant', label: 'Not relevant', colour: CHART_COLOURS.black },
];
const CENTRE_SERIES = [
  { key: 'delivered', label: 'Delivered', colour: CHART_COLOURS.blue },
  { key: 'takenOn', label: 'Taken on', colour: CHART_COLOURS.green },
  { key: 'withdrawn', label: 'Withdrawn', colour: CHART_COLOURS.red },
];
const RULE_SERIES = [{ key: 'decisions', label: 'Decisions', colour: CHART_COLOURS.blue }];

const REPORT_TABS = [
  { href: '/app/reports/feeds', text: 'Feeds' },
  { href: '/app/reports/centres', text: 'Centres' },
  { href: '/app/reports/rules', text: 'Rules' },
];

/**
 * The IG lead's report pages (issue 14 items 4 and 5): a person's disclosure report, asked for by POST (the NHS
 * number never appears in an address or an access log) with the reason for it, printable and downloadable as CSV,
 * every generation audited as an export; and the counts per feed and day, per centre and per rule, each as a bar
 * chart with its table.
 */
export function reportPages(kit: PageKit, deps: ReportPagesDeps): WebPages {
  const router = Router();
  const igLead = kit.requireRole('ig-lead');
  const formContext = { title: 'Disclosure report', current: '/app/disclosures' };

  const generate = (person: SignedInPerson, nhsNumber: string, reason: string, format: 'html' | 'csv') =>
    generateDisclosureReport(deps, {
      nhsNumber,
      by: { actor: `user:${person.sub}`, name: person.name },
      role: person.role,
      purpose: reason,
      format,
      via: 'web',
      at: kit.clock(),
    });

  router.get('/disclosures', igLead, (_req, res) => {
    kit.render(res, 'ig/disclosures.njk', { ...formContext, values: {} });
  });

  router.post('/disclosures', igLead, async (req, res) => {
    const person = signedIn(res);
    if (!person) return;
    const form = readDisclosureForm(req.body);
    if (!form.ok) {
      kit.render(
        res,
        'ig/disclosures.njk',
        { ...formContext, values: form.values, errors: form.errors, fieldErrors: form.fieldErrors },
        400,
      );
      return;
    }
    const report = await generate(person, form.nhsNumber, form.reason, 'html');
    kit.render(res, 'ig/disclosure-report.njk', {
      title: 'Disclosure report',
      current: '/app/disclosures',
      nhsNumber: form.nhsNumber,
      // Printed without the header, its navigation and the footer: the report alone, to attach to a reply.
      printable: true,
      report: reportContext(report, form.reason),
    });
  });

  router.post('/disclosures/csv', igLead, async (req, res) => {
    const person = signedIn(res);
    if (!person) return;
    const form = readDisclosureForm(req.body);
    if (!form.ok) {
      kit.render(
        res,
        'ig/disclosures.njk',
        { ...formContext, values: form.values, errors: form.errors, fieldErrors: form.fieldErrors },
        400,
      );
      return;
    }
    const report = await generate(person, form.nhsNumber, form.reason, 'csv');
    res
      .type('text/csv; charset=utf-8; header=present')
      .set('Content-Disposition', 'attachment; filename="disclosures.csv"')
      .send(disclosureCsv(report));
  });

  /** The range form's values and the range, or the page with the problem (400). */
  const rangeOf = (req: Request, res: Response, view: string, context: Record<string, unknown>): DayRange | undefined => {
    const q = (k: string): string | undefined => {
      const v = req.query[k];
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const read = readDayRange(q('from'), q('to'), kit.clock());
    if (read.ok) return read.range;
    const errors = read.problems.map((p) => ({
      text: `${p.field === 'from' ? 'Date from' : 'Date to'} ${p.message}`,
      href: `#${p.field}`,
    }));
    const fieldErrors = Object.fromEntries(
      read.problems.map((p) => [p.field, `${p.field === 'from' ? 'Date from' : 'Date to'} ${p.message}`]),
    );
    kit.render(res, view, { ...context, values: { from: q('from') ?? '', to: q('to') ?? '' }, errors, fieldErrors }, 400);
    return undefined;
  };
  /** The report page; each section's columns whose first row holds a number are right-aligned (GOV.UK numeric). */
  const renderReport = (res: Response, context: { sections: { head: string[]; rows: unknown[][] }[] } & Record<string, unknown>): void =>
    kit.render(res, 'ig/report.njk', {
      ...context,
      sections: context.sections.map((s) => ({ ...s, numeric: s.head.map((_h, i) => typeof s.rows[0]?.[i] === 'number') })),
    });
  const tabs = (current: string) => REPORT_TABS.map((t) => ({ ...t, current: t.href === current }));
  const rangeText = (r: DayRange) => `${r.from} to ${r.to} (${r.days} London day${r.days === 1 ? '' : 's'})`;

  router.get('/reports', igLead, (_req, res) => res.redirect(303, '/app/reports/feeds'));

  router.get('/reports/feeds', igLead, async (req, res) => {
    const context = { title: 'Reports: feeds', current: '/app/reports', tabs: tabs('/app/reports/feeds'), action: '/app/reports/feeds' };
    const range = rangeOf(req, res, 'ig/report.njk', context);
    if (!range) return;
    const [days, rejections] = await Promise.all([
      deps.counts.feedDays(range.start, range.end),
      deps.counts.feedRejections(range.start, range.end),
    ]);
    const feedLabel = (id: string) => (id === '' ? 'Unrecognised sender' : (deps.feedName(id) ?? id));
    const feeds = [...new Set(days.map((d) => d.feedId))];
    const sections = feeds.map((feedId, i) => {
      const rows = days.filter((d) => d.feedId === feedId);
      return {
        heading: feedLabel(feedId),
        chart: barChartSvg(
          `feed-${i}`,
          `${feedLabel(feedId)}: messages per day`,
          FEED_SERIES,
          rows.map((d) => ({
            label: d.day,
            values: { accepted: d.accepted, rejected: d.rejected, quarantined: d.quarantined, notRelevant: d.notRelevant },
          })),
        ),
        caption: `${feedLabel(feedId)}: messages per London day`,
        head: ['Day', 'Received', 'Accepted', 'Rejected', 'Quarantined', 'Not relevant'],
        rows: rows.map((d) => [d.day, d.received, d.accepted, d.rejected, d.quarantined, d.notRelevant]),
        reasons: rejections.filter((r) => r.feedId === feedId).map((r) => [r.reason, r.count]),
      };
    });
    renderReport(res, {
      ...context,
      values: { from: range.from, to: range.to },
      rangeText: rangeText(range),
      sections,
      empty: sections.length === 0,
    });
  });

  router.get('/reports/centres', igLead, async (req, res) => {
    const context = {
      title: 'Reports: centres',
      current: '/app/reports',
      tabs: tabs('/app/reports/centres'),
      action: '/app/reports/centres',
    };
    const range = rangeOf(req, res, 'ig/report.njk', context);
    if (!range) return;
    const centres = await deps.counts.centres(range.start, range.end);
    const named = centres.map((c) => ({ ...c, name: describeRecipient(deps.catchments, c.inboxId).name }));
    const sections =
      named.length === 0
        ? []
        : [
            {
              heading: 'Per centre (inbox)',
              chart: barChartSvg(
                'centres',
                'Notifications per centre',
                CENTRE_SERIES,
                named.map((c) => ({ label: c.name, values: { delivered: c.delivered, takenOn: c.takenOn, withdrawn: c.withdrawn } })),
              ),
              caption: 'Per centre',
              head: ['Centre', 'Delivered', 'Reads', 'Notifications read', 'Taken on', 'Withdrawn'],
              rows: named.map((c) => [c.name, c.delivered, c.reads, c.notificationsRead, c.takenOn, c.withdrawn]),
            },
          ];
    renderReport(res, {
      ...context,
      values: { from: range.from, to: range.to },
      rangeText: rangeText(range),
      sections,
      empty: sections.length === 0,
    });
  });

  router.get('/reports/rules', igLead, async (req, res) => {
    const context = { title: 'Reports: rules', current: '/app/reports', tabs: tabs('/app/reports/rules'), action: '/app/reports/rules' };
    const range = rangeOf(req, res, 'ig/report.njk', context);
    if (!range) return;
    const rules = await deps.counts.rules(range.start, range.end);
    const label = (r: { ruleId: string; effect: string }) => `${r.ruleId} (${r.effect})`;
    const sections =
      rules.length === 0
        ? []
        : [
            {
              heading: 'Decisions per rule',
              chart: barChartSvg(
                'rules',
                'Decisions per rule',
                RULE_SERIES,
                rules.map((r) => ({ label: label(r), values: { decisions: r.decisions } })),
              ),
              caption: 'Decisions per rule and agreement version',
              head: ['Rule', 'Description', 'Effect', 'Agreement', 'Decisions'],
              rows: rules.map((r) => [
                r.ruleId,
                deps.ruleDescription(r.ruleId) ?? '',
                r.effect,
                readableAgreement(r.agreement),
                r.decisions,
              ]),
            },
          ];
    renderReport(res, {
      ...context,
      values: { from: range.from, to: range.to },
      rangeText: rangeText(range),
      sections,
      empty: sections.length === 0,
    });
  });

  return {
    nav: [
      { href: '/app/disclosures', text: 'Disclosure report', roles: ['ig-lead'] },
      { href: '/app/reports', text: 'Reports', roles: ['ig-lead'] },
    ],
    router,
  };
}
