import { Router } from 'express';
import type { Request } from 'express';
import type { AuditEventSearch, AuditEventsLog, AuditLog } from '../../../src/ports/audit-log.js';
import { AUDIT_ACTIONS, type AuditAction } from '../../../src/ports/audit.js';
import { isValidNhsNumber } from '../../../src/domain/nhs-number.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem, type FieldProblem } from '../problem.js';
import type { AuditVerifyResult } from '../../../src/ports/audit-chain.js';
import { decodeAuditCursor, encodeAuditCursor, pageLimit, readInstant, UUID } from './paging.js';
import { auditBundle } from './audit-fhir.js';

/**
 * `GET /v1/audit` for information-governance leads: who received what about whom, when, under which rule
 * and lawful basis. Filter by notification, message or subject (an NHS number); the query itself is audited.
 */
export function auditRoutes(audit: AuditLog & AuditEventsLog, verify: () => Promise<AuditVerifyResult>): Router {
  const router = Router();
  // The audit chain and its signed checkpoints (README, "Tamper-evident audit"): 200 whatever the outcome, `ok` says.
  router.get('/v1/audit/verify', requireRole('ig'), async (_req, res) => {
    const started = Date.now();
    const result = await verify();
    await audit.append([
      {
        at: new Date(),
        actor: `client:${clientOf(res).id}`,
        action: 'read',
        outcome: result.ok ? 'ok' : 'failed',
        details: {
          query: 'audit-verify',
          eventsChecked: result.eventsChecked,
          ...(result.firstProblem?.seq !== undefined ? { firstBadSeq: result.firstProblem.seq } : {}),
        },
      },
    ]);
    res.json({ ...result, elapsedMs: Date.now() - started });
  });
  router.get('/v1/audit', requireRole('ig'), async (req, res) => {
    const q = req.query;
    const str = (k: string): string | undefined => (typeof q[k] === 'string' ? q[k] : undefined);
    const notificationId = str('notification');
    const messageId = str('message');
    const subject = str('subject')?.replace(/\s+/g, '');
    const after = str('after');
    const problems: FieldProblem[] = [];
    if (notificationId !== undefined && !UUID.test(notificationId))
      problems.push({ field: 'notification', message: 'must be a notification id (UUID)' });
    if (messageId !== undefined && !UUID.test(messageId)) problems.push({ field: 'message', message: 'must be a message id (UUID)' });
    if (subject !== undefined && !isValidNhsNumber(subject))
      problems.push({ field: 'subject', message: 'must be a valid 10-digit NHS number' });
    // Beyond 2^53 a seq would lose digits as a number (and beyond 2^63 PostgreSQL refuses it): no such page exists.
    if (after !== undefined && !(/^\d{1,16}$/.test(after) && Number(after) <= Number.MAX_SAFE_INTEGER))
      problems.push({ field: 'after', message: 'must be the `next` value of the previous page (the seq of its last event)' });
    if (!notificationId && !messageId && !subject)
      problems.push({ field: 'notification', message: 'give at least one of notification, message or subject' });
    const limit = pageLimit(q.limit, 200);
    if (limit === undefined) problems.push({ field: 'limit', message: 'must be an integer from 1 to 500' });
    if (problems.length > 0 || limit === undefined) {
      sendProblem(res, 400, 'Invalid query', undefined, problems);
      return;
    }
    const events = await audit.query({
      limit,
      ...(notificationId ? { notificationId } : {}),
      ...(messageId ? { messageId } : {}),
      ...(subject ? { subject } : {}),
      ...(after ? { afterSeq: Number(after) } : {}),
    });
    await audit.append([
      {
        at: new Date(),
        actor: `client:${clientOf(res).id}`,
        action: 'read',
        ...(subject ? { subjectNhsNumber: subject } : {}),
        ...(notificationId ? { notificationId } : {}),
        details: { query: 'audit', role: clientOf(res).role, purpose: 'compliance', results: events.length },
      },
    ]);
    const last = events[events.length - 1];
    res.json({ items: events, ...(events.length === limit && last ? { next: String(last.seq) } : {}) });
  });
  router.get('/v1/audit/events', requireRole('ig'), async (req, res) => {
    const read = readEventQuery(req.query);
    if ('problems' in read) {
      sendProblem(res, 400, 'Invalid query', undefined, read.problems);
      return;
    }
    const { search, fhir } = read;
    // `_format` wins; else the Accept header (any mention of application/fhir+json).
    res.vary('Accept');
    const wantsFhir = fhir ?? /application\/fhir\+json/i.test(req.get('accept') ?? '');
    const events = await audit.searchEvents(search);
    const client = clientOf(res);
    await audit.append([
      {
        at: new Date(),
        actor: `client:${client.id}`,
        action: 'read',
        ...(search.subject ? { subjectNhsNumber: search.subject } : {}),
        details: {
          query: 'audit-events',
          role: client.role,
          purpose: 'compliance',
          format: wantsFhir ? 'fhir' : 'json',
          filters: filtersOf(search),
          results: events.length,
        },
      },
    ]);
    const last = events[events.length - 1];
    const next = events.length === search.limit && last ? encodeAuditCursor(last.seq) : undefined;
    if (!wantsFhir) {
      res.json({ items: events, ...(next ? { next } : {}) });
      return;
    }
    const base = `${req.protocol}://${req.get('host') ?? 'localhost'}/v1`;
    const self = `${base}/audit/events?${new URLSearchParams(req.query as Record<string, string>).toString()}`;
    res
      .type('application/fhir+json')
      .send(JSON.stringify(auditBundle(events, { self, ...(next ? { next: pageUrl(req, base, next) } : {}) }, base)));
  });
  return router;
}

/** The URL of the next page: the same query, the FHIR format kept, the new cursor. */
function pageUrl(req: Request, base: string, cursor: string): string {
  const params = new URLSearchParams(req.query as Record<string, string>);
  params.set('cursor', cursor);
  params.set('_format', 'fhir');
  return `${base}/audit/events?${params.toString()}`;
}

/** The filters of a query, as the audit of the query records them (no NHS number: that is the event's subject). */
function filtersOf(s: AuditEventSearch): Record<string, string> {
  return {
    ...(s.centre ? { centre: s.centre } : {}),
    ...(s.feed ? { feed: s.feed } : {}),
    ...(s.rule ? { rule: s.rule } : {}),
    ...(s.action ? { action: s.action } : {}),
    ...(s.from ? { from: s.from.toISOString() } : {}),
    ...(s.before ? { to: s.before.toISOString() } : {}),
  };
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KNOWN = new Set(['subject', 'centre', 'feed', 'rule', 'action', 'from', 'to', 'cursor', 'limit', '_format']);

/**
 * Reads `GET /v1/audit/events?subject=&centre=&feed=&rule=&action=&from=&to=&cursor=&limit=&_format=`: every value
 * is checked, and every bad one named (an unknown parameter too, so a misspelt filter is never silently ignored).
 */
export function readEventQuery(
  q: Record<string, unknown>,
): { search: AuditEventSearch; fhir: boolean | undefined } | { problems: FieldProblem[] } {
  const str = (k: string): string | undefined => (typeof q[k] === 'string' ? q[k] : undefined);
  const problems: FieldProblem[] = [];
  for (const k of Object.keys(q))
    if (!KNOWN.has(k)) problems.push({ field: k, message: `is not a filter of this query; use ${[...KNOWN].join(', ')}` });
  const search: AuditEventSearch = { limit: 100 };
  const subject = str('subject')?.replace(/\s+/g, '');
  if (subject !== undefined) {
    if (isValidNhsNumber(subject)) search.subject = subject;
    else problems.push({ field: 'subject', message: 'must be a valid 10-digit NHS number (baby or mother)' });
  }
  for (const [field, key, what] of [
    ['centre', 'centre', 'a centre (inbox) id'],
    ['feed', 'feed', 'a feed id'],
    ['rule', 'rule', 'a rule id of the information-sharing agreement'],
  ] as const) {
    const v = str(field);
    if (v === undefined) continue;
    if (ID.test(v)) search[key] = v;
    else problems.push({ field, message: `must be ${what}: letters, digits, '.', '_' or '-', at most 64` });
  }
  const action = str('action');
  if (action !== undefined) {
    if ((AUDIT_ACTIONS as readonly string[]).includes(action)) search.action = action as AuditAction;
    else problems.push({ field: 'action', message: `must be an event type: one of ${AUDIT_ACTIONS.join(', ')}` });
  }
  const from = str('from');
  if (from !== undefined) {
    const t = readInstant(from);
    if (t) search.from = t;
    else problems.push({ field: 'from', message: 'must be a date (2026-11-18) or a date-time with its offset (2026-11-18T09:00:00Z)' });
  }
  const to = str('to');
  if (to !== undefined) {
    const t = readInstant(to, true);
    if (t) search.before = t;
    else problems.push({ field: 'to', message: 'must be a date (2026-11-18, the whole day included) or a date-time with its offset' });
  }
  if (search.from && search.before && search.before.getTime() <= search.from.getTime())
    problems.push({ field: 'to', message: 'must be after from' });
  const cursor = str('cursor');
  if (cursor !== undefined) {
    const seq = decodeAuditCursor(cursor);
    if (seq !== undefined) search.afterSeq = seq;
    else problems.push({ field: 'cursor', message: 'must be the `next` value of the previous page' });
  }
  const limit = pageLimit(q.limit, 100);
  if (limit === undefined) problems.push({ field: 'limit', message: 'must be an integer from 1 to 500' });
  else search.limit = limit;
  const format = str('_format');
  if (format !== undefined && !['json', 'fhir', 'application/fhir+json'].includes(format))
    problems.push({ field: '_format', message: 'must be json, fhir or application/fhir+json' });
  return problems.length > 0 ? { problems } : { search, fhir: format === undefined ? undefined : format !== 'json' };
}
