import type { AuditAction, AuditEvent, AuditEventInput } from './audit.js';

export interface AuditQuery {
  notificationId?: string;
  messageId?: string;
  /** An NHS number: events about the baby or the mother. */
  subject?: string;
  /** Events naming this recipient inbox (a centre). */
  recipient?: string;
  /** Events at or after this instant. */
  from?: Date;
  /** Events before this instant. */
  before?: Date;
  limit: number;
  /** Return events with seq greater than this (paging). */
  afterSeq?: number;
}

/** The append-only audit trail: written by every step, read by IG leads. */
export interface AuditLog {
  append(events: readonly AuditEventInput[]): Promise<void>;
  query(q: AuditQuery): Promise<AuditEvent[]>;
}

/** What an IG lead searches the audit by: a person (baby or mother), a centre, a time range; at least one. */
export interface AuditSearch {
  /** An NHS number: notifications about that baby or that mother. */
  subject?: string;
  /** An inbox id: notifications disclosed to that centre (or other inbox). */
  recipient?: string;
  /** Only events at or after this instant. */
  from?: Date;
  /** Only events before this instant. */
  before?: Date;
  limit: number;
}

/** A notification the audit trail names, summed up for the IG lead's search results. */
export interface AuditedNotification {
  notificationId: string;
  firstAt: Date;
  lastAt: Date;
  /** The inboxes its events name (the centres it was disclosed to). */
  recipients: string[];
  /** How many reads of it the matched events hold. */
  reads: number;
}

/** The IG lead's reads of the audit trail (the web app): a search, then one notification's whole trail. */
export interface AuditSearchLog {
  /** Notifications whose events match, the latest first. */
  searchNotifications(q: AuditSearch): Promise<AuditedNotification[]>;
  /**
   * A notification's trail from receipt to read, in order: its own events and those of the message it came
   * from (received, mapped, …) that name no other notification.
   */
  trail(notificationId: string, limit: number): Promise<AuditEvent[]>;
}

/**
 * The IG lead's audit query (GET /v1/audit/events, issue 14 item 3): every filter given must hold. Events come in
 * (at, seq) order, oldest first, a page at a time.
 */
export interface AuditEventSearch {
  /** An NHS number: events naming it, and every event about a notification or message concerning that baby or mother. */
  subject?: string;
  /** An inbox id (a centre): events naming it as the recipient. */
  centre?: string;
  /** A feed id: events about a message received from that feed (messages.feed_id through message_id). */
  feed?: string;
  /** A rule id of the information-sharing agreement: events naming it (decisions, deliveries, withholdings). */
  rule?: string;
  /** An event type (the audit action). */
  action?: AuditAction;
  /** Events at or after this instant. */
  from?: Date;
  /** Events before this instant. */
  before?: Date;
  /** The seq of the last event of the previous page: this page starts after it, in (at, seq) order. */
  afterSeq?: number;
  limit: number;
}

/** The IG lead's paged query of the audit trail by event. */
export interface AuditEventsLog {
  /** At most `limit` events matching, after the cursor's event, in (at, seq) order. */
  searchEvents(q: AuditEventSearch): Promise<AuditEvent[]>;
}
