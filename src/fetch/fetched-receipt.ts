import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { FhirFeedConfig } from '../pipeline/fhir/fhir-feed.js';
import { toStoredIssue } from '../pipeline/fhir/fhir-issue.js';
import { str } from '../pipeline/fhir/json-access.js';
import type { FhirMapping } from '../pipeline/fhir/fhir-mapping.js';
import { assembleFetchedRecord, assessFetchedRecord, fetchedControlId } from '../pipeline/fhir/fetched-record.js';
import type { MessageStatus, ReceivedMessage } from '../ports/message-store.js';
import { FhirFetchError } from '../ports/fhir-server.js';
import { resendKey } from '../intake/resend-key.js';
import { receiptAudit, type ReceiptCommitter } from '../intake/receipt-committer.js';
import type { InternalErrorCounts } from '../intake/internal-errors.js';
import type { FetchedBirth } from './fetch-birth-record.js';

/** How the record came to be fetched: a signal event (its Stork id and its own id), or the feed's poller. */
export type FetchCause = { kind: 'event'; eventId: string; ownEventId?: string } | { kind: 'poll' };

export interface StoredFetch {
  messageId: string;
  status: MessageStatus;
  duplicate: boolean;
}

export interface FetchedReceiptDeps {
  committer: ReceiptCommitter;
  logger: Logger;
  counts?: InternalErrorCounts;
  clock: () => Date;
}

/**
 * Stores a fetched record as a message (channel `fhir-fetch`, format `fhir-r4+json`: the assembled Bundle's exact
 * bytes) with what the feed's mapping made of it and its receipt audit, through the shared receipt path (so an
 * accepted birth is queued for processing after the commit, as every other). Its re-send key is the feed's, its
 * control id the baby's id and version: the same version fetched again (an event and the poller, a repeated event,
 * a poll after a restart) is recognised and stores nothing new. The audit's `received` event names the cause (the
 * signal event's id, or the poller) and the resources fetched.
 */
export async function storeFetchedRecord(
  deps: FetchedReceiptDeps,
  feed: FhirFeedConfig & { fetch: NonNullable<FhirFeedConfig['fetch']> },
  mapping: FhirMapping,
  fetched: FetchedBirth,
  cause: FetchCause,
): Promise<StoredFetch> {
  const controlId = fetchedControlId(fetched.baby);
  if (controlId === undefined) throw new FhirFetchError('refused', 'the Patient has no valid id');
  const receivedAt = deps.clock();
  const id = randomUUID();
  const bundle = assembleFetchedRecord(fetched.baby, fetched.related, {
    baseUrl: feed.fetch.baseUrl.replace(/\/+$/, ''),
    id,
    at: receivedAt,
  });
  const bytes = Buffer.from(JSON.stringify(bundle));
  const a = assessFetchedRecord(bundle, { feed, mapping, receivedAt });
  const issues = a.issues.filter((i) => i.code !== 'informational').map(toStoredIssue);
  const subject = a.notification?.baby.nhsNumber;
  const base = { at: receivedAt, actor: `feed:${feed.id}`, messageId: id, ...(subject ? { subjectNhsNumber: subject } : {}) };
  const resources = [fetched.baby, ...fetched.related].map((r) => `${str(r.resourceType) ?? '?'}/${str(r.id) ?? '?'}`);
  const row: ReceivedMessage = {
    id,
    receivedAt,
    channel: 'fhir-fetch',
    format: 'fhir-r4+json',
    feedId: feed.id,
    controlId,
    messageType: cause.kind === 'event' ? 'FHIR^fetch^event' : 'FHIR^fetch^poll',
    raw: bytes,
    rawTruncated: false,
    sizeBytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    status: a.status,
    issues,
    audit: receiptAudit(
      base,
      {
        channel: 'fhir-fetch',
        format: 'fhir-r4+json',
        bytes: bytes.length,
        ...(cause.kind === 'event' ? { event: cause.eventId } : { poll: true }),
        resources,
      },
      {
        status: a.status,
        outcome: a.status === 'quarantined' ? 'fatal-error' : 'ok',
        answered: false,
        issues,
        ...(a.reason !== undefined ? { reason: a.reason } : {}),
        mapping: feed.mapping,
        ...(a.backfill ? { backfill: a.backfill } : {}),
      },
    ),
  };
  const key = resendKey({ names: [feed.id], verified: true, space: 'fhir' });
  if (key !== undefined) row.senderKey = key;
  if (a.reason !== undefined) row.reason = a.reason;
  if (a.notification) row.canonical = a.notification;
  if (a.internalError !== undefined) {
    if (deps.counts) deps.counts.mapping++;
    deps.logger.error(
      { err: a.internalError, messageId: id, feed: feed.id, mapping: feed.mapping },
      'internal error while mapping a fetched FHIR record: quarantined',
    );
  }
  const outcome = await deps.committer.submit(row);
  if (outcome.kind === 'duplicate') {
    deps.logger.info(
      { messageId: outcome.originalId, feed: feed.id, via: cause.kind },
      'fetched FHIR record already stored (same Patient version)',
    );
    return { messageId: outcome.originalId, status: outcome.status, duplicate: true };
  }
  deps.logger.info(
    {
      messageId: id,
      feed: feed.id,
      via: cause.kind,
      ...(cause.kind === 'event' ? { event: cause.eventId } : {}),
      resources: resources.length,
      status: a.status,
      bytes: bytes.length,
    },
    'fetched FHIR record stored',
  );
  return { messageId: id, status: a.status, duplicate: false };
}
