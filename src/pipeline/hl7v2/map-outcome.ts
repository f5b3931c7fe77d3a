import type { BirthNotification } from '../../domain/birth-notification.js';
import type { IdentityEvent } from '../../domain/identity-event.js';
import type { AntenatalEvent } from '../../domain/antenatal-notification.js';
import type { Issue } from '../../domain/issue.js';
import type { Attendance } from '../../domain/trigger.js';

/**
 * An operator's back-fill window for a feed (`backfill` in feeds.json): until `until`, births that were
 * newborns at their message time (MSH-7) are admitted even when they are no longer newborns at receipt.
 */
export interface BackfillMode {
  /** ISO 8601 instant; the mode is over for messages received at or after it. */
  until: string;
  /** Why the operator turned it on (a ticket, the archive being replayed): copied into the audit. */
  reason: string;
}

/** Recorded (in the audit) for a birth admitted only because its feed was in back-fill mode. */
export interface BackfillAdmission {
  reason: string;
  until: string;
  /** Whole days from the message's date (MSH-7) to the day it was received. */
  lateDays: number;
}

/**
 * What a feed mapping makes of a message (see map-hl7v2.ts). Issues on a birth are warnings only; `invalid`
 * carries at least one error; `internal` is a bug in the mapping code, with the error it raised.
 */
export type MapOutcome =
  | { kind: 'birth'; notification: BirthNotification; issues: Issue[]; backfill?: BackfillAdmission }
  /** An identity event (A40 merge, A24 link, A37 unlink): stored and processed like a birth (map-identity-event.ts). */
  | { kind: 'identity'; event: IdentityEvent; issues: Issue[] }
  /** A maternity booking or a pregnancy loss (issue 17, map-booking.ts): stored and processed like a birth. */
  | { kind: 'antenatal'; event: AntenatalEvent; issues: Issue[] }
  /** An A&E attendance whose code is in a trigger's value set (issue 17; src/pipeline/triggers/attendance-mapper.ts). */
  | { kind: 'attendance'; attendance: Attendance; issues: Issue[] }
  | { kind: 'not-relevant'; reason: string }
  | { kind: 'invalid'; issues: Issue[] }
  | { kind: 'internal'; error: Error };
