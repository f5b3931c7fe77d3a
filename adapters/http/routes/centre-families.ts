import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { FamilyViewStore } from '../../../src/ports/family-view.js';
import type { CentreFamily } from '../../../src/pipeline/family-disclosure.js';
import { readNamedWorker } from '../../../src/domain/named-worker.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';
import { routeParam, UUID } from './paging.js';

/** A named worker's name is short: the body limit is small, so nobody can make the hub read a large one. */
const MAX_BODY_BYTES = 4096;
const NOT_FOUND = 'No family with this id in this centre';

/**
 * The family and centre ids of the path, if the client is that centre; otherwise answers and returns undefined.
 * Another centre's path is 404, as a family that does not exist.
 */
function ownFamily(req: Request, res: Response): { centreId: string; familyId: string } | undefined {
  const centreId = routeParam(req.params, 'centreId');
  if (clientOf(res).scope !== centreId) {
    sendProblem(res, 404, 'Not found', NOT_FOUND);
    return undefined;
  }
  const familyId = routeParam(req.params, 'familyId');
  if (!UUID.test(familyId)) {
    sendProblem(res, 404, 'Not found', NOT_FOUND);
    return undefined;
  }
  return { centreId, familyId };
}

/** The family as the API answers it: the view without the store's bookkeeping. */
function familyBody(view: CentreFamily): Omit<CentreFamily, 'shownNotificationIds'> {
  const { shownNotificationIds: _shown, ...body } = view;
  return body;
}

/**
 * A centre's whole families (issue 12 item 6): `GET /v1/centres/{centreId}/families/{familyId}` and the centre's
 * named worker (`PUT`/`DELETE …/named-worker`). Own families only: a family is the centre's while one of its
 * notifications is in effect in the centre's inbox; any other id is 404, so ids cannot be probed.
 */
export function centreFamilyRoutes(store: FamilyViewStore, clock: () => Date = () => new Date()): Router {
  const router = Router();
  router.get('/v1/centres/:centreId/families/:familyId', requireRole('centre'), async (req, res) => {
    const own = ownFamily(req, res);
    if (own === undefined) return;
    const view = await store.familyForCentre(own.centreId, own.familyId, `client:${clientOf(res).id}`, clock());
    if (view === undefined) sendProblem(res, 404, 'Not found', NOT_FOUND);
    else res.json(familyBody(view));
  });

  const path = '/v1/centres/:centreId/families/:familyId/named-worker';
  router.put(path, requireRole('centre'), express.json({ limit: MAX_BODY_BYTES, strict: true }), async (req, res) => {
    const own = ownFamily(req, res);
    if (own === undefined) return;
    if (!req.is('application/json')) {
      sendProblem(res, 415, 'Unsupported media type', 'Send the named worker as application/json');
      return;
    }
    const body: unknown = req.body;
    const value = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).name : undefined;
    const read = readNamedWorker(value);
    if ('problem' in read) {
      sendProblem(res, 400, 'Invalid named worker', undefined, [{ field: 'name', message: read.problem }]);
      return;
    }
    const result = await store.assignNamedWorker(own.centreId, own.familyId, read.name, `client:${clientOf(res).id}`, clock());
    if (result === 'not-found') sendProblem(res, 404, 'Not found', NOT_FOUND);
    else res.json({ familyId: own.familyId, namedWorker: read.name });
  });

  router.delete(path, requireRole('centre'), async (req, res) => {
    const own = ownFamily(req, res);
    if (own === undefined) return;
    const result = await store.assignNamedWorker(own.centreId, own.familyId, undefined, `client:${clientOf(res).id}`, clock());
    if (result === 'not-found') sendProblem(res, 404, 'Not found', NOT_FOUND);
    else res.json({ familyId: own.familyId, namedWorker: null });
  });

  // The body parser's refusals, answered as problems naming the limit.
  router.use(path, (err: Error & { type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent || err.type === undefined) {
      next(err);
      return;
    }
    if (err.type === 'entity.too.large') sendProblem(res, 413, 'Too large', `The body is over the limit of ${MAX_BODY_BYTES} bytes`);
    else sendProblem(res, 400, 'Invalid named worker', 'The body is not valid JSON', [{ field: '(body)', message: 'is not JSON' }]);
  });
  return router;
}
