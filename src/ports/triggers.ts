/**
 * Trigger firings (issue 17 item 2, migration 031): what processing stores when a trigger fires, what the recipient's
 * queue and the IG lead read, and the safeguarding review of held firings. Decisions not to fire are audit events.
 */
import type { FiringStatus, TriggerChild, TriggerDataset } from '../domain/trigger.js';
import type { Address } from '../domain/birth-notification.js';
import type { AuditActor } from './audit.js';
import type { Firing, TriggerEvaluation } from '../pipeline/triggers/evaluate-trigger.js';

/** The family a patient's NHS number leads, as the trigger store reads it. */
export interface ParentFamily {
  id: string;
  centre?: string;
  address?: Address;
  children: TriggerChild[];
  restricted: boolean;
}

/** A firing as the queues list it (no children's names: the list shows counts). */
export interface FiringSummary {
  id: string;
  triggerId: string;
  triggerName: string;
  status: FiringStatus;
  inboxId: string;
  createdAt: string;
  occurredOn: string;
  children: number;
  firstReadAt?: string;
  /** When a worker of the recipient's queue took the family on (migration 039). */
  takenOnAt?: string;
}

export interface FiringView extends FiringSummary {
  agreementVersion: string;
  lawfulBasis: string;
  subjectNhsNumber: string;
  dataset: TriggerDataset;
  reviewedAt?: string;
  reviewedBy?: string;
  reviewedByName?: string;
  reviewReason?: string;
}

/** Counts per trigger for the IG lead. */
export interface TriggerCounts {
  delivered: number;
  held: number;
  closed: number;
  released: number;
  /** Delivered firings early help has marked as taken on. */
  takenOn: number;
  notFired: number;
}

export type ReviewDecision = 'release' | 'close';

export type ReviewResult =
  { kind: 'not-found' } | { kind: 'already-reviewed'; status: FiringStatus } | { kind: 'reviewed'; firing: FiringView };

/** Taking a firing on: done now, done before (a no-op), or no such delivered firing in that queue. */
export type TakeOnResult = 'taken-on' | 'already' | 'not-found';

export interface TriggerStore {
  /**
   * In one transaction: while the message is still queued, reads the family `nhsNumber` leads (none without a
   * number), lets `decide` decide, stores its firings and audit events and marks the message processed. A message
   * no longer queued (a retried job) decides nothing and returns undefined.
   */
  processAttendance(
    messageId: string,
    nhsNumber: string | undefined,
    decide: (family: ParentFamily | undefined) => TriggerEvaluation,
    at: Date,
  ): Promise<TriggerEvaluation | undefined>;
  /** A recipient's delivered firings: those not yet taken on first, each part newest first. */
  queue(inboxId: string, limit: number): Promise<FiringSummary[]>;
  /** Firings held for safeguarding review, oldest first. */
  held(limit: number): Promise<FiringSummary[]>;
  /** A trigger's firings (any status), newest first. */
  byTrigger(triggerId: string, limit: number): Promise<FiringSummary[]>;
  get(id: string): Promise<FiringView | undefined>;
  /** Records the recipient's first read (the read itself is audited by the caller). */
  markRead(id: string, at: Date): Promise<void>;
  /**
   * Records that a worker of queue `inboxId` took a delivered, not purged firing of that queue on, audited
   * `firing-taken-on` in the same transaction. A second time is `already` (no write, no event); a firing of another
   * queue, held, closed, purged or unknown is `not-found`.
   */
  takeOn(id: string, inboxId: string, who: AuditActor, at: Date): Promise<TakeOnResult>;
  /** Releases (to the recipient) or closes a held firing, audited `trigger-reviewed` in the same transaction. */
  review(id: string, decision: ReviewDecision, who: AuditActor, reason: string | undefined, at: Date): Promise<ReviewResult>;
  /** Counts per trigger id: firings by status (released = delivered after review; taken on by early help) and `trigger-not-fired` audit events. */
  counts(): Promise<Map<string, TriggerCounts>>;
}

export type { Firing };
