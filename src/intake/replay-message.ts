import type { FeedDirectory } from '../pipeline/hl7v2/feed-directory.js';
import type { ProcessingJobs } from '../ports/processing-jobs.js';
import type { MessageStatus, MessageStore } from '../ports/message-store.js';
import { actorFields, type AuditActor, type AuditEventInput } from '../ports/audit.js';
import type { ApiClient } from '../config/api-clients.js';
import { assessHl7v2, type FeedMapper } from '../pipeline/hl7v2/assess-hl7v2.js';
import { decodeHl7v2 } from '../pipeline/hl7v2/decode.js';
import type { Logger } from '../logger.js';
import { reportMappingError, type InternalErrorCounts } from './internal-errors.js';
import type { Hl7v2Limits } from '../pipeline/hl7v2/limits.js';

export type ReplayResult =
  { kind: 'replayed'; status: MessageStatus; reason?: string } | { kind: 'not-found' } | { kind: 'conflict'; detail: string };

export interface ReplayDeps {
  store: MessageStore;
  processingJobs: ProcessingJobs;
  feeds: FeedDirectory;
  mapper: FeedMapper;
  clock: () => Date;
  /** The configured API client with this id, if any. */
  apiClient: (id: string) => ApiClient | undefined;
  /** Where a bug met while mapping is logged and counted (as at intake). */
  logger: Logger;
  counts?: InternalErrorCounts;
  /** The same limits as intake (default: the pipeline's). */
  limits?: Hl7v2Limits;
}

/**
 * Runs a quarantined message through intake again, from its stored bytes, once an operator has fixed its
 * feed or mapping. The sender is not acknowledged again (it was answered at receipt); the audit says who replayed it.
 * Its re-send key is not changed: a message refused because its sender was not verified keeps the key of
 * whoever sent it (src/intake/resend-key.ts) even when a replay accepts it, so it never takes a key that the
 * trust's own message, sent again, would need.
 */
export async function replayMessage(deps: ReplayDeps, id: string, actor: AuditActor): Promise<ReplayResult> {
  const message = await deps.store.get(id);
  if (!message) return { kind: 'not-found' };
  if (message.status !== 'quarantined')
    return { kind: 'conflict', detail: `Only quarantined messages can be replayed; this one is ${message.status}` };
  if (message.rawTruncated)
    return { kind: 'conflict', detail: 'Only the head of this oversize message was kept; ask the sender to resend it' };
  // Replay re-runs HL7 v2 intake; a FHIR message is not replayed through it (FHIR replay is not built yet).
  if (message.format !== 'hl7v2')
    return { kind: 'conflict', detail: `Replay of ${message.format} messages is not supported yet; ask the sender to resend it` };
  // The sender is checked again as at receipt, against today's configuration: the MLLP peer's address, and for
  // HTTP what the API client that sent it may send for. Otherwise a message naming another trust's facility,
  // refused because its client could not send for it, would pass on replay as that trust's own.
  let authorisedFacility: string | undefined;
  if (message.channel === 'http') {
    const client = message.apiClient !== undefined ? deps.apiClient(message.apiClient) : undefined;
    if (!client || (client.role !== 'feed' && client.role !== 'admin'))
      return { kind: 'conflict', detail: 'The API client that sent this message may no longer send messages; ask the sender to resend it' };
    if (client.role === 'feed') authorisedFacility = client.scope;
  }
  const at = deps.clock();
  const a = assessHl7v2(decodeHl7v2(message.raw), {
    feeds: deps.feeds,
    mapper: deps.mapper,
    receivedAt: at,
    ...(message.channel === 'mllp' && message.remoteAddress !== undefined ? { remoteAddress: message.remoteAddress } : {}),
    ...(authorisedFacility !== undefined ? { authorisedFacility } : {}),
    ...(deps.limits ? { limits: deps.limits } : {}),
  });
  reportMappingError(deps, a, { messageId: id, replay: true });
  const subject = a.notification?.baby.nhsNumber;
  const who = actorFields(actor);
  const audit: AuditEventInput[] = [
    {
      at,
      actor: who.actor,
      action: 'replayed',
      messageId: id,
      outcome: a.status,
      ...(subject ? { subjectNhsNumber: subject } : {}),
      details: {
        ...who.details,
        previousReason: message.reason,
        reason: a.reason,
        ...(a.backfill ? { backfill: a.backfill } : {}),
        issues: a.issues.map((i) => ({ code: i.code, location: i.location, path: i.path })),
      },
    },
  ];
  await deps.store.updateAfterReplay({
    id,
    status: a.status,
    issues: a.issues,
    at,
    audit,
    ...(a.reason !== undefined ? { reason: a.reason } : {}),
    ...(a.feed ? { feedId: a.feed.id } : {}),
    ...(a.notification ? { canonical: a.notification } : {}),
  });
  if (a.status === 'queued') await deps.processingJobs.enqueue([id]);
  return { kind: 'replayed', status: a.status, ...(a.reason !== undefined ? { reason: a.reason } : {}) };
}
