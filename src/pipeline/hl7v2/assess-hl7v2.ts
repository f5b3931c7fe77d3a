import type { BirthNotification } from '../../domain/birth-notification.js';
import type { IdentityEvent } from '../../domain/identity-event.js';
import { InternalError } from '../../ports/errors.js';
import { Hl7ErrorCode, issue, type Issue } from '../../domain/issue.js';
import type { FeedConfig, FeedDirectory } from './feed-directory.js';
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
  remoteAddress?: string;
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

/** Strips an IPv4-mapped IPv6 prefix so `::ffff:10.0.0.1` matches a configured `10.0.0.1`. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

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
  if (
    ctx.remoteAddress !== undefined &&
    feed.sourceAddresses &&
    !feed.sourceAddresses.map(plainAddress).includes(plainAddress(ctx.remoteAddress))
  ) {
    return reject(envelope, feed, 'AR', [issue(Hl7ErrorCode.ApplicationError, 'The feed may not send from this network address', at(4))]);
  }
  return { ...assessFromFeed(text, envelope, feed, ctx), senderVerified: true };
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
