import type { BirthNotification } from '../domain/birth-notification.js';
import type { IdentityEvent } from '../domain/identity-event.js';
import type { AntenatalEvent } from '../domain/antenatal-notification.js';
import type { Attendance } from '../domain/trigger.js';
import type { Issue } from '../domain/issue.js';
import type { AuditEventInput } from './audit.js';

export type MessageStatus = 'queued' | 'processed' | 'not-relevant' | 'quarantined' | 'duplicate';
/** How a message reached Stork: MLLP, HTTP (HL7 v2 or FHIR), a MESH mailbox, or a FHIR server Stork fetched from (migration 010). */
export type Channel = 'mllp' | 'http' | 'mesh' | 'fhir-fetch';
/** How the stored bytes are encoded: HL7 v2 ER7, or a FHIR resource in JSON or XML (migration 008). */
export type MessageFormat = 'hl7v2' | 'fhir-r4+json' | 'fhir-r4+xml' | 'fhir-stu3+json' | 'fhir-stu3+xml';

/**
 * What a bearer JWT granted the client that sent a message over HTTP: its role and the facility (HL7 v2) or feed id
 * (FHIR, NEMS) its scope named. Stored with the message, because a replay has no token to read it from again.
 */
export interface ApiClientGrant {
  role: 'feed' | 'admin';
  scope?: string;
}

/** A message as intake commits it: the exact bytes, where they came from, and what intake decided. */
export interface ReceivedMessage {
  id: string;
  receivedAt: Date;
  channel: Channel;
  /** Absent: HL7 v2. */
  format?: MessageFormat;
  remoteAddress?: string;
  apiClient?: string;
  /** A bearer-JWT client's grant (see ApiClientGrant); absent for API keys. */
  apiClientGrant?: ApiClientGrant;
  feedId?: string;
  /** The re-send key (src/intake/resend-key.ts): the verified sender's, else that of who authenticated. */
  senderKey?: string;
  controlId?: string;
  messageType?: string;
  raw: Buffer;
  /** True when only the head of an oversize message was kept. */
  rawTruncated: boolean;
  sizeBytes: number;
  sha256: string;
  status: MessageStatus;
  reason?: string;
  issues: Issue[];
  ackCode?: string;
  ack?: Buffer;
  canonical?: BirthNotification;
  /** An identity event (A40, A24): stored where a birth's canonical record is (one or the other). */
  identityEvent?: IdentityEvent;
  /** A maternity booking or pregnancy loss (issue 17): stored where a birth's canonical record is. */
  antenatalEvent?: AntenatalEvent;
  /** An A&E attendance (issue 17 triggers): stored where a birth's canonical record is. */
  attendance?: Attendance;
  /** Audit events appended in the same transaction as the message. */
  audit: AuditEventInput[];
}

export type ReceiptOutcome =
  | { kind: 'stored' }
  /** Same re-send key and MSH-10 as a message already stored: nothing new was written. */
  | { kind: 'duplicate'; originalId: string; status: MessageStatus; ack?: Buffer };

/** Metadata an operator sees; the raw body only for the admin role. */
export interface MessageSummary {
  id: string;
  receivedAt: string;
  channel: Channel;
  format: MessageFormat;
  remoteAddress?: string;
  feedId?: string;
  controlId?: string;
  messageType?: string;
  sizeBytes: number;
  sha256: string;
  rawTruncated: boolean;
  status: MessageStatus;
  reason?: string;
  issues: Issue[];
  ackCode?: string;
  replayCount: number;
  updatedAt: string;
  /** When retention purged its bytes, ACK and (unless a notification still used it) canonical record (issue 14). */
  purgedAt?: string;
}

export interface MessageFilter {
  status?: MessageStatus;
  feedId?: string;
  limit: number;
  /** Opaque cursor from the previous page; one the store did not hand out throws InvalidCursorError. */
  after?: string;
}

export interface StoredMessage extends MessageSummary {
  /** Empty once purged (`purgedAt`). */
  raw: Buffer;
  canonical?: BirthNotification;
  identityEvent?: IdentityEvent;
  attendance?: Attendance;
  senderKey?: string;
  /** HTTP: the API client that sent it (replay re-checks what that client may send for). */
  apiClient?: string;
  /** HTTP, a bearer-JWT client: what its token granted at receipt. */
  apiClientGrant?: ApiClientGrant;
}

/** A feed as the operators' console shows it: its last message, and today's messages by acknowledgement code. */
export interface FeedActivity {
  /** Absent: messages from no known feed (an unknown sender). */
  feedId?: string;
  lastReceivedAt?: Date;
  /** Messages received since the start of the day, by ACK code (`AA`, `AE`, `AR`; FHIR `ok`, `fatal-error`; `none`). */
  todayByAckCode: Record<string, number>;
}

export interface MessageStore {
  /** Commits a batch in one transaction; a re-send is recognised by the unique (re-send key, MSH-10) pair. */
  recordReceipts(messages: readonly ReceivedMessage[]): Promise<ReceiptOutcome[]>;
  list(filter: MessageFilter): Promise<{ items: MessageSummary[]; next?: string }>;
  get(id: string): Promise<StoredMessage | undefined>;
  /** Ids of messages accepted but not yet processed (e.g. after a crash), oldest first. */
  pendingIds(limit: number): Promise<string[]>;
  /**
   * The recovery sweep: with the sweep lock held (one process at a time, however many workers sweep), hands `fn`
   * the ids of messages still queued that were received in [`receivedFrom`, `receivedBefore`), oldest first.
   * Resolves to how many there were, or undefined when another process holds the lock.
   */
  withStrandedIds(
    receivedFrom: Date,
    receivedBefore: Date,
    limit: number,
    fn: (ids: readonly string[]) => Promise<void>,
  ): Promise<number | undefined>;
  /** The last message and the messages since `since` by ACK code, of each of these feeds and of unknown senders (last). */
  feedActivity(feedIds: readonly string[], since: Date): Promise<FeedActivity[]>;
  /** Records the outcome of replaying a quarantined message. */
  updateAfterReplay(update: {
    id: string;
    status: MessageStatus;
    reason?: string;
    issues: Issue[];
    feedId?: string;
    canonical?: BirthNotification;
    identityEvent?: IdentityEvent;
    antenatalEvent?: AntenatalEvent;
    attendance?: Attendance;
    at: Date;
    audit: AuditEventInput[];
  }): Promise<void>;
}
