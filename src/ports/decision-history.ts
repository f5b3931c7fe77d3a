/**
 * What the hub decided, as stored (issue 13): the agreement versions it has loaded (each recorded once, with who
 * and when) and each notification's record with the decision made on it, for explanations and what-if runs.
 */
import type { BirthNotification } from '../domain/birth-notification.js';
import type { Decision } from '../pipeline/consent/decide.js';
import type { Route } from '../pipeline/route.js';

/** An agreement version as loaded: its content (the file, parsed) and the hash of that content. */
export interface AgreementVersion {
  id: string;
  version: string;
  hash: string;
  content: unknown;
}

export interface AgreementVersionLog {
  /**
   * Records the versions not recorded before, each with a `rulebook-loaded` audit event naming who loaded it
   * (`loadedBy`) and when, in one transaction; returns the hashes that were new.
   */
  recordLoaded(versions: readonly AgreementVersion[], loadedBy: string, at: Date): Promise<string[]>;
  /** The content of a version ever loaded, by its hash. */
  content(hash: string): Promise<unknown>;
}

/** A notification with the record it was decided on and the decision (as stored), for explanations and what-if. */
export interface StoredDecision {
  notificationId: string;
  createdAt: Date;
  status: string;
  /** The current record: enriched by later messages, else its first message's canonical record. */
  record: BirthNotification;
  /** True when later messages enriched the record after the decision (the decision saw the first record). */
  enriched: boolean;
  decision: Decision;
  route: Route;
  inboxId?: string;
  babyNhsNumber?: string;
}

export interface DecisionHistory {
  /** One notification's stored decision, or undefined (none, or its content purged under retention). */
  get(notificationId: string): Promise<StoredDecision | undefined>;
  /** When retention purged the notification's content (issue 14), if it did. */
  purgedAt(notificationId: string): Promise<Date | undefined>;
  /** Notifications (created at or after `since`) whose content retention purged: scan skips them. */
  countPurged(filter: { since?: Date }): Promise<number>;
  /** The record the decision was made on: the notification's first message's canonical record. */
  decidedRecord(notificationId: string): Promise<BirthNotification | undefined>;
  /**
   * Visits every stored decision (created at or after `since`) in pages, oldest first, inside one read-only
   * transaction (nothing can be changed through it); returns how many were visited.
   */
  scan(filter: { since?: Date }, visit: (page: readonly StoredDecision[]) => void): Promise<number>;
}
