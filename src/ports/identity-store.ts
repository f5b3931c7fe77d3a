/**
 * The writes of one identity event (A40 merge, A24 link; src/processing/identity-events.ts), inside one
 * transaction: the notification writes processing already has, plus the identity keys of migration 017 and the
 * message's own status. The store saves what it is told; processing decides.
 */
import type { LocalIdentifier } from '../domain/birth-notification.js';
import type { ProcessingTransaction } from './notification-store.js';

export interface IdentityTransaction extends ProcessingTransaction {
  /**
   * Records that each of `keys` now resolves to `subjectKey` (a key equal to it is skipped), and re-points keys that
   * resolved to one of `keys` to it, so a chain of merges resolves in one step.
   */
  recordIdentityKeys(keys: readonly string[], subjectKey: string, messageId: string, at: Date): Promise<void>;
  /**
   * The notifications whose mother has one of these local identifiers (value and assigning authority) or this NHS
   * number: how a mother known only by her trust's MRN is found (a scan of the records; identity events are rare).
   */
  notificationsOfMother(nhsNumber: string | undefined, local: readonly LocalIdentifier[]): Promise<string[]>;
  /**
   * A notification merged into another (A40) is no longer a child of its family: its child row is removed, and the
   * survivor takes its family when the survivor has none (child row and link, method `merge`).
   */
  retireChild(
    mergedNotificationId: string,
    survivor: { notificationId: string; childKey: string; record: Record<string, unknown> },
    at: Date,
  ): Promise<void>;
  /** Sets an identity event's message (still queued) to processed, or quarantined with a reason for an operator. */
  settleMessage(messageId: string, status: 'processed' | 'quarantined', at: Date, reason?: string): Promise<void>;
}

/** Where identity events are processed: one transaction per event. */
export interface IdentityStore {
  identityTransaction<T>(work: (tx: IdentityTransaction) => Promise<T>): Promise<T>;
}
