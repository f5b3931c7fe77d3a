import { Router } from 'express';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import type { ExplainResult } from '../../../src/processing/explain-notification.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';
import { UUID } from './paging.js';

/** Explains a notification's decision (explain-notification.ts); undefined when there is no such notification. */
export type ExplainNotification = (notificationId: string) => Promise<ExplainResult | undefined>;

/** The problem detail for a notification whose record retention purged. */
export const purgedDetail = (at: Date): string =>
  `This notification's record was purged under retention on ${at.toISOString().slice(0, 10)}, so its decision can no longer be re-derived; its rule, lawful basis and agreement version remain in the audit trail`;

/**
 * `GET /v1/notifications/{id}/decision` for information-governance leads (issue 13 item 4): why a notification was
 * shared, reviewed or withheld, in words. Audited as a read by the client, naming the notification and its subject.
 */
export function decisionRoutes(explain: ExplainNotification, audit: AuditLog): Router {
  const router = Router();
  router.get('/v1/notifications/:id/decision', requireRole('ig'), async (req, res) => {
    const id = req.params.id;
    if (typeof id !== 'string' || !UUID.test(id)) {
      sendProblem(res, 404, 'Not found', 'No such notification');
      return;
    }
    const found = await explain(id);
    if (found === undefined) {
      sendProblem(res, 404, 'Not found', 'No such notification');
      return;
    }
    if ('purgedAt' in found) {
      sendProblem(res, 410, 'No longer held', purgedDetail(found.purgedAt));
      return;
    }
    await audit.append([
      {
        at: new Date(),
        actor: `client:${clientOf(res).id}`,
        action: 'read',
        notificationId: id,
        ...(found.babyNhsNumber !== undefined ? { subjectNhsNumber: found.babyNhsNumber } : {}),
        details: { query: 'decision-explanation', explained: found.explanation.explained },
      },
    ]);
    res.json(found.explanation);
  });
  return router;
}
