import type { JsonObject, JsonValue } from './fhir-xml.js';

/** Small readers for untrusted FHIR JSON: each returns undefined rather than throwing on the wrong shape. */
export const obj = (v: JsonValue | undefined): JsonObject | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
export const list = (v: JsonValue | undefined): JsonValue[] => (Array.isArray(v) ? v : []);
export const objs = (v: JsonValue | undefined): JsonObject[] =>
  list(v).flatMap((x) => {
    const o = obj(x);
    return o ? [o] : [];
  });
export const str = (v: JsonValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: JsonValue | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Deepest nesting of a JSON value, walked without recursion (a hostile body must not blow the stack). */
export function jsonDepth(root: JsonValue, limit: number): number {
  const stack: [JsonValue, number][] = [[root, 1]];
  let max = 0;
  while (stack.length > 0) {
    const top = stack.pop();
    if (top === undefined) break;
    const [v, d] = top;
    if (d > max) max = d;
    if (max > limit) return max;
    if (v !== null && typeof v === 'object') for (const c of Array.isArray(v) ? v : Object.values(v)) stack.push([c, d + 1]);
  }
  return max;
}
