import type { ConsentRecord } from '../domain/consent.js';
import type { Decision, DisclosedRecord } from '../pipeline/consent/decide.js';
import type { AuditActor, AuditEventInput } from './audit.js';
import type { BirthNotification } from '../domain/birth-notification.js';

/** A record to insert; one that came with a message names it and its position in it (recorded once). */
export interface NewConsentRecord extends ConsentRecord {
  messageId?: string;
  ordinal?: number;
}

/** A live notification about a family, as a consent change decides it again. */
export interface FamilyNotification {
  id: string;
  status: 'routed' | 'delivered' | 'withheld' | 'withdrawn';
  inboxId?: string;
  babyNhsNumber?: string;
  decision: Decision;
  disclosed?: DisclosedRecord;
  /** Its record as it stands (enriched by later messages, else its first message's). */
  record: BirthNotification;
}

/** A live notification decided again under the consent records that now apply, still in the same inbox. */
export interface Redecided {
  id: string;
  decision: Decision;
  disclosed: DisclosedRecord;
  /** It is in its inbox already: the inbox item is stamped updated. */
  inboxUpdated: boolean;
}

/**
 * The consent register's writes and reads inside one transaction (the processing batch's, or one of its own).
 * Locks: `lockSubjects` takes a transaction-scoped lock per NHS number (in a fixed order), so recording a
 * consent and deciding a birth of the same family never interleave: whichever comes second sees the first.
 */
export interface ConsentTransaction {
  lockSubjects(nhsNumbers: readonly string[]): Promise<void>;
  /** Every record (withdrawn ones too, marked) naming any of these NHS numbers as mother or baby. */
  recordsAbout(nhsNumbers: readonly string[]): Promise<ConsentRecord[]>;
  /** Inserts records; one from a message already recorded is skipped. Returns the records inserted. */
  insert(records: readonly NewConsentRecord[]): Promise<ConsentRecord[]>;
  /** The record with this id, if any. */
  get(id: string): Promise<ConsentRecord | undefined>;
  /** Appends a withdrawal (by an actor id, with a person's name); false when it was already withdrawn (or does not exist). */
  withdraw(id: string, by: string, at: Date, byName?: string): Promise<boolean>;
  /** Live (routed or delivered) notifications whose baby's or mother's NHS number is one of these, locked. */
  lockLiveAbout(nhsNumbers: readonly string[]): Promise<FamilyNotification[]>;
  /** Whether this inbox has (or had) a notification about any of these NHS numbers (a centre's own family). */
  inboxHasFamily(inboxId: string, nhsNumbers: readonly string[]): Promise<boolean>;
  /** Saves notifications decided again: decision, dataset, disclosed record; inbox items stamped updated at `at`. */
  saveRedecided(updates: readonly Redecided[], at: Date): Promise<void>;
  /** Marks notifications and their inbox items withdrawn at `at`. */
  withdrawNotifications(notificationIds: readonly string[], at: Date): Promise<void>;
  appendAudit(events: readonly AuditEventInput[]): Promise<void>;
}

/** The consent register outside processing: its own transactions (committed durably) and audited history reads. */
export interface ConsentRegister {
  transaction<T>(work: (tx: ConsentTransaction) => Promise<T>): Promise<T>;
  /** Every record about this NHS number (as mother or baby), oldest first; the read is audited. */
  history(nhsNumber: string, reader: AuditActor, at: Date): Promise<ConsentRecord[]>;
  /** One record by its id, if any; the read is audited (`read`, details.query `consent-record`). */
  record(id: string, reader: AuditActor, at: Date): Promise<ConsentRecord | undefined>;
  /**
   * The records about a family a centre has had notifications about (any of these NHS numbers), oldest first; the
   * read is audited as the centre's (`read`, recipient the inbox, details.query `consent-records`, the family id).
   */
  familyRecords(
    nhsNumbers: readonly string[],
    read: { reader: AuditActor; inboxId: string; familyId: string },
    at: Date,
  ): Promise<ConsentRecord[]>;
}
