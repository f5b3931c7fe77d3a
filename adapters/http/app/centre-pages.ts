import { Router, type Request, type Response } from 'express';
import type { InboxStatus, NotificationStore } from '../../../src/ports/notification-store.js';
import type { SignedInPerson } from '../../../src/ports/web-sessions.js';
import { InvalidCursorError } from '../../../src/ports/paging.js';
import { UUID } from '../routes/paging.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { familyView, longDate, type FamilyView } from './family-view.js';
import { signedIn } from './sessions.js';
import {
  CLOSING_OUTCOMES,
  contactDueBy,
  isOverdue,
  OUTCOME_TEXT,
  overdueCutoff,
  type OfferOutcomeKind,
} from '../../../src/domain/offer-outcome.js';
import { londonMidnight } from '../../../src/pipeline/reports/london-days.js';
import type { OfferOutcomeStore } from '../../../src/ports/offer-outcomes.js';

/** The offer-of-support loop on the worklist (issue 15): outcomes, and each centre's target days for first contact. */
export interface WorklistLoop {
  outcomes: OfferOutcomeStore;
  targetDays: (centreId: string) => number;
}

const PAGE_SIZE = 50;
/** Withdrawn notifications shown in the banner at the top of the worklist: the most recent ones. */
const WITHDRAWN_SHOWN = 20;
const STATUSES = ['new', 'acknowledged', 'withdrawn', 'all'] as const;
const STATUS_LABELS: Record<(typeof STATUSES)[number], string> = {
  new: 'New',
  acknowledged: 'Taken on',
  withdrawn: 'Withdrawn',
  all: 'All',
};
const CONTACTS = ['any', 'overdue'] as const;
const CONTACT_LABELS: Record<(typeof CONTACTS)[number], string> = {
  any: 'Any',
  overdue: 'Overdue for first contact',
};
const AGES = ['7', '14', '28', 'any'] as const;
const AGE_LABELS: Record<(typeof AGES)[number], string> = {
  '7': 'Up to 1 week',
  '14': 'Up to 2 weeks',
  '28': 'Up to 4 weeks',
  any: 'Any age',
};

/** The London date `days` days before `now` (YYYY-MM-DD). */
export function londonDateDaysAgo(now: Date, days: number): string {
  return new Date(now.getTime() - days * 86_400_000).toLocaleDateString('en-CA', { timeZone: 'Europe/London' });
}

/** The person's audit identity: their subject at the identity provider and their name, never a shared key. */
const reader = (p: SignedInPerson): { actor: string; name: string } => ({ actor: `user:${p.sub}`, name: p.name });

/** A centre worker's own inbox: the scope their token carried. Nothing in the URL can choose another. */
const inboxOf = (res: Response): string => {
  const scope = signedIn(res)?.scope;
  if (scope === undefined) throw new Error('centre page reached without a centre worker');
  return scope;
};

/**
 * The centre worklist: a centre worker's own new families (their centre is their token's scope claim, never a
 * URL value), only the record the rules disclosed, newest first, filtered by status and the baby's age; a
 * family's page; "take on" (the API's acknowledgement). Withdrawn notifications head the list, without content.
 * Every listing and page is audited by the store as a read by this person.
 */
export function centrePages(kit: PageKit, notifications: NotificationStore, loop?: WorklistLoop): WebPages {
  const router = Router();
  const worker = kit.requireRole('centre-worker');

  router.get('/families', worker, async (req: Request, res: Response) => {
    const person = signedIn(res);
    if (!person) return;
    const inbox = inboxOf(res);
    const q = req.query;
    const status = typeof q.status === 'string' ? q.status : 'new';
    const age = typeof q.age === 'string' ? q.age : 'any';
    const after = typeof q.after === 'string' ? q.after : undefined;
    const contact = typeof q.contact === 'string' ? q.contact : 'any';
    const fieldErrors: Record<string, { text: string }> = {};
    if (!(CONTACTS as readonly string[]).includes(contact)) fieldErrors.contact = { text: 'Select first contact from the list' };
    if (!(STATUSES as readonly string[]).includes(status)) fieldErrors.status = { text: 'Select a status from the list' };
    if (!(AGES as readonly string[]).includes(age)) fieldErrors.age = { text: "Select the baby's age from the list" };
    const now = kit.clock();
    const statusItems = STATUSES.map((s) => ({ value: s, text: STATUS_LABELS[s], selected: s === status }));
    const ageItems = AGES.map((a) => ({ value: a, text: AGE_LABELS[a], selected: a === age }));
    const contactItems = CONTACTS.map((c) => ({ value: c, text: CONTACT_LABELS[c], selected: c === contact }));
    const targetDays = loop?.targetDays(inbox);
    const common = {
      title: 'New families',
      current: '/app/families',
      centreName: kit.inboxName(inbox) ?? inbox,
      statusItems,
      ageItems,
      ...(loop ? { contactItems, targetDays } : {}),
    };
    if (Object.keys(fieldErrors).length > 0) {
      const errors = Object.entries(fieldErrors).map(([field, e]) => ({ text: e.text, href: `#${field}` }));
      kit.render(res, 'worklist.njk', { ...common, errors, fieldErrors, rows: [], withdrawn: [] }, 400);
      return;
    }
    const withdrawn = await notifications.listInbox(
      inbox,
      { status: 'withdrawn', order: 'newest-first', limit: WITHDRAWN_SHOWN },
      reader(person),
      now,
    );
    const overdueOnly = loop !== undefined && contact === 'overdue';
    let page;
    try {
      page = await notifications.listInbox(
        inbox,
        {
          ...(status !== 'all' ? { status: status as InboxStatus } : {}),
          ...(age !== 'any' ? { bornOnOrAfter: londonDateDaysAgo(now, Number(age)) } : {}),
          // Overdue families: the longest waiting first.
          ...(overdueOnly && targetDays !== undefined ? { openDeliveredBefore: londonMidnight(overdueCutoff(now, targetDays)) } : {}),
          order: overdueOnly ? 'oldest-first' : 'newest-first',
          limit: PAGE_SIZE,
          ...(after !== undefined ? { after } : {}),
        },
        reader(person),
        now,
      );
    } catch (err) {
      if (!(err instanceof InvalidCursorError)) throw err;
      kit.notFound(res);
      return;
    }
    const outcomes = loop
      ? await loop.outcomes.countingOutcomes(
          inbox,
          page.items.map((i) => i.notificationId),
        )
      : new Map<string, OfferOutcomeKind[]>();
    const contactCell = (item: (typeof page.items)[number]): { html: string } => {
      if (!loop || targetDays === undefined || item.status === 'withdrawn') return { html: '' };
      const done = outcomes.get(item.notificationId) ?? [];
      const closing = [...done].reverse().find((o) => CLOSING_OUTCOMES.includes(o));
      if (closing !== undefined) return { html: escapeHtml(OUTCOME_TEXT[closing]) };
      const deliveredAt = new Date(item.deliveredAt);
      const due = `Due by ${escapeHtml(longDate(contactDueBy(deliveredAt, targetDays)) ?? '')}`;
      const overdue = isOverdue({ deliveredAt, withdrawn: false, outcomes: done.map((o) => ({ outcome: o })) }, targetDays, now);
      return { html: overdue ? `<strong class="govuk-tag govuk-tag--red stork-overdue">Overdue</strong> ${due}` : due };
    };
    const rows = page.items.map((item) => {
      const f: FamilyView = familyView(item);
      return [
        { html: `<a class="govuk-link" href="/app/families/${f.id}">${escapeHtml(f.babyName)}</a>` },
        { text: f.babyBorn ?? '' },
        { text: f.motherName ?? '' },
        { text: f.delivered },
        { html: `<strong class="govuk-tag ${f.statusTag}">${f.statusText}</strong>` },
        ...(loop ? [contactCell(item)] : []),
      ];
    });
    const nextHref =
      page.next !== undefined
        ? `/app/families?${new URLSearchParams({ status, age, ...(loop ? { contact } : {}), after: page.next }).toString()}`
        : undefined;
    kit.render(res, 'worklist.njk', {
      ...common,
      fieldErrors,
      rows,
      overdueOnly,
      withdrawn: withdrawn.items.map(familyView),
      ...(nextHref ? { nextHref } : {}),
    });
  });

  router.get('/families/:id', worker, async (req: Request, res: Response) => {
    const person = signedIn(res);
    if (!person) return;
    const inbox = inboxOf(res);
    const id = String(req.params.id);
    // Another centre's notification is simply not in this inbox: the same 404 as an id that does not exist.
    const item = UUID.test(id) ? await notifications.getInboxItem(inbox, id, reader(person), kit.clock()) : undefined;
    if (!item) {
      kit.notFound(res);
      return;
    }
    const f = familyView(item);
    const row = (key: string, value: string | string[] | undefined) =>
      Array.isArray(value)
        ? { key: { text: key }, value: { html: value.map(escapeHtml).join('<br>') } }
        : { key: { text: key }, value: { text: value ?? 'Not given' } };
    kit.render(res, 'family.njk', {
      title: f.babyName,
      current: '/app/families',
      centreName: kit.inboxName(inbox) ?? inbox,
      family: f,
      takenOnNow: req.query.taken === '1' && f.status === 'acknowledged',
      babyRows: [row('Name', f.babyName), row('Sex', f.babySex), row('Date of birth', f.babyBorn), row('NHS number', f.babyNhsNumber)],
      motherRows: [
        row('Name', f.motherName),
        row('Address', f.address),
        row('Phone', f.motherPhone),
        row('Preferred language', f.language),
      ],
      gpRows: [row('Practice', f.gp)],
    });
  });

  router.post('/families/:id/take-on', worker, async (req: Request, res: Response) => {
    const person = signedIn(res);
    if (!person) return;
    const inbox = inboxOf(res);
    const id = String(req.params.id);
    const result = UUID.test(id) ? await notifications.acknowledge(inbox, id, reader(person), kit.clock()) : 'not-found';
    if (result === 'not-found') {
      kit.notFound(res);
      return;
    }
    res.redirect(303, `/app/families/${id}${result === 'acknowledged' ? '?taken=1' : ''}`);
  });

  return { nav: [{ href: '/app/families', text: 'New families', roles: ['centre-worker'] }], router };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
