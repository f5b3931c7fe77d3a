import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { FeedDirectory } from '../pipeline/hl7v2/feed-directory.js';
import { Hl7ErrorCode, issue, type Issue } from '../domain/issue.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { ProcessingQueue } from '../ports/job-queue.js';
import type { Channel, MessageStatus, MessageStore, ReceivedMessage, ReceiptOutcome } from '../ports/message-store.js';
import { ackWanted, buildAck, sentCode, type AckCode, type SentAckCode } from '../pipeline/hl7v2/ack.js';
import { assessHl7v2, type Assessment, type FeedMapper } from '../pipeline/hl7v2/assess-hl7v2.js';
import { decodeHl7v2 } from '../pipeline/hl7v2/decode.js';
import { readEnvelope } from '../pipeline/hl7v2/envelope.js';
import { GroupCommit } from '../batching/group-commit.js';

/** One message as a listener received it. */
export interface Hl7v2Delivery {
  bytes: Buffer;
  channel: Channel;
  remoteAddress?: string;
  /** HTTP only: the authenticated client, and the one sending facility a `feed` client may send for. */
  apiClientId?: string;
  authorisedFacility?: string;
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
  queue: ProcessingQueue;
  logger: Logger;
  clock?: () => Date;
}

interface Prepared {
  row: ReceivedMessage;
  assessment: Assessment;
  ack: string;
}

interface FlushResult {
  outcome: ReceiptOutcome;
  enqueued: boolean;
}

/** Batches committed at once: enough to overlap one batch's commit with the next one's, well under the pool size. */
const INTAKE_CONCURRENT_BATCHES = 3;

/**
 * HL7 v2 intake, shared by MLLP and HTTP: assess each message, commit it (with its ACK and audit events)
 * in a group commit, enqueue the accepted ones, and only then hand back the ACK. A store or queue failure
 * never yields AA: the sender is told to retry (AE), and nothing it sent is lost.
 */
export class Hl7v2Intake {
  private readonly commit: GroupCommit<Prepared, FlushResult>;
  private readonly clock: () => Date;

  constructor(private readonly deps: Hl7v2IntakeDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.commit = new GroupCommit((items) => this.flush(items), 500, INTAKE_CONCURRENT_BATCHES);
  }

  async receive(delivery: Hl7v2Delivery): Promise<IntakeResult> {
    const receivedAt = this.clock();
    const text = decodeHl7v2(delivery.bytes);
    const assessment = delivery.oversize
      ? this.assessOversize(text, delivery.oversize)
      : assessHl7v2(text, {
          feeds: this.deps.feeds,
          mapper: this.deps.mapper,
          receivedAt,
          ...(delivery.channel === 'mllp' && delivery.remoteAddress !== undefined ? { remoteAddress: delivery.remoteAddress } : {}),
          ...(delivery.authorisedFacility !== undefined ? { authorisedFacility: delivery.authorisedFacility } : {}),
        });
    const id = randomUUID();
    const ack = buildAck(assessment.envelope, assessment.ackCode, assessment.issues, {
      ackControlId: id.replaceAll('-', '').slice(0, 20),
      now: receivedAt,
    });
    const row = this.toRow(id, receivedAt, delivery, assessment, ack);
    const log = this.deps.logger;
    let result: FlushResult;
    try {
      result = await this.commit.submit({ row, assessment, ack });
    } catch (err) {
      log.error(
        {
          err: { name: (err as Error).name, code: (err as { code?: string }).code },
          channel: delivery.channel,
          bytes: delivery.bytes.length,
        },
        'store unavailable: message not accepted, sender told to retry',
      );
      return this.retryLater(assessment);
    }
    if (result.outcome.kind === 'duplicate') {
      const { originalId, status } = result.outcome;
      log.info(
        { messageId: originalId, status, channel: delivery.channel, feed: assessment.feed?.id },
        're-sent message recognised; original acknowledgement returned',
      );
      if (status === 'queued' && !result.enqueued) return this.retryLater(assessment);
      const original = result.outcome.ack?.toString('utf8');
      return this.answer(assessment, original ?? ack, assessment.ackCode, { stored: true, messageId: originalId, status, duplicate: true });
    }
    if (!result.enqueued) {
      log.error({ messageId: id }, 'stored but could not be queued: sender told to retry; recovery re-queues it');
      return this.retryLater(assessment, id);
    }
    log.info(
      {
        messageId: id,
        feed: assessment.feed?.id,
        channel: delivery.channel,
        bytes: delivery.bytes.length,
        status: row.status,
        ack: assessment.ackCode,
        issues: assessment.issues.map((i) => ({ code: i.code, at: i.location, path: i.path })),
      },
      'message received',
    );
    return this.answer(assessment, ack, assessment.ackCode, { stored: true, messageId: id, status: row.status, duplicate: false });
  }

  /** Waits until every message received so far is committed (graceful shutdown). */
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

  private retryLater(assessment: Assessment, messageId?: string): IntakeResult {
    const problem = [issue(Hl7ErrorCode.ApplicationError, 'The hub cannot store messages at the moment; please resend')];
    const ack = buildAck(assessment.envelope, 'AE', problem, {
      ackControlId: randomUUID().replaceAll('-', '').slice(0, 20),
      now: this.clock(),
    });
    return this.answer(assessment, ack, 'AE', { stored: messageId !== undefined, duplicate: false, ...(messageId ? { messageId } : {}) });
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

  private toRow(id: string, receivedAt: Date, d: Hl7v2Delivery, a: Assessment, ack: string): ReceivedMessage {
    const env = a.envelope;
    const actor = a.feed ? `feed:${a.feed.id}` : 'sender:unknown';
    const subject = a.notification?.baby.nhsNumber;
    const base = { at: receivedAt, actor, messageId: id, ...(subject ? { subjectNhsNumber: subject } : {}) };
    const audit: AuditEventInput[] = [
      { ...base, action: 'received', details: { channel: d.channel, bytes: d.oversize?.sizeBytes ?? d.bytes.length } },
    ];
    const issueSummary = a.issues.map((i) => ({ code: i.code, location: i.location, path: i.path, message: i.message }));
    if (a.status === 'quarantined')
      audit.push({ ...base, action: 'rejected', outcome: a.ackCode, details: { reason: a.reason, issues: issueSummary } });
    else if (a.status === 'not-relevant') audit.push({ ...base, action: 'not-relevant', outcome: 'AA', details: { reason: a.reason } });
    else {
      audit.push({ ...base, action: 'mapped', details: { mapping: a.feed?.mapping } });
      audit.push({ ...base, action: 'validated', outcome: 'valid', details: { warnings: issueSummary } });
    }
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
    if (a.feed) row.feedId = a.feed.id;
    if (env) {
      row.senderKey = `${env.sendingFacility}|${env.sendingApplication}`;
      if (env.controlId !== '' && !d.oversize) row.controlId = env.controlId;
      row.messageType = `${env.messageType}^${env.triggerEvent}`;
    }
    if (a.reason !== undefined) row.reason = a.reason;
    if (a.notification) row.canonical = a.notification;
    return row;
  }

  private async flush(items: Prepared[]): Promise<FlushResult[]> {
    const outcomes = await this.deps.store.recordReceipts(items.map((i) => i.row));
    const toQueue: string[] = [];
    outcomes.forEach((o, i) => {
      if (o.kind === 'stored' && items[i]?.row.status === 'queued') toQueue.push(items[i].row.id);
      // A re-send of a message still waiting (its earlier enqueue may have failed): queue it again; processing is idempotent.
      if (o.kind === 'duplicate' && o.status === 'queued') toQueue.push(o.originalId);
    });
    let enqueued = true;
    if (toQueue.length > 0) {
      try {
        await this.deps.queue.enqueue([...new Set(toQueue)]);
      } catch (err) {
        this.deps.logger.error({ err: { name: (err as Error).name }, count: toQueue.length }, 'enqueue failed after commit');
        enqueued = false;
      }
    }
    return outcomes.map((outcome, i) => {
      const needsQueue =
        (outcome.kind === 'stored' && items[i]?.row.status === 'queued') || (outcome.kind === 'duplicate' && outcome.status === 'queued');
      return { outcome, enqueued: needsQueue ? enqueued : true };
    });
  }
}
