import type { RetentionTarget } from '../domain/retention-policy.js';
import type { AuditEventInput } from './audit.js';

/** One batch purged: how many rows, and the last id (the keyset position the next batch starts after). */
export interface PurgedBatch {
  purged: number;
  lastKey?: string;
}

/**
 * Where the retention job purges (issue 14 item 6). Every purge keeps the row's ids, hashes, statuses and times and
 * sets its bodies to NULL with `purged_at` (web sessions, which nothing references, are deleted). Each batch is one
 * transaction over at most `limit` rows taken in key order after `afterKey`, skipping rows another transaction holds
 * (`FOR UPDATE SKIP LOCKED`): a run never waits on a worker, and rows already purged are never purged again.
 */
export interface RetentionStore {
  /** Takes the named lease until `until` unless another owner holds it past `now`; true when taken (or renewed). */
  acquireLease(name: string, owner: string, now: Date, until: Date): Promise<boolean>;
  /** Leaves the lease (if still this owner's), recording the run's start and end. */
  releaseLease(name: string, owner: string, startedAt: Date, finishedAt: Date): Promise<void>;
  /** Purges one batch of `target` rows older than `cutoff`, stamping them purged at `at`. */
  purgeBatch(target: RetentionTarget, cutoff: Date, at: Date, afterKey: string | undefined, limit: number): Promise<PurgedBatch>;
  /** Rows a purge would take now (a dry run), and rows old enough but held back by a live obligation. */
  count(target: RetentionTarget, cutoff: Date): Promise<{ due: number; heldBack: number }>;
  appendAudit(events: readonly AuditEventInput[]): Promise<void>;
}
