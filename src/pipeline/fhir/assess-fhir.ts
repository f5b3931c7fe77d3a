/**
 * Decides what intake does with one FHIR R4 message, before anything is stored: read it (JSON or XML, safely),
 * check the message Bundle, find the feed its MessageHeader.source.endpoint names, check that the
 * authenticated API client is that feed's own, that the feed's mapping accepts the event, and map it. Pure:
 * no I/O, never throws.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';
import type { FeedDirectory } from '../hl7v2/feed-directory.js';
import { addressAllowed } from '../../domain/address-allow-list.js';
import type { FhirFeedConfig, NemsFeedConfig } from './fhir-feed.js';
import type { BackfillAdmission } from '../hl7v2/map-outcome.js';
import { fhirIssue, type FhirIssue } from './fhir-issue.js';
import type { FhirMapping, FhirMappingSet } from './fhir-mapping.js';
import { codingKey } from './fhir-mapping.js';
import { MAX_XML_DEPTH, parseFhirXml, type FhirVersion, type JsonObject, type JsonValue } from './fhir-xml.js';
import { jsonDepth, obj } from './json-access.js';
import { mapFhirBirth, type FhirMapOutcome } from './map-fhir-r4.js';
import { readMessageBundle, type MessageBundle } from './message-bundle.js';
import { httpStatusFor, operationOutcome, responseBundle, type FhirEncoding } from './fhir-response.js';
import type { Attendance } from '../../domain/trigger.js';
import { candidateTriggers, type DeclaredTrigger } from '../triggers/evaluate-trigger.js';
import { NO_TRIGGER_REASON } from '../triggers/attendance-mapper.js';
import { isAttendanceEvent, mapFhirAttendance } from './map-fhir-attendance.js';
import type { AntenatalEvent } from '../../domain/antenatal-notification.js';
import { isAntenatalMessage, mapFhirAntenatal } from './map-fhir-antenatal.js';

export interface FhirAssessContext {
  feeds: FeedDirectory;
  mappings: FhirMappingSet;
  receivedAt: Date;
  /** The authenticated API client. */
  apiClientId: string;
  /** A client authenticated by a bearer JWT with role feed: the feed id its scope claim names (it may send for that feed). */
  authorisedFeedId?: string;
  /** The sender's address, checked against the feed's `sourceAddresses`. */
  remoteAddress?: string;
  maxBytes: number;
  /** The declared triggers (issue 17): an attendance none of whose codes is in their value sets is not relevant. */
  triggers?: readonly DeclaredTrigger[];
}

/** The reason recorded when a feed's client posts from an address the feed does not list. */
export const FHIR_ADDRESS_REFUSED = 'The feed may not send from this network address';

/** Whether a FHIR or NEMS feed may be sent for from this address (a feed listing no addresses: any). */
export function fhirAddressAllowed(feed: FhirFeedConfig | NemsFeedConfig, remoteAddress: string | undefined): boolean {
  return feed.sourceAddresses === undefined || (remoteAddress !== undefined && addressAllowed(remoteAddress, feed.sourceAddresses));
}

export interface FhirAssessment {
  status: 'queued' | 'not-relevant' | 'quarantined';
  /** 200 with a response Bundle, else the OperationOutcome's status. */
  httpStatus: number;
  /** Errors (quarantined), or warnings and notes sent back with a success. */
  issues: FhirIssue[];
  /** Why quarantined or not relevant: words for operators, never personal data. */
  reason?: string;
  /** What could be read of the envelope (ids, sender, event), even for a refused message. */
  envelope: Partial<Pick<MessageBundle, 'bundleId' | 'headerId' | 'sourceEndpoint' | 'event'>>;
  feed?: FhirFeedConfig | NemsFeedConfig;
  /** The authenticated client is the feed's own: only then does the message take the feed's re-send key. */
  senderVerified?: true;
  /** The client may not send for the feed the message names (403; stored in quarantine all the same). */
  forbidden?: true;
  notification?: BirthNotification;
  /** An emergency-department attendance for the triggers (issue 17): queued and processed like a birth. */
  attendance?: Attendance;
  /** A maternity booking or pregnancy loss (issue 17): queued and processed like an HL7 v2 one. */
  antenatalEvent?: AntenatalEvent;
  backfill?: BackfillAdmission;
  /** A bug met while mapping (the exception), for intake to log and count; the message is quarantined. */
  internalError?: unknown;
}

/** The reason recorded when an API client sends for a FHIR feed that is not its own. */
export const FORBIDDEN_FHIR_SENDER = 'This API client may not send for this FHIR feed';

/** A message refused with these issues: quarantined, answered with the HTTP status of its first error. */
export function refused(issues: FhirIssue[], envelope: FhirAssessment['envelope'], extra: Partial<FhirAssessment> = {}): FhirAssessment {
  const first = issues.find((i) => i.severity === 'error' || i.severity === 'fatal') ?? issues[0];
  return {
    status: 'quarantined',
    httpStatus: httpStatusFor(first?.code),
    issues,
    reason: first?.diagnostics ?? 'rejected',
    envelope,
    ...extra,
  };
}

/**
 * Whether the body holds a NUL character: as a byte, as a JSON escape (`\u0000`, not `\\u0000`) or as an XML
 * character reference (`&#0;`, `&#x0;`). FHIR strings may hold no control character but tab, CR and LF, and
 * PostgreSQL text and jsonb cannot hold NUL: a Bundle id or source with one failed the whole group commit (every
 * message in it answered "cannot store", and the same message again on every resend). Found by fuzzing (issue 16).
 */
function holdsNul(bytes: Buffer, encoding: FhirEncoding): boolean {
  if (bytes.includes(0)) return true;
  if (encoding === 'json') return bytes.includes('\\u0000') && /(^|[^\\])(\\\\)*\\u0000/.test(bytes.toString('utf8'));
  return bytes.includes('&#') && /&#(x0*|0+);/i.test(bytes.toString('utf8'));
}

/** Reads a FHIR resource from the body: JSON (depth-capped) or XML of the given version's model (see fhir-xml.ts). */
export function readFhirResource(
  bytes: Buffer,
  encoding: FhirEncoding,
  maxBytes: number,
  version: FhirVersion = 'r4',
): { ok: true; resource: JsonObject } | { ok: false; issue: FhirIssue } {
  if (holdsNul(bytes, encoding))
    return {
      ok: false,
      issue: fhirIssue('structure', 'The body holds a NUL character, which FHIR strings may not contain', undefined, { severity: 'fatal' }),
    };
  if (encoding === 'xml') return parseFhirXml(bytes, maxBytes, version);
  if (bytes.length > maxBytes)
    return {
      ok: false,
      issue: fhirIssue('too-costly', `The body is ${bytes.length} bytes, over the limit of ${maxBytes} bytes`, undefined, {
        severity: 'fatal',
      }),
    };
  let data: JsonValue;
  try {
    data = JSON.parse(bytes.toString('utf8')) as JsonValue;
  } catch {
    return { ok: false, issue: fhirIssue('structure', 'The body is not valid JSON', undefined, { severity: 'fatal' }) };
  }
  const resource = obj(data);
  if (!resource || typeof resource.resourceType !== 'string')
    return {
      ok: false,
      issue: fhirIssue('structure', 'The body must be a FHIR resource (a JSON object with resourceType)', undefined, { severity: 'fatal' }),
    };
  if (jsonDepth(resource, MAX_XML_DEPTH) > MAX_XML_DEPTH)
    return {
      ok: false,
      issue: fhirIssue('too-costly', `The JSON nests deeper than ${MAX_XML_DEPTH} levels`, undefined, { severity: 'fatal' }),
    };
  return { ok: true, resource };
}

export function assessFhirMessage(bytes: Buffer, encoding: FhirEncoding, ctx: FhirAssessContext): FhirAssessment {
  const read = readFhirResource(bytes, encoding, ctx.maxBytes);
  if (!read.ok) return refused([read.issue], {}, { reason: `Unparseable: ${read.issue.diagnostics}` });
  const bundle = readMessageBundle(read.resource);
  if (!bundle.ok) return refused(bundle.issues, bundle.partial);
  const m = bundle.message;
  const envelope = { bundleId: m.bundleId, headerId: m.headerId, sourceEndpoint: m.sourceEndpoint, event: m.event };
  const feed = ctx.feeds.fhirByEndpoint(m.sourceEndpoint);
  if (!feed)
    return refused(
      [
        fhirIssue(
          'not-found',
          'Unknown sender: no FHIR feed is configured for this MessageHeader.source.endpoint',
          'Bundle.entry[0].resource.source.endpoint',
        ),
      ],
      envelope,
    );
  if (feed.apiClient !== ctx.apiClientId && ctx.authorisedFeedId !== feed.id)
    return refused([fhirIssue('forbidden', FORBIDDEN_FHIR_SENDER, 'Bundle.entry[0].resource.source.endpoint')], envelope, {
      feed,
      forbidden: true,
    });
  if (!fhirAddressAllowed(feed, ctx.remoteAddress))
    return refused([fhirIssue('forbidden', FHIR_ADDRESS_REFUSED)], envelope, { feed, forbidden: true });
  const verified = { feed, senderVerified: true as const };
  const mapping = ctx.mappings.get(feed.mapping);
  if (!mapping.events.has(codingKey(m.event)))
    return refused(
      [
        fhirIssue(
          'not-supported',
          `Event ${m.event.code ?? '(none)'} of ${m.event.system ?? '(no system)'} is not accepted on this feed`,
          'Bundle.entry[0].resource.eventCoding',
        ),
      ],
      envelope,
      verified,
    );
  if (isAttendanceEvent(m, mapping)) return assessAttendance(m, mapping, ctx, envelope, verified);
  if (isAntenatalMessage(m, mapping)) return assessAntenatal(m, mapping, envelope, verified);
  let outcome: FhirMapOutcome;
  try {
    outcome = mapFhirBirth(m, mapping, {
      feedId: feed.id,
      receivedAt: ctx.receivedAt,
      ...(feed.backfill ? { backfill: feed.backfill } : {}),
    });
  } catch (err) {
    return refused([fhirIssue('exception', 'Internal error while mapping the message; it is kept for an operator')], envelope, {
      ...verified,
      internalError: err,
    });
  }
  switch (outcome.kind) {
    case 'birth':
      return {
        status: 'queued',
        httpStatus: 200,
        issues: outcome.issues,
        envelope,
        ...verified,
        notification: outcome.notification,
        ...(outcome.backfill ? { backfill: outcome.backfill } : {}),
      };
    case 'not-relevant':
      return {
        status: 'not-relevant',
        httpStatus: 200,
        issues: [...outcome.issues, fhirIssue('informational', `Not relevant: ${outcome.reason}`, undefined, { severity: 'information' })],
        reason: outcome.reason,
        envelope,
        ...verified,
      };
    case 'invalid':
      return refused(outcome.issues, envelope, verified);
  }
}

function assessAttendance(
  m: MessageBundle,
  mapping: FhirMapping,
  ctx: FhirAssessContext,
  envelope: FhirAssessment['envelope'],
  verified: { feed: FhirFeedConfig; senderVerified: true },
): FhirAssessment {
  const notRelevant = (reason: string, issues: FhirIssue[] = []): FhirAssessment => ({
    status: 'not-relevant',
    httpStatus: 200,
    issues: [...issues, fhirIssue('informational', `Not relevant: ${reason}`, undefined, { severity: 'information' })],
    reason,
    envelope,
    ...verified,
  });
  let mapped: ReturnType<typeof mapFhirAttendance>;
  try {
    mapped = mapFhirAttendance(m, mapping, { feedId: verified.feed.id, receivedAt: ctx.receivedAt });
  } catch (err) {
    return refused([fhirIssue('exception', 'Internal error while mapping the message; it is kept for an operator')], envelope, {
      ...verified,
      internalError: err,
    });
  }
  if (mapped.kind === 'invalid') return refused(mapped.issues, envelope, verified);
  if (mapped.kind === 'not-attendance') return notRelevant(mapped.reason);
  if (candidateTriggers(mapped.attendance, ctx.triggers ?? []).length === 0) return notRelevant(NO_TRIGGER_REASON, mapped.issues);
  return { status: 'queued', httpStatus: 200, issues: mapped.issues, envelope, ...verified, attendance: mapped.attendance };
}

function assessAntenatal(
  m: MessageBundle,
  mapping: FhirMapping,
  envelope: FhirAssessment['envelope'],
  verified: { feed: FhirFeedConfig; senderVerified: true },
): FhirAssessment {
  let mapped: ReturnType<typeof mapFhirAntenatal>;
  try {
    mapped = mapFhirAntenatal(m, mapping, { feedId: verified.feed.id });
  } catch (err) {
    return refused([fhirIssue('exception', 'Internal error while mapping the message; it is kept for an operator')], envelope, {
      ...verified,
      internalError: err,
    });
  }
  switch (mapped.kind) {
    case 'invalid':
      return refused(mapped.issues, envelope, verified);
    case 'not-relevant':
      return {
        status: 'not-relevant',
        httpStatus: 200,
        issues: [...mapped.issues, fhirIssue('informational', `Not relevant: ${mapped.reason}`, undefined, { severity: 'information' })],
        reason: mapped.reason,
        envelope,
        ...verified,
      };
    case 'antenatal':
      return { status: 'queued', httpStatus: 200, issues: mapped.issues, envelope, ...verified, antenatalEvent: mapped.event };
  }
}

/** The answer to an assessed message: a response message Bundle (200) or an OperationOutcome. `ids` are fresh uuids. */
export function answerFor(a: FhirAssessment, ids: { bundle: string; header: string; outcome: string }, at: Date): JsonObject {
  if (a.httpStatus !== 200) return operationOutcome(a.issues);
  return responseBundle({
    ids,
    at,
    request: { headerId: a.envelope.headerId ?? '', event: a.envelope.event ?? {}, sourceEndpoint: a.envelope.sourceEndpoint ?? '' },
    notes: a.issues,
  });
}
