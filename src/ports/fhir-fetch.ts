import type { AuditEventInput } from './audit.js';

/** What a stored signal event (POST /v1/events) has come to. */
export type FhirEventStatus = 'pending' | 'fetched' | 'failed' | 'refused';

/** A signal event as intake stores it, before it is answered. */
export interface ReceivedFhirEvent {
  id: string;
  receivedAt: Date;
  apiClient: string;
  feedId?: string;
  /** `feed:<id>` for an accepted event, `client:<id>` for a refused one (see migration 011). */
  senderKey: string;
  /** The event's own id (CloudEvents `id`, Parameters.id): a re-send under the same key is recognised by it. */
  eventId?: string;
  form: 'cloudevents' | 'fhir' | 'unknown';
  raw: Buffer;
  /** `Patient/<id>` on the feed's FHIR server. */
  subjectReference?: string;
  subjectNhsNumber?: string;
  status: 'pending' | 'refused';
  reason?: string;
  audit: AuditEventInput[];
}

/** What Stork can say about a stored event (GET /v1/events/{id}); no personal data. */
export interface FhirEventSummary {
  id: string;
  receivedAt: string;
  feedId?: string;
  eventId?: string;
  form: ReceivedFhirEvent['form'];
  status: FhirEventStatus;
  reason?: string;
  attempts: number;
  /** The message the fetched record was stored as. */
  messageId?: string;
  apiClient: string;
  updatedAt: string;
}

/** A pending event a worker has claimed for one fetch attempt. */
export interface ClaimedFhirEvent {
  id: string;
  feedId: string;
  eventId?: string;
  subjectReference?: string;
  subjectNhsNumber?: string;
  attempts: number;
}

export type EventReceipt = { kind: 'stored' } | { kind: 'duplicate'; original: FhirEventSummary };

/** The poller's cursor for one feed (see migration 011). */
export interface PollCursor {
  /** The highest meta.lastUpdated stored so far; absent before the first poll. */
  lastUpdated?: string;
  /** Ids of the resources stored at exactly `lastUpdated`. */
  idsAtCursor: string[];
}

/** Signal events and poll cursors: the durable state of event-then-fetch and of the per-feed poller. */
export interface FhirFetchStore {
  /** Stores an event with its audit rows; a re-send (same sender key and event id) stores nothing. */
  recordEvent(e: ReceivedFhirEvent): Promise<EventReceipt>;
  getEvent(id: string): Promise<FhirEventSummary | undefined>;
  /** Claims up to `limit` pending events that are due, for `leaseMs` (another worker may take them after that). */
  claimDueEvents(now: Date, leaseMs: number, limit: number): Promise<ClaimedFhirEvent[]>;
  /** The event's record is stored as `messageId`. */
  markFetched(id: string, messageId: string, at: Date, audit: AuditEventInput[]): Promise<void>;
  /** This attempt failed: tried again at `retryAt`, or given up (`retryAt` undefined) with the reason. */
  markAttemptFailed(id: string, reason: string, at: Date, retryAt: Date | undefined, audit: AuditEventInput[]): Promise<void>;
  /** Takes (or renews) the poll lease of a feed for `owner`; undefined when another owner holds it. */
  leaseCursor(feedId: string, owner: string, now: Date, leaseMs: number): Promise<PollCursor | undefined>;
  /** Moves a feed's cursor on (only after what was fetched up to it is stored), keeping the lease. */
  advanceCursor(feedId: string, owner: string, cursor: PollCursor, at: Date): Promise<void>;
  releaseCursor(feedId: string, owner: string): Promise<void>;
}
