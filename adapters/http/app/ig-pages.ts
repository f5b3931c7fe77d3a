import { Router, type Request, type Response } from 'express';
import type { AuditLog, AuditQuery } from '../../../src/ports/audit-log.js';
import type { AuditAction, AuditEvent } from '../../../src/ports/audit.js';
import { isValidNhsNumber } from '../../../src/domain/nhs-number.js';
import { UUID } from '../routes/paging.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import { longDateTime, spacedNhsNumber } from './family-view.js';

const RESULTS = 200;

/** Each audit step in words, for people who do not read the code. */
const STEPS: Record<AuditAction, string> = {
  received: 'Message received',
  rejected: 'Message rejected',
  mapped: 'Message read',
  validated: 'Checked',
  'not-relevant': 'Not a newborn: not shared',
  'duplicate-birth': 'Same birth already notified',
  decided: 'Sharing decided',
  routed: 'Centre chosen',
  delivered: 'Shared with the centre',
  withheld: 'Not shared',
  withdrawn: 'Withdrawn',
  read: 'Read',
  acknowledged: 'Taken on',
  replayed: 'Replayed by an operator',
  'raw-read': 'Raw message read by an administrator',
  'event-received': 'Signal event received from a trust',
  'event-fetched': 'Record fetched from the trust’s FHIR server',
  linked: 'Same birth by another route: linked to the notification and added to it',
  'not-linked': 'Looked like the same birth but differed: kept apart',
  updated: 'Updated record shared with the centre',
};

/** Who acted, in words: a person by name, an API client, a feed or Stork itself. */
function who(e: AuditEvent): string {
  const name = typeof e.details?.name === 'string' ? e.details.name : undefined;
  if (e.actor.startsWith('user:')) return name !== undefined ? `${name} (signed in)` : e.actor;
  if (e.actor.startsWith('client:')) return `API key ${e.actor.slice('client:'.length)}`;
  if (e.actor.startsWith('feed:')) return `Feed ${e.actor.slice('feed:'.length)}`;
  return 'Stork';
}

/** A London date (YYYY-MM-DD) as the instant its day starts (or the next day starts), in London. */
function londonDayStart(date: string, plusDays = 0): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const utcNoon = Date.UTC(y, m - 1, d + plusDays, 12);
  const offset = new Date(utcNoon).toLocaleString('en-GB', { timeZone: 'Europe/London', timeZoneName: 'shortOffset' }).includes('+1')
    ? 60
    : 0;
  return new Date(Date.UTC(y, m - 1, d + plusDays) - offset * 60_000);
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (s: string): boolean => DATE.test(s) && !Number.isNaN(new Date(`${s}T00:00:00Z`).getTime());

/**
 * The information-governance lead's pages: search the audit trail by NHS number (baby or mother), centre and
 * date; a notification's trail from receipt to read, with the rule, the rulebook version and the lawful basis in
 * words. Each search and trail is itself audited as a read by the IG lead.
 */
export function igPages(
  kit: PageKit,
  audit: AuditLog,
  o: { inboxIds: readonly string[]; ruleDescription: (ruleId: string) => string | undefined },
): WebPages {
  const router = Router();
  const lead = kit.requireRole('ig-lead');
  const row = (e: AuditEvent, withLink: boolean) => [
    { text: longDateTime(e.at.toISOString()) ?? '' },
    { text: STEPS[e.action] },
    { text: who(e) },
    { text: e.recipient !== undefined ? (kit.inboxName(e.recipient) ?? e.recipient) : '' },
    withLink && e.notificationId !== undefined
      ? {
          html: `<a class="govuk-link" href="/app/audit/notifications/${e.notificationId}">Trail<span class="govuk-visually-hidden"> of this notification</span></a>`,
        }
      : { text: e.ruleId !== undefined ? (o.ruleDescription(e.ruleId) ?? e.ruleId) : '' },
  ];

  router.get('/audit', lead, async (req: Request, res: Response) => {
    const person = signedIn(res);
    if (!person) return;
    const str = (k: string): string => (typeof req.query[k] === 'string' ? req.query[k].trim() : '');
    const values = { nhs: str('nhs').replace(/\s+/g, ''), centre: str('centre'), from: str('from'), to: str('to') };
    const searched = Object.values(values).some((v) => v !== '');
    const fieldErrors: Record<string, { text: string }> = {};
    if (values.nhs !== '' && !isValidNhsNumber(values.nhs)) fieldErrors.nhs = { text: 'Enter a valid 10-digit NHS number' };
    if (values.centre !== '' && !o.inboxIds.includes(values.centre)) fieldErrors.centre = { text: 'Select a centre from the list' };
    if (values.from !== '' && !validDate(values.from)) fieldErrors.from = { text: 'Enter the start date as a real date' };
    if (values.to !== '' && !validDate(values.to)) fieldErrors.to = { text: 'Enter the end date as a real date' };
    if (
      searched &&
      values.nhs === '' &&
      values.centre === '' &&
      values.from === '' &&
      values.to === '' &&
      Object.keys(fieldErrors).length === 0
    )
      fieldErrors.nhs = { text: 'Enter an NHS number, or choose a centre or dates' };
    const centreItems = [
      { value: '', text: 'Any centre' },
      ...o.inboxIds.map((id) => ({ value: id, text: kit.inboxName(id) ?? id, selected: id === values.centre })),
    ];
    const common = { title: 'Audit', current: '/app/audit', values, centreItems, fieldErrors };
    if (Object.keys(fieldErrors).length > 0) {
      const errors = Object.entries(fieldErrors).map(([field, e]) => ({ text: e.text, href: `#${field}` }));
      kit.render(res, 'audit-search.njk', { ...common, errors }, 400);
      return;
    }
    if (!searched) {
      kit.render(res, 'audit-search.njk', common);
      return;
    }
    const q: AuditQuery = {
      limit: RESULTS,
      ...(values.nhs !== '' ? { subject: values.nhs } : {}),
      ...(values.centre !== '' ? { recipient: values.centre } : {}),
      ...(values.from !== '' ? { from: londonDayStart(values.from) } : {}),
      ...(values.to !== '' ? { before: londonDayStart(values.to, 1) } : {}),
    };
    const events = await audit.query(q);
    await audit.append([
      {
        at: kit.clock(),
        actor: `user:${person.sub}`,
        action: 'read',
        ...(values.nhs !== '' ? { subjectNhsNumber: values.nhs } : {}),
        details: { name: person.name, query: 'audit', results: events.length },
      },
    ]);
    kit.render(res, 'audit-search.njk', {
      ...common,
      searched: true,
      subjectText: spacedNhsNumber(values.nhs),
      truncated: events.length === RESULTS,
      rows: events.map((e) => row(e, true)),
    });
  });

  router.get('/audit/notifications/:id', lead, async (req: Request, res: Response) => {
    const person = signedIn(res);
    if (!person) return;
    const id = String(req.params.id);
    const own = UUID.test(id) ? await audit.query({ notificationId: id, limit: 500 }) : [];
    if (own.length === 0) {
      kit.notFound(res);
      return;
    }
    // From receipt: the events of the message that brought the notification, before it existed.
    const messageId = own.find((e) => e.messageId !== undefined)?.messageId;
    const ofMessage = messageId !== undefined ? await audit.query({ messageId, limit: 500 }) : [];
    const trail = [...new Map([...ofMessage, ...own].map((e) => [e.seq, e])).values()].sort((a, b) => a.seq - b.seq);
    await audit.append([
      {
        at: kit.clock(),
        actor: `user:${person.sub}`,
        action: 'read',
        notificationId: id,
        details: { name: person.name, query: 'audit-trail' },
      },
    ]);
    const disclosure = trail.find((e) => e.action === 'delivered') ?? trail.find((e) => e.action === 'decided');
    kit.render(res, 'audit-trail.njk', {
      title: 'Notification trail',
      current: '/app/audit',
      rows: trail.map((e) => row(e, false)),
      decision: disclosure
        ? {
            rule: disclosure.ruleId !== undefined ? (o.ruleDescription(disclosure.ruleId) ?? disclosure.ruleId) : 'Not recorded',
            ruleId: disclosure.ruleId ?? '',
            rulebookVersion: disclosure.rulebookVersion ?? 'Not recorded',
            lawfulBasis: disclosure.lawfulBasis ?? 'Not recorded',
          }
        : undefined,
    });
  });

  return { nav: [{ href: '/app/audit', text: 'Audit', roles: ['ig-lead'] }], router };
}
