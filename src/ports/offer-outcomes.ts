import type { OfferOutcome, OfferOutcomeInput, OfferOutcomeKind, ReachRow } from '../domain/offer-outcome.js';
import type { AuditActor } from './audit.js';

/** A notification in a centre's inbox with its outcome history, oldest first. */
export interface OutcomeHistory {
  notificationId: string;
  centreId: string;
  deliveredAt: Date;
  withdrawn: boolean;
  outcomes: OfferOutcome[];
}

export type RecordOutcomeResult =
  | { kind: 'recorded'; outcome: OfferOutcome }
  /** Not in this centre's inbox (another centre's, or no such notification): the same answer, so ids cannot be probed. */
  | { kind: 'not-found' }
  /** Withdrawn from the inbox: do not act on it. */
  | { kind: 'withdrawn' }
  /** The input read well but does not fit this notification (its delivery date, the record it corrects). */
  | { kind: 'invalid'; field: string; message: string };

/** The offer-of-support loop's records (migration 027): append-only outcomes per notification in a centre's inbox. */
export interface OfferOutcomeStore {
  /** The notification as this centre's inbox holds it, with its outcomes; undefined when it is not this centre's. */
  history(centreId: string, notificationId: string): Promise<OutcomeHistory | undefined>;
  /**
   * Appends an outcome (checked against the notification's delivery date, `today` and what it corrects) and its
   * audit event, in one transaction.
   */
  record(
    centreId: string,
    notificationId: string,
    input: OfferOutcomeInput,
    by: AuditActor,
    at: Date,
    today: string,
  ): Promise<RecordOutcomeResult>;
  /** The counting outcomes of these notifications in this centre's inbox (for the worklist's overdue tags). */
  countingOutcomes(centreId: string, notificationIds: readonly string[]): Promise<Map<string, OfferOutcomeKind[]>>;
  /** Every notification delivered to these centres' inboxes in [start, end), as the reach report counts it. */
  reachRows(centreIds: readonly string[], start: Date, end: Date): Promise<Map<string, ReachRow[]>>;
}
