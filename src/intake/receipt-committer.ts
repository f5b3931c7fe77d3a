import type { Logger } from '../logger.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { ProcessingJobs } from '../ports/processing-jobs.js';
import type { MessageStore, ReceivedMessage, ReceiptOutcome } from '../ports/message-store.js';
import { GroupCommit } from '../batching/group-commit.js';

/** Batches committed at once: enough to overlap one batch's commit with the next one's, well under the pool size. */
export const INTAKE_CONCURRENT_BATCHES = 3;

/**
 * The receipt path every intake shares (HL7 v2 over MLLP and HTTP, FHIR over HTTP): messages are committed in
 * group commits (one transaction per batch, audit rows included), and each submitter learns its outcome as
 * soon as its batch is committed, so no sender is answered before its message is stored. The accepted
 * messages' processing job is added after that, off the answer's path: a message is durably `queued` before
 * it is acknowledged, so a failed or interrupted enqueue loses nothing (the recovery sweep queues it again).
 * A re-send of a message still waiting is queued again (processing is idempotent).
 */
export class ReceiptCommitter {
  private readonly commit: GroupCommit<ReceivedMessage, ReceiptOutcome>;
  /** Enqueues started after a commit and not yet finished (graceful shutdown waits for them). */
  private readonly enqueues = new Set<Promise<void>>();

  constructor(private readonly deps: { store: MessageStore; processingJobs: ProcessingJobs; logger: Logger }) {
    this.commit = new GroupCommit((rows) => this.flush(rows), 500, INTAKE_CONCURRENT_BATCHES, true, couldBeOneMessages);
  }

  /** Commits one message (with others received meanwhile); rejects when the store fails. */
  submit(row: ReceivedMessage): Promise<ReceiptOutcome> {
    return this.commit.submit(row);
  }

  /** Waits until every message submitted so far is committed and its enqueue has finished (graceful shutdown). */
  async drained(): Promise<void> {
    await this.commit.drained();
    await Promise.all([...this.enqueues]);
  }

  private async flush(rows: ReceivedMessage[]): Promise<ReceiptOutcome[]> {
    const outcomes = await this.deps.store.recordReceipts(rows);
    const toQueue: string[] = [];
    outcomes.forEach((o, i) => {
      const row = rows[i];
      if (o.kind === 'stored' && row?.status === 'queued') toQueue.push(row.id);
      // A re-send of a message still waiting (its earlier enqueue may have failed): queue it again; processing is idempotent.
      if (o.kind === 'duplicate' && o.status === 'queued') toQueue.push(o.originalId);
    });
    if (toQueue.length > 0) this.enqueueAfterCommit([...new Set(toQueue)]);
    return outcomes;
  }

  /**
   * Adds the processing job without holding up the answers: they need only the commit. If Redis fails, the
   * messages stay `queued` in the store, and the recovery sweep (or the next worker start) queues them again.
   */
  private enqueueAfterCommit(ids: string[]): void {
    // Through a promise, so that even an enqueue throwing synchronously cannot fail the batch it follows.
    const done: Promise<void> = Promise.resolve()
      .then(() => this.deps.processingJobs.enqueue(ids))
      .then(
        () => void this.enqueues.delete(done),
        (err: unknown) => {
          this.enqueues.delete(done);
          this.deps.logger.error(
            { err, count: ids.length },
            'enqueue failed after commit: the messages stay queued in the store and the recovery sweep queues them again',
          );
        },
      );
    this.enqueues.add(done);
  }
}

/**
 * SQLSTATE classes one message's data can cause: 22 data exception (a NUL in text, a bad value), 23 integrity
 * constraint violation, 54 program limit exceeded (an index row too large). A batch failing so is split and
 * retried (GroupCommit) so only the offending message is answered "cannot store". Anything else (no connection,
 * the server shutting down, out of resources, a timeout) fails the whole batch at once: retrying it message by
 * message would only load a store already in trouble.
 */
export function couldBeOneMessages(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/** What intake decided about a message, as far as its receipt audit needs to know. */
export interface ReceiptDecision {
  status: 'queued' | 'not-relevant' | 'quarantined';
  /** The answer's code (HL7 v2 ACK code, FHIR response code). */
  outcome: string;
  reason?: string;
  mapping?: string;
  backfill?: unknown;
  /** The code as sent when it differs from `outcome` (HL7 v2 enhanced mode: CA/CE/CR for AA/AE/AR). */
  sent?: string;
  /** False when nobody is answered (a record Stork fetched itself): no `acked` event. */
  answered?: boolean;
  issues: readonly { code: string; location?: unknown; path?: string; message: string; expression?: string }[];
}

/**
 * The audit rows committed with a received message: `received`, then `rejected`, `not-relevant`, or `mapped`
 * and `validated` (with the warnings), then `acked` with the answer's code (ACK code, FHIR response code). The same for every intake, so the trail reads alike whatever the format.
 */
export function receiptAudit(
  base: Omit<AuditEventInput, 'action'>,
  received: Record<string, unknown>,
  d: ReceiptDecision,
): AuditEventInput[] {
  const audit: AuditEventInput[] = [{ ...base, action: 'received', details: received }];
  const issueSummary = d.issues.map((i) => ({
    code: i.code,
    location: i.location,
    path: i.path,
    message: i.message,
    ...(i.expression !== undefined ? { expression: i.expression } : {}),
  }));
  if (d.status === 'quarantined')
    audit.push({ ...base, action: 'rejected', outcome: d.outcome, details: { reason: d.reason, issues: issueSummary } });
  else if (d.status === 'not-relevant') audit.push({ ...base, action: 'not-relevant', outcome: d.outcome, details: { reason: d.reason } });
  else {
    audit.push({ ...base, action: 'mapped', details: { mapping: d.mapping, ...(d.backfill ? { backfill: d.backfill } : {}) } });
    audit.push({ ...base, action: 'validated', outcome: 'valid', details: { warnings: issueSummary } });
  }
  // The acknowledgement Stork commits to send (it is sent once these rows are committed): its code, whatever the status.
  if (d.answered !== false)
    audit.push({ ...base, action: 'acked', outcome: d.sent ?? d.outcome, details: { code: d.sent ?? d.outcome, status: d.status } });
  return audit;
}
