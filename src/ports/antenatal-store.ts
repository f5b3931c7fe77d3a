/**
 * Antenatal notifications (issue 17, migration 030): what processing saves of a maternity booking and a later
 * pregnancy loss, and what a centre's "expecting" list reads. The store saves what it is told; processing
 * (src/processing/antenatal-bookings.ts) decides.
 */
import type { AntenatalBooking, DisclosedAntenatal } from '../domain/antenatal-notification.js';
import type { AntenatalDecision } from '../pipeline/antenatal/antenatal-agreement.js';
import type { Route } from '../pipeline/route.js';
import type { AuditActor, AuditEventInput } from './audit.js';
import type { ConsentHold, ConsentTransaction } from './consent-register.js';
import type { FamilyTransaction } from './family-store.js';

export type AntenatalStatus = 'delivered' | 'withheld' | 'withdrawn';

export interface AntenatalNotification {
  id: string;
  messageId: string;
  pregnancyKey: string;
  record: AntenatalBooking;
  decision: AntenatalDecision;
  route: Route;
  /** The centre (or unallocated inbox) it was delivered to; absent when withheld. */
  inboxId?: string;
  disclosed?: DisclosedAntenatal;
  status: AntenatalStatus;
  at: Date;
}

/**
 * A live antenatal notification, locked by a loss that may withdraw it or a consent change that decides it again:
 * delivered, withheld, or withdrawn only because of the mother's consent register (`consentHold` set: her consent
 * recorded again delivers it to the same centre once).
 */
export interface LiveAntenatal {
  id: string;
  record: AntenatalBooking;
  decision: AntenatalDecision;
  inboxId?: string;
  status: 'delivered' | 'withheld' | 'withdrawn';
  consentHold?: ConsentHold;
}

/** One processing step's writes, in one transaction. */
export interface AntenatalTransaction {
  readonly families: FamilyTransaction;
  consents(): ConsentTransaction;
  /** Whether this message already made (or withdrew) an antenatal notification: a retried job does nothing again. */
  messageProcessed(messageId: string): Promise<boolean>;
  /** Inserts it; false when its pregnancy already has one (a second booking message about the same pregnancy). */
  insert(n: AntenatalNotification): Promise<boolean>;
  /** The mother's live antenatal notifications (only the pregnancy's, when an id is given), locked. */
  lockLive(motherNhsNumber: string, pregnancyId: string | undefined): Promise<LiveAntenatal[]>;
  /**
   * Withdraws them at `at`: status withdrawn, the disclosed record no longer kept, the decision that withdrew saved,
   * with the consent hold given (a consent change) or none (a loss: it never comes back). One already withdrawn keeps
   * its withdrawal time.
   */
  withdraw(withdrawals: readonly { id: string; decision: AntenatalDecision; hold?: ConsentHold }[], at: Date): Promise<void>;
  /** The family the booking created or joined. */
  setFamily(id: string, familyId: string): Promise<void>;
  /**
   * Delivers a withheld notification now permitted (its mother's consent recorded after it), or one withdrawn under a
   * consent hold: decision, route, centre and disclosed record set, status `delivered`, the hold and withdrawal time
   * cleared. False when it is neither (any longer).
   */
  deliverWithheld(d: {
    id: string;
    decision: AntenatalDecision;
    route: Route;
    inboxId: string;
    disclosed: DisclosedAntenatal;
    at: Date;
  }): Promise<boolean>;
  /** Sets the status of the message (still queued) at `at`. */
  markMessage(messageId: string, status: 'processed' | 'duplicate' | 'not-relevant', at: Date, reason?: string): Promise<void>;
  appendAudit(events: readonly AuditEventInput[]): Promise<void>;
}

/** One item of a centre's "expecting" list: only what was disclosed (nothing once withdrawn). */
export interface ExpectingItem {
  id: string;
  status: 'delivered' | 'withdrawn';
  deliveredAt: string;
  withdrawnAt?: string;
  /** When the baby's birth joined the family the booking made (migration 033): the item is closed, no longer expecting. */
  bornAt?: string;
  disclosed?: DisclosedAntenatal;
}

export interface AntenatalStore {
  transaction<T>(work: (tx: AntenatalTransaction) => Promise<T>): Promise<T>;
  /**
   * A centre's expecting families, newest first: delivered ones with what was disclosed, withdrawn ones without. Each
   * item listed is audited as read by `reader` (action `read`, details kind `antenatal`).
   */
  listExpecting(inboxId: string, limit: number, reader: { actor: string; name: string }, at: Date): Promise<ExpectingItem[]>;
}

/** An antenatal item's status as the centre API shows it: `new` (delivered, not yet taken on), `acknowledged`, `withdrawn`. */
export type AntenatalInboxStatus = 'new' | 'acknowledged' | 'withdrawn';

/**
 * One antenatal item of a centre's API (GET /v1/centres/{centre}/antenatal): only the disclosed (minimised) record,
 * none once withdrawn or purged. `kind` tells it from a birth notification.
 */
export interface AntenatalInboxItem {
  antenatalId: string;
  kind: 'antenatal';
  inbox: string;
  status: AntenatalInboxStatus;
  deliveredAt: string;
  firstReadAt?: string;
  acknowledgedAt?: string;
  withdrawnAt?: string;
  /** The baby's birth joined the family the booking made: the item is closed (the birth is in the notifications). */
  bornAt?: string;
  /** Its content was purged under retention: the id, status and times stay. */
  purgedAt?: string;
  record?: DisclosedAntenatal;
}

/** The centre API's reads and take-on of antenatal items; every read and take-on is audited (`details.kind: antenatal`). */
export interface AntenatalInbox {
  /** The centre's items in delivery order (oldest first), `limit` a page, `after` the previous page's cursor. */
  listAntenatal(
    inboxId: string,
    filter: { status?: AntenatalInboxStatus; limit: number; after?: string },
    reader: AuditActor,
    at: Date,
  ): Promise<{ items: AntenatalInboxItem[]; next?: string }>;
  /** One of the centre's items; undefined when it is not the centre's (or does not exist). */
  getAntenatal(inboxId: string, id: string, reader: AuditActor, at: Date): Promise<AntenatalInboxItem | undefined>;
  /** The centre takes it on: `already` when it had; `withdrawn` (nothing changed) when it was withdrawn. */
  acknowledgeAntenatal(
    inboxId: string,
    id: string,
    by: AuditActor,
    at: Date,
  ): Promise<'acknowledged' | 'already' | 'withdrawn' | 'not-found'>;
}
