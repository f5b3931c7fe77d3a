import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { ConsentRecord, ConsentStatement } from '../../../src/domain/consent.js';
import { validateConsentStatement } from '../../../src/domain/consent.schema.js';
import { isValidNhsNumber } from '../../../src/domain/nhs-number.js';
import type { ConsentRegister } from '../../../src/ports/consent-register.js';
import { recordConsent, withdrawConsent, type ConsentDeps } from '../../../src/processing/record-consents.js';
import type { ApiClient } from '../../../src/config/api-clients.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem, type FieldProblem } from '../problem.js';
import { routeParam, UUID } from './paging.js';

/** A consent statement is a few hundred bytes; more is refused before it is read. */
export const MAX_CONSENT_BYTES = 8192;

/** The sources each role may give: a maternity system records what booking or the midwife took; a centre, the parent's call. */
const SOURCES_BY_ROLE: Partial<Record<ApiClient['role'], readonly ConsentStatement['source'][]>> = {
  feed: ['antenatal-booking', 'midwife'],
  centre: ['parent-by-phone'],
};

/** Field-level problems with a statement: the schema's, then NHS number check digits and the period's order. */
export function statementProblems(body: unknown): FieldProblem[] {
  if (!validateConsentStatement(body)) {
    return (validateConsentStatement.errors ?? [])
      .filter((e) => e.keyword !== 'anyOf' && !(e.keyword === 'required' && e.schemaPath.includes('anyOf')))
      .map((e) => {
        const missing = e.keyword === 'required' ? (e.params as { missingProperty?: string }).missingProperty : undefined;
        const extra = e.keyword === 'additionalProperties' ? (e.params as { additionalProperty?: string }).additionalProperty : undefined;
        const field = missing ?? extra ?? (e.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(body)');
        return { field, message: extra !== undefined ? 'is not a field of a consent statement' : (e.message ?? e.keyword) };
      })
      .concat(
        (validateConsentStatement.errors ?? []).some((e) => e.keyword === 'anyOf')
          ? [{ field: 'motherNhsNumber', message: "give the mother's or the baby's NHS number (or both)" }]
          : [],
      );
  }
  const problems: FieldProblem[] = [];
  for (const field of ['motherNhsNumber', 'babyNhsNumber'] as const) {
    const v = body[field];
    if (v !== undefined && !isValidNhsNumber(v)) problems.push({ field, message: 'is not a valid NHS number (check digit)' });
  }
  if (body.from !== undefined && body.to !== undefined && body.from > body.to)
    problems.push({ field: 'to', message: 'must be on or after from' });
  return problems;
}

/** What the API answers about a record: the record itself (ids, kind, scope, period, subject, history). */
const view = (r: ConsentRecord): ConsentRecord & { status: 'active' | 'withdrawn' } => ({
  ...r,
  status: r.withdrawnAt === undefined ? 'active' : 'withdrawn',
});

/**
 * The consent register's API (issue 13 item 2):
 * - `POST /v1/consents` (roles feed and centre): a maternity system records what antenatal booking or a midwife
 *   took (sources `antenatal-booking`, `midwife`; any recipient); a centre records what a parent told it by phone
 *   (source `parent-by-phone`), only with itself as the recipient (`centre:<its id>`) and only for a family it has
 *   had a notification about (otherwise 404, so a centre cannot probe for other families). Recording re-decides
 *   the family's live notifications at once (an objection withdraws them).
 * - `POST /v1/consents/{id}/withdraw` (feed, centre, ig): the client that recorded it, or an IG lead, withdraws a
 *   record; the record stays in the history with its withdrawal. Anyone else gets 404.
 * - `GET /v1/consents?nhsNumber=` (ig, admin): the full history about a mother or baby, the read audited.
 */
export function consentRoutes(deps: ConsentDeps & { register: ConsentRegister }): Router {
  const router = Router();
  const json = express.json({ limit: MAX_CONSENT_BYTES, type: ['application/json'], strict: true });

  router.post('/v1/consents', requireRole('feed', 'centre'), json, async (req, res) => {
    const client = clientOf(res);
    if (!req.is('application/json')) {
      sendProblem(res, 415, 'Unsupported media type', 'Send the consent statement as application/json');
      return;
    }
    const body: unknown = req.body;
    const problems = statementProblems(body);
    if (problems.length > 0 || !validateConsentStatement(body)) {
      sendProblem(res, 400, 'Invalid consent statement', undefined, problems);
      return;
    }
    const allowed = SOURCES_BY_ROLE[client.role] ?? [];
    if (!allowed.includes(body.source)) {
      sendProblem(res, 403, 'Forbidden', `A ${client.role} client records consents with source ${allowed.join(' or ')}`, [
        { field: 'source', message: `must be ${allowed.join(' or ')} for this client` },
      ]);
      return;
    }
    const ownInbox = client.role === 'centre' ? client.scope : undefined;
    if (ownInbox !== undefined && body.recipient !== `centre:${ownInbox}`) {
      sendProblem(res, 403, 'Forbidden', 'A centre records consents only with itself as the recipient', [
        { field: 'recipient', message: `must be centre:${ownInbox}` },
      ]);
      return;
    }
    const outcome = await recordConsent(deps, body, `client:${client.id}`, ownInbox);
    if (outcome.kind === 'not-own-family') {
      sendProblem(res, 404, 'Not found', 'This centre has no family with this NHS number');
      return;
    }
    res.status(201).set('Location', `/v1/consents/${outcome.record.id}`).json(view(outcome.record));
  });

  router.post('/v1/consents/:id/withdraw', requireRole('feed', 'centre', 'ig'), async (req, res) => {
    const client = clientOf(res);
    const id = routeParam(req.params, 'id');
    const actor = `client:${client.id}`;
    const outcome = UUID.test(id)
      ? await withdrawConsent(deps, id, actor, (r) => client.role === 'ig' || r.recordedBy === actor)
      : { kind: 'not-found' as const };
    if (outcome.kind === 'not-found') {
      sendProblem(res, 404, 'Not found', 'No consent record with this id that this client may withdraw');
      return;
    }
    res.json({ ...view(outcome.record), changed: outcome.kind === 'withdrawn' });
  });

  router.get('/v1/consents', requireRole('ig', 'admin'), async (req, res) => {
    const raw = req.query.nhsNumber;
    const nhsNumber = typeof raw === 'string' ? raw.replace(/\s+/g, '') : undefined;
    if (nhsNumber === undefined || !isValidNhsNumber(nhsNumber)) {
      sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'nhsNumber', message: 'must be a valid 10-digit NHS number' }]);
      return;
    }
    const records = await deps.register.history(nhsNumber, `client:${clientOf(res).id}`, deps.clock());
    res.json({ items: records.map(view) });
  });

  // The body parser's refusals (too large, not JSON), answered as problems naming the body.
  router.use('/v1/consents', (err: Error & { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err.type === 'entity.too.large') {
      sendProblem(res, 413, 'Consent statement too large', `The body is over the limit of ${MAX_CONSENT_BYTES} bytes`);
      return;
    }
    if (err.type === 'entity.parse.failed') {
      sendProblem(res, 400, 'Invalid consent statement', 'The body is not JSON', [{ field: '(body)', message: 'is not valid JSON' }]);
      return;
    }
    next(err);
  });
  return router;
}
