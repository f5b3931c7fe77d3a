import type { AuditActor } from './audit.js';
import type { InboxItem } from './notification-store.js';
import type { AntenatalInboxItem } from './antenatal-store.js';

/**
 * Webhooks (issue 15 items 1 and 2): what the store keeps of each event pushed to a centre's webhook, and the HTTPS
 * sender. Ids, statuses, times and error kinds only: the record pushed is read from the inbox when it is sent.
 */

/** What happened in the centre's inbox: a notification put there, or taken back (objection, death, restriction, move). */
export type WebhookEvent = 'delivered' | 'withdrawn';

export type WebhookStatus = 'pending' | 'delivered' | 'dead' | 'superseded';

export interface WebhookDelivery {
  id: string;
  idempotencyKey: string;
  centreId: string;
  /** The notification's id; for an antenatal item (`kind: antenatal`), the antenatal notification's id. */
  notificationId: string;
  /** Present for an antenatal item (issue 17): a maternity booking shared with the centre, or its withdrawal. */
  kind?: 'antenatal';
  event: WebhookEvent;
  /** When the inbox item was delivered or withdrawn (part of the idempotency key). */
  occurredAt: string;
  status: WebhookStatus;
  attempts: number;
  firstTriedAt?: string;
  lastTriedAt?: string;
  deliveredAt?: string;
  responseStatus?: number;
  /** The last failure's kind (`HTTP 500`, `timeout`, `ECONNREFUSED`): never a body or personal data. */
  lastError?: string;
  deadAt?: string;
  replays: number;
}

/** A pending delivery with what sending it needs now: the inbox item as the centre API returns it, read at send time. */
export interface WebhookToSend {
  delivery: WebhookDelivery;
  /** The centre's inbox item now (undefined: no longer in this centre's inbox). */
  item?: InboxItem;
  /** For an antenatal delivery: the centre's antenatal item now, as the centre API returns it (undefined: not the centre's). */
  antenatal?: AntenatalInboxItem;
  /** For a withdrawal: whether the notification's own event may have reached the receiver (tried at all, or still to be). */
  notificationEventLive: boolean;
}

/** Why a delivery was not sent: the notification's current state makes it moot. */
export type SupersededReason = 'withdrawn' | 'moved' | 'purged' | 'redelivered' | 'never-sent';

export interface DeadLetterFilter {
  centreId?: string;
  limit: number;
  /** The last id of the previous page. */
  after?: string;
}

export type ReplayOutcome =
  /** Queued again: it is sent (as a notification, or a withdrawal) with its original idempotency key. */
  | { kind: 'requeued'; delivery: WebhookDelivery }
  /** Nothing is sent: the current consent decision (or a later event) makes it moot. */
  | { kind: 'superseded'; delivery: WebhookDelivery; reason: SupersededReason }
  | { kind: 'not-found' }
  /** Not a dead letter (delivered, pending, superseded already). */
  | { kind: 'not-dead'; delivery: WebhookDelivery };

export interface WebhookStore {
  /**
   * Records a delivery event for each inbox item of these centres delivered or withdrawn at or after `since`
   * (idempotent: the key is unique) and returns the pending rows whose job is not yet in Redis.
   */
  sweep(centreIds: readonly string[], since: Date, at: Date): Promise<WebhookDelivery[]>;
  /** These rows' jobs are in Redis. */
  markJobsAdded(ids: readonly string[], at: Date): Promise<void>;
  /** A pending delivery with its inbox item as it is now; undefined when the id is unknown. */
  loadToSend(id: string): Promise<WebhookToSend | undefined>;
  /** The receiver answered 2xx: delivered, audited. */
  delivered(id: string, attempt: { at: Date; firstTriedAt: Date; status: number }): Promise<void>;
  /** An attempt failed; retried later. */
  failed(id: string, attempt: { at: Date; firstTriedAt: Date; error: string }): Promise<void>;
  /** Retries passed the horizon: a dead letter with the last error, audited. */
  deadLettered(id: string, attempt: { at: Date; firstTriedAt: Date; error: string }): Promise<void>;
  /** The current state makes this delivery moot: nothing is sent. */
  superseded(id: string, reason: SupersededReason, at: Date): Promise<void>;
  /** Dead letters, oldest first (one centre's, or all). */
  deadLetters(filter: DeadLetterFilter): Promise<{ items: WebhookDelivery[]; next?: string }>;
  /** Dead letters per centre. */
  deadLetterCounts(): Promise<Map<string, number>>;
  /**
   * Replays a dead letter: re-checks the current state (a notification withdrawn since, by an objection or
   * otherwise, is not sent: the dead letter becomes superseded and its withdrawal is its own event), else makes it
   * pending again. Audited as `webhook-replayed`, linked to the dead letter.
   */
  replay(id: string, by: AuditActor, role: string, at: Date): Promise<ReplayOutcome>;
  /** Every dead letter of a centre's ids, oldest first (at most `limit`), for replaying them all. */
  deadLetterIds(centreId: string, limit: number): Promise<string[]>;
}

/** The answer of a webhook receiver, or why there was none. */
export type WebhookResponse = { ok: true; status: number } | { ok: false; error: string };

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** PEM of extra trusted CAs for the receiver's certificate. */
  ca?: string;
  timeoutMs: number;
}

/** Sends one signed POST over HTTPS. Never throws: a failure is a response with its kind. */
export interface WebhookSender {
  post(request: WebhookRequest): Promise<WebhookResponse>;
}
