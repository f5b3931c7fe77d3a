import type { Response } from 'express';
import { sendProblem } from '../problem.js';

/** Reads `?limit=`; undefined when it is not an integer from 1 to 500. Default 50. */
export function pageLimit(value: unknown, fallback = 50): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 && n <= 500 ? n : undefined;
}

/** A route parameter as one string (Express 5 types allow arrays for wildcard params). */
export function routeParam(params: Record<string, string | string[] | undefined>, name: string): string {
  const v = params[name];
  return Array.isArray(v) ? v.join('/') : (v ?? '');
}

/** Ids in paths and queries are UUIDs; anything else is answered 404/400 without touching the store. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface StatusPage<S extends string> {
  status?: S;
  limit: number;
  after?: string;
}

/**
 * Reads `?status=&limit=&after=` of a listing. On a bad value it answers 400 naming the field and
 * returns undefined.
 */
export function readStatusPage<S extends string>(
  query: Record<string, unknown>,
  statuses: readonly S[],
  res: Response,
): StatusPage<S> | undefined {
  const status = typeof query.status === 'string' ? query.status : undefined;
  if (status !== undefined && !(statuses as readonly string[]).includes(status)) {
    sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'status', message: `must be one of ${statuses.join(', ')}` }]);
    return undefined;
  }
  const limit = pageLimit(query.limit);
  if (limit === undefined) {
    sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'limit', message: 'must be an integer from 1 to 500' }]);
    return undefined;
  }
  const after = typeof query.after === 'string' ? query.after : undefined;
  return { limit, ...(status !== undefined ? { status: status as S } : {}), ...(after !== undefined ? { after } : {}) };
}
