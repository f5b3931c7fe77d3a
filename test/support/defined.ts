/**
 * The value, or a thrown error naming what is missing: for an indexed read that a test or the benchmark
 * knows is there (`noUncheckedIndexedAccess` types it `T | undefined`), instead of a non-null assertion.
 */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}
