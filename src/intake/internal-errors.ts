import type { Logger } from '../logger.js';

/** In-process counts of bugs met while handling messages, for the hub to expose (metrics) later. */
export interface InternalErrorCounts {
  /** Messages whose mapping raised an exception: answered AE and quarantined, kept for replay. */
  mapping: number;
}

export function newInternalErrorCounts(): InternalErrorCounts {
  return { mapping: 0 };
}

/**
 * Logs and counts a bug the mapping stage met, once per message handled. The log carries the error's
 * name, code and stack frames (the `err` serializer), the message id and feed, never the error's text:
 * a mapping function's exception can quote the field it choked on.
 */
export function reportMappingError(
  deps: { logger: Logger; counts?: InternalErrorCounts },
  /** An HL7 v2 or FHIR assessment: the bug it met, if any, and the feed it was for. */
  assessment: { internalError?: unknown; feed?: { id: string; mapping: string } },
  fields: { messageId?: string; channel?: string; replay?: boolean },
): void {
  const err = assessment.internalError;
  if (err === undefined) return;
  if (deps.counts) deps.counts.mapping++;
  deps.logger.error(
    { err, ...fields, feed: assessment.feed?.id, mapping: assessment.feed?.mapping },
    'internal error while mapping a message: answered AE and quarantined for replay once fixed',
  );
}
