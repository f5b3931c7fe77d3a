import { Router, type NextFunction, type Request, type Response } from 'express';
import type { InboxStatus, NotificationStore } from '../../../src/ports/notification-store.js';
import { inboxItemBundle, inboxPageBundle } from '../../../src/pipeline/fhir/disclosed-to-fhir.js';
import { clientOf, requireRole } from '../auth.js';
import { answerErrorsAsFhir, sendProblem } from '../problem.js';
import { readStatusPage, routeParam, UUID, type StatusPage } from './paging.js';

const FHIR_JSON = 'application/fhir+json';
/** What a centre may ask for: JSON first, so no Accept (or an Accept of any type) keeps today's JSON; or FHIR R4 JSON. */
const OFFERED = ['application/json', FHIR_JSON, 'application/json+fhir'];

/**
 * Content negotiation on the centre API: true when the client prefers FHIR JSON (`application/fhir+json`, or
 * the older `application/json+fhir`). Anything else, including an Accept naming neither, gets JSON as before.
 */
function wantsFhir(req: Request): boolean {
  const chosen = req.accepts(OFFERED);
  return chosen === FHIR_JSON || chosen === 'application/json+fhir';
}

/** On the two reads, before the role check, so that a FHIR client's 403 (and 400, 404) is an OperationOutcome too. */
function negotiate(req: Request, res: Response, next: NextFunction): void {
  res.vary('Accept');
  if (wantsFhir(req)) answerErrorsAsFhir(res);
  next();
}

function sendFhir(res: Response, resource: unknown): void {
  res.type(FHIR_JSON).json(resource);
}

/** The listing's URL with these query values, relative to the API root (the hub does not know its public address). */
function listingUrl(centreId: string, page: StatusPage<InboxStatus>, after: string | undefined): string {
  const q = new URLSearchParams();
  if (page.status !== undefined) q.set('status', page.status);
  q.set('limit', String(page.limit));
  if (after !== undefined) q.set('after', after);
  return `/v1/centres/${encodeURIComponent(centreId)}/notifications?${q.toString()}`;
}

const STATUSES: readonly InboxStatus[] = ['new', 'acknowledged', 'withdrawn'];

/**
 * The centre id in the path, if the client is that centre; otherwise answers 404 and returns undefined: another
 * centre's inbox (and anything in it) looks exactly like one that does not exist (the README's role matrix).
 */
function ownCentre(params: Record<string, string | string[] | undefined>, res: Response): string | undefined {
  const centreId = routeParam(params, 'centreId');
  if (clientOf(res).scope !== centreId) {
    sendProblem(
      res,
      404,
      'Not found',
      params.id === undefined ? 'No such inbox for this client' : 'No notification with this id in this centre',
    );
    return undefined;
  }
  return centreId;
}

/**
 * A children's centre's inbox: the minimised records the consent rules allowed, its own families only.
 * Every read is audited; acknowledging says the centre has taken the notification on. The two reads answer
 * JSON, or FHIR R4 Bundles (`Accept: application/fhir+json`) built from the same disclosed record only.
 */
export function centreRoutes(store: NotificationStore, clock: () => Date = () => new Date()): Router {
  const router = Router();
  router.get('/v1/centres/:centreId/notifications', negotiate, requireRole('centre'), async (req, res) => {
    const centreId = ownCentre(req.params, res);
    if (centreId === undefined) return;
    const page = readStatusPage(req.query, STATUSES, res);
    if (!page) return;
    const result = await store.listInbox(centreId, page, `client:${clientOf(res).id}`, clock());
    if (!wantsFhir(req)) {
      res.json(result);
      return;
    }
    sendFhir(
      res,
      inboxPageBundle(result.items, {
        self: listingUrl(centreId, page, page.after),
        ...(result.next !== undefined ? { next: listingUrl(centreId, page, result.next) } : {}),
      }),
    );
  });

  router.get('/v1/centres/:centreId/notifications/:id', negotiate, requireRole('centre'), async (req, res) => {
    const centreId = ownCentre(req.params, res);
    if (centreId === undefined) return;
    const id = routeParam(req.params, 'id');
    const item = UUID.test(id) ? await store.getInboxItem(centreId, id, `client:${clientOf(res).id}`, clock()) : undefined;
    if (!item) {
      sendProblem(res, 404, 'Not found', 'No notification with this id in this centre');
      return;
    }
    if (wantsFhir(req)) sendFhir(res, inboxItemBundle(item));
    else res.json(item);
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
