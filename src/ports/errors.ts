/**
 * The hub's error policy, in three kinds (a fourth, ConfigError in src/config, stops start-up):
 *
 * - TransientError: the step may succeed later (a store or Redis briefly down). A queue job failing with
 *   it is retried with backoff. Any error not known to be permanent is treated as transient.
 * - PermanentError: the step can never succeed as it stands (malformed job data, a value the store
 *   refuses). A queue job failing with it fails at once (adapters/queue turns it into BullMQ's
 *   UnrecoverableError) and waits in the failed set for an operator, instead of 12 retries over 34 minutes.
 * - InternalError: a bug in Stork's own code found while handling one message; logged and counted.
 *
 * Error messages may be logged nowhere: a driver's message can hold data values. Logs carry the error's
 * name, code and stack frames only (see the `err` serializer in src/logger.ts).
 */

export class TransientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientError';
  }
}

export class PermanentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export class InternalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InternalError';
  }
}

/**
 * SQLSTATE classes that no retry can fix: 22 data exception (e.g. an id that is not a uuid), 23 integrity
 * constraint violation, 42 syntax error or access rule violation. Connection (08), resource (53), operator
 * intervention (57) and transaction rollback (40: serialization failure, deadlock) are transient.
 */
const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23', '42']);

/** A short, string `code` property (SQLSTATE, Node errno code), if the error has one. */
export function errorCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code) ? code : undefined;
}

/** Whether retrying cannot help: a PermanentError (or one caused by it), or a database error of a permanent SQLSTATE class. */
export function isPermanent(err: unknown): boolean {
  if (err instanceof TransientError) return false;
  if (err instanceof PermanentError) return true;
  const code = errorCode(err);
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code) && PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2))) return true;
  const cause = err instanceof Error ? err.cause : undefined;
  return cause !== undefined && cause !== err ? isPermanent(cause) : false;
}

/** The error's kind in words safe for logs and job records: its name and code, never its message. */
export function describeError(err: unknown): string {
  const name = err instanceof Error ? err.name : typeof err;
  const code = errorCode(err);
  return code === undefined ? name : `${name} (${code})`;
}
