import { Router, type Response } from 'express';
import type { MessageStore, StoredMessage } from '../../../src/ports/message-store.js';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import type { QueueDepths } from '../../../src/ports/queue-depths.js';
import type { SignedInPerson } from '../../../src/ports/web-sessions.js';
import { InvalidCursorError } from '../../../src/ports/paging.js';
import { formatLocation } from '../../../src/domain/issue.js';
import { localDateOf } from '../../../src/domain/hl7-datetime.js';
import { replayMessage, type ReplayDeps } from '../../../src/intake/replay-message.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import { londonDateTime } from './audit-sentences.js';
import { londonMidnight } from './audit-search-form.js';
import type { ReplayOutcome, SupersededReason, WebhookStore } from '../../../src/ports/webhooks.js';
import { replayDeadLetters, replaySentence } from '../../../src/processing/webhooks.js';
import { isUuid } from './ids.js';

export interface OperatorPagesDeps {
  messages: MessageStore;
  audit: AuditLog;
  replay: ReplayDeps;
  queues: QueueDepths;
  /** Every configured feed (HL7 v2, FHIR, NEMS), in the order of the configuration. */
  feeds: readonly { id: string; name: string }[];
  /** Webhook dead letters (issue 15 item 2): the store, the centres with a webhook, and a nudge for the sweep. */
  webhooks?: { store: WebhookStore; centres: readonly { id: string; name: string }[]; nudge?: () => void };
}

/** Dead letters shown per centre. */
export const DEAD_LETTER_PAGE = 100;

const EVENT_NAMES = { delivered: 'Notification', withdrawn: 'Withdrawal' } as const;
const REASONS: readonly SupersededReason[] = ['withdrawn', 'moved', 'purged', 'redelivered', 'never-sent'];

/** Quarantined messages per page. */
export const QUARANTINE_PAGE = 50;

/** The ACK codes the feeds table always has a column for; any other code seen today gets one too. */
const HL7_ACK_CODES = ['AA', 'AE', 'AR'];

const STATUS_NAMES: Record<StoredMessage['status'], string> = {
  queued: 'Queued for processing',
  processed: 'Processed',
  'not-relevant': 'Not relevant',
  quarantined: 'Quarantined',
  duplicate: 'Duplicate',
};

const actorOf = (p: SignedInPerson) => ({ actor: `user:${p.sub}`, name: p.name });

/**
 * The operators' console (issue 11 item 4): the feeds with their last message and today's messages by ACK
 * code, the queues' depths, quarantined messages with their reason and issues and a replay button. The raw
 * message is for administrators only, and each view of it is audited as a read by that person.
 */
export function operatorPages(kit: PageKit, deps: OperatorPagesDeps): WebPages {
  const router = Router();
  const operators = kit.requireRole('operator', 'admin');
  const admins = kit.requireRole('admin');
  const feedName = (id: string | undefined): string =>
    id === undefined ? 'Unknown sender' : (deps.feeds.find((f) => f.id === id)?.name ?? id);

  router.get('/operations', operators, async (_req, res) => {
    const now = kit.clock();
    const [year, month, day] = localDateOf(now).split('-').map(Number);
    const since = londonMidnight(year ?? 1970, month ?? 1, day ?? 1);
    const [activity, depths] = await Promise.all([
      deps.messages.feedActivity(
        deps.feeds.map((f) => f.id),
        since,
      ),
      deps.queues.depths(),
    ]);
    const seen = new Set(activity.flatMap((a) => Object.keys(a.todayByAckCode)));
    // HL7 v2's three codes always; FHIR's and any other only when seen today; messages without an ACK last.
    const codes = [
      ...HL7_ACK_CODES,
      ...[...seen].filter((c) => !HL7_ACK_CODES.includes(c) && c !== 'none').sort(),
      ...(seen.has('none') ? ['none'] : []),
    ];
    kit.render(res, 'operator/console.njk', {
      title: 'Feeds and queues',
      current: '/app/operations',
      today: londonDateTime(since).replace(/ at .*/, ''),
      codes,
      feeds: activity.map((a) => ({
        name: feedName(a.feedId),
        last: a.lastReceivedAt ? londonDateTime(a.lastReceivedAt) : 'No message yet',
        counts: codes.map((c) => a.todayByAckCode[c] ?? 0),
      })),
      queues: depths,
    });
  });

  router.get('/operations/quarantine', operators, async (req, res) => {
    const after = typeof req.query.after === 'string' ? req.query.after : undefined;
    let page;
    try {
      page = await deps.messages.list({ status: 'quarantined', limit: QUARANTINE_PAGE, ...(after !== undefined ? { after } : {}) });
    } catch (err) {
      if (!(err instanceof InvalidCursorError)) throw err;
      kit.notFound(res);
      return;
    }
    const reader = signedIn(res);
    if (reader)
      await deps.audit.append([
        {
          at: kit.clock(),
          actor: `user:${reader.sub}`,
          action: 'read',
          details: { name: reader.name, role: reader.role, purpose: 'operations', query: 'quarantine', results: page.items.length },
        },
      ]);
    kit.render(res, 'operator/quarantine.njk', {
      title: 'Quarantined messages',
      current: '/app/operations/quarantine',
      items: page.items.map((m) => ({
        id: m.id,
        received: londonDateTime(new Date(m.receivedAt)),
        feed: feedName(m.feedId),
        type: m.messageType ?? 'Unknown',
        reason: m.reason ?? 'No reason recorded',
      })),
      next: page.next,
    });
  });

  const messagePage = async (res: Response, id: string, extra: Record<string, unknown> = {}, status = 200): Promise<void> => {
    const message = isUuid(id) ? await deps.messages.get(id) : undefined;
    if (!message) {
      kit.notFound(res);
      return;
    }
    const person = signedIn(res);
    if (person)
      await deps.audit.append([
        {
          at: kit.clock(),
          actor: `user:${person.sub}`,
          action: 'read',
          messageId: message.id,
          details: { name: person.name, role: person.role, purpose: 'operations' },
        },
      ]);
    kit.render(
      res,
      'operator/message.njk',
      {
        title: 'Message',
        current: '/app/operations/quarantine',
        id: message.id,
        quarantined: message.status === 'quarantined',
        isAdmin: person?.role === 'admin',
        rows: [
          ['Status', STATUS_NAMES[message.status]],
          ['Reason', message.reason ?? 'None'],
          ['Received', londonDateTime(new Date(message.receivedAt))],
          ['Feed', feedName(message.feedId)],
          ['Channel', message.channel === 'mllp' ? 'MLLP' : message.channel === 'http' ? 'HTTP' : message.channel],
          ['Sent from', message.remoteAddress ?? message.apiClient ?? 'Not recorded'],
          ['Message type', message.messageType ?? 'Unknown'],
          ['Control ID', message.controlId ?? 'None'],
          ['ACK code', message.ackCode ?? 'None'],
          ['Size', `${message.sizeBytes} bytes${message.rawTruncated ? ' (only the head was kept)' : ''}`],
          ...(message.purgedAt !== undefined
            ? [['Message body', `No longer held: purged under retention on ${londonDateTime(new Date(message.purgedAt))}`]]
            : []),
          ['Replayed', message.replayCount === 0 ? 'Not yet' : message.replayCount === 1 ? 'Once' : `${message.replayCount} times`],
        ].map(([k, v]) => ({ key: { text: k }, value: { text: v } })),
        issues: message.issues.map((i) => ({
          code: i.code,
          where: i.location ? formatLocation(i.location) : (i.path ?? i.expression ?? ''),
          message: i.message,
          severity: i.severity,
        })),
        ...extra,
      },
      status,
    );
  };

  router.get('/operations/messages/:id', operators, async (req, res) => {
    const replayed = typeof req.query.replayed === 'string' ? req.query.replayed : undefined;
    await messagePage(res, String(req.params.id), replayed !== undefined ? { replayed: true } : {});
  });

  router.post('/operations/messages/:id/replay', operators, async (req, res) => {
    const person = signedIn(res);
    const id = String(req.params.id);
    if (!person || !isUuid(id)) {
      kit.notFound(res);
      return;
    }
    const result = await replayMessage(deps.replay, id, actorOf(person));
    if (result.kind === 'not-found') kit.notFound(res);
    else if (result.kind === 'conflict') await messagePage(res, id, { errors: [{ text: result.detail, href: '#replay' }] }, 409);
    else res.redirect(303, `/app/operations/messages/${id}?replayed=1`);
  });

  router.get('/operations/messages/:id/raw', admins, async (req, res) => {
    const person = signedIn(res);
    const id = String(req.params.id);
    const message = person && isUuid(id) ? await deps.messages.get(id) : undefined;
    if (!person || !message) {
      kit.notFound(res);
      return;
    }
    if (message.purgedAt !== undefined) {
      kit.render(res, 'operator/raw.njk', {
        title: 'Raw message',
        current: '/app/operations/quarantine',
        id,
        purged: londonDateTime(new Date(message.purgedAt)),
      });
      return;
    }
    await deps.audit.append([
      {
        at: kit.clock(),
        actor: `user:${person.sub}`,
        action: 'raw-read',
        messageId: id,
        details: { name: person.name, role: person.role, purpose: 'operations' },
      },
    ]);
    kit.render(res, 'operator/raw.njk', {
      title: 'Raw message',
      current: '/app/operations/quarantine',
      id,
      truncated: message.rawTruncated,
      // HL7 v2 segments end with a carriage return: one segment a line.
      raw: message.raw.toString('utf8').replace(/\r\n?/g, '\n'),
    });
  });

  const hooks = deps.webhooks;
  if (hooks !== undefined) webhookPages(kit, router, operators, hooks);

  return {
    nav: [
      { href: '/app/operations', text: 'Feeds and queues', roles: ['operator', 'admin'] },
      { href: '/app/operations/quarantine', text: 'Quarantined messages', roles: ['operator', 'admin'] },
      ...(hooks !== undefined
        ? [{ href: '/app/operations/webhooks', text: 'Webhook dead letters', roles: ['operator', 'admin'] as const }]
        : []),
    ],
    router,
  };
}

/**
 * The webhook dead letters (issue 15 item 2): per centre with a webhook, its dead letters with the last error, a
 * replay button on each and "replay all". A replay re-applies the current consent decision and is audited by name;
 * the page then says what each replay did (sent again, or not sent because the notification was withdrawn since).
 */
function webhookPages(
  kit: PageKit,
  router: Router,
  operators: ReturnType<PageKit['requireRole']>,
  hooks: NonNullable<OperatorPagesDeps['webhooks']>,
): void {
  const centreName = (id: string): string => hooks.centres.find((c) => c.id === id)?.name ?? id;
  const replayDeps = { store: hooks.store, clock: kit.clock, ...(hooks.nudge ? { nudge: hooks.nudge } : {}) };

  router.get('/operations/webhooks', operators, async (req, res) => {
    const centres = await Promise.all(
      hooks.centres.map(async (c) => {
        const page = await hooks.store.deadLetters({ centreId: c.id, limit: DEAD_LETTER_PAGE });
        return {
          id: c.id,
          name: c.name,
          more: page.next !== undefined,
          items: page.items.map((d) => ({
            id: d.id,
            deadAt: d.deadAt !== undefined ? londonDateTime(new Date(d.deadAt)) : '',
            event: d.kind === 'antenatal' ? `Antenatal ${EVENT_NAMES[d.event].toLowerCase()}` : EVENT_NAMES[d.event],
            notificationId: d.notificationId,
            attempts: d.attempts,
            lastError: d.lastError ?? 'None recorded',
          })),
        };
      }),
    );
    kit.render(res, 'operator/webhooks.njk', {
      title: 'Webhook dead letters',
      current: '/app/operations/webhooks',
      centres,
      results: resultsOf(req.query, centreName),
    });
  });

  const person = (res: Response) => signedIn(res);

  router.post('/operations/webhooks/dead-letters/:id/replay', operators, async (req, res) => {
    const who = person(res);
    const id = String(req.params.id);
    if (!who || !isUuid(id)) {
      kit.notFound(res);
      return;
    }
    const [o] = await replayDeadLetters(replayDeps, { id }, actorOf(who), who.role);
    if (o === undefined || o.kind === 'not-found') {
      kit.notFound(res);
      return;
    }
    res.redirect(303, `/app/operations/webhooks?${resultQuery([o]).toString()}`);
  });

  router.post('/operations/webhooks/centres/:centreId/replay', operators, async (req, res) => {
    const who = person(res);
    const centreId = String(req.params.centreId);
    if (!who || !hooks.centres.some((c) => c.id === centreId)) {
      kit.notFound(res);
      return;
    }
    const outcomes = await replayDeadLetters(replayDeps, { centreId }, actorOf(who), who.role);
    const q = resultQuery(outcomes);
    q.set('centre', centreId);
    res.redirect(303, `/app/operations/webhooks?${q.toString()}`);
  });
}

/** What the replays did, as counts in the address the page is redirected to (ids and enums only). */
function resultQuery(outcomes: readonly ReplayOutcome[]): URLSearchParams {
  const q = new URLSearchParams();
  q.set('requeued', String(outcomes.filter((o) => o.kind === 'requeued').length));
  for (const r of REASONS) {
    const n = outcomes.filter((o) => o.kind === 'superseded' && o.reason === r).length;
    if (n > 0) q.set(r, String(n));
  }
  const notDead = outcomes.filter((o) => o.kind === 'not-dead').length;
  if (notDead > 0) q.set('not-dead', String(notDead));
  return q;
}

/** The banner's sentences, from the redirect's counts (anything else in the address is ignored). */
function resultsOf(query: Record<string, unknown>, centreName: (id: string) => string): string[] | undefined {
  const count = (k: string): number => {
    const v = query[k];
    return typeof v === 'string' && /^\d{1,6}$/.test(v) ? Number(v) : 0;
  };
  if (typeof query.requeued !== 'string') return undefined;
  const lines: string[] = [];
  const centre = typeof query.centre === 'string' ? query.centre : undefined;
  const requeued = count('requeued');
  const of = centre !== undefined ? ` of ${centreName(centre)}` : '';
  lines.push(
    requeued === 0
      ? `No dead letter${of} was queued again.`
      : `${requeued} dead letter${requeued === 1 ? '' : 's'}${of} queued again: sent with ${requeued === 1 ? 'its' : 'their'} original idempotency key${requeued === 1 ? '' : 's'}.`,
  );
  for (const r of REASONS) {
    const n = count(r);
    if (n === 0) continue;
    const sentence = replaySentence({ kind: 'superseded', reason: r, delivery: PLACEHOLDER });
    lines.push(`${n} not sent. ${sentence}`);
  }
  const notDead = count('not-dead');
  if (notDead > 0) lines.push(`${notDead} ${notDead === 1 ? 'was' : 'were'} no longer a dead letter.`);
  return lines;
}

/** The replay sentences for a superseded delivery name only its reason. */
const PLACEHOLDER = {
  id: '',
  idempotencyKey: '',
  centreId: '',
  notificationId: '',
  event: 'delivered',
  occurredAt: '',
  status: 'superseded',
  attempts: 0,
  replays: 0,
} as const;
