import type { FeedDirectory } from '../pipeline/hl7v2/feed-directory.js';
import type { ProcessingJobs } from '../ports/processing-jobs.js';
import type { MessageStatus, MessageStore, StoredMessage } from '../ports/message-store.js';
import { actorFields, type AuditActor, type AuditEventInput } from '../ports/audit.js';
import type { ApiClient } from '../config/api-clients.js';
import type { BirthNotification } from '../domain/birth-notification.js';
import type { AntenatalEvent } from '../domain/antenatal-notification.js';
import type { IdentityEvent } from '../domain/identity-event.js';
import type { Attendance } from '../domain/trigger.js';
import type { DeclaredTrigger } from '../pipeline/triggers/evaluate-trigger.js';
import type { Issue } from '../domain/issue.js';
import { assessHl7v2, SENDER_IDENTITY_REASONS, type FeedMapper } from '../pipeline/hl7v2/assess-hl7v2.js';
import { decodeHl7v2 } from '../pipeline/hl7v2/decode.js';
import type { BackfillAdmission } from '../pipeline/hl7v2/map-outcome.js';
import { assessFhirMessage, type FhirAssessment } from '../pipeline/fhir/assess-fhir.js';
import { assessNemsMessage } from '../pipeline/fhir/nems-stu3.js';
import { assessFetchedRecord, type FetchedAssessment } from '../pipeline/fhir/fetched-record.js';
import type { JsonObject } from '../pipeline/fhir/fhir-xml.js';
import { toStoredIssue } from '../pipeline/fhir/fhir-issue.js';
import type { FhirMappingSet } from '../pipeline/fhir/fhir-mapping.js';
import type { NemsFeedConfig } from '../pipeline/fhir/fhir-feed.js';
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
  /** The FHIR mappings (R4 and NEMS), as at intake. */
  fhirMappings: FhirMappingSet;
  /** The FHIR body size limit, as at intake. */
  fhirMaxBytes: number;
  /** The declared triggers, as at intake (FHIR attendances are read for them). */
  triggers?: readonly DeclaredTrigger[];
  clock: () => Date;
  /** The configured API client with this id, if any. */
  apiClient: (id: string) => Pick<ApiClient, 'id' | 'role' | 'scope'> | undefined;
  /** Whether the OAuth 2.0 issuer with this id is configured today (absent: none is). */
  issuerConfigured?: (issuerId: string) => boolean;
  /** Where a bug met while mapping is logged and counted (as at intake). */
  logger: Logger;
  counts?: InternalErrorCounts;
  /** The same limits as intake (default: the pipeline's). */
  limits?: Hl7v2Limits;
}

/** What intake, run again on the stored bytes, made of the message: the same for every format. */
interface Reassessment {
  status: 'queued' | 'not-relevant' | 'quarantined';
  reason?: string;
  /** As stored on the message. */
  issues: Issue[];
  /** As recorded in the audit: where each problem is, never its text. */
  auditIssues: Record<string, unknown>[];
  feedId?: string;
  notification?: BirthNotification;
  identityEvent?: IdentityEvent;
  antenatalEvent?: AntenatalEvent;
  attendance?: Attendance;
  backfill?: BackfillAdmission;
}

interface Conflict {
  kind: 'conflict';
  detail: string;
}
const conflict = (detail: string): Conflict => ({ kind: 'conflict', detail });

/**
 * Runs a quarantined message through intake again, from its stored bytes, once an operator has fixed its
 * feed or mapping: HL7 v2 through HL7 v2 intake, FHIR R4 (JSON or XML) through `$process-message`'s assessment, an
 * NHS national birth notification (FHIR STU3, JSON or XML) through the NEMS assessment for its feed. The sender is
 * not answered again (it was answered at receipt); the audit says who replayed it.
 * Its re-send key is not changed: a message refused because its sender was not verified keeps the key of
 * whoever sent it (src/intake/resend-key.ts) even when a replay accepts it, so it never takes a key that the
 * trust's own message, sent again, would need.
 */
export async function replayMessage(deps: ReplayDeps, id: string, actor: AuditActor): Promise<ReplayResult> {
  const message = await deps.store.get(id);
  if (!message) return { kind: 'not-found' };
  if (message.purgedAt !== undefined)
    return conflict(
      `This message was purged under retention on ${message.purgedAt.slice(0, 10)}: its bytes are no longer held; ask the sender to resend it`,
    );
  if (message.status !== 'quarantined') return conflict(`Only quarantined messages can be replayed; this one is ${message.status}`);
  if (message.rawTruncated) return conflict('Only the head of this oversize message was kept; ask the sender to resend it');
  const at = deps.clock();
  const r = message.format === 'hl7v2' ? reassessHl7v2(deps, message, at) : reassessFhir(deps, message, at);
  if ('kind' in r) return r;
  const subject = r.notification?.baby.nhsNumber;
  const who = actorFields(actor);
  const audit: AuditEventInput[] = [
    {
      at,
      actor: who.actor,
      action: 'replayed',
      messageId: id,
      outcome: r.status,
      ...(subject ? { subjectNhsNumber: subject } : {}),
      details: {
        ...who.details,
        format: message.format,
        previousReason: message.reason,
        reason: r.reason,
        ...(r.backfill ? { backfill: r.backfill } : {}),
        issues: r.auditIssues,
      },
    },
  ];
  await deps.store.updateAfterReplay({
    id,
    status: r.status,
    issues: r.issues,
    at,
    audit,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.feedId !== undefined ? { feedId: r.feedId } : {}),
    ...(r.notification ? { canonical: r.notification } : {}),
    ...(r.identityEvent ? { identityEvent: r.identityEvent } : {}),
    ...(r.antenatalEvent ? { antenatalEvent: r.antenatalEvent } : {}),
    ...(r.attendance ? { attendance: r.attendance } : {}),
  });
  if (r.status === 'queued') await deps.processingJobs.enqueue([id]);
  return { kind: 'replayed', status: r.status, ...(r.reason !== undefined ? { reason: r.reason } : {}) };
}

type SendingClient = Pick<ApiClient, 'id' | 'role' | 'scope'> & { via: 'key' | 'jwt' };

/**
 * The client that sent a message over HTTP, checked again against today's configuration (what it may send for is then
 * checked by the assessment, as at receipt). An API key's client must still be in the file and still be allowed to
 * send messages. A bearer-JWT client (the message holds its grant: role and scope at receipt, migration 032) is
 * `<issuer id>:<client>`: its issuer must still be configured, and it is held to the grant its token had.
 */
function sendingClient(deps: ReplayDeps, message: StoredMessage): SendingClient | Conflict {
  const id = message.apiClient;
  const grant = message.apiClientGrant;
  let client: SendingClient | undefined;
  if (id !== undefined && grant !== undefined) {
    const issuerId = id.slice(0, Math.max(0, id.indexOf(':')));
    if (issuerId !== '' && deps.issuerConfigured?.(issuerId) === true)
      client = { id, role: grant.role, ...(grant.scope !== undefined ? { scope: grant.scope } : {}), via: 'jwt' };
  } else if (id !== undefined) {
    const fromFile = deps.apiClient(id);
    if (fromFile) client = { ...fromFile, via: 'key' };
  }
  if (!client || (client.role !== 'feed' && client.role !== 'admin'))
    return conflict('The API client that sent this message may no longer send messages; ask the sender to resend it');
  return client;
}

function reassessHl7v2(deps: ReplayDeps, message: StoredMessage, at: Date): Reassessment | Conflict {
  // The sender is checked again as at receipt, against today's configuration: the MLLP peer's address, and for
  // HTTP what the API client that sent it may send for. Otherwise a message naming another trust's facility,
  // refused because its client could not send for it, would pass on replay as that trust's own.
  let authorisedFacility: string | undefined;
  if (message.channel === 'http') {
    const client = sendingClient(deps, message);
    if ('kind' in client) return client;
    if (client.role === 'feed') authorisedFacility = client.scope;
  }
  // MLLP: the client certificate is not stored. A message refused for its sender's identity is never replayed (it
  // would pass as the feed it named); any other message that a feed was found for passed the certificate check at
  // receipt, so only the address is checked again. A message no feed was found for has no such proof.
  let connection: { certificateCheckedAtReceipt?: true } | undefined;
  if (message.channel === 'mllp') {
    if (message.reason !== undefined && (Object.values(SENDER_IDENTITY_REASONS) as string[]).includes(message.reason))
      return conflict(
        "This message was refused because its sender is not the feed its connection is identified as; ask the feed's own sender to send it",
      );
    connection = message.feedId !== undefined ? { certificateCheckedAtReceipt: true } : {};
  }
  const a = assessHl7v2(decodeHl7v2(message.raw), {
    feeds: deps.feeds,
    mapper: deps.mapper,
    receivedAt: at,
    ...(message.remoteAddress !== undefined ? { remoteAddress: message.remoteAddress } : {}),
    ...(authorisedFacility !== undefined ? { authorisedFacility } : {}),
    ...(connection ? { connection } : {}),
    ...(deps.limits ? { limits: deps.limits } : {}),
  });
  reportMappingError(deps, a, { messageId: message.id, replay: true });
  return {
    status: a.status,
    issues: a.issues,
    auditIssues: a.issues.map((i) => ({ code: i.code, location: i.location, path: i.path })),
    ...(a.reason !== undefined ? { reason: a.reason } : {}),
    ...(a.feed ? { feedId: a.feed.id } : {}),
    ...(a.notification ? { notification: a.notification } : {}),
    ...(a.identityEvent ? { identityEvent: a.identityEvent } : {}),
    ...(a.antenatalEvent ? { antenatalEvent: a.antenatalEvent } : {}),
    ...(a.attendance ? { attendance: a.attendance } : {}),
    ...(a.backfill ? { backfill: a.backfill } : {}),
  };
}

/**
 * A FHIR message, assessed again exactly as at receipt. R4 (`$process-message`): its feed is found again from
 * MessageHeader.source.endpoint, and the API client that sent it must still be that feed's own. NEMS (STU3): the feed is
 * the one its API client posts for today, or for MESH the mailbox's feed it was stored under.
 */
function reassessFhir(deps: ReplayDeps, message: StoredMessage, at: Date): Reassessment | Conflict {
  if (message.channel === 'fhir-fetch') return reassessFetched(deps, message, at);
  const encoding = message.format.endsWith('+xml') ? 'xml' : 'json';
  let a: FhirAssessment;
  if (message.format === 'fhir-r4+json' || message.format === 'fhir-r4+xml') {
    if (message.channel !== 'http')
      return conflict(`Replay of FHIR R4 messages received by ${message.channel} is not supported; fetch or resend it`);
    const client = sendingClient(deps, message);
    if ('kind' in client) return client;
    a = assessFhirMessage(message.raw, encoding, {
      feeds: deps.feeds,
      mappings: deps.fhirMappings,
      receivedAt: at,
      apiClientId: client.id,
      ...(client.via === 'jwt' && client.role === 'feed' && client.scope !== undefined ? { authorisedFeedId: client.scope } : {}),
      ...(message.remoteAddress !== undefined ? { remoteAddress: message.remoteAddress } : {}),
      maxBytes: deps.fhirMaxBytes,
      ...(deps.triggers !== undefined ? { triggers: deps.triggers } : {}),
    });
  } else {
    let feed: NemsFeedConfig | undefined;
    if (message.channel === 'http') {
      const client = sendingClient(deps, message);
      if ('kind' in client) return client;
      feed =
        deps.feeds.nemsForClient(client.id) ??
        (client.via === 'jwt' && client.role === 'feed' && client.scope !== undefined ? deps.feeds.nemsById(client.scope) : undefined);
      if (!feed) return conflict('The API client that sent this message no longer posts for a NEMS feed; ask the sender to resend it');
    } else {
      feed = message.feedId !== undefined ? deps.feeds.nemsById(message.feedId) : undefined;
      if (!feed) return conflict('The NEMS feed this message was received for is no longer configured');
    }
    a = assessNemsMessage(message.raw, encoding, {
      feed,
      mapping: deps.fhirMappings.get(feed.mapping),
      receivedAt: at,
      maxBytes: deps.fhirMaxBytes,
    });
  }
  reportMappingError(deps, a, { messageId: message.id, replay: true });
  return fhirReassessment(a, a.feed?.id);
}

/** A FHIR assessment (message, notification or fetched record) as a reassessment: informational notes left out. */
function fhirReassessment(
  a: Omit<FetchedAssessment, 'internalError'> & { attendance?: Attendance; antenatalEvent?: AntenatalEvent },
  feedId: string | undefined,
): Reassessment {
  const issues = a.issues.filter((i) => i.code !== 'informational');
  return {
    status: a.status,
    issues: issues.map(toStoredIssue),
    auditIssues: issues.map((i) => ({ code: i.code, expression: i.expression, path: i.path })),
    ...(a.reason !== undefined ? { reason: a.reason } : {}),
    ...(feedId !== undefined ? { feedId } : {}),
    ...(a.notification ? { notification: a.notification } : {}),
    ...(a.attendance ? { attendance: a.attendance } : {}),
    ...(a.antenatalEvent ? { antenatalEvent: a.antenatalEvent } : {}),
    ...(a.backfill ? { backfill: a.backfill } : {}),
  };
}

/**
 * A record Stork fetched itself from a feed's FHIR server (event then fetch, or the poller): the collection Bundle it
 * stored, read again through the mapping of the feed it was fetched for. No API client sent it, so none is checked;
 * the feed must still be configured with its fetch block.
 */
function reassessFetched(deps: ReplayDeps, message: StoredMessage, at: Date): Reassessment | Conflict {
  const feed = message.feedId !== undefined ? deps.feeds.fhirById(message.feedId) : undefined;
  if (!feed?.fetch) return conflict('The FHIR feed this record was fetched for is no longer configured to fetch; fetch it again');
  let bundle: JsonObject;
  try {
    bundle = JSON.parse(message.raw.toString('utf8')) as JsonObject;
  } catch {
    return conflict('The stored fetched record is not JSON; fetch it again');
  }
  const a = assessFetchedRecord(bundle, { feed, mapping: deps.fhirMappings.get(feed.mapping), receivedAt: at });
  reportMappingError(deps, { ...a, feed }, { messageId: message.id, replay: true });
  return fhirReassessment(a, feed.id);
}
