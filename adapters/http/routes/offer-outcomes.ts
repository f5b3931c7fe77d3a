import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { contactDueBy, isOverdue, londonDateOf, readOfferOutcome } from '../../../src/domain/offer-outcome.js';
import type { Catchments } from '../../../src/pipeline/catchments.js';
import { contactTargetDays, reachCsv, reachReport, readReachPeriod } from '../../../src/pipeline/reports/reach.js';
import type { OfferOutcomeStore, OutcomeHistory } from '../../../src/ports/offer-outcomes.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';
import { routeParam, UUID } from './paging.js';

/** An outcome is a few short fields: the body limit is small, so nobody can make the hub read a large one. */
const MAX_BODY_BYTES = 4096;
const NOT_FOUND = 'No notification with this id in this centre';

export interface OfferOutcomeDeps {
  outcomes: OfferOutcomeStore;
  catchments: Catchments;
  clock: () => Date;
}

/**
 * The centre and notification ids of the path, if the client is that centre; otherwise answers 404 and returns
 * undefined: another centre's notification looks exactly like one that does not exist (the README's role matrix).
 */
function ownNotification(req: Request, res: Response): { centreId: string; id: string } | undefined {
  const centreId = routeParam(req.params, 'centreId');
  if (clientOf(res).scope !== centreId) {
    sendProblem(res, 404, 'Not found', NOT_FOUND);
    return undefined;
  }
  const id = routeParam(req.params, 'id');
  if (!UUID.test(id)) {
    sendProblem(res, 404, 'Not found', NOT_FOUND);
    return undefined;
  }
  return { centreId, id };
}

function historyBody(h: OutcomeHistory, targetDays: number, now: Date) {
  return {
    notificationId: h.notificationId,
    centreId: h.centreId,
    deliveredAt: h.deliveredAt.toISOString(),
    withdrawn: h.withdrawn,
    targetDays,
    contactDueBy: contactDueBy(h.deliveredAt, targetDays),
    overdue: isOverdue(h, targetDays, now),
    outcomes: h.outcomes,
  };
}

const query = (req: Request, k: string): string | undefined => {
  const v = req.query[k];
  return typeof v === 'string' ? v : undefined;
};

/**
 * The offer-of-support loop (issue 15 item 3) on the API: a centre records what happened with a family after a
 * notification (`POST …/notifications/{id}/outcomes`) and reads the history; the reach report for one centre (the
 * centre itself, or roles ig and admin) and for every centre (roles ig and admin), as JSON or CSV.
 */
export function offerOutcomeRoutes(deps: OfferOutcomeDeps): Router {
  const router = Router();
  const path = '/v1/centres/:centreId/notifications/:id/outcomes';

  router.get(path, requireRole('centre'), async (req, res) => {
    const own = ownNotification(req, res);
    if (own === undefined) return;
    const history = await deps.outcomes.history(own.centreId, own.id);
    if (history === undefined) sendProblem(res, 404, 'Not found', NOT_FOUND);
    else res.json(historyBody(history, contactTargetDays(deps.catchments, own.centreId), deps.clock()));
  });

  router.post(path, requireRole('centre'), express.json({ limit: MAX_BODY_BYTES, strict: true }), async (req, res) => {
    const own = ownNotification(req, res);
    if (own === undefined) return;
    if (!req.is('application/json')) {
      sendProblem(res, 415, 'Unsupported media type', 'Send the outcome as application/json');
      return;
    }
    const now = deps.clock();
    const today = londonDateOf(now);
    // The delivery date is checked by the store, which knows it; here only what the body alone can say.
    const read = readOfferOutcome(req.body, { today, deliveredOn: '0000-01-01' });
    if (!read.ok) {
      sendProblem(res, 400, 'Invalid outcome', undefined, read.problems);
      return;
    }
    const result = await deps.outcomes.record(own.centreId, own.id, read.value, `client:${clientOf(res).id}`, now, today);
    if (result.kind === 'not-found') sendProblem(res, 404, 'Not found', NOT_FOUND);
    else if (result.kind === 'withdrawn') sendProblem(res, 409, 'Withdrawn', 'This notification was withdrawn: do not act on it');
    else if (result.kind === 'invalid')
      sendProblem(res, 400, 'Invalid outcome', undefined, [{ field: result.field, message: result.message }]);
    else res.status(201).json(result.outcome);
  });

  router.use(path, (err: Error & { type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent || err.type === undefined) {
      next(err);
      return;
    }
    if (err.type === 'entity.too.large') sendProblem(res, 413, 'Too large', `The body is over the limit of ${MAX_BODY_BYTES} bytes`);
    else sendProblem(res, 400, 'Invalid outcome', 'The body is not valid JSON', [{ field: '(body)', message: 'is not JSON' }]);
  });

  /** The report for these centres as JSON or (format=csv) CSV; 400 naming the field for a bad period or format. */
  const report = async (req: Request, res: Response, centreIds: string[]): Promise<void> => {
    const now = deps.clock();
    const format = query(req, 'format') ?? 'json';
    const period = readReachPeriod({ month: query(req, 'month'), from: query(req, 'from'), to: query(req, 'to') }, now);
    const problems = period.ok ? [] : [...period.problems];
    if (format !== 'json' && format !== 'csv') problems.push({ field: 'format', message: 'must be json or csv' });
    if (!period.ok || problems.length > 0) {
      sendProblem(res, 400, 'Invalid query', undefined, problems);
      return;
    }
    const rows = await deps.outcomes.reachRows(centreIds, period.range.start, period.range.end);
    const body = reachReport(deps.catchments, period.range, rows, now);
    res.set('Cache-Control', 'no-store');
    if (format === 'csv')
      res
        .type('text/csv; charset=utf-8; header=present')
        .set('Content-Disposition', 'attachment; filename="reach.csv"')
        .send(reachCsv(body));
    else res.json(body);
  };

  router.get('/v1/centres/:centreId/reach', requireRole('centre', 'ig', 'admin'), async (req, res) => {
    const centreId = routeParam(req.params, 'centreId');
    const client = clientOf(res);
    if (client.role === 'centre' && client.scope !== centreId) {
      sendProblem(res, 404, 'Not found', 'No centre with this id');
      return;
    }
    if (!deps.catchments.centres.has(centreId)) {
      sendProblem(res, 404, 'Not found', 'No centre with this id');
      return;
    }
    await report(req, res, [centreId]);
  });

  router.get('/v1/reports/reach', requireRole('ig', 'admin'), async (req, res) => {
    await report(req, res, [...deps.catchments.centres.keys()]);
  });

  return router;
}
