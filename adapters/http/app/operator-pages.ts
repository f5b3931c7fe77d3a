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

export interface OperatorPagesDeps {
  messages: MessageStore;
  audit: AuditLog;
  replay: ReplayDeps;
  queues: QueueDepths;
  /** Every configured feed (HL7 v2, FHIR, NEMS), in the order of the configuration. */
  feeds: readonly { id: string; name: string }[];
}

/** Quarantined messages per page. */
export const QUARANTINE_PAGE = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
    const message = UUID.test(id) ? await deps.messages.get(id) : undefined;
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
    if (!person || !UUID.test(id)) {
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
    const message = person && UUID.test(id) ? await deps.messages.get(id) : undefined;
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

  return {
    nav: [
      { href: '/app/operations', text: 'Feeds and queues', roles: ['operator', 'admin'] },
      { href: '/app/operations/quarantine', text: 'Quarantined messages', roles: ['operator', 'admin'] },
    ],
    router,
  };
}
