import { randomUUID } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { parse } from 'csv-parse/sync';
import type { FamilyStore, MatchReviewStatus } from '../../../src/ports/family-store.js';
import type { PersonForMatching } from '../../../src/matching/index.js';
import { readRegister, REGISTER_COLUMNS, type RegisterRow } from '../../../src/pipeline/family-register.js';
import { localDateOf } from '../../../src/domain/hl7-datetime.js';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';
import { pageLimit, routeParam, UUID } from './paging.js';

export interface FamilyRoutesDeps {
  families: FamilyStore;
  /** The lead's blocking keys (src/matching), saved with each imported family. */
  blockingKeys: (p: PersonForMatching) => string[];
  /** The centres' inbox ids a register may be imported for. */
  centreIds: ReadonlySet<string>;
  /** The largest import body accepted (413 above). */
  maxImportBytes: number;
  /** Told after a review is decided (its match-review job leaves the queue). */
  reviewDecided?: (reviewId: string) => Promise<void>;
  clock?: () => Date;
}

const REVIEW_STATUSES: readonly MatchReviewStatus[] = ['pending', 'confirmed', 'rejected'];
/** Rows one import may hold (each a family member); a bigger register is imported in parts. */
export const MAX_IMPORT_ROWS = 50_000;

/** Reads the body as CSV (header row naming the columns) or a JSON array; a string answer is the problem. */
function registerRows(req: Request): RegisterRow[] | string {
  if (req.is('text/csv')) {
    if (typeof req.body !== 'string') return 'The body is not CSV text';
    try {
      const rows = parse(req.body, { columns: true, skip_empty_lines: true, trim: true, bom: true, max_record_size: 64 * 1024 }) as unknown;
      return Array.isArray(rows) ? (rows as RegisterRow[]) : 'The body is not CSV with a header row';
    } catch (err) {
      // csv-parse's message may quote the data: only its code is given back.
      const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'CSV_INVALID';
      return `The body is not valid CSV (${code})`;
    }
  }
  if (req.is('application/json')) {
    const body: unknown = req.body;
    if (!Array.isArray(body)) return 'The body must be a JSON array of rows';
    if (!body.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) return 'Each row must be a JSON object';
    return body as RegisterRow[];
  }
  return 'unsupported';
}

/**
 * The family register import (admin) and the match review queue (admin; operators in the web app). Centre and
 * feed clients get 403.
 */
export function familyRoutes(deps: FamilyRoutesDeps, audit: AuditLog): Router {
  const router = Router();
  const clock = deps.clock ?? (() => new Date());
  const limit = { limit: deps.maxImportBytes };
  const bodies = [express.text({ ...limit, type: 'text/csv' }), express.json({ ...limit, type: 'application/json' })];
  /** 413 with the import's own limit (the app's handler names the message limit). */
  const tooLarge = (err: Error & { type?: string }, _req: Request, res: Response, next: NextFunction): void => {
    if (err.type === 'entity.too.large')
      sendProblem(res, 413, 'Import too large', `The body is over the limit of ${deps.maxImportBytes} bytes`);
    else if (err.type === 'entity.parse.failed') sendProblem(res, 400, 'Invalid import', 'The body is not valid JSON');
    else next(err);
  };

  router.post('/v1/families/import', requireRole('admin'), ...bodies, async (req, res) => {
    const centre = typeof req.query.centre === 'string' ? req.query.centre : undefined;
    if (centre === undefined || !deps.centreIds.has(centre)) {
      sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'centre', message: 'must be the id of a configured centre' }]);
      return;
    }
    const rows = registerRows(req);
    if (rows === 'unsupported') {
      sendProblem(res, 415, 'Unsupported media type', 'Send the register as text/csv or application/json');
      return;
    }
    if (typeof rows === 'string') {
      sendProblem(res, 400, 'Invalid import', rows);
      return;
    }
    if (rows.length > MAX_IMPORT_ROWS) {
      sendProblem(res, 413, 'Import too large', `At most ${MAX_IMPORT_ROWS} rows an import`);
      return;
    }
    const at = clock();
    const read = readRegister(rows, centre, { today: localDateOf(at), at, newId: randomUUID, blockingKeys: deps.blockingKeys });
    const importId = randomUUID();
    const saved =
      read.families.length > 0
        ? await deps.families.importFamilies(read.families, importId, `client:${clientOf(res).id}`, at)
        : { imported: 0, updated: 0 };
    res.json({ importId, ...saved, rejected: read.rejected });
  });
  router.use('/v1/families/import', tooLarge);

  router.get('/v1/match-reviews', requireRole('admin'), async (req, res) => {
    const status = typeof req.query.status === 'string' ? req.query.status : 'pending';
    if (!(REVIEW_STATUSES as readonly string[]).includes(status)) {
      sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'status', message: `must be one of ${REVIEW_STATUSES.join(', ')}` }]);
      return;
    }
    const n = pageLimit(req.query.limit);
    if (n === undefined) {
      sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'limit', message: 'must be an integer from 1 to 500' }]);
      return;
    }
    const items = await deps.families.listReviews(status as MatchReviewStatus, n);
    const client = clientOf(res);
    await audit.append([
      {
        at: clock(),
        actor: `client:${client.id}`,
        action: 'read',
        details: { query: 'match-reviews', role: client.role, purpose: 'operations', status, results: items.length },
      },
    ]);
    res.json({ items });
  });

  router.post('/v1/match-reviews/:id', requireRole('admin'), express.json({ limit: 4096 }), async (req, res) => {
    const id = routeParam(req.params, 'id');
    if (!UUID.test(id)) {
      sendProblem(res, 404, 'Not found', 'No match review with this id');
      return;
    }
    const body: unknown = req.body;
    const decision = typeof body === 'object' && body !== null && 'decision' in body ? body.decision : undefined;
    const reason = typeof body === 'object' && body !== null && 'reason' in body ? body.reason : undefined;
    const problems = [
      ...(decision !== 'confirm' && decision !== 'reject' ? [{ field: 'decision', message: 'must be confirm or reject' }] : []),
      ...(reason !== undefined && (typeof reason !== 'string' || reason.length > 500)
        ? [{ field: 'reason', message: 'must be a string of at most 500 characters' }]
        : []),
    ];
    if (problems.length > 0 || (decision !== 'confirm' && decision !== 'reject')) {
      sendProblem(res, 400, 'Invalid decision', undefined, problems);
      return;
    }
    const result = await deps.families.decideReview(
      id,
      decision,
      `client:${clientOf(res).id}`,
      clock(),
      typeof reason === 'string' ? reason : undefined,
    );
    if (result.kind === 'not-found') sendProblem(res, 404, 'Not found', 'No match review with this id');
    else if (result.kind === 'already-decided') sendProblem(res, 409, 'Already decided', `This review was already ${result.status}`);
    else {
      await deps.reviewDecided?.(id);
      res.json(result.review);
    }
  });
  router.use('/v1/match-reviews', tooLarge);
  return router;
}

export { REGISTER_COLUMNS };
