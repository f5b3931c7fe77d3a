import type { BirthNotification } from '../domain/birth-notification.js';
import type { DeliveryPlan } from '../pipeline/plan-delivery.js';
import type { DisclosedRecord } from '../pipeline/consent/decide.js';

export interface QueuedMessage {
  id: string;
  canonical: BirthNotification | undefined;
}

export interface ProcessedBirth {
  messageId: string;
  notificationId: string;
  record: BirthNotification;
  plan: DeliveryPlan;
  at: Date;
}

export type ProcessOutcome =
  | { kind: 'created'; messageId: string; notificationId: string; queue?: string }
  /** This message was processed before (a retried job): nothing new was written. */
  | { kind: 'already-processed'; messageId: string }
  /** Another message already brought this birth: the message is marked duplicate. */
  | { kind: 'duplicate-birth'; messageId: string }
  /** The message reports the death of a baby already notified: those notifications are withdrawn. */
  | { kind: 'withdrew'; messageId: string; notificationIds: string[] };

export interface PendingDelivery {
  queue: string;
  notificationId: string;
}

export type InboxStatus = 'new' | 'acknowledged' | 'withdrawn';

/**
 * What a centre sees of one notification: the minimised record and the inbox state, nothing else. A
 * withdrawn notification shows when it was withdrawn and no longer shows its record.
 */
export interface InboxItem {
  notificationId: string;
  queue: string;
  status: InboxStatus;
  deliveredAt: string;
  firstReadAt?: string;
  acknowledgedAt?: string;
  withdrawnAt?: string;
  record?: DisclosedRecord;
}

export interface InboxFilter {
  status?: InboxStatus;
  limit: number;
  /** Opaque cursor from the previous page; one the store did not hand out throws InvalidCursorError. */
  after?: string;
}

/** Notifications and centre inboxes. Every write is idempotent, so a retried job creates nothing twice. */
export interface NotificationStore {
  /** The canonical records of those messages still waiting to be processed. */
  loadQueued(messageIds: readonly string[]): Promise<QueuedMessage[]>;
  saveProcessed(items: readonly ProcessedBirth[]): Promise<ProcessOutcome[]>;
  quarantine(messageId: string, reason: string, at: Date): Promise<void>;
  /** Notifications routed to a queue but not yet in its inbox (for these messages, or all when omitted). */
  undelivered(messageIds?: readonly string[]): Promise<PendingDelivery[]>;
  /** Puts routed notifications into the queue's inbox; returns the ids newly delivered. */
  deliver(queue: string, notificationIds: readonly string[], at: Date): Promise<string[]>;
  listInbox(queue: string, filter: InboxFilter, reader: string, at: Date): Promise<{ items: InboxItem[]; next?: string }>;
  getInboxItem(queue: string, notificationId: string, reader: string, at: Date): Promise<InboxItem | undefined>;
  acknowledge(queue: string, notificationId: string, by: string, at: Date): Promise<'acknowledged' | 'already' | 'withdrawn' | 'not-found'>;
}
