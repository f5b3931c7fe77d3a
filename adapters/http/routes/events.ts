import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { EventIntake, EventIntakeResult } from '../../../src/intake/event-intake.js';
import type { FhirEventSummary, FhirFetchStore } from '../../../src/ports/fhir-fetch.js';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';
import { routeParam, UUID } from './paging.js';

/** A signal event is small: a subject and a source. More is refused before it is read. */
export const MAX_EVENT_BYTES = 65536;
const FHIR_TYPES = ['application/fhir+json', 'application/json+fhir'];
const JSON_TYPES = ['application/cloudevents+json', 'application/json'];

const isFhir = (req: Request): boolean => FHIR_TYPES.includes((req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '');

/** An OperationOutcome for a client that sent FHIR: one issue per problem, the field as its FHIRPath expression. */
function sendOutcome(
  res: Response,
  status: number,
  code: string,
  diagnostics: string,
  fields: { field: string; message: string }[] = [],
): void {
  const issue =
    fields.length === 0
      ? [{ severity: 'error', code, diagnostics }]
      : fields.map((f) => ({ severity: 'error', code, diagnostics: `${f.field} ${f.message}`, expression: [f.field] }));
  res.status(status).type('application/fhir+json').json({ resourceType: 'OperationOutcome', issue });
}

const body = (e: FhirEventSummary, duplicate: boolean) => ({
  id: e.id,
  ...(e.eventId !== undefined ? { eventId: e.eventId } : {}),
  ...(e.feedId !== undefined ? { feed: e.feedId } : {}),
  status: e.status,
  duplicate,
  ...(e.messageId !== undefined ? { messageId: e.messageId } : {}),
  location: `/v1/events/${e.id}`,
});

function answer(req: Request, res: Response, r: EventIntakeResult): void {
  const fhir = isFhir(req);
  if (r.kind === 'accepted') {
    res.status(202).set('Location', `/v1/events/${r.event.id}`).json(body(r.event, r.duplicate));
    return;
  }
  if (r.kind === 'unavailable') {
    res.set('Retry-After', '5');
    if (fhir) sendOutcome(res, 503, 'transient', 'The hub cannot store events at the moment; please resend');
    else sendProblem(res, 503, 'Service unavailable', 'The hub cannot store events at the moment; please resend');
    return;
  }
  const detail = r.httpStatus === 403 ? 'This API client may not signal events for that feed' : 'The event cannot be accepted';
  if (fhir)
    sendOutcome(res, r.httpStatus, r.httpStatus === 403 ? 'forbidden' : r.httpStatus === 422 ? 'not-found' : 'invalid', detail, r.problems);
  else sendProblem(res, r.httpStatus, r.title, detail, r.problems);
}

/**
 * `POST /v1/events`: a signal event (CloudEvents 1.0 JSON, or a FHIR Parameters event) from a FHIR feed's own API
 * client, stored before it is answered 202 with where to look (`Location: /v1/events/{id}`); Stork then fetches
 * the record from the feed's FHIR server. `GET /v1/events/{id}`: what became of it (the feed's client, or admin).
 */
export function eventRoutes(intake: EventIntake | undefined, store: FhirFetchStore, audit: AuditLog): Router {
  const router = Router();
  if (intake)
    router.post(
      '/v1/events',
      requireRole('feed'),
      express.raw({ type: [...FHIR_TYPES, ...JSON_TYPES], limit: MAX_EVENT_BYTES }),
      async (req, res) => {
        if (!Buffer.isBuffer(req.body)) {
          const detail = `Send the event as application/cloudevents+json, application/json or application/fhir+json`;
          sendProblem(res, 415, 'Unsupported media type', detail);
          return;
        }
        if (req.body.length === 0) {
          if (isFhir(req)) sendOutcome(res, 400, 'required', 'The request body must hold one event');
          else sendProblem(res, 400, 'Invalid event', 'The request body must hold one event', [{ field: '(body)', message: 'is empty' }]);
          return;
        }
        answer(req, res, await intake.receive({ bytes: req.body, fhir: isFhir(req), apiClientId: clientOf(res).id }));
      },
    );
  router.get('/v1/events/:id', requireRole('feed', 'admin'), async (req, res) => {
    const client = clientOf(res);
    const id = routeParam(req.params, 'id');
    const event = UUID.test(id) ? await store.getEvent(id) : undefined;
    if (!event || (client.role !== 'admin' && event.apiClient !== client.id)) {
      sendProblem(res, 404, 'Not found', 'No event with this id');
      return;
    }
    await audit.append([
      {
        at: new Date(),
        actor: `client:${client.id}`,
        action: 'read',
        ...(event.messageId ? { messageId: event.messageId } : {}),
        details: { eventId: id, role: client.role, purpose: 'operations' },
      },
    ]);
    res.json({
      ...body(event, false),
      form: event.form,
      receivedAt: event.receivedAt,
      updatedAt: event.updatedAt,
      attempts: event.attempts,
      ...(event.reason !== undefined ? { reason: event.reason } : {}),
    });
  });
  // The body parser's refusals (too large, unreadable), answered in the event's own terms.
  router.use('/v1/events', (err: Error & { type?: string; status?: number }, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err.type === 'entity.too.large') {
      if (isFhir(req)) sendOutcome(res, 413, 'too-long', `The body is over the limit of ${MAX_EVENT_BYTES} bytes`);
      else sendProblem(res, 413, 'Event too large', `The body is over the limit of ${MAX_EVENT_BYTES} bytes`);
      return;
    }
    next(err);
  });
  return router;
}
