import type { BirthNotification } from '../../domain/birth-notification.js';
import type { IdentityEvent } from '../../domain/identity-event.js';
import type { AntenatalEvent } from '../../domain/antenatal-notification.js';
import type { Attendance } from '../../domain/trigger.js';
import { InternalError } from '../../ports/errors.js';
import { Hl7ErrorCode, issue, type Issue } from '../../domain/issue.js';
import { certificateMatches, type FeedConfig, type FeedDirectory, type PeerCertificate } from './feed-directory.js';
import { addressAllowed } from '../../domain/address-allow-list.js';
import type { AckCode } from './ack.js';
import { readEnvelope, splitSegments, type Envelope } from './envelope.js';
import type { BackfillAdmission, MapOutcome } from './map-outcome.js';
import { checkHl7v2Limits, DEFAULT_HL7V2_LIMITS, type Hl7v2Limits } from './limits.js';

/** Maps a message of a known feed to the canonical record; injected so intake does not depend on mapping files. */
export type FeedMapper = (text: string, feed: FeedConfig, receivedAt: Date) => MapOutcome;

export type AssessedStatus = 'queued' | 'not-relevant' | 'quarantined';

/** Intake's decision about one message, made before anything is stored: the row and the ACK follow from it. */
export interface Assessment {
  envelope?: Envelope;
  feed?: FeedConfig;
  status: AssessedStatus;
  ackCode: AckCode;
  issues: Issue[];
  /** Why it was quarantined or not relevant: words for operators, never personal data. */
  reason?: string;
  notification?: BirthNotification;
  /** An identity event (A40 merge, A24 link): queued and processed like a birth. */
  identityEvent?: IdentityEvent;
  /** A maternity booking or pregnancy loss (issue 17): queued and processed like a birth. */
  antenatalEvent?: AntenatalEvent;
  /** An A&E attendance for the triggers (issue 17): queued and processed like a birth. */
  attendance?: Attendance;
  /** The HTTP client may not send for this sending facility. */
  forbidden?: boolean;
  /** Admitted only because the feed is in back-fill mode: recorded in the message's audit. */
  backfill?: BackfillAdmission;
  /**
   * Set once the sender is known to be `feed`: MSH-4/MSH-3 name it, the HTTP client may send for it, and an
   * MLLP peer's address is one it lists (when it lists any). Only then may the message take the feed's
   * re-send key (src/intake/resend-key.ts); a refusal after this point is the feed's own.
   */
  senderVerified?: true;
  /** A bug in the mapping code met this message (it is quarantined with an AE): intake logs and counts it. */
  internalError?: Error;
}

export interface AssessContext {
  feeds: FeedDirectory;
  mapper: FeedMapper;
  receivedAt: Date;
  /** The sender's address (every transport): checked against the feed's `sourceAddresses`. */
  remoteAddress?: string;
  /**
   * MLLP only (absent elsewhere, and on replay): the connection's identity is checked. `certificate` is the
   * verified TLS client certificate (absent on a plain or certificate-less connection); the address identifies
   * the connection as the feeds listing it.
   */
  connection?: {
    certificate?: PeerCertificate;
    /** Replay: the certificate was checked at receipt (it is not stored); the address is checked again. */
    certificateCheckedAtReceipt?: true;
  };
  /** For HTTP intake by a `feed` client: the only sending facility it may send for. */
  authorisedFacility?: string;
  /** Limits on segments and repetitions (default `DEFAULT_HL7V2_LIMITS`): a message over one is refused before mapping. */
  limits?: Hl7v2Limits;
}

function reject(
  envelope: Envelope | undefined,
  feed: FeedConfig | undefined,
  code: AckCode,
  issues: Issue[],
  extra: Partial<Assessment> = {},
): Assessment {
  const a: Assessment = { status: 'quarantined', ackCode: code, issues, reason: issues[0]?.message ?? 'rejected', ...extra };
  if (envelope) a.envelope = envelope;
  if (feed) a.feed = feed;
  return a;
}

/** The reason recorded when an HTTP client sends for a facility it may not send for (migration 007 relies on it). */
const FORBIDDEN_SENDER = 'This API client may not send for this sending facility';

/** The reasons recorded when a message's sender is not the feed its connection is identified as (replay refuses these). */
export const SENDER_IDENTITY_REASONS = {
  address: 'The feed may not send from this network address',
  certificate: 'The feed must connect with one of its client certificates',
  connection: "The message's sender (MSH-4/MSH-3) is not the feed this connection is identified as",
} as const;

const at = (field: number, component?: number) => ({
  location: { segment: 'MSH', sequence: 1, field, ...(component ? { component } : {}) },
});

/**
 * Decides what intake does with one HL7 v2 message: which feed sent it, whether the feed may send this
 * type, event, version and processing id, and what its mapping makes of it. Pure: no I/O, never throws.
 */
export function assessHl7v2(text: string, ctx: AssessContext): Assessment {
  const read = readEnvelope(text);
  if (!read.ok) return reject(undefined, undefined, 'AR', read.issues, { reason: `Unparseable: ${read.issues[0]?.message ?? ''}` });
  const envelope = read.envelope;
  const feed = ctx.feeds.find(envelope.sendingFacility, envelope.sendingApplication);
  if (!feed) {
    return reject(envelope, undefined, 'AR', [
      issue(
        Hl7ErrorCode.TableValueNotFound,
        'Unknown sender: no feed is configured for this MSH-4 sending facility and MSH-3 application',
        at(4),
      ),
    ]);
  }
  if (ctx.authorisedFacility !== undefined && ctx.authorisedFacility !== feed.sendingFacility) {
    return reject(envelope, feed, 'AR', [issue(Hl7ErrorCode.ApplicationError, FORBIDDEN_SENDER, at(4))], { forbidden: true });
  }
  const refusal = identityRefusal(feed, ctx);
  if (refusal !== undefined)
    return reject(envelope, feed, 'AR', [issue(Hl7ErrorCode.ApplicationError, SENDER_IDENTITY_REASONS[refusal], at(4))], {
      forbidden: true,
    });
  return { ...assessFromFeed(text, envelope, feed, ctx), senderVerified: true };
}

/**
 * Whether the sender may send as `feed` (the feed MSH-4/MSH-3 name): from an address it lists (every transport);
 * over MLLP, with one of its client certificates when it lists any, and never on a connection that its certificate
 * or its address identifies as other feeds only (feed X may not send as feed Y).
 */
function identityRefusal(feed: FeedConfig, ctx: AssessContext): keyof typeof SENDER_IDENTITY_REASONS | undefined {
  if (feed.sourceAddresses && (ctx.remoteAddress === undefined || !addressAllowed(ctx.remoteAddress, feed.sourceAddresses)))
    return 'address';
  const conn = ctx.connection;
  if (!conn) return undefined;
  // A certificate that names feeds is the connection's identity; otherwise the addresses feeds list are.
  const byCert = conn.certificate ? ctx.feeds.byCertificate(conn.certificate) : [];
  if (conn.certificateCheckedAtReceipt !== true) {
    if (feed.clientCertificates && !certificateMatches(feed.clientCertificates, conn.certificate)) return 'certificate';
    if (byCert.length > 0) return byCert.includes(feed) ? undefined : 'connection';
  } else if (feed.clientCertificates) return undefined;
  const address = ctx.remoteAddress;
  const byAddress =
    address !== undefined
      ? ctx.feeds.feeds.filter((f) => f.sourceAddresses !== undefined && addressAllowed(address, f.sourceAddresses))
      : [];
  if (byAddress.length > 0 && !byAddress.includes(feed)) return 'connection';
  return undefined;
}

/** The rest of the assessment, once the sender is known to be `feed`: what it may send, and what its mapping makes of it. */
function assessFromFeed(text: string, envelope: Envelope, feed: FeedConfig, ctx: AssessContext): Assessment {
  const events = feed.messageTypes[envelope.messageType];
  if (!events) {
    return reject(envelope, feed, 'AR', [
      issue(
        Hl7ErrorCode.UnsupportedMessageType,
        `Message type ${envelope.messageType || '(empty)'} is not accepted on this feed`,
        at(9, 1),
      ),
    ]);
  }
  if (!events.includes(envelope.triggerEvent)) {
    return reject(envelope, feed, 'AR', [
      issue(
        Hl7ErrorCode.UnsupportedEvent,
        `Event ${envelope.triggerEvent || '(empty)'} is not accepted for ${envelope.messageType} on this feed`,
        at(9, 2),
      ),
    ]);
  }
  if (!feed.versions.includes(envelope.version)) {
    return reject(envelope, feed, 'AR', [
      issue(
        Hl7ErrorCode.UnsupportedVersion,
        `Version ${envelope.version || '(empty)'} is not accepted on this feed (accepted: ${feed.versions.join(', ')})`,
        at(12),
      ),
    ]);
  }
  if (!feed.processingIds.includes(envelope.processingId)) {
    return reject(envelope, feed, 'AR', [
      issue(
        Hl7ErrorCode.UnsupportedProcessingId,
        `Processing id ${envelope.processingId || '(empty)'} is not accepted on this feed`,
        at(11),
      ),
    ]);
  }
  const overLimit = checkHl7v2Limits(splitSegments(text.replace(/^\uFEFF/, '').trimStart()), envelope, ctx.limits ?? DEFAULT_HL7V2_LIMITS);
  if (overLimit) return reject(envelope, feed, 'AR', [overLimit]);
  let outcome: MapOutcome;
  try {
    outcome = ctx.mapper(text, feed, ctx.receivedAt);
  } catch (error) {
    outcome = { kind: 'internal', error: new InternalError(`mapper for feed ${feed.id} failed`, { cause: error }) };
  }
  switch (outcome.kind) {
    case 'birth':
      return {
        envelope,
        feed,
        status: 'queued',
        ackCode: 'AA',
        issues: outcome.issues,
        notification: outcome.notification,
        ...(outcome.backfill ? { backfill: outcome.backfill } : {}),
      };
    case 'identity':
      return { envelope, feed, status: 'queued', ackCode: 'AA', issues: outcome.issues, identityEvent: outcome.event };
    case 'antenatal':
      return { envelope, feed, status: 'queued', ackCode: 'AA', issues: outcome.issues, antenatalEvent: outcome.event };
    case 'attendance':
      return { envelope, feed, status: 'queued', ackCode: 'AA', issues: outcome.issues, attendance: outcome.attendance };
    case 'not-relevant':
      return { envelope, feed, status: 'not-relevant', ackCode: 'AA', issues: [], reason: outcome.reason };
    case 'invalid':
      return reject(envelope, feed, 'AE', outcome.issues);
    case 'internal':
      return reject(
        envelope,
        feed,
        'AE',
        [issue(Hl7ErrorCode.ApplicationError, 'Internal error while mapping the message; it is kept for an operator to replay')],
        { internalError: outcome.error },
      );
  }
}
