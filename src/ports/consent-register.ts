import type { ConsentRecord, ConsentScope } from '../domain/consent.js';
import type { Decision, DisclosedRecord } from '../pipeline/consent/decide.js';
import type { AuditActor, AuditEventInput } from './audit.js';
import type { BirthNotification } from '../domain/birth-notification.js';
import type { Route } from '../pipeline/route.js';

/**
 * Why a notification is withheld or withdrawn when only the consent register holds it back (a parent's
 * objection): when, how (`withheld` at its decision, or withdrawn from or before its inbox) and the consent
 * records. Lifting the objection may deliver it again; nothing else does, and any other withdrawal clears it.
 */
export interface ConsentHold {
  at: string;
  outcome: 'withheld' | 'withdrawn-from-inbox' | 'withdrawn-before-delivery';
  consentRecords: string[];
}

/** A record to insert; one that came with a message names it and its position in it (recorded once). */
export interface NewConsentRecord extends ConsentRecord {
  messageId?: string;
  ordinal?: number;
}

/**
 * A notification about a family, as a consent change decides it again: a live one (routed, or delivered), or one
 * held back only by a parent's objection (withheld, or withdrawn, with its `consentHold`).
 */
export interface FamilyNotification {
  id: string;
  status: 'routed' | 'delivered' | 'withheld' | 'withdrawn';
  inboxId?: string;
  babyNhsNumber?: string;
  decision: Decision;
  disclosed?: DisclosedRecord;
  /** Its record as it stands (enriched by later messages, else its first message's). */
  record: BirthNotification;
  consentHold?: ConsentHold;
}

/** A notification an objection held back, delivered again now that the decision sends it to its inbox. */
export interface Redelivery {
  id: string;
  decision: Decision;
  route: Route;
  inboxId: string;
  disclosed: DisclosedRecord;
}

/** A notification a consent change withdraws; `hold` when only a parent's objection withdraws it (it may come back). */
export interface ConsentWithdrawal {
  id: string;
  hold?: ConsentHold;
}

/** A consent record whose period started or ended on a day a scheduled run covers: whom it is about. */
export interface PeriodBoundary {
  consentId: string;
  nhsNumbers: string[];
  /** The record's scope, and whom it names (an `antenatal` record naming the mother decides her bookings again). */
  scope: ConsentScope;
  motherNhsNumber?: string;
  babyNhsNumber?: string;
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
  /**
   * Live (routed or delivered) notifications whose baby's or mother's NHS number is one of these, and those held
   * back only by an objection (withheld or withdrawn, with a consent hold), locked.
   */
  lockLiveAbout(nhsNumbers: readonly string[]): Promise<FamilyNotification[]>;
  /** Whether this inbox has (or had) a notification about any of these NHS numbers (a centre's own family). */
  inboxHasFamily(inboxId: string, nhsNumbers: readonly string[]): Promise<boolean>;
  /** Saves notifications decided again: decision, dataset, disclosed record; inbox items stamped updated at `at`. */
  saveRedecided(updates: readonly Redecided[], at: Date): Promise<void>;
  /** Marks notifications and their inbox items withdrawn at `at`, keeping the consent hold of those an objection holds. */
  withdrawNotifications(withdrawals: readonly ConsentWithdrawal[], at: Date): Promise<void>;
  /**
   * Delivers held notifications again (only those still withheld or withdrawn with a consent hold): decision, route,
   * inbox and disclosed record saved, status delivered, hold cleared, and the inbox item new again (delivered at
   * `at`, not read, not acknowledged). Returns the ids delivered.
   */
  redeliver(items: readonly Redelivery[], at: Date): Promise<string[]>;
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
  /**
   * Records not withdrawn whose period started (`from`) after `after` and on or before `upTo`, or ended (`to`) on or
   * after `after` and before `upTo` (days, `YYYY-MM-DD`): those that apply on `upTo` and did not on `after`, or the
   * reverse. Without `after` (the first run), since the day before each record was recorded.
   */
  periodBoundaries(after: string | undefined, upTo: string): Promise<PeriodBoundary[]>;
  /** The last day a scheduled job covered, if it ever ran. */
  lastRun(job: string): Promise<string | undefined>;
  /** Records that the job covered `day` (never moves the day back). */
  saveRun(job: string, day: string, at: Date): Promise<void>;
}
