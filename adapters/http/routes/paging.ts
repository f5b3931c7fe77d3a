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

/** The audit query's cursor: opaque to clients, base64url of `audit:<seq of the page's last event>`. */
export function encodeAuditCursor(seq: number): string {
  return Buffer.from(`audit:${seq}`).toString('base64url');
}

/** The seq an encodeAuditCursor cursor names, or undefined for anything else (never a value the store could choke on). */
export function decodeAuditCursor(cursor: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(cursor)) return undefined;
  const m = /^audit:(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const seq = m?.[1] !== undefined ? Number(m[1]) : undefined;
  return seq !== undefined && seq <= Number.MAX_SAFE_INTEGER && encodeAuditCursor(seq) === cursor ? seq : undefined;
}

/**
 * An instant of a query: an RFC 3339 date-time with its offset (`2026-11-18T09:00:00Z`), or a date
 * (`2026-11-18`, midnight UTC; as an exclusive end, `endOfDay` moves it to the next midnight, so the day is in).
 */
export function readInstant(value: string, endOfDay = false): Date | undefined {
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const t = new Date(Date.UTC(y, m - 1, d + (endOfDay ? 1 : 0)));
    const check = new Date(Date.UTC(y, m - 1, d));
    return check.getUTCFullYear() === y && check.getUTCMonth() === m - 1 && check.getUTCDate() === d && y >= 1900 ? t : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t);
}
