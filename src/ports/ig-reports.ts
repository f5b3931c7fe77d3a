/**
 * What the information-governance reports read from the store (issue 14 items 4 and 5): a person's disclosure
 * events, and counts per feed and day, per centre and per rule over a time range.
 */

/** The actions a subject-access disclosure report lists. */
export type SubjectEventAction = 'delivered' | 'updated' | 'withdrawn' | 'read' | 'acknowledged';

/** One audit event about a notification concerning the person asked for, with how the notification concerns them. */
export interface SubjectEvent {
  seq: number;
  at: Date;
  actor: string;
  action: SubjectEventAction;
  notificationId: string;
  recipient?: string;
  ruleId?: string;
  rulebookVersion?: string;
  lawfulBasis?: string;
  outcome?: string;
  details: Record<string, unknown>;
  /** The person is the notification's baby. */
  asBaby: boolean;
  /** The person is the notification's mother. */
  asMother: boolean;
}

export interface TimeWindow {
  /** At or after. */
  since?: Date;
  /** Before. */
  until?: Date;
}

export interface SubjectEventSource {
  /**
   * The disclosure events (delivered, updated, withdrawn, read by an inbox, acknowledged) of every notification
   * whose baby or mother has this NHS number; and how many such notifications there are.
   */
  subjectEvents(nhsNumber: string, window: TimeWindow): Promise<{ notifications: number; events: SubjectEvent[] }>;
}

/** Counts of one feed on one London day. `feedId` is '' for messages from a sender no feed was recognised for. */
export interface FeedDayCounts {
  feedId: string;
  day: string;
  received: number;
  /** Accepted at receipt for processing (positive acknowledgement, checked as a birth notification). */
  accepted: number;
  /** Refused at receipt (negative acknowledgement): the sender was told. */
  rejected: number;
  /** Accepted at receipt but could not be processed: held for an operator. */
  quarantined: number;
  /** Accepted but not a birth to notify. */
  notRelevant: number;
}

export interface FeedRejectionReason {
  feedId: string;
  reason: string;
  count: number;
}

export interface CentreCounts {
  inboxId: string;
  delivered: number;
  /** Read events (every opening of a record). */
  reads: number;
  /** Different notifications read. */
  notificationsRead: number;
  takenOn: number;
  withdrawn: number;
}

export interface RuleCounts {
  ruleId: string;
  /** The agreement label, `id@version#sha256:hash`. */
  agreement: string;
  /** permit, review or deny. */
  effect: string;
  decisions: number;
}

/** Counts over `start` ≤ at < `end`, by London day where per day. */
export interface ReportCounts {
  feedDays(start: Date, end: Date): Promise<FeedDayCounts[]>;
  feedRejections(start: Date, end: Date): Promise<FeedRejectionReason[]>;
  centres(start: Date, end: Date): Promise<CentreCounts[]>;
  rules(start: Date, end: Date): Promise<RuleCounts[]>;
}
