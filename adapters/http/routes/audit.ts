import { Router } from 'express';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import { isValidNhsNumber } from '../../../src/domain/nhs-number.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem, type FieldProblem } from '../problem.js';
import { pageLimit, UUID } from './paging.js';
import type { AuditVerifyResult } from '../../../src/ports/audit-chain.js';

/**
 * `GET /v1/audit` for information-governance leads: who received what about whom, when, under which rule
 * and lawful basis. Filter by notification, message or subject (an NHS number); the query itself is audited.
 */
export function auditRoutes(audit: AuditLog, verify: () => Promise<AuditVerifyResult>): Router {
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
        details: { query: 'audit', results: events.length },
      },
    ]);
    const last = events[events.length - 1];
    res.json({ items: events, ...(events.length === limit && last ? { next: String(last.seq) } : {}) });
  });
  return router;
}
