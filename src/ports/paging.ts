/**
 * Thrown by a store given a paging cursor it did not hand out (wrong shape, impossible timestamp, not a
 * uuid, ...): the caller's mistake, answered 400 naming the query parameter, never a "retry later".
 */
export class InvalidCursorError extends Error {
  readonly field = 'after';
  constructor() {
    super('not a cursor from the previous page');
    this.name = 'InvalidCursorError';
  }
}
