import { Router, type Response } from 'express';
import type { AntenatalInbox, AntenatalInboxStatus } from '../../../src/ports/antenatal-store.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';
import { readStatusPage, routeParam, UUID } from './paging.js';

const STATUSES: readonly AntenatalInboxStatus[] = ['new', 'acknowledged', 'withdrawn'];
const NOT_FOUND = 'No antenatal item with this id in this centre';

/** The centre id in the path when the client is that centre; else 404, as if another centre's did not exist. */
function ownCentre(params: Record<string, string | string[] | undefined>, res: Response): string | undefined {
  const centreId = routeParam(params, 'centreId');
  if (clientOf(res).scope === centreId) return centreId;
  sendProblem(res, 404, 'Not found', params.id === undefined ? 'No such inbox for this client' : NOT_FOUND);
  return undefined;
}

/**
 * A centre's antenatal items (issue 17): the bookings shared with it under the antenatal agreement, as its births
 * are (GET /v1/centres/{centreId}/notifications): its own only, only the disclosed (minimised) record, a withdrawn
 * one without content. Every read and take-on is audited (`details.kind: antenatal`). JSON only.
 */
export function centreAntenatalRoutes(inbox: AntenatalInbox, clock: () => Date = () => new Date()): Router {
  const router = Router();
  router.get('/v1/centres/:centreId/antenatal', requireRole('centre'), async (req, res) => {
    const centreId = ownCentre(req.params, res);
    if (centreId === undefined) return;
    const page = readStatusPage(req.query, STATUSES, res);
    if (!page) return;
    res.json(await inbox.listAntenatal(centreId, page, `client:${clientOf(res).id}`, clock()));
  });

  router.get('/v1/centres/:centreId/antenatal/:id', requireRole('centre'), async (req, res) => {
    const centreId = ownCentre(req.params, res);
    if (centreId === undefined) return;
    const id = routeParam(req.params, 'id');
    const item = UUID.test(id) ? await inbox.getAntenatal(centreId, id, `client:${clientOf(res).id}`, clock()) : undefined;
    if (item) res.json(item);
    else sendProblem(res, 404, 'Not found', NOT_FOUND);
  });

  router.post('/v1/centres/:centreId/antenatal/:id/ack', requireRole('centre'), async (req, res) => {
    const centreId = ownCentre(req.params, res);
    if (centreId === undefined) return;
    const id = routeParam(req.params, 'id');
    const result = UUID.test(id) ? await inbox.acknowledgeAntenatal(centreId, id, `client:${clientOf(res).id}`, clock()) : 'not-found';
    if (result === 'not-found') sendProblem(res, 404, 'Not found', NOT_FOUND);
    else if (result === 'withdrawn') sendProblem(res, 409, 'Withdrawn', 'This antenatal item was withdrawn: do not act on it');
    else res.json({ antenatalId: id, status: 'acknowledged', changed: result === 'acknowledged' });
  });
  return router;
}
