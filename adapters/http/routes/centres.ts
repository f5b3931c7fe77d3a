import { Router, type Response } from 'express';
import type { InboxStatus, NotificationStore } from '../../../src/ports/notification-store.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';
import { readStatusPage, routeParam, UUID } from './paging.js';

const STATUSES: readonly InboxStatus[] = ['new', 'acknowledged', 'withdrawn'];

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
    const page = readStatusPage(req.query, STATUSES, res);
    if (!page) return;
    res.json(await store.listInbox(centreId, page, `client:${clientOf(res).id}`, clock()));
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
    else if (result === 'withdrawn') sendProblem(res, 409, 'Withdrawn', 'This notification was withdrawn: do not act on it');
    else res.json({ notificationId: id, status: 'acknowledged', changed: result === 'acknowledged' });
  });
  return router;
}
