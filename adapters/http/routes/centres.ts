import { Router, type Response } from 'express';
import type { InboxStatus, NotificationStore } from '../../../src/ports/notification-store.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';
import { pageLimit, routeParam } from './paging.js';

const STATUSES: readonly InboxStatus[] = ['new', 'acknowledged', 'withdrawn'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The centre id in the path, if the client is that centre; otherwise answers 403 and returns undefined. */
function ownCentre(params: Record<string, string | string[] | undefined>, res: Response): string | undefined {
  const centreId = routeParam(params, 'centreId');
  if (clientOf(res).scope !== centreId) {
    sendProblem(res, 403, 'Forbidden', 'A centre sees only its own notifications');
    return undefined;
  }
  return centreId;
}

/**
 * A children's centre's inbox: the minimised records the consent rules allowed, its own families only.
 * Every read is audited; acknowledging says the centre has taken the notification on.
 */
export function centreRoutes(store: NotificationStore, clock: () => Date = () => new Date()): Router {
  const router = Router();
  router.get('/v1/centres/:centreId/notifications', requireRole('centre'), async (req, res) => {
    const centreId = ownCentre(req.params, res);
    if (centreId === undefined) return;
    const status = typeof req.query['status'] === 'string' ? req.query['status'] : undefined;
    if (status !== undefined && !STATUSES.includes(status as InboxStatus)) {
      sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'status', message: `must be one of ${STATUSES.join(', ')}` }]);
      return;
    }
    const limit = pageLimit(req.query['limit']);
    if (limit === undefined) {
      sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'limit', message: 'must be an integer from 1 to 500' }]);
      return;
    }
    const after = typeof req.query['after'] === 'string' ? req.query['after'] : undefined;
    const page = await store.listInbox(centreId, { limit, ...(status ? { status: status as InboxStatus } : {}), ...(after ? { after } : {}) }, `client:${clientOf(res).id}`, clock());
    res.json(page);
  });

  router.get('/v1/centres/:centreId/notifications/:id', requireRole('centre'), async (req, res) => {
    const centreId = ownCentre(req.params, res);
    if (centreId === undefined) return;
    const id = routeParam(req.params, 'id');
    const item = UUID.test(id) ? await store.getInboxItem(centreId, id, `client:${clientOf(res).id}`, clock()) : undefined;
    if (!item) {
      sendProblem(res, 404, 'Not found', 'No notification with this id in this centre');
      return;
    }
    res.json(item);
  });

  router.post('/v1/centres/:centreId/notifications/:id/ack', requireRole('centre'), async (req, res) => {
    const centreId = ownCentre(req.params, res);
    if (centreId === undefined) return;
    const id = routeParam(req.params, 'id');
    const result = UUID.test(id) ? await store.acknowledge(centreId, id, `client:${clientOf(res).id}`, clock()) : 'not-found';
    if (result === 'not-found') sendProblem(res, 404, 'Not found', 'No notification with this id in this centre');
    else res.json({ notificationId: id, status: 'acknowledged', changed: result === 'acknowledged' });
  });
  return router;
}
