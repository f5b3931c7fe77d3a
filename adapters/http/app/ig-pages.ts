import { Router } from 'express';
import type { AuditEventsLog, AuditLog, AuditSearchLog } from '../../../src/ports/audit-log.js';
import type { AuditEventInput } from '../../../src/ports/audit.js';
import type { SignedInPerson } from '../../../src/ports/web-sessions.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import { readAuditSearch } from './audit-search-form.js';
import { describeEvent, EVENT_TYPES, londonDateTime, type AuditNames } from './audit-sentences.js';
import { decodeAuditCursor, encodeAuditCursor } from '../routes/paging.js';
import { isUuid } from './ids.js';

export interface IgPagesDeps {
  audit: AuditLog & AuditSearchLog & AuditEventsLog;
  /** The centres (inboxes) a search may name, as the drop-down lists them. */
  centres: readonly { id: string; name: string }[];
  /** The feeds and the agreements' rules a search may name, likewise. */
  feeds: readonly { id: string; name: string }[];
  rules: readonly { id: string; description: string }[];
  names: AuditNames;
}

/** Results one search shows, and events one trail shows (a notification's trail is a few dozen events). */
export const SEARCH_LIMIT = 100;
export const TRAIL_LIMIT = 1000;
/** Events one page of an event search shows (the next page by cursor). */
export const EVENTS_PAGE = 50;

/** The IG lead's reads of the audit are themselves audited, as reads by that person (their name from the token). */
function personRead(person: SignedInPerson, at: Date, fields: Partial<AuditEventInput>, details: Record<string, unknown>): AuditEventInput {
  return {
    at,
    actor: `user:${person.sub}`,
    action: 'read',
    ...fields,
    details: { name: person.name, role: person.role, ...details },
  };
}

/**
 * The information-governance lead's pages (issue 11 item 3): search the audit by NHS number (baby or mother),
 * centre and dates; each notification's trail from receipt to read, one sentence per event, with the rule,
 * rulebook version and lawful basis. Every search and every trail viewed is audited as a read by that person.
 */
export function igPages(kit: PageKit, deps: IgPagesDeps): WebPages {
  const router = Router();
  const centreIds = new Set(deps.centres.map((c) => c.id));
  const choices = { feedIds: new Set(deps.feeds.map((f) => f.id)), ruleIds: new Set(deps.rules.map((r) => r.id)) };
  const igLead = kit.requireRole('ig-lead');

  router.get('/audit', igLead, async (req, res) => {
    const person = signedIn(res);
    if (!person) return;
    const at = kit.clock();
    const form = readAuditSearch(req.query, centreIds, at, choices);
    const centreItems = [
      { value: '', text: 'Any centre' },
      ...deps.centres.map((c) => ({ value: c.id, text: c.name, selected: c.id === form.values.centre })),
    ];
    const feedItems = [
      { value: '', text: 'Any feed' },
      ...deps.feeds.map((f) => ({ value: f.id, text: f.name, selected: f.id === form.values.feed })),
    ];
    const ruleItems = [
      { value: '', text: 'Any rule' },
      ...deps.rules.map((r) => ({ value: r.id, text: `${r.id}: ${r.description}`, selected: r.id === form.values.rule })),
    ];
    const eventTypeItems = [
      { value: '', text: 'Any event type' },
      ...EVENT_TYPES.map((t) => ({ value: t.action, text: t.text, selected: t.action === form.values.eventType })),
    ];
    const context = {
      title: 'Search the audit',
      current: '/app/audit',
      values: form.values,
      centreItems,
      feedItems,
      ruleItems,
      eventTypeItems,
    };
    if (form.kind === 'empty') {
      kit.render(res, 'ig/search.njk', context);
      return;
    }
    if (form.kind === 'invalid') {
      kit.render(res, 'ig/search.njk', { ...context, errors: form.errors, fieldErrors: form.fieldErrors }, 400);
      return;
    }
    const { criteria } = form;
    if (criteria.feed || criteria.rule || criteria.action) {
      // A feed, rule or event type: the events themselves, a page at a time (the cursor from the previous page).
      const cursor = typeof req.query.cursor === 'string' ? decodeAuditCursor(req.query.cursor) : undefined;
      const events = await deps.audit.searchEvents({
        limit: EVENTS_PAGE,
        ...(criteria.subject ? { subject: criteria.subject } : {}),
        ...(criteria.centre ? { centre: criteria.centre } : {}),
        ...(criteria.feed ? { feed: criteria.feed } : {}),
        ...(criteria.rule ? { rule: criteria.rule } : {}),
        ...(criteria.action ? { action: criteria.action } : {}),
        ...(criteria.from ? { from: criteria.from } : {}),
        ...(criteria.before ? { before: criteria.before } : {}),
        ...(cursor !== undefined ? { afterSeq: cursor } : {}),
      });
      await deps.audit.append([
        personRead(person, at, criteria.subject ? { subjectNhsNumber: criteria.subject } : {}, {
          query: 'audit-events',
          purpose: 'compliance',
          filters: {
            ...(criteria.centre ? { centre: criteria.centre } : {}),
            ...(criteria.feed ? { feed: criteria.feed } : {}),
            ...(criteria.rule ? { rule: criteria.rule } : {}),
            ...(criteria.action ? { action: criteria.action } : {}),
            ...(criteria.from ? { from: criteria.from.toISOString() } : {}),
            ...(criteria.before ? { to: criteria.before.toISOString() } : {}),
          },
          results: events.length,
        }),
      ]);
      const last = events[events.length - 1];
      const nextQuery = new URLSearchParams(
        Object.entries(req.query).filter((e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'cursor'),
      );
      if (last && events.length === EVENTS_PAGE) nextQuery.set('cursor', encodeAuditCursor(last.seq));
      kit.render(res, 'ig/search.njk', {
        ...context,
        searchedEvents: true,
        events: events.map((e) => ({
          ...describeEvent(e, deps.names),
          when: londonDateTime(e.at),
          notificationId: e.notificationId,
          centre: e.recipient !== undefined ? (deps.names.inboxName(e.recipient) ?? e.recipient) : '',
        })),
        ...(last && events.length === EVENTS_PAGE ? { nextHref: `/app/audit?${nextQuery.toString()}` } : {}),
      });
      return;
    }
    const found = await deps.audit.searchNotifications({
      limit: SEARCH_LIMIT,
      ...(criteria.subject ? { subject: criteria.subject } : {}),
      ...(criteria.centre ? { recipient: criteria.centre } : {}),
      ...(criteria.from ? { from: criteria.from } : {}),
      ...(criteria.before ? { before: criteria.before } : {}),
    });
    await deps.audit.append([
      personRead(person, at, criteria.subject ? { subjectNhsNumber: criteria.subject } : {}, {
        query: 'audit-search',
        purpose: 'compliance',
        ...(criteria.centre ? { centre: criteria.centre } : {}),
        ...(criteria.from ? { from: criteria.from.toISOString() } : {}),
        ...(criteria.before ? { before: criteria.before.toISOString() } : {}),
        results: found.length,
      }),
    ]);
    kit.render(res, 'ig/search.njk', {
      ...context,
      searched: true,
      more: found.length === SEARCH_LIMIT,
      results: found.map((n) => ({
        id: n.notificationId,
        firstAt: londonDateTime(n.firstAt),
        lastAt: londonDateTime(n.lastAt),
        centres: n.recipients.map((r) => deps.names.inboxName(r) ?? r).join(', ') || 'None',
        reads: n.reads,
      })),
    });
  });

  router.get('/audit/notifications/:id', igLead, async (req, res) => {
    const person = signedIn(res);
    const id = req.params.id;
    if (!person || typeof id !== 'string' || !isUuid(id)) {
      kit.notFound(res);
      return;
    }
    const events = await deps.audit.trail(id.toLowerCase(), TRAIL_LIMIT);
    if (events.length === 0) {
      kit.notFound(res);
      return;
    }
    const subject = events.find((e) => e.subjectNhsNumber !== undefined)?.subjectNhsNumber;
    await deps.audit.append([
      personRead(
        person,
        kit.clock(),
        { notificationId: id.toLowerCase(), ...(subject ? { subjectNhsNumber: subject } : {}) },
        { query: 'audit-trail', purpose: 'compliance' },
      ),
    ]);
    kit.render(res, 'ig/trail.njk', {
      title: 'Notification audit trail',
      current: '/app/audit',
      notificationId: id.toLowerCase(),
      lines: events.map((e) => describeEvent(e, deps.names)),
      truncated: events.length === TRAIL_LIMIT,
    });
  });

  return { nav: [{ href: '/app/audit', text: 'Search the audit', roles: ['ig-lead'] }], router };
}
