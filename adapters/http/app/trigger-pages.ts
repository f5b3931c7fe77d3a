import { Router, type Response } from 'express';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import type { FiringStatus } from '../../../src/domain/trigger.js';
import type { TriggerStore } from '../../../src/ports/triggers.js';
import type { TriggerConfig } from '../../../src/config/triggers.js';
import { agreementLabel } from '../../../src/pipeline/consent/rulebook.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import { londonDateTime } from './audit-sentences.js';
import { firingContext } from './early-help-pages.js';
import { recordForPage, reviewPageRoutes } from './review-page.js';

export interface TriggerPagesDeps {
  triggers: TriggerStore;
  config: TriggerConfig;
  audit: AuditLog;
  laName: (id: string) => string | undefined;
}

export const TRIGGER_PAGE = 200;

const STATUS_WORDS: Record<FiringStatus, string> = {
  delivered: 'Delivered',
  held: 'Held for safeguarding review',
  closed: 'Closed at review',
};

/**
 * The IG lead's triggers pages (issue 17 item 3): each trigger with its agreement, lawful basis, value set, recipient
 * and counts (fired, held, closed, released, taken on, not fired); a trigger's firings; and the safeguarding review of firings
 * held because a record is restricted (release to the recipient or close, audited `trigger-reviewed` by the person).
 * Opening a firing is audited as a read.
 */
export function triggerPages(kit: PageKit, deps: TriggerPagesDeps): WebPages {
  const router = Router();
  const ig = kit.requireRole('ig-lead');

  router.get('/triggers', ig, async (req, res) => {
    const person = signedIn(res);
    if (!person) return;
    const [counts, held] = await Promise.all([deps.triggers.counts(), deps.triggers.held(TRIGGER_PAGE)]);
    const areas = new Map<string, string[]>();
    for (const [la, a] of deps.config.byLocalAuthority) areas.set(a.id, [...(areas.get(a.id) ?? []), deps.laName(la) ?? la]);
    await deps.audit.append([
      {
        at: kit.clock(),
        actor: `user:${person.sub}`,
        action: 'read',
        details: { name: person.name, role: person.role, purpose: 'compliance', query: 'triggers', held: held.length },
      },
    ]);
    const reviewed =
      typeof req.query.reviewed === 'string' && ['released', 'closed'].includes(req.query.reviewed) ? req.query.reviewed : undefined;
    kit.render(res, 'triggers/list.njk', {
      title: 'Triggers',
      current: '/app/triggers',
      reviewed,
      triggers: deps.config.all.map(({ trigger, agreement }) => {
        const c = counts.get(trigger.id) ?? { delivered: 0, held: 0, closed: 0, released: 0, takenOn: 0, notFired: 0 };
        return {
          id: trigger.id,
          name: trigger.name,
          description: trigger.description,
          agreement: agreementLabel(agreement),
          areas: (areas.get(agreement.id) ?? []).join(', ') || 'No local authority uses this agreement',
          lawfulBasis: trigger.lawfulBasis,
          valueSet: trigger.valueSet.name,
          valueSetSize: trigger.valueSet.codes.length,
          recipient: trigger.recipient.name,
          ...c,
        };
      }),
      held: held.map((h) => ({ id: h.id, trigger: h.triggerName, received: londonDateTime(new Date(h.createdAt)), children: h.children })),
    });
  });

  const firingPage = async (res: Response, id: string, extra: Record<string, unknown> = {}, status = 200): Promise<void> => {
    const shown = await recordForPage(res, kit, id, (i) => deps.triggers.get(i));
    if (shown === undefined) return;
    const { person, record: firing } = shown;
    await deps.audit.append([
      {
        at: kit.clock(),
        actor: `user:${person.sub}`,
        action: 'read',
        subjectNhsNumber: firing.subjectNhsNumber,
        ruleId: firing.triggerId,
        rulebookVersion: firing.agreementVersion,
        lawfulBasis: firing.lawfulBasis,
        outcome: 'trigger-firing',
        details: { name: person.name, role: person.role, purpose: 'compliance', firingId: firing.id },
      },
    ]);
    kit.render(
      res,
      'triggers/firing.njk',
      {
        title: firing.dataset.trigger.name,
        current: '/app/triggers',
        ...firingContext(firing),
        status: STATUS_WORDS[firing.status],
        held: firing.status === 'held',
        recipient: kit.inboxName(firing.inboxId) ?? deps.config.inboxes.get(firing.inboxId) ?? firing.inboxId,
        reviewed:
          firing.reviewedAt !== undefined
            ? `${firing.status === 'closed' ? 'Closed' : 'Released'} by ${firing.reviewedByName ?? firing.reviewedBy ?? 'someone'} on ${londonDateTime(new Date(firing.reviewedAt))}${firing.reviewReason ? `: ${firing.reviewReason}` : ''}`
            : undefined,
        ...extra,
      },
      status,
    );
  };

  reviewPageRoutes(router, kit, {
    path: '/triggers/firings/:id',
    guard: ig,
    show: firingPage,
    decide: async ({ person, id, decision, reason }, res) => {
      if (decision !== 'release' && decision !== 'close') {
        await firingPage(
          res,
          id,
          { errors: [{ text: 'Choose whether to release this trigger to early help or close it', href: '#decision' }] },
          400,
        );
        return;
      }
      const result = await deps.triggers.review(id, decision, { actor: `user:${person.sub}`, name: person.name }, reason, kit.clock());
      if (result.kind === 'not-found') kit.notFound(res);
      else if (result.kind === 'already-reviewed')
        await firingPage(res, id, { errors: [{ text: 'This trigger was already reviewed by someone else', href: '#decision' }] }, 409);
      else res.redirect(303, `/app/triggers?reviewed=${decision === 'release' ? 'released' : 'closed'}`);
    },
  });

  router.get('/triggers/:triggerId', ig, async (req, res) => {
    const person = signedIn(res);
    const declared = deps.config.all.find((d) => d.trigger.id === String(req.params.triggerId));
    if (!person || declared === undefined) {
      kit.notFound(res);
      return;
    }
    const items = await deps.triggers.byTrigger(declared.trigger.id, TRIGGER_PAGE);
    await deps.audit.append([
      {
        at: kit.clock(),
        actor: `user:${person.sub}`,
        action: 'read',
        ruleId: declared.trigger.id,
        details: { name: person.name, role: person.role, purpose: 'compliance', query: 'trigger-firings', results: items.length },
      },
    ]);
    kit.render(res, 'triggers/firings.njk', {
      title: declared.trigger.name,
      current: '/app/triggers',
      agreement: agreementLabel(declared.agreement),
      lawfulBasis: declared.trigger.lawfulBasis,
      codes: declared.trigger.valueSet.codes.map((c) => ({
        system: c.system.endsWith('icd-10') ? 'ICD-10' : 'SNOMED CT',
        code: c.code + (c.descendants === true ? ' and below' : ''),
        display: c.display ?? '',
      })),
      valueSet: declared.trigger.valueSet.name,
      items: items.map((i) => ({
        id: i.id,
        received: londonDateTime(new Date(i.createdAt)),
        status: STATUS_WORDS[i.status],
        children: i.children,
      })),
    });
  });

  return { nav: [{ href: '/app/triggers', text: 'Triggers', roles: ['ig-lead'] }], router };
}
