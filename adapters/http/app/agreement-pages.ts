import { Router } from 'express';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import { ConfigError } from '../../../src/domain/config-error.js';
import { describeErrors } from '../../../src/domain/json-schema.js';
import { purgedDetail, type ExplainNotification } from '../routes/decisions.js';
import { buildRulebook, validateRulebookFile, type Rulebook } from '../../../src/pipeline/consent/rulebook.js';
import type { SimulationReport, SimulationScope } from '../../../src/pipeline/consent/simulate.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import { londonDateTime } from './audit-sentences.js';

export interface AgreementPagesDeps {
  audit: AuditLog;
  explain: ExplainNotification;
  /** The agreements in force, to start a proposal from (their file content, without the hash). */
  agreements: readonly Rulebook[];
  localAuthorities: readonly { id: string; name: string }[];
  simulate: (scope: SimulationScope, since?: Date) => Promise<{ report: SimulationReport; elapsedMs: number }>;
  inboxName: (id: string) => string | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The most notification ids a what-if page lists per change (the command line lists them all). */
export const WHAT_IF_IDS_SHOWN = 200;

const fileText = (a: Rulebook): string => {
  const { hash: _hash, ...content } = a;
  return JSON.stringify(content, null, 2);
};

interface WhatIfValues {
  start: string;
  proposed: string;
  area: string;
  since: string;
}

/**
 * The IG lead's agreement pages (issue 13 items 4 and 5): "Why was this shared?" for one notification (linked from
 * its audit trail), and the what-if page, which runs a proposed agreement (pasted, or started from one in force)
 * over the stored history and shows what would change, per rule and per centre, by notification id only. Both are
 * audited as reads by the person.
 */
export function agreementPages(kit: PageKit, deps: AgreementPagesDeps): WebPages {
  const router = Router();
  const igLead = kit.requireRole('ig-lead');

  router.get('/audit/notifications/:id/decision', igLead, async (req, res) => {
    const person = signedIn(res);
    const id = String(req.params.id).toLowerCase();
    const found = person && UUID.test(id) ? await deps.explain(id) : undefined;
    if (!person || found === undefined) {
      kit.notFound(res);
      return;
    }
    if ('purgedAt' in found) {
      kit.render(res, 'error.njk', { title: 'No longer held', lines: [purgedDetail(found.purgedAt)] }, 410);
      return;
    }
    const e = found.explanation;
    await deps.audit.append([
      {
        at: kit.clock(),
        actor: `user:${person.sub}`,
        action: 'read',
        notificationId: id,
        ...(found.babyNhsNumber !== undefined ? { subjectNhsNumber: found.babyNhsNumber } : {}),
        details: { name: person.name, role: person.role, query: 'decision-explanation', explained: e.explained },
      },
    ]);
    kit.render(res, 'ig/decision.njk', { title: 'Why was this shared?', current: '/app/audit', notificationId: id, e });
  });

  const areaItems = (selected: string) => [
    { value: '', text: 'Wherever this agreement applies now', selected: selected === '' },
    ...deps.localAuthorities.map((la) => ({ value: la.id, text: `Every birth in ${la.name}`, selected: la.id === selected })),
  ];
  const startItems = (selected: string) =>
    deps.agreements.map((a) => ({ value: a.id, text: `${a.id} version ${a.version}`, selected: a.id === selected }));
  const form = (values: WhatIfValues, extra: Record<string, unknown> = {}) => ({
    title: 'What if the agreement changed?',
    current: '/app/agreements/what-if',
    values,
    areaItems: areaItems(values.area),
    startItems: startItems(values.start),
    ...extra,
  });

  router.get('/agreements/what-if', igLead, (req, res) => {
    const wanted = typeof req.query.start === 'string' ? req.query.start : undefined;
    const start = deps.agreements.find((a) => a.id === wanted) ?? deps.agreements[0];
    kit.render(res, 'ig/what-if.njk', form({ start: start?.id ?? '', proposed: start ? fileText(start) : '', area: '', since: '' }));
  });

  router.post('/agreements/what-if', igLead, async (req, res) => {
    const person = signedIn(res);
    if (!person) return;
    const body = req.body as Record<string, unknown>;
    const str = (k: string) => (typeof body[k] === 'string' ? body[k] : '');
    const values: WhatIfValues = { start: str('start'), proposed: str('proposed'), area: str('area'), since: str('since').trim() };
    const errors: { text: string; href: string }[] = [];
    const fieldErrors: Record<string, string> = {};
    const fail = (field: string, text: string) => {
      errors.push({ text, href: `#${field}` });
      fieldErrors[field] ??= text;
    };
    let proposed: Rulebook | undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(values.proposed);
    } catch (err) {
      fail('proposed', `The proposed agreement is not valid JSON (${(err as Error).message})`);
    }
    if (parsed !== undefined) {
      if (!validateRulebookFile(parsed)) {
        for (const p of describeErrors(validateRulebookFile.errors).slice(0, 10)) fail('proposed', `The proposed agreement: ${p}`);
      } else {
        try {
          proposed = buildRulebook(parsed, 'The proposed agreement');
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          for (const p of err.problems.slice(0, 10)) fail('proposed', p);
        }
      }
    }
    if (values.area !== '' && !deps.localAuthorities.some((la) => la.id === values.area)) fail('area', 'Choose an area from the list');
    let since: Date | undefined;
    if (values.since !== '') {
      since = /^\d{4}-\d{2}-\d{2}$/.test(values.since) ? new Date(`${values.since}T00:00:00Z`) : undefined;
      if (since === undefined || Number.isNaN(since.getTime()) || since.toISOString().slice(0, 10) !== values.since) {
        since = undefined;
        fail('since', 'Date from must be a real date, like 2026-03-27');
      }
    }
    if (errors.length > 0 || proposed === undefined) {
      kit.render(res, 'ig/what-if.njk', form(values, { errors, fieldErrors }), 400);
      return;
    }
    const { report, elapsedMs } = await deps.simulate({ proposed, ...(values.area !== '' ? { area: values.area } : {}) }, since);
    await deps.audit.append([
      {
        at: kit.clock(),
        actor: `user:${person.sub}`,
        action: 'read',
        details: {
          name: person.name,
          role: person.role,
          query: 'what-if',
          agreement: proposed.id,
          version: proposed.version,
          sha256: proposed.hash,
          ...(values.area !== '' ? { area: values.area } : {}),
          ...(since !== undefined ? { since: since.toISOString() } : {}),
          read: report.read,
          changed: report.changed,
        },
      },
    ]);
    kit.render(
      res,
      'ig/what-if.njk',
      form(values, {
        report,
        elapsedMs,
        ranAt: londonDateTime(kit.clock()),
        centreRows: report.byCentre.map((c) => ({ ...c, name: deps.inboxName(c.centre) ?? c.centre })),
        changeRows: report.changes.map((c) => ({ ...c, shown: c.notificationIds.slice(0, WHAT_IF_IDS_SHOWN) })),
        idsShown: WHAT_IF_IDS_SHOWN,
      }),
    );
  });

  return {
    nav: [{ href: '/app/agreements/what-if', text: 'What if the agreement changed?', roles: ['ig-lead'] }],
    router,
  };
}
