import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { noMetrics, secondsSince, type Metrics } from '../ports/metrics.js';
import type { FeedDirectory } from '../pipeline/hl7v2/feed-directory.js';
import type { ApiClientGrant, Channel, MessageStatus, ReceiptOutcome, ReceivedMessage } from '../ports/message-store.js';
import type { NemsFeedConfig } from '../pipeline/fhir/fhir-feed.js';
import { answerForNems, assessNemsMessage } from '../pipeline/fhir/nems-stu3.js';
import {
  answerFor,
  assessFhirMessage,
  fhirAddressAllowed,
  FHIR_ADDRESS_REFUSED,
  readFhirResource,
  refused,
  type FhirAssessment,
} from '../pipeline/fhir/assess-fhir.js';
import { fhirIssue, toStoredIssue, type FhirIssue, type FhirIssueCode } from '../pipeline/fhir/fhir-issue.js';
import type { FhirMappingSet } from '../pipeline/fhir/fhir-mapping.js';
import { fhirControlId } from '../pipeline/fhir/message-bundle.js';
import { objs, str } from '../pipeline/fhir/json-access.js';
import { FHIR_MEDIA_TYPES, httpStatusFor, operationOutcome, serialise, type FhirEncoding } from '../pipeline/fhir/fhir-response.js';
import { resendKey } from './resend-key.js';
import type { DeclaredTrigger } from '../pipeline/triggers/evaluate-trigger.js';
import type { InternalErrorCounts } from './internal-errors.js';
import { receiptAudit, type ReceiptCommitter } from './receipt-committer.js';
import { antenatalSubject } from '../domain/antenatal-notification.js';

/** One inbound FHIR message as the HTTP route received it, before its receipt is stored. */
export interface InboundFhir {
  bytes: Buffer;
  /** How the body is encoded (Content-Type). */
  encoding: FhirEncoding;
  /** How the sender wants the answer (Accept, else the body's own encoding). */
  answerEncoding: FhirEncoding;
  /** The authenticated API client. */
  apiClientId: string;
  /** A bearer-JWT client with role feed: the FHIR or NEMS feed id its scope names. */
  authorisedFeedId?: string;
  /** A bearer-JWT client: what its token granted, stored with the message for replay. */
  apiClientGrant?: ApiClientGrant;
  remoteAddress?: string;
}

/**
 * One NHS national birth notification (NEMS, FHIR STU3) for a NEMS feed, as bytes: what MESH (a NEMS
 * subscription's mailbox) will hand over without HTTP, and what `$process-message` hands over for the feed's
 * API client. The feed is the caller's, never read from the message.
 */
export interface InboundNems {
  bytes: Buffer;
  feed: NemsFeedConfig;
  /** How the body is encoded; absent: told from its first character (`<` is XML). */
  encoding?: FhirEncoding;
  /** How the answer is encoded; absent: as the body. */
  answerEncoding?: FhirEncoding;
  channel: Channel;
  /** The authenticated API client, when it came over HTTP. */
  apiClientId?: string;
  apiClientGrant?: ApiClientGrant;
  remoteAddress?: string;
  /**
   * The MESH message id, when it came from the feed's mailbox: the re-send key is then this id in the feed's
   * MESH key space, so a message downloaded again (a restart between storing and acknowledging) is recognised.
   */
  meshMessageId?: string;
  /**
   * Only the head of a larger message is in `bytes`: stored truncated and quarantined, never read. `detail` says
   * why when it is not the byte count (too many chunks).
   */
  oversize?: { sizeBytes: number; limitBytes: number; detail?: string };
}

/** JSON or XML, from the first character that is not white space. */
export const sniffEncoding = (bytes: Buffer): FhirEncoding => (bytes.toString('utf8', 0, 256).trimStart().startsWith('<') ? 'xml' : 'json');

export interface FhirIntakeResult {
  httpStatus: number;
  body: Buffer;
  contentType: string;
  /** Whether the message is durably stored (false only when the store failed). */
  stored: boolean;
  messageId?: string;
  status?: MessageStatus;
  duplicate: boolean;
}

export interface FhirIntakeDeps {
  feeds: FeedDirectory;
  mappings: FhirMappingSet;
  /** The receipt path shared with HL7 v2 intake: group commit, store, queue. */
  committer: ReceiptCommitter;
  logger: Logger;
  maxBytes: number;
  clock?: () => Date;
  /** Where bugs met while mapping are counted (the hub's counts). */
  counts?: InternalErrorCounts;
  /** Outcomes and latencies (the hub's metrics; none in some tests). */
  metrics?: Metrics;
  /** The declared triggers (issue 17): FHIR attendances are read for them. */
  triggers?: readonly DeclaredTrigger[];
}

/**
 * FHIR R4 messaging intake (`$process-message`): assess the message, commit it with its answer and audit rows
 * through the shared receipt path (which queues an accepted birth after the commit), then answer: a response message Bundle,
 * or an OperationOutcome naming each problem's element (FHIRPath). A re-send (same feed, Bundle.id and
 * MessageHeader.id) gets the original answer and stores nothing. A store failure is never answered as success:
 * 503 with a transient OperationOutcome, and the sender resends. (A failed enqueue after the commit loses
 * nothing: the message is stored as queued and the recovery sweep queues it.)
 */
export class FhirIntake {
  private readonly clock: () => Date;

  constructor(private readonly deps: FhirIntakeDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async receive(d: InboundFhir): Promise<FhirIntakeResult> {
    // A NEMS feed's API client posts STU3 national birth notifications: read as such, for its own feed.
    const nems =
      this.deps.feeds.nemsForClient(d.apiClientId) ??
      (d.authorisedFeedId !== undefined ? this.deps.feeds.nemsById(d.authorisedFeedId) : undefined);
    if (nems)
      return this.receiveNems({
        bytes: d.bytes,
        feed: nems,
        encoding: d.encoding,
        answerEncoding: d.answerEncoding,
        channel: 'http',
        apiClientId: d.apiClientId,
        ...(d.apiClientGrant !== undefined ? { apiClientGrant: d.apiClientGrant } : {}),
        ...(d.remoteAddress !== undefined ? { remoteAddress: d.remoteAddress } : {}),
      });
    const started = process.hrtime.bigint();
    const receivedAt = this.clock();
    const a = assessFhirMessage(d.bytes, d.encoding, {
      feeds: this.deps.feeds,
      mappings: this.deps.mappings,
      receivedAt,
      apiClientId: d.apiClientId,
      ...(d.authorisedFeedId !== undefined ? { authorisedFeedId: d.authorisedFeedId } : {}),
      ...(d.remoteAddress !== undefined ? { remoteAddress: d.remoteAddress } : {}),
      maxBytes: this.deps.maxBytes,
      ...(this.deps.triggers !== undefined ? { triggers: this.deps.triggers } : {}),
    });
    const format = d.encoding === 'xml' ? ('fhir-r4+xml' as const) : ('fhir-r4+json' as const);
    return this.commit({ ...d, channel: 'http', format }, a, receivedAt, started);
  }

  /**
   * An NHS national birth notification for a NEMS feed (the entry point MESH calls, without HTTP): stored with
   * its answer as a `fhir-stu3+xml`/`+json` message before anything is answered, keyed for re-sends in the
   * feed's FHIR key space, then processed as any birth. The answer is what an HTTP sender gets back.
   */
  async receiveNems(n: InboundNems): Promise<FhirIntakeResult> {
    const started = process.hrtime.bigint();
    const receivedAt = this.clock();
    const encoding = n.encoding ?? sniffEncoding(n.bytes);
    const a = n.oversize
      ? refused(
          [
            fhirIssue(
              'too-costly',
              n.oversize.detail ?? `The message is ${n.oversize.sizeBytes} bytes or more, over the limit of ${n.oversize.limitBytes} bytes`,
              undefined,
              {
                severity: 'fatal',
              },
            ),
          ],
          {},
          { feed: n.feed, senderVerified: true },
        )
      : n.channel === 'http' && !fhirAddressAllowed(n.feed, n.remoteAddress)
        ? refused([fhirIssue('forbidden', FHIR_ADDRESS_REFUSED)], {}, { feed: n.feed, forbidden: true })
        : assessNemsMessage(n.bytes, encoding, {
            feed: n.feed,
            mapping: this.deps.mappings.get(n.feed.mapping),
            receivedAt,
            maxBytes: this.deps.maxBytes,
          });
    const format = encoding === 'xml' ? ('fhir-stu3+xml' as const) : ('fhir-stu3+json' as const);
    return this.commit(
      {
        bytes: n.bytes,
        encoding,
        answerEncoding: n.answerEncoding ?? encoding,
        channel: n.channel,
        format,
        stu3: true,
        ...(n.apiClientId !== undefined ? { apiClientId: n.apiClientId } : {}),
        ...(n.apiClientGrant !== undefined ? { apiClientGrant: n.apiClientGrant } : {}),
        ...(n.remoteAddress !== undefined ? { remoteAddress: n.remoteAddress } : {}),
        ...(n.meshMessageId !== undefined ? { meshMessageId: n.meshMessageId } : {}),
        ...(n.oversize !== undefined ? { oversize: n.oversize } : {}),
      },
      a,
      receivedAt,
      started,
    );
  }

  /** Commits and answers; the outcome and its latencies (from `started`, the receipt) are recorded in the metrics. */
  private async commit(d: Receipt, a: FhirAssessment, receivedAt: Date, started: bigint): Promise<FhirIntakeResult> {
    const metrics = this.deps.metrics ?? noMetrics;
    metrics.stage('parse_map_validate', secondsSince(started));
    const result = await this.commitOne(d, a, receivedAt);
    metrics.stage('receipt_to_ack', secondsSince(started));
    metrics.fhirIntake({
      feed: a.senderVerified ? a.feed?.id : undefined,
      outcome: !result.stored ? 'unavailable' : result.duplicate ? 'duplicate' : (result.status ?? 'unknown'),
    });
    return result;
  }

  private async commitOne(d: Receipt, a: FhirAssessment, receivedAt: Date): Promise<FhirIntakeResult> {
    const id = randomUUID();
    const answer = (d.stu3 ? answerForNems : answerFor)(a, { bundle: id, header: randomUUID(), outcome: randomUUID() }, receivedAt);
    const body = serialise(answer, d.answerEncoding);
    const row = this.toRow(id, receivedAt, d, a, body);
    let outcome: ReceiptOutcome;
    try {
      outcome = await this.deps.committer.submit(row);
    } catch (err) {
      this.deps.logger.error(
        { err, format: row.format, bytes: d.bytes.length },
        'store unavailable: FHIR message not accepted, sender told to retry',
      );
      return this.retryLater(d.answerEncoding);
    }
    const feed = a.senderVerified ? a.feed?.id : undefined;
    if (a.internalError !== undefined) {
      // A bug, not the sender's fault: logged with the error's kind and stack (never its text), and counted.
      if (this.deps.counts) this.deps.counts.mapping++;
      this.deps.logger.error(
        { err: a.internalError, messageId: outcome.kind === 'stored' ? id : outcome.originalId, feed, mapping: a.feed?.mapping },
        'internal error while mapping a FHIR message: answered 500 and quarantined',
      );
    }
    if (outcome.kind === 'duplicate') {
      const { originalId, status } = outcome;
      this.deps.logger.info(
        { messageId: originalId, status, feed, format: row.format },
        're-sent FHIR message recognised; original answer returned',
      );
      const original = outcome.ack ?? body;
      const { httpStatus, contentType } = describeAnswer(original, this.deps.maxBytes);
      return { httpStatus, body: original, contentType, stored: true, messageId: originalId, status, duplicate: true };
    }
    this.deps.logger.info(
      {
        messageId: id,
        feed,
        channel: d.channel,
        format: row.format,
        bytes: d.bytes.length,
        status: row.status,
        http: a.httpStatus,
        ...(a.backfill ? { backfill: true } : {}),
        issues: a.issues.map((i) => ({ code: i.code, at: i.expression, path: i.path })),
      },
      'FHIR message received',
    );
    return {
      httpStatus: a.httpStatus,
      body,
      contentType: FHIR_MEDIA_TYPES[d.answerEncoding],
      stored: true,
      messageId: id,
      status: row.status,
      duplicate: false,
    };
  }

  /** The store failed: nothing was stored, the sender is told to resend (503, transient). */
  private retryLater(encoding: FhirEncoding): FhirIntakeResult {
    const issue = fhirIssue('transient', 'The hub cannot store messages at the moment; please resend', undefined, { severity: 'fatal' });
    return {
      httpStatus: 503,
      body: serialise(operationOutcome([issue]), encoding),
      contentType: FHIR_MEDIA_TYPES[encoding],
      stored: false,
      duplicate: false,
    };
  }

  private toRow(id: string, receivedAt: Date, d: Receipt, a: FhirAssessment, answer: Buffer): ReceivedMessage {
    const verified = a.senderVerified === true && a.feed !== undefined;
    const actor = verified && a.feed ? `feed:${a.feed.id}` : `client:${d.apiClientId ?? 'unknown'}`;
    const subject = a.notification?.baby.nhsNumber ?? antenatalSubject(a.antenatalEvent) ?? a.attendance?.patient.nhsNumber;
    const base = { at: receivedAt, actor, messageId: id, ...(subject ? { subjectNhsNumber: subject } : {}) };
    const format = d.format;
    const issues = a.issues.filter((i) => i.code !== 'informational').map(toStoredIssue);
    const row: ReceivedMessage = {
      id,
      receivedAt,
      channel: d.channel,
      format,
      raw: d.bytes,
      rawTruncated: d.oversize !== undefined,
      sizeBytes: d.oversize?.sizeBytes ?? d.bytes.length,
      sha256: createHash('sha256').update(d.bytes).digest('hex'),
      status: a.status,
      issues,
      ackCode: a.httpStatus === 200 ? 'ok' : 'fatal-error',
      ack: answer,
      audit: receiptAudit(
        base,
        { channel: d.channel, format, bytes: d.oversize?.sizeBytes ?? d.bytes.length },
        {
          status: a.status,
          outcome: a.httpStatus === 200 ? 'ok' : 'fatal-error',
          issues,
          ...(a.reason !== undefined ? { reason: a.reason } : {}),
          ...(a.feed ? { mapping: a.feed.mapping } : {}),
          ...(a.backfill ? { backfill: a.backfill } : {}),
        },
      ),
    };
    if (d.apiClientId !== undefined) row.apiClient = d.apiClientId;
    if (d.apiClientGrant !== undefined) row.apiClientGrant = d.apiClientGrant;
    if (d.remoteAddress !== undefined) row.remoteAddress = d.remoteAddress;
    if (a.feed) row.feedId = a.feed.id;
    const names = verified && a.feed ? [a.feed.id] : [a.envelope.sourceEndpoint ?? ''];
    if (d.meshMessageId !== undefined) {
      // From the feed's MESH mailbox: keyed by the MESH message id, whatever the body says (or fails to say).
      const key = resendKey({ names, verified, space: 'mesh' });
      if (key !== undefined) {
        row.senderKey = key;
        row.controlId = d.meshMessageId;
      }
    } else {
      const key = resendKey({ names, verified, ...(d.apiClientId !== undefined ? { apiClientId: d.apiClientId } : {}), space: 'fhir' });
      if (key !== undefined) row.senderKey = key;
      if (a.envelope.bundleId !== undefined && a.envelope.headerId !== undefined)
        row.controlId = fhirControlId({ bundleId: a.envelope.bundleId, headerId: a.envelope.headerId });
    }
    if (a.envelope.event?.code !== undefined) row.messageType = `FHIR^${a.envelope.event.code}`;
    if (a.reason !== undefined) row.reason = a.reason;
    if (a.notification) row.canonical = a.notification;
    if (a.attendance) row.attendance = a.attendance;
    if (a.antenatalEvent) row.antenatalEvent = a.antenatalEvent;
    return row;
  }
}

/** What the receipt of one FHIR message (R4 or NEMS STU3) is stored with. */
interface Receipt {
  bytes: Buffer;
  encoding: FhirEncoding;
  answerEncoding: FhirEncoding;
  channel: Channel;
  format: ReceivedMessage['format'];
  /** A NEMS (STU3) message: answered in STU3 terms. */
  stu3?: true;
  apiClientId?: string;
  apiClientGrant?: ApiClientGrant;
  remoteAddress?: string;
  meshMessageId?: string;
  oversize?: { sizeBytes: number; limitBytes: number; detail?: string };
}

/** The HTTP status and media type of an answer Stork stored earlier (a re-send gets it again, as it was). */
export function describeAnswer(answer: Buffer, maxBytes: number): { httpStatus: number; contentType: string } {
  const encoding: FhirEncoding = answer.toString('utf8', 0, 64).trimStart().startsWith('<') ? 'xml' : 'json';
  const read = readFhirResource(answer, encoding, Math.max(maxBytes, answer.length));
  let httpStatus = 200;
  if (read.ok && read.resource.resourceType === 'OperationOutcome') {
    const issues = objs(read.resource.issue);
    const first = issues.find((i) => i.severity === 'error' || i.severity === 'fatal') ?? issues[0];
    httpStatus = httpStatusFor(str(first?.code) as FhirIssueCode | undefined);
  }
  return { httpStatus, contentType: FHIR_MEDIA_TYPES[encoding] };
}

export type { FhirIssue };
