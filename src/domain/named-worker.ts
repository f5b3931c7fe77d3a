/** The longest named worker's name a centre may record. */
export const NAMED_WORKER_MAX_LENGTH = 100;

/**
 * A named worker's name as a centre typed it, trimmed, or the problem with it (in words for the form and the
 * API): required, at most 100 characters, printable text only (no control characters, which could forge lines in
 * an export or a log).
 */
export function readNamedWorker(value: unknown): { name: string } | { problem: string } {
  if (typeof value !== 'string') return { problem: 'must be text' };
  const name = value.trim();
  if (name === '') return { problem: 'Enter the name of the named worker' };
  if (name.length > NAMED_WORKER_MAX_LENGTH) return { problem: `Name must be ${NAMED_WORKER_MAX_LENGTH} characters or fewer` };
  if (/[\p{Cc}\u2028\u2029]/u.test(name)) return { problem: 'Name must not contain control characters' };
  return { name };
}
