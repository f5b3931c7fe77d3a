import { Router } from 'express';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import { ConfigError } from '../../../src/domain/config-error.js';
import { describeErrors } from '../../../src/domain/json-schema.js';
import { purgedDetail, type ExplainNotification } from '../routes/decisions.js';
import { buildRulebook, validateRulebookFile, type Party, type Rulebook } from '../../../src/pipeline/consent/rulebook.js';
import { DATASETS } from '../../../src/pipeline/consent/datasets.js';
import type { Agreements } from '../../../src/pipeline/consent/agreements.js';
import type { AntenatalAgreement } from '../../../src/pipeline/antenatal/antenatal-agreement.js';
import type { TriggerConfig } from '../../../src/config/triggers.js';
import type { SimulationReport, SimulationScope } from '../../../src/pipeline/consent/simulate.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import { londonDateTime } from './audit-sentences.js';
import { isUuid } from './ids.js';

export interface AgreementPagesDeps {
  audit: AuditLog;
  explain: ExplainNotification;
  /** The agreements in force, to start a proposal from (their file content, without the hash). */
  agreements: readonly Rulebook[];
  localAuthorities: readonly { id: string; name: string }[];
  simulate: (scope: SimulationScope, since?: Date) => Promise<{ report: SimulationReport; elapsedMs: number }>;
  inboxName: (id: string) => string | undefined;
  /** Every agreement in force, of every kind (births, antenatal, triggers), for the list and detail pages. */
  inForce: readonly AgreementInForce[];
}

/** The kinds of agreement the hub decides under. */
export type AgreementKind = 'birth' | 'antenatal' | 'trigger';

/** An agreement in force as the IG lead's pages show it: no personal data, only the agreement's own text. */
export interface AgreementInForce {
  kind: AgreementKind;
  id: string;
  version: string;
  sha256: string;
  purpose: string;
  description?: string;
  reviewDate?: string;
  parties: readonly Party[];
  /** Where it is in force: local authorities by name, or "every booking", "births no local authority covers". */
  usedBy: readonly string[];
  /** Who may receive under it. */
  recipients: readonly string[];
  rules: readonly {
    id: string;
    description: string;
    conditions: readonly string[];
    effect: string;
    dataset?: string;
    /** The dataset's fields, where the hub defines them. */
    fields?: readonly string[];
    inbox?: string;
    lawfulBasis: string;
  }[];
  triggers: readonly {
    id: string;
    name: string;
    description: string;
    event: string;
    valueSet: string;
    valueSetSize: number;
    recipient: string;
    lawfulBasis: string;
  }[];
}

/** The antenatal dataset's fields (src/domain/antenatal-notification.ts minimiseBooking). */
const ANTENATAL_FIELDS = [
  'mother.nhsNumber',
  'mother.name',
  'mother.birthDate',
  'mother.phone',
  'mother.preferredLanguage',
  'estimatedDueDate',
  'address',
  'gpPractice',
] as const;

const KIND_ORDER: Record<AgreementKind, number> = { birth: 0, antenatal: 1, trigger: 2 };

/**
 * Every agreement in force, of every kind (issue 17 follow-up): the birth agreements (with the local authorities that
 * use each, and which is the default), the antenatal agreement and the trigger agreements, each with its hash.
 */
export function agreementsInForce(
  config: { agreements: Agreements; antenatal?: AntenatalAgreement; triggers: TriggerConfig },
  laName: (id: string) => string | undefined,
): AgreementInForce[] {
  const areasOf = (byLa: ReadonlyMap<string, { id: string }>, id: string): string[] =>
    [...byLa.entries()]
      .filter(([, a]) => a.id === id)
      .map(([la]) => laName(la) ?? la)
      .sort();
  const births = [...config.agreements.byId.values()].map((a): AgreementInForce => {
    const reviews = [...new Set(a.rules.flatMap((r) => (r.effect === 'review' && r.inbox !== undefined ? [r.inbox] : [])))];
    return {
      kind: 'birth',
      id: a.id,
      version: a.version,
      sha256: a.hash,
      purpose: a.purpose,
      description: a.description,
      ...(a.reviewDate !== undefined ? { reviewDate: a.reviewDate } : {}),
      parties: a.parties ?? [],
      usedBy: [
        ...areasOf(config.agreements.byLocalAuthority, a.id),
        ...(config.agreements.default.id === a.id ? ['the default: births no listed local authority covers'] : []),
      ],
      recipients: ["the children's centre that covers the family", ...reviews.map((r) => `review inbox ${r}`)],
      rules: a.rules.map((r) => ({
        id: r.id,
        description: r.description,
        conditions: r.when,
        effect: r.effect,
        ...(r.dataset !== undefined ? { dataset: r.dataset, fields: DATASETS[r.dataset] } : {}),
        ...(r.inbox !== undefined ? { inbox: r.inbox } : {}),
        lawfulBasis: r.lawfulBasis,
      })),
      triggers: [],
    };
  });
  const a = config.antenatal;
  const antenatal: AgreementInForce[] =
    a === undefined
      ? []
      : [
          {
            kind: 'antenatal',
            id: a.id,
            version: a.version,
            sha256: a.hash,
            purpose: a.purpose,
            description: a.description,
            reviewDate: a.reviewDate,
            parties: a.parties,
            usedBy: ['every maternity booking'],
            recipients: ["the children's centre that covers the mother's home"],
            rules: a.rules.map((r) => ({
              id: r.id,
              description: r.description,
              conditions: r.when,
              effect: r.effect,
              ...(r.dataset !== undefined ? { dataset: r.dataset, fields: ANTENATAL_FIELDS } : {}),
              lawfulBasis: r.lawfulBasis,
            })),
            triggers: [],
          },
        ];
  const triggers = [...config.triggers.agreements.values()].map((t): AgreementInForce => ({
    kind: 'trigger',
    id: t.id,
    version: t.version,
    sha256: t.hash,
    purpose: t.purpose,
    reviewDate: t.reviewDate,
    parties: t.parties,
    usedBy: areasOf(config.triggers.byLocalAuthority, t.id),
    recipients: [...new Set(t.triggers.map((x) => x.recipient.name))],
    rules: [],
    triggers: t.triggers.map((x) => ({
      id: x.id,
      name: x.name,
      description: x.description,
      event: x.event,
      valueSet: x.valueSet.name,
      valueSetSize: x.valueSet.codes.length,
      recipient: x.recipient.name,
      lawfulBasis: x.lawfulBasis,
    })),
  }));
  return [...births, ...antenatal, ...triggers].sort((x, y) => KIND_ORDER[x.kind] - KIND_ORDER[y.kind] || x.id.localeCompare(y.id));
}

const KIND_TEXT: Record<AgreementKind, string> = {
  birth: 'Births',
  antenatal: 'Antenatal bookings',
  trigger: 'Triggers',
};

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
    const found = person && isUuid(id) ? await deps.explain(id) : undefined;
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

  // Every agreement in force (births, antenatal, triggers), then one in full. Only the agreements' own text: no
  // personal data, so not audited as reads. After the what-if routes, so `/agreements/what-if` is never a kind.
  router.get('/agreements', igLead, (_req, res) => {
    kit.render(res, 'ig/agreements.njk', {
      title: 'Agreements in force',
      current: '/app/agreements',
      groups: (['birth', 'antenatal', 'trigger'] as const).map((kind) => ({
        kind,
        heading: KIND_TEXT[kind],
        agreements: deps.inForce.filter((a) => a.kind === kind),
      })),
    });
  });

  router.get('/agreements/:kind/:id', igLead, (req, res) => {
    const a = deps.inForce.find((x) => x.kind === req.params.kind && x.id === req.params.id);
    if (a === undefined) {
      kit.notFound(res);
      return;
    }
    kit.render(res, 'ig/agreement.njk', {
      title: `${a.id} version ${a.version}`,
      current: '/app/agreements',
      a,
      kindText: KIND_TEXT[a.kind],
      overdue: a.reviewDate !== undefined && a.reviewDate < kit.clock().toISOString().slice(0, 10),
    });
  });

  return {
    nav: [
      { href: '/app/agreements', text: 'Agreements', roles: ['ig-lead'] },
      { href: '/app/agreements/what-if', text: 'What if the agreement changed?', roles: ['ig-lead'] },
    ],
    router,
  };
}
