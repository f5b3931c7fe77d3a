import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { noMetrics, secondsSince, type Metrics } from '../ports/metrics.js';
import type { FeedDirectory, PeerCertificate } from '../pipeline/hl7v2/feed-directory.js';
import { Hl7ErrorCode, issue, type Issue } from '../domain/issue.js';
import type { ProcessingJobs } from '../ports/processing-jobs.js';
import type { ApiClientGrant, Channel, MessageStatus, MessageStore, ReceivedMessage, ReceiptOutcome } from '../ports/message-store.js';
import { ackWanted, buildAck, sentCode, type AckCode, type SentAckCode } from '../pipeline/hl7v2/ack.js';
import { assessHl7v2, type Assessment, type FeedMapper } from '../pipeline/hl7v2/assess-hl7v2.js';
import { decodeHl7v2 } from '../pipeline/hl7v2/decode.js';
import { readEnvelope } from '../pipeline/hl7v2/envelope.js';
import type { Hl7v2Limits } from '../pipeline/hl7v2/limits.js';
import { resendKey } from './resend-key.js';
import { identitySubject } from '../domain/identity-event.js';
import { antenatalSubject } from '../domain/antenatal-notification.js';
import { reportMappingError, type InternalErrorCounts } from './internal-errors.js';
import { ReceiptCommitter, receiptAudit } from './receipt-committer.js';

export { INTAKE_CONCURRENT_BATCHES } from './receipt-committer.js';

/** One inbound HL7 v2 message as a listener received it (MLLP or HTTP), before its receipt is stored. */
export interface InboundHl7v2 {
  bytes: Buffer;
  channel: Channel;
  remoteAddress?: string;
  /** HTTP only: the authenticated client, and the one sending facility a `feed` client may send for. */
  apiClientId?: string;
  authorisedFacility?: string;
  /** HTTP, a bearer-JWT client: what its token granted, stored with the message for replay. */
  apiClientGrant?: ApiClientGrant;
  /** MLLP only: the connection's identity (its verified TLS client certificate, if any), checked against the sender. */
  connection?: { certificate?: PeerCertificate };
  /** Set when the frame exceeded the size limit: `bytes` then holds only its head. */
  oversize?: { sizeBytes: number; limitBytes: number };
}

export interface IntakeResult {
  /** The ACK to send back; undefined when the sender asked for none (enhanced mode NE/ER/SU). */
  ack?: string;
  code: SentAckCode;
  /** Whether the message is durably stored (false only when the store failed). */
  stored: boolean;
  messageId?: string;
  status?: MessageStatus;
  duplicate: boolean;
  forbidden: boolean;
}

export interface Hl7v2IntakeDeps {
  feeds: FeedDirectory;
  mapper: FeedMapper;
  store: MessageStore;
  processingJobs: ProcessingJobs;
  logger: Logger;
  clock?: () => Date;
  /** Where bugs met while mapping are counted (the hub's counts; none in some tests). */
  counts?: InternalErrorCounts;
  /** Limits on segments and repetitions per message (default: the pipeline's). */
  limits?: Hl7v2Limits;
  /** The receipt path shared with the other intakes (FHIR); one of its own over `store` and `processingJobs` when absent. */
  committer?: ReceiptCommitter;
  /** Messages by feed, type and ACK code, and latencies (the hub's metrics; none in some tests). */
  metrics?: Metrics;
}

/**
 * HL7 v2 intake, shared by MLLP and HTTP: assess each message, commit it (with its ACK and audit events)
 * in a group commit, and hand back the ACK as soon as the commit returns. The accepted messages' processing
 * job is added to the queue after that, off the ACK path: the message is durably stored as `queued` before its
 * AA, so a failed or interrupted enqueue loses nothing (the recovery sweep, RequeueStranded, queues it again).
 * A store failure never yields AA: the sender is told to retry (AE), and nothing it sent is lost.
 */
export class Hl7v2Intake {
  private readonly commit: ReceiptCommitter;
  private readonly clock: () => Date;

  constructor(private readonly deps: Hl7v2IntakeDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.commit = deps.committer ?? new ReceiptCommitter({ store: deps.store, processingJobs: deps.processingJobs, logger: deps.logger });
  }

  /** Receives one message; its feed, type and ACK code and its latencies are recorded in the metrics. */
  async receive(inbound: InboundHl7v2): Promise<IntakeResult> {
    const metrics = this.deps.metrics ?? noMetrics;
    const started = process.hrtime.bigint();
    const seen: { assessment?: Assessment } = {};
    const result = await this.receiveOne(inbound, seen, started);
    metrics.stage('receipt_to_ack', secondsSince(started));
    const a = seen.assessment;
    const env = a?.envelope;
    metrics.messageReceived({
      feed: a?.senderVerified ? a.feed?.id : undefined,
      messageType: env ? `${env.messageType}^${env.triggerEvent}` : undefined,
      ack: result.code,
    });
    return result;
  }

  private async receiveOne(inbound: InboundHl7v2, seen: { assessment?: Assessment }, started: bigint): Promise<IntakeResult> {
    const receivedAt = this.clock();
    const text = decodeHl7v2(inbound.bytes);
    const assessment = inbound.oversize
      ? this.assessOversize(text, inbound.oversize)
      : assessHl7v2(text, {
          feeds: this.deps.feeds,
          mapper: this.deps.mapper,
          receivedAt,
          ...(inbound.remoteAddress !== undefined ? { remoteAddress: inbound.remoteAddress } : {}),
          ...(inbound.connection ? { connection: inbound.connection } : {}),
          ...(inbound.authorisedFacility !== undefined ? { authorisedFacility: inbound.authorisedFacility } : {}),
          ...(this.deps.limits ? { limits: this.deps.limits } : {}),
        });
    seen.assessment = assessment;
    (this.deps.metrics ?? noMetrics).stage('parse_map_validate', secondsSince(started));
    const id = randomUUID();
    const ack = buildAck(assessment.envelope, assessment.ackCode, assessment.issues, {
      ackControlId: id.replaceAll('-', '').slice(0, 20),
      now: receivedAt,
    });
    const row = this.toRow(id, receivedAt, inbound, assessment, ack);
    const log = this.deps.logger;
    let outcome: ReceiptOutcome;
    try {
      outcome = await this.commit.submit(row);
    } catch (err) {
      log.error(
        { err, channel: inbound.channel, bytes: inbound.bytes.length },
        'store unavailable: message not accepted, sender told to retry',
      );
      reportMappingError(this.deps, assessment, { channel: inbound.channel });
      return this.retryLater(assessment);
    }
    reportMappingError(this.deps, assessment, {
      messageId: outcome.kind === 'stored' ? id : outcome.originalId,
      channel: inbound.channel,
    });
    if (outcome.kind === 'duplicate') {
      const { originalId, status } = outcome;
      log.info(
        { messageId: originalId, status, channel: inbound.channel, feed: assessment.senderVerified ? assessment.feed?.id : undefined },
        're-sent message recognised; original acknowledgement returned',
      );
      const original = outcome.ack?.toString('utf8');
      return this.answer(assessment, original ?? ack, assessment.ackCode, { stored: true, messageId: originalId, status, duplicate: true });
    }
    log.info(
      {
        messageId: id,
        feed: assessment.senderVerified ? assessment.feed?.id : undefined,
        channel: inbound.channel,
        bytes: inbound.bytes.length,
        status: row.status,
        ack: assessment.ackCode,
        ...(assessment.backfill ? { backfill: true } : {}),
        issues: assessment.issues.map((i) => ({ code: i.code, at: i.location, path: i.path })),
      },
      'message received',
    );
    return this.answer(assessment, ack, assessment.ackCode, { stored: true, messageId: id, status: row.status, duplicate: false });
  }

  /** Waits until every message received so far is committed and its enqueue has finished (graceful shutdown). */
  async drained(): Promise<void> {
    await this.commit.drained();
  }

  private answer(
    assessment: Assessment,
    ack: string,
    code: AckCode,
    extra: Omit<IntakeResult, 'ack' | 'code' | 'forbidden'>,
  ): IntakeResult {
    const result: IntakeResult = { code: sentCode(assessment.envelope, code), forbidden: assessment.forbidden === true, ...extra };
    if (ackWanted(assessment.envelope, code)) result.ack = ack;
    return result;
  }

  /** The store failed: nothing was stored, the sender is told to resend (AE). */
  private retryLater(assessment: Assessment): IntakeResult {
    const problem = [issue(Hl7ErrorCode.ApplicationError, 'The hub cannot store messages at the moment; please resend')];
    const ack = buildAck(assessment.envelope, 'AE', problem, {
      ackControlId: randomUUID().replaceAll('-', '').slice(0, 20),
      now: this.clock(),
    });
    return this.answer(assessment, ack, 'AE', { stored: false, duplicate: false });
  }

  private assessOversize(head: string, size: { sizeBytes: number; limitBytes: number }): Assessment {
    const read = readEnvelope(head);
    const envelope = read.ok ? read.envelope : undefined;
    const issues: Issue[] = [
      issue(Hl7ErrorCode.ApplicationError, `The message is ${size.sizeBytes} bytes, over the limit of ${size.limitBytes} bytes`),
    ];
    const a: Assessment = { status: 'quarantined', ackCode: 'AR', issues, reason: issues[0]?.message ?? 'oversize' };
    if (envelope) a.envelope = envelope;
    return a;
  }

  private toRow(id: string, receivedAt: Date, d: InboundHl7v2, a: Assessment, ack: string): ReceivedMessage {
    const env = a.envelope;
    // A feed is the actor only once verified: a message naming RX9 sent with RX1's key is RX1's client's doing.
    const verified = a.feed !== undefined && a.senderVerified === true;
    const actor = verified && a.feed ? `feed:${a.feed.id}` : d.apiClientId !== undefined ? `client:${d.apiClientId}` : 'sender:unknown';
    const subject =
      a.notification?.baby.nhsNumber ??
      identitySubject(a.identityEvent) ??
      antenatalSubject(a.antenatalEvent) ??
      a.attendance?.patient.nhsNumber;
    const base = { at: receivedAt, actor, messageId: id, ...(subject ? { subjectNhsNumber: subject } : {}) };
    const audit = receiptAudit(
      base,
      { channel: d.channel, bytes: d.oversize?.sizeBytes ?? d.bytes.length },
      {
        status: a.status,
        outcome: a.ackCode,
        sent: sentCode(env, a.ackCode),
        issues: a.issues,
        ...(a.reason !== undefined ? { reason: a.reason } : {}),
        ...(a.feed ? { mapping: a.feed.mapping } : {}),
        ...(a.backfill ? { backfill: a.backfill } : {}),
      },
    );
    const row: ReceivedMessage = {
      id,
      receivedAt,
      channel: d.channel,
      raw: d.bytes,
      rawTruncated: d.oversize !== undefined,
      sizeBytes: d.oversize?.sizeBytes ?? d.bytes.length,
      sha256: createHash('sha256').update(d.bytes).digest('hex'),
      status: a.status,
      issues: a.issues,
      ackCode: sentCode(env, a.ackCode),
      ack: Buffer.from(ack, 'utf8'),
      audit,
    };
    if (d.remoteAddress !== undefined) row.remoteAddress = d.remoteAddress;
    if (d.apiClientId !== undefined) row.apiClient = d.apiClientId;
    if (d.apiClientGrant !== undefined) row.apiClientGrant = d.apiClientGrant;
    if (a.feed) row.feedId = a.feed.id;
    if (env) {
      const senderKey = resendKey({
        names: [env.sendingFacility, env.sendingApplication],
        verified,
        ...(d.channel === 'http' && d.apiClientId !== undefined ? { apiClientId: d.apiClientId } : {}),
        ...(d.channel === 'mllp' && d.remoteAddress !== undefined ? { remoteAddress: d.remoteAddress } : {}),
      });
      if (senderKey !== undefined) row.senderKey = senderKey;
      if (env.controlId !== '' && !d.oversize) row.controlId = env.controlId;
      row.messageType = `${env.messageType}^${env.triggerEvent}`;
    }
    if (a.reason !== undefined) row.reason = a.reason;
    if (a.notification) row.canonical = a.notification;
    if (a.identityEvent) row.identityEvent = a.identityEvent;
    if (a.antenatalEvent) row.antenatalEvent = a.antenatalEvent;
    if (a.attendance) row.attendance = a.attendance;
    return row;
  }
}
