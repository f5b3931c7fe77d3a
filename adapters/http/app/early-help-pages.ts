import { Router } from 'express';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import type { FiringSummary, FiringView, TriggerStore } from '../../../src/ports/triggers.js';
import type { PersonName } from '../../../src/domain/birth-notification.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import { londonDateTime } from './audit-sentences.js';
import { isUuid } from './ids.js';

export interface EarlyHelpPagesDeps {
  triggers: TriggerStore;
  audit: AuditLog;
  /** The name of a trigger recipient's queue. */
  queueName: (inboxId: string) => string | undefined;
}

/** Firings a page. */
export const EARLY_HELP_PAGE = 200;

export const personName = (n: PersonName | undefined): string =>
  n === undefined ? 'Name not recorded' : [...(n.given ?? []), n.family ?? ''].join(' ').trim() || 'Name not recorded';

const longDate = (ymd: string | undefined): string => {
  if (ymd === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(ymd)) return 'Not recorded';
  return new Date(`${ymd}T12:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
};

const nhs = (n: string | undefined): string => (n === undefined ? 'Not recorded' : `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`);

/** What the page shows of a firing: its minimum dataset, nothing more (the dataset holds no code or clinical text). */
export function firingContext(f: FiringView): Record<string, unknown> {
  const d = f.dataset;
  const a = d.familyAddress;
  return {
    id: f.id,
    triggerName: d.trigger.name,
    occurredOn: longDate(d.occurredOn),
    received: londonDateTime(new Date(f.createdAt)),
    parent: { name: personName(d.parent.name), nhsNumber: nhs(d.parent.nhsNumber), birthDate: longDate(d.parent.birthDate) },
    children: d.children.map((c) => ({ name: personName(c.name), birthDate: longDate(c.birthDate), nhsNumber: nhs(c.nhsNumber) })),
    address: a ? [...a.lines, a.city, a.postcode].filter((l): l is string => typeof l === 'string' && l !== '').join(', ') : 'Not recorded',
    lawfulBasis: f.lawfulBasis,
    agreementVersion: f.agreementVersion,
    ...(f.takenOnAt !== undefined ? { takenOn: londonDateTime(new Date(f.takenOnAt)) } : {}),
  };
}

/**
 * The early-help front door's queue (issue 17 item 3): firings of the triggers whose recipient is the worker's queue
 * (their token's scope), newest first, and each firing's minimum dataset: the parent, the children, the day and the
 * trigger's name. Every view is audited as a read by the worker (purpose `safeguarding`). A worker takes a firing's
 * family on (POST .../take-on, audited `firing-taken-on`); the queue lists those taken on apart, after the others.
 */
export function earlyHelpPages(kit: PageKit, deps: EarlyHelpPagesDeps): WebPages {
  const router = Router();
  const workers = kit.requireRole('early-help-worker');

  router.get('/early-help', workers, async (_req, res) => {
    const person = signedIn(res);
    const inbox = person?.scope;
    if (!person || inbox === undefined) {
      kit.notFound(res);
      return;
    }
    const items = await deps.triggers.queue(inbox, EARLY_HELP_PAGE);
    await deps.audit.append([
      {
        at: kit.clock(),
        actor: `user:${person.sub}`,
        action: 'read',
        recipient: inbox,
        details: { name: person.name, role: person.role, purpose: 'safeguarding', query: 'early-help-queue', results: items.length },
      },
    ]);
    const row = (i: FiringSummary): Record<string, unknown> => ({
      id: i.id,
      trigger: i.triggerName,
      occurredOn: longDate(i.occurredOn),
      received: londonDateTime(new Date(i.createdAt)),
      children: i.children,
      isNew: i.firstReadAt === undefined,
      ...(i.takenOnAt !== undefined ? { takenOn: londonDateTime(new Date(i.takenOnAt)) } : {}),
    });
    kit.render(res, 'early-help/queue.njk', {
      title: 'Early help: triggers received',
      current: '/app/early-help',
      queueName: deps.queueName(inbox) ?? inbox,
      // Not yet taken on first; those taken on apart, as the centre worklist keeps new and taken-on families apart.
      items: items.filter((i) => i.takenOnAt === undefined).map(row),
      takenOn: items.filter((i) => i.takenOnAt !== undefined).map(row),
    });
  });

  router.get('/early-help/:id', workers, async (req, res) => {
    const person = signedIn(res);
    const id = String(req.params.id);
    const firing = person?.scope !== undefined && isUuid(id) ? await deps.triggers.get(id) : undefined;
    // Another queue's firing, or one not delivered (held, closed), is answered as one that does not exist.
    if (!person || firing === undefined || firing.inboxId !== person.scope || firing.status !== 'delivered') {
      kit.notFound(res);
      return;
    }
    const at = kit.clock();
    await deps.audit.append([
      {
        at,
        actor: `user:${person.sub}`,
        action: 'read',
        subjectNhsNumber: firing.subjectNhsNumber,
        recipient: firing.inboxId,
        ruleId: firing.triggerId,
        rulebookVersion: firing.agreementVersion,
        lawfulBasis: firing.lawfulBasis,
        outcome: 'trigger-firing',
        details: { name: person.name, role: person.role, purpose: 'safeguarding', firingId: firing.id, children: firing.children },
      },
    ]);
    await deps.triggers.markRead(firing.id, at);
    kit.render(res, 'early-help/firing.njk', {
      title: firing.dataset.trigger.name,
      current: '/app/early-help',
      takenOnNow: req.query.taken === '1' && firing.takenOnAt !== undefined,
      ...firingContext(firing),
    });
  });

  // Taking the family on: only a delivered firing of the worker's own queue; anything else is the same 404.
  router.post('/early-help/:id/take-on', workers, async (req, res) => {
    const person = signedIn(res);
    const inbox = person?.scope;
    const id = String(req.params.id);
    const result =
      person && inbox !== undefined && isUuid(id)
        ? await deps.triggers.takeOn(id, inbox, { actor: `user:${person.sub}`, name: person.name }, kit.clock())
        : 'not-found';
    if (result === 'not-found') {
      kit.notFound(res);
      return;
    }
    res.redirect(303, `/app/early-help/${id}${result === 'taken-on' ? '?taken=1' : ''}`);
  });

  return { nav: [{ href: '/app/early-help', text: 'Early help queue', roles: ['early-help-worker'] }], router };
}
