import type { BirthNotification } from '../domain/birth-notification.js';
import type { AntenatalEvent } from '../domain/antenatal-notification.js';
import type { IdentityEvent } from '../domain/identity-event.js';
import type { Attendance } from '../domain/trigger.js';
import type { DeliveryPlan } from '../pipeline/plan-delivery.js';
import type { Route } from '../pipeline/route.js';
import type { Decision, DisclosedRecord } from '../pipeline/consent/decide.js';
import type { AuditActor, AuditEventInput } from './audit.js';
import type { FamilyTransaction } from './family-store.js';
import type { ConsentHold, ConsentTransaction } from './consent-register.js';

export interface QueuedMessage {
  id: string;
  canonical: BirthNotification | undefined;
  /** Set instead of `canonical` for an identity event (A40 merge, A24 link). */
  identityEvent?: IdentityEvent;
  /** Set instead of `canonical` for a maternity booking or pregnancy loss (issue 17). */
  antenatalEvent?: AntenatalEvent;
  /** Set instead of `canonical` for an A&E attendance (issue 17 triggers). */
  attendance?: Attendance;
}

export interface ProcessedBirth {
  messageId: string;
  notificationId: string;
  record: BirthNotification;
  plan: DeliveryPlan;
  at: Date;
  /** The decision's audit events (decided, then routed or withheld), saved if the notification is created. */
  audit: AuditEventInput[];
  /** Withheld only because a parent objected: what a later consent change may lift (consent-hold.ts). */
  consentHold?: ConsentHold;
}

/** A notification still in effect (routed, or delivered to an inbox), as a death report may withdraw it. */
export interface LiveNotification {
  id: string;
  subjectKey: string;
  status: 'routed' | 'delivered';
  inboxId?: string;
  babyNhsNumber?: string;
}

/** A notification a later message may be about (same subject key, baby NHS number or birth key), locked. */
export interface ExistingNotification {
  id: string;
  /** The message that created it. */
  messageId: string;
  subjectKey: string;
  birthKey?: string;
  demographicKey?: string;
  babyNhsNumber?: string;
  status: 'routed' | 'delivered' | 'withheld' | 'withdrawn';
  inboxId?: string;
  decision: Decision;
  disclosed?: DisclosedRecord;
  /** Its record as it stands: enriched by later messages, else its first message's. */
  record: BirthNotification;
  /** Set while only a parent's objection holds it back (withheld or withdrawn). */
  consentHold?: ConsentHold;
}

/** The keys to look existing notifications up by. */
export interface MatchKeys {
  subjectKeys: string[];
  babyNhsNumbers: string[];
  birthKeys: string[];
  demographicKeys: string[];
}

/**
 * A notification re-decided and re-routed after its record changed (the family moved to another centre's
 * catchment, or the record became restricted): its new decision, route, inbox and disclosed record. Its item in
 * the old inbox (if delivered) is withdrawn; it is routed to the new inbox (delivered by the delivery job), or
 * withheld when the new decision shares nothing.
 */
export interface Rerouting {
  decision: Decision;
  route: Route;
  inboxId?: string;
  disclosed?: DisclosedRecord;
  /** The inbox whose item is withdrawn (the notification was delivered there). */
  withdrawFrom?: string;
}

/** A notification enriched by a later message about the same baby. */
export interface NotificationUpdate {
  id: string;
  record: BirthNotification;
  /** Set only where the notification had none (the columns are unique). */
  babyNhsNumber?: string;
  motherNhsNumber?: string;
  birthKey?: string;
  demographicKey?: string;
  /** The new disclosed record, when it changed. */
  disclosed?: DisclosedRecord;
  /** It was already in its inbox: the inbox item is stamped updated. */
  inboxUpdated: boolean;
  /** The new decision (same inbox, a smaller or other dataset), when it changed without a move. */
  decision?: Decision;
  /** It moves: re-decided and re-routed. */
  reroute?: Rerouting;
  /** The message that last changed it (a retried job finds the deliveries it left by this id too). */
  lastMessageId?: string;
}

/**
 * The writes of one processing batch, inside one transaction. The store saves what it is told; processing
 * (src/processing) decides what a birth that was not created means and what is audited.
 */
export interface ProcessingTransaction {
  /**
   * Inserts the notifications not already there (one per message and one per subject), marks their
   * messages processed and saves their audit events, in one statement. Returns the notification ids created.
   */
  createNotifications(items: readonly ProcessedBirth[], at: Date): Promise<Set<string>>;
  /** Of these messages, those that already have a notification (processed before). */
  messagesWithNotification(messageIds: readonly string[]): Promise<Set<string>>;
  /** Of these messages, those no longer queued (another worker processed them since this one loaded them). */
  messagesNotQueued(messageIds: readonly string[]): Promise<Set<string>>;
  /** The live notifications of these subjects, locked until the transaction ends. */
  lockLiveNotifications(subjectKeys: readonly string[]): Promise<LiveNotification[]>;
  /** The notifications holding any of these keys, locked until the transaction ends, with their current record. */
  lockMatchingNotifications(keys: MatchKeys): Promise<ExistingNotification[]>;
  /** Saves enriched records (and keys newly known, disclosed records, inbox items updated) at `at`. */
  enrichNotifications(updates: readonly NotificationUpdate[], at: Date): Promise<void>;
  /**
   * Marks these notifications withdrawn, and their inbox items (withdrawn at `at`). A withdrawal here (a death, a
   * merge, a later message about one held by consent) is for good: any consent hold is cleared.
   */
  withdrawNotifications(notificationIds: readonly string[], at: Date): Promise<void>;
  /** Sets the status (and reason) of those of these messages still queued. */
  markMessages(messageIds: readonly string[], status: 'processed' | 'duplicate' | 'not-relevant', at: Date, reason?: string): Promise<void>;
  appendAudit(events: readonly AuditEventInput[]): Promise<void>;
  /** The subject keys these identity keys resolve to after A40 merges (migration 017); keys without one are absent. */
  resolveIdentityKeys(keys: readonly string[]): Promise<Map<string, string>>;
  /** Family records, on the same transaction (issue 12): births are placed in families as they are notified. */
  readonly families: FamilyTransaction;
  /** The consent register, in this transaction. */
  consents(): ConsentTransaction;
}

export type ProcessOutcome =
  | { kind: 'created'; messageId: string; notificationId: string; inboxId?: string }
  /** This message was processed before (a retried job): nothing new was written. */
  | { kind: 'already-processed'; messageId: string }
  /** Another message already brought this birth: the message is marked duplicate. */
  | { kind: 'duplicate-birth'; messageId: string }
  /** Another message already brought this baby: its notification was enriched (or not) and the two linked. */
  | { kind: 'linked'; messageId: string; notificationId: string; inboxUpdated: boolean; routedTo?: string }
  /** An update about a baby already notified: its values replaced the notification's (routedTo: it moved there). */
  | { kind: 'updated'; messageId: string; notificationId: string; inboxUpdated: boolean; routedTo?: string }
  /** An update about a baby Stork has not notified: recorded, nothing else. */
  | { kind: 'update-not-applied'; messageId: string }
  /** The message reports the death of a baby already notified: those notifications are withdrawn. */
  | { kind: 'withdrew'; messageId: string; notificationIds: string[] };

export interface PendingDelivery {
  inboxId: string;
  notificationId: string;
}

export type InboxStatus = 'new' | 'acknowledged' | 'withdrawn';

/**
 * What a centre sees of one notification: the minimised record and the inbox state, nothing else. A
 * withdrawn notification shows when it was withdrawn and no longer shows its record.
 */
export interface InboxItem {
  notificationId: string;
  /** The inbox id (the API field `inbox`). */
  inbox: string;
  status: InboxStatus;
  deliveredAt: string;
  /** When a later message about the same baby last changed the record shown (after delivery). */
  updatedAt?: string;
  firstReadAt?: string;
  acknowledgedAt?: string;
  withdrawnAt?: string;
  /** When retention purged its content (issue 14): `record` is then absent, "no longer held". */
  purgedAt?: string;
  /** The family the baby belongs to (GET …/families/{familyId}); not shown once withdrawn. */
  familyId?: string;
  record?: DisclosedRecord;
}

export interface InboxFilter {
  status?: InboxStatus;
  /** Only babies born on or after this London date (YYYY-MM-DD), as the disclosed record gives it. */
  bornOnOrAfter?: string;
  /**
   * Only notifications overdue for first contact (issue 15): still in effect, delivered before this instant, with
   * no counting contacted, offer-accepted, offer-declined or moved-away outcome (offer_outcomes, migration 027).
   */
  openDeliveredBefore?: Date;
  /** Oldest delivered first (the API's order, the default) or newest first (the web worklist). */
  order?: 'oldest-first' | 'newest-first';
  limit: number;
  /** Opaque cursor from the previous page; one the store did not hand out throws InvalidCursorError. */
  after?: string;
}

/** Notifications and centre inboxes. Every write is idempotent, so a retried job creates nothing twice. */
export interface NotificationStore {
  /** The canonical records of those messages still waiting to be processed. */
  loadQueued(messageIds: readonly string[]): Promise<QueuedMessage[]>;
  /**
   * Runs one processing batch's writes in one transaction. Its commit does not wait for the disk: every
   * write can be redone from the stored message, and processing is idempotent.
   */
  processingTransaction<T>(work: (tx: ProcessingTransaction) => Promise<T>): Promise<T>;
  /** Quarantines a message, with the audit event that says why. */
  quarantine(messageId: string, reason: string, at: Date, audit: AuditEventInput): Promise<void>;
  /** Notifications routed to an inbox but not yet delivered to it (for these messages, or all when omitted). */
  undelivered(messageIds?: readonly string[]): Promise<PendingDelivery[]>;
  /**
   * For the recovery sweep: notifications still routed (not delivered) that were created in [createdFrom,
   * createdBefore), oldest first, at most `limit`.
   */
  undeliveredCreated(createdFrom: Date, createdBefore: Date, limit: number): Promise<PendingDelivery[]>;
  /** Puts routed notifications into their inbox; returns the ids newly delivered. */
  deliver(inboxId: string, notificationIds: readonly string[], at: Date): Promise<string[]>;
  /** As `deliver`, with the time each delivered notification's message was received (end-to-end latency). */
  deliverReceipts(inboxId: string, notificationIds: readonly string[], at: Date): Promise<{ id: string; receivedAt: Date }[]>;
  listInbox(inboxId: string, filter: InboxFilter, reader: AuditActor, at: Date): Promise<{ items: InboxItem[]; next?: string }>;
  getInboxItem(inboxId: string, notificationId: string, reader: AuditActor, at: Date): Promise<InboxItem | undefined>;
  acknowledge(
    inboxId: string,
    notificationId: string,
    by: AuditActor,
    at: Date,
  ): Promise<'acknowledged' | 'already' | 'withdrawn' | 'not-found'>;
}
