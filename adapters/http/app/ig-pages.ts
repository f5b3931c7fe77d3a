import { Router } from 'express';
import type { AuditLog, AuditSearchLog } from '../../../src/ports/audit-log.js';
import type { AuditEventInput } from '../../../src/ports/audit.js';
import type { SignedInPerson } from '../../../src/ports/web-sessions.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import { readAuditSearch } from './audit-search-form.js';
import { describeEvent, londonDateTime, type AuditNames } from './audit-sentences.js';

export interface IgPagesDeps {
  audit: AuditLog & AuditSearchLog;
  /** The centres (inboxes) a search may name, as the drop-down lists them. */
  centres: readonly { id: string; name: string }[];
  names: AuditNames;
}

/** Results one search shows, and events one trail shows (a notification's trail is a few dozen events). */
export const SEARCH_LIMIT = 100;
export const TRAIL_LIMIT = 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  const igLead = kit.requireRole('ig-lead');

  router.get('/audit', igLead, async (req, res) => {
    const person = signedIn(res);
    if (!person) return;
    const at = kit.clock();
    const form = readAuditSearch(req.query, centreIds, at);
    const centreItems = [
      { value: '', text: 'Any centre' },
      ...deps.centres.map((c) => ({ value: c.id, text: c.name, selected: c.id === form.values.centre })),
    ];
    const context = { title: 'Search the audit', current: '/app/audit', values: form.values, centreItems };
    if (form.kind === 'empty') {
      kit.render(res, 'ig/search.njk', context);
      return;
    }
    if (form.kind === 'invalid') {
      kit.render(res, 'ig/search.njk', { ...context, errors: form.errors, fieldErrors: form.fieldErrors }, 400);
      return;
    }
    const { criteria } = form;
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
    if (!person || typeof id !== 'string' || !UUID.test(id)) {
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
        { query: 'audit-trail' },
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
