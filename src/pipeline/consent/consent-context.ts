/**
 * The ConsentContext of one birth, built from the register's records about its mother and baby. Pure. Rules:
 * - a record is about this birth when its baby NHS number is the baby's; or when its mother NHS number is the
 *   mother's and it names no baby (or the birth has no baby NHS number yet): a record naming another baby of
 *   the same mother (a twin) does not apply;
 * - withdrawn records are ignored; a record applies on the decision's (London) date when that date lies in its
 *   period (`from` and `to` inclusive, either open);
 * - a record applies to the recipient when it names `any`, the centre the family's address routes to, or that
 *   centre's (or unallocated inbox's) local authority;
 * - of the records that apply, the newest (recorded last; ties by id) per scope wins: a consent recorded after
 *   an objection for the same scope lifts it, and the other way round;
 * - `offer-of-support` objection → `objection`; `clinical-details` consent → `clinicalConsent`. Scope
 *   `antenatal` is kept in the register but does not bear on a birth.
 * `consentRecords` names the winning records (sorted), so the decision can say which it used.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';
import type { ConsentRecord, ConsentScope } from '../../domain/consent.js';
import { localDateOf } from '../../domain/hl7-datetime.js';
import type { Route } from '../route.js';
import type { ConsentContext } from './conditions.js';

/** Whether a record is about this birth's mother or baby (see the module comment). */
export function isAbout(r: ConsentRecord, n: BirthNotification): boolean {
  const baby = n.baby.nhsNumber;
  if (r.babyNhsNumber !== undefined && baby !== undefined) return r.babyNhsNumber === baby;
  const mother = n.mother?.nhsNumber;
  return r.motherNhsNumber !== undefined && mother !== undefined && r.motherNhsNumber === mother;
}

/** Whether a record's recipient covers where this birth is routed. */
export function coversRecipient(recipient: string, route: Route | undefined): boolean {
  if (recipient === 'any') return true;
  if (route === undefined) return false;
  if (recipient.startsWith('centre:')) return route.kind === 'centre' && route.centreId === recipient.slice('centre:'.length);
  if (recipient.startsWith('local-authority:')) return route.localAuthorityId === recipient.slice('local-authority:'.length);
  return false;
}

/** Whether the record is in force on this London date. */
export function inPeriod(r: Pick<ConsentRecord, 'from' | 'to'>, day: string): boolean {
  return (r.from === undefined || r.from <= day) && (r.to === undefined || day <= r.to);
}

const newer = (a: ConsentRecord, b: ConsentRecord): boolean =>
  a.recordedAt > b.recordedAt || (a.recordedAt === b.recordedAt && a.id > b.id);

/** The records that decide each scope for this birth, at `at`, for the route it takes. */
export function winningRecords(
  records: readonly ConsentRecord[],
  n: BirthNotification,
  route: Route | undefined,
  at: Date,
): Map<ConsentScope, ConsentRecord> {
  const day = localDateOf(at);
  const winners = new Map<ConsentScope, ConsentRecord>();
  for (const r of records) {
    if (r.withdrawnAt !== undefined || !isAbout(r, n) || !inPeriod(r, day) || !coversRecipient(r.recipient, route)) continue;
    const best = winners.get(r.scope);
    if (best === undefined || newer(r, best)) winners.set(r.scope, r);
  }
  return winners;
}

/** The ConsentContext decide() reads, from the register's records (any subjects: those not about this birth are skipped). */
export function consentContext(
  records: readonly ConsentRecord[],
  n: BirthNotification,
  route: Route | undefined,
  at: Date,
): ConsentContext {
  const winners = winningRecords(records, n, route, at);
  const offer = winners.get('offer-of-support');
  const clinical = winners.get('clinical-details');
  const context: ConsentContext = {};
  const used: string[] = [];
  if (offer !== undefined) {
    context.objection = offer.kind === 'objection';
    used.push(offer.id);
  }
  if (clinical !== undefined) {
    context.clinicalConsent = clinical.kind === 'consent';
    used.push(clinical.id);
  }
  if (used.length > 0) context.consentRecords = used.sort();
  return context;
}
