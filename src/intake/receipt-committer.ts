import type { Logger } from '../logger.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { ProcessingQueue } from '../ports/job-queue.js';
import type { MessageStore, ReceivedMessage, ReceiptOutcome } from '../ports/message-store.js';
import { GroupCommit } from '../batching/group-commit.js';

export type CommitResult = { outcome: ReceiptOutcome; enqueued: boolean };

/** Batches committed at once: enough to overlap one batch's commit with the next one's, well under the pool size. */
export const INTAKE_CONCURRENT_BATCHES = 3;

/**
 * The receipt path every intake shares (HL7 v2 over MLLP and HTTP, FHIR over HTTP): messages are committed in
 * group commits (one transaction per batch, audit rows included), the accepted ones are queued for
 * processing, and only then does each submitter learn its outcome, so that no sender is answered before its
 * message is stored. A re-send of a message still waiting is queued again (processing is idempotent).
 */
export class ReceiptCommitter {
  private readonly commit: GroupCommit<ReceivedMessage, CommitResult>;

  constructor(private readonly deps: { store: MessageStore; queue: ProcessingQueue; logger: Logger }) {
    this.commit = new GroupCommit((rows) => this.flush(rows), 500, INTAKE_CONCURRENT_BATCHES);
  }

  /** Commits one message (with others received meanwhile); rejects when the store fails. */
  submit(row: ReceivedMessage): Promise<CommitResult> {
    return this.commit.submit(row);
  }

  /** Waits until every message submitted so far is committed (graceful shutdown). */
  async drained(): Promise<void> {
    await this.commit.drained();
  }

  private async flush(rows: ReceivedMessage[]): Promise<CommitResult[]> {
    const outcomes = await this.deps.store.recordReceipts(rows);
    const needsQueue = outcomes.map(
      (o, i) => (o.kind === 'stored' && rows[i]?.status === 'queued') || (o.kind === 'duplicate' && o.status === 'queued'),
    );
    const toQueue = outcomes.flatMap((o, i) => (needsQueue[i] ? [o.kind === 'duplicate' ? o.originalId : (rows[i]?.id as string)] : []));
    let enqueued = true;
    if (toQueue.length > 0) {
      try {
        await this.deps.queue.enqueue([...new Set(toQueue)]);
      } catch (err) {
        this.deps.logger.error({ err: { name: (err as Error).name }, count: toQueue.length }, 'enqueue failed after commit');
        enqueued = false;
      }
    }
    return outcomes.map((outcome, i) => ({ outcome, enqueued: needsQueue[i] ? enqueued : true }));
  }
}

/** What intake decided about a message, as far as its receipt audit needs to know. */
export interface ReceiptDecision {
  status: 'queued' | 'not-relevant' | 'quarantined';
  /** The answer's code (HL7 v2 ACK code, FHIR response code). */
  outcome: string;
  reason?: string;
  mapping?: string;
  backfill?: unknown;
  issues: readonly { code: string; location?: unknown; path?: string; message: string; expression?: string }[];
}

/**
 * The audit rows committed with a received message: `received`, then `rejected`, `not-relevant`, or `mapped`
 * and `validated` (with the warnings). The same for every intake, so the trail reads alike whatever the format.
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
  return audit;
}
