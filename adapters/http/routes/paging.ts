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
