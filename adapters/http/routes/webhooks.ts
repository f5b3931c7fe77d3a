import { Router } from 'express';
import type { ReplayOutcome, WebhookDelivery, WebhookStore } from '../../../src/ports/webhooks.js';
import { replayDeadLetters, replaySentence } from '../../../src/processing/webhooks.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';
import { pageLimit, routeParam, UUID } from './paging.js';

export interface WebhookRoutesDeps {
  store: WebhookStore;
  /** Centres with a webhook (`webhook` or `both`). */
  centreIds: ReadonlySet<string>;
  clock?: () => Date;
  /** Look for pending deliveries now (in a process that also runs the workers). */
  nudge?: () => void;
}

/** A replay's answer: what was done to the dead letter, in words and in fields. */
function replayJson(o: Exclude<ReplayOutcome, { kind: 'not-found' | 'not-dead' }>): Record<string, unknown> {
  return {
    deadLetterId: o.delivery.id,
    centreId: o.delivery.centreId,
    notificationId: o.delivery.notificationId,
    event: o.delivery.event,
    idempotencyKey: o.delivery.idempotencyKey,
    outcome: o.kind,
    ...(o.kind === 'superseded' ? { reason: o.reason } : {}),
    message: replaySentence(o),
  };
}

const view = (d: WebhookDelivery): WebhookDelivery => d;

/**
 * Operators' webhook dead letters (issue 15 item 2), `admin` API keys only: list them (all, or a centre's) and
 * replay one or every one of a centre. Each replay re-applies the current consent decision (a notification withdrawn
 * since is not sent) and is audited as `webhook-replayed`, linked to the dead letter.
 */
export function webhookRoutes(deps: WebhookRoutesDeps): Router {
  const router = Router();
  const clock = deps.clock ?? (() => new Date());
  const replayDeps = { store: deps.store, clock, ...(deps.nudge ? { nudge: deps.nudge } : {}) };

  router.get('/v1/webhooks/dead-letters', requireRole('admin'), async (req, res) => {
    const centreId = typeof req.query.centreId === 'string' ? req.query.centreId : undefined;
    if (req.query.centreId !== undefined && (centreId === undefined || !deps.centreIds.has(centreId))) {
      sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'centreId', message: 'must be the id of a centre with a webhook' }]);
      return;
    }
    const limit = pageLimit(req.query.limit);
    if (limit === undefined) {
      sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'limit', message: 'must be an integer from 1 to 500' }]);
      return;
    }
    const after = typeof req.query.after === 'string' ? req.query.after : undefined;
    if (req.query.after !== undefined && (after === undefined || !UUID.test(after))) {
      sendProblem(res, 400, 'Invalid query', undefined, [
        { field: 'after', message: 'must be the id of the last dead letter of the previous page' },
      ]);
      return;
    }
    const page = await deps.store.deadLetters({
      limit,
      ...(centreId !== undefined ? { centreId } : {}),
      ...(after !== undefined ? { after } : {}),
    });
    res.json({ items: page.items.map(view), ...(page.next !== undefined ? { next: page.next } : {}) });
  });

  router.post('/v1/webhooks/dead-letters/:id/replay', requireRole('admin'), async (req, res) => {
    const id = routeParam(req.params, 'id');
    if (!UUID.test(id)) {
      sendProblem(res, 404, 'Not found', 'No dead letter with this id');
      return;
    }
    const [o] = await replayDeadLetters(replayDeps, { id }, `client:${clientOf(res).id}`, clientOf(res).role);
    if (o === undefined || o.kind === 'not-found') sendProblem(res, 404, 'Not found', 'No dead letter with this id');
    else if (o.kind === 'not-dead') sendProblem(res, 409, 'Not a dead letter', replaySentence(o));
    else res.json(replayJson(o));
  });

  router.post('/v1/webhooks/centres/:centreId/replay', requireRole('admin'), async (req, res) => {
    const centreId = routeParam(req.params, 'centreId');
    if (!deps.centreIds.has(centreId)) {
      sendProblem(res, 404, 'Not found', 'No centre with a webhook has this id');
      return;
    }
    const outcomes = await replayDeadLetters(replayDeps, { centreId }, `client:${clientOf(res).id}`, clientOf(res).role);
    const done = outcomes.filter(
      (o): o is Exclude<ReplayOutcome, { kind: 'not-found' | 'not-dead' }> => o.kind === 'requeued' || o.kind === 'superseded',
    );
    res.json({
      centreId,
      replayed: done.length,
      requeued: done.filter((o) => o.kind === 'requeued').length,
      superseded: done.filter((o) => o.kind === 'superseded').length,
      items: done.map(replayJson),
    });
  });
  return router;
}
