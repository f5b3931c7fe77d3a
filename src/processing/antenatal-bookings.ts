/**
 * Processing of maternity bookings and pregnancy losses (issue 17 item 1), each message in its own transaction:
 * - a booking: the consents its message carried are recorded in the register (under the mother's register lock),
 *   the mother's `antenatal` records are read, the booking is routed by her postcode like a birth and decided under
 *   the antenatal agreement. Permitted (her consent is recorded): delivered at once to the covering centre's
 *   "expecting" list, and the mother's family is joined (her NHS number leads one) or made, so that the baby's birth
 *   notification later joins the same family. Otherwise withheld: nothing reaches any centre, and the audit says
 *   which rule and why (`withheld`, details.reason).
 * - a loss: the mother's live antenatal notifications (the pregnancy's, when the message names it) are decided again
 *   with the pregnancy ended, which the agreement denies: each is withdrawn at once (the centre's item shows as
 *   withdrawn, without its content), audited with the rule and basis.
 * A retried job does nothing twice: a message no longer queued is skipped.
 */
import { randomUUID } from 'node:crypto';
import { minimiseBooking, pregnancyKey, type AntenatalBooking, type AntenatalEvent } from '../domain/antenatal-notification.js';
import type { ConsentStatement } from '../domain/consent.js';
import type { Logger } from '../logger.js';
import {
  antenatalAgreementLabel,
  antenatalConsent,
  decideAntenatal,
  type AntenatalAgreement,
  type AntenatalDecision,
} from '../pipeline/antenatal/antenatal-agreement.js';
import type { Catchments } from '../pipeline/catchments.js';
import { personOf, type FamilyMatcher } from '../pipeline/family-match.js';
import { routeInbox } from '../pipeline/plan-delivery.js';
import { routeNotification, type Route } from '../pipeline/route.js';
import type { AntenatalStore, AntenatalTransaction } from '../ports/antenatal-store.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { ConsentHold } from '../ports/consent-register.js';
import type { FamilyLead } from '../ports/family-store.js';
import { WORKER_ACTOR } from './birth-outcomes.js';
import { carriedConsents, consentRecordedEvent } from './record-consents.js';
import { CONSENT_WITHDRAWN_REASON } from './reconsider-consent.js';

export interface AntenatalDeps {
  store: AntenatalStore;
  agreement: AntenatalAgreement;
  catchments: Catchments;
  /** Family matching's blocking keys (issue 12); absent: no family records. */
  families?: FamilyMatcher;
  logger: Logger;
  clock: () => Date;
}

export interface QueuedAntenatalEvent {
  messageId: string;
  event: AntenatalEvent;
}

/** The reason a second booking message about a pregnancy already notified is kept with. */
export const DUPLICATE_BOOKING_REASON = 'pregnancy already notified';
/** The reason a loss about a pregnancy Stork holds no live notification of is kept with. */
export const LOSS_NOT_APPLIED_REASON = 'pregnancy loss about no live antenatal notification';

const ruleOf = (d: AntenatalDecision): Pick<AuditEventInput, 'ruleId' | 'rulebookVersion' | 'lawfulBasis'> => ({
  ruleId: d.ruleId,
  rulebookVersion: antenatalAgreementLabel(d),
  lawfulBasis: d.lawfulBasis,
});

/** Who, when and about which booking: what every audit event of one booking's decision shares. */
type EventBase = Pick<AuditEventInput, 'at' | 'actor' | 'messageId' | 'notificationId' | 'subjectNhsNumber'>;

/** The `decided` event of an antenatal decision: its rule, effect and reason, then what the caller adds to its details. */
const decidedEvent = (base: EventBase, decision: AntenatalDecision, details: Record<string, unknown>): AuditEventInput => ({
  ...base,
  ...ruleOf(decision),
  action: 'decided',
  outcome: decision.effect,
  details: { kind: 'antenatal', reason: decision.reason, ...details },
});

/** A booking delivered to an inbox: `routed` (the route taken), then `delivered` (rule, dataset, then `details`). */
const deliveredEvents = (
  base: EventBase,
  decision: AntenatalDecision,
  route: Route,
  inboxId: string,
  details: Record<string, unknown>,
): AuditEventInput[] => [
  { ...base, action: 'routed', recipient: inboxId, outcome: route.kind, details: { kind: 'antenatal', route } },
  {
    ...base,
    ...ruleOf(decision),
    action: 'delivered',
    recipient: inboxId,
    outcome: 'delivered',
    details: { kind: 'antenatal', dataset: decision.dataset, ...details },
  },
];

/** Processes the batch's antenatal events, one transaction each; returns counts for the log (no personal data). */
export async function processAntenatalEvents(
  deps: AntenatalDeps,
  events: readonly QueuedAntenatalEvent[],
): Promise<{ delivered: number; withheld: number; withdrawn: number; skipped: number }> {
  const counts = { delivered: 0, withheld: 0, withdrawn: 0, skipped: 0 };
  for (const e of events) {
    const at = deps.clock();
    await deps.store.transaction(async (tx) => {
      if (await tx.messageProcessed(e.messageId)) {
        counts.skipped++;
        return;
      }
      if (e.event.kind === 'antenatal-booking') {
        const outcome = await processBooking(deps, tx, e.messageId, e.event.booking, e.event.consents ?? [], at);
        counts[outcome]++;
      } else counts.withdrawn += await processLoss(deps, tx, e.messageId, e.event.motherNhsNumber, e.event.pregnancyId, at);
    });
  }
  deps.logger.info({ messages: events.length, ...counts }, 'antenatal events processed');
  return counts;
}

async function processBooking(
  deps: AntenatalDeps,
  tx: AntenatalTransaction,
  messageId: string,
  booking: AntenatalBooking,
  consents: readonly ConsentStatement[],
  at: Date,
): Promise<'delivered' | 'withheld' | 'skipped'> {
  const nhs = booking.mother.nhsNumber;
  const register = tx.consents();
  await register.lockSubjects([nhs]);
  const carried = carriedConsents([{ messageId, consents }], at);
  if (carried.length > 0) {
    const inserted = await register.insert(carried);
    await register.appendAudit(inserted.map((r) => consentRecordedEvent(r, at, WORKER_ACTOR, messageId)));
  }
  const route = routeNotification(booking.mother.address?.postcode, deps.catchments);
  const decision = decideAntenatal(booking, deps.agreement, antenatalConsent(await register.recordsAbout([nhs]), nhs, route, at));
  const permitted = decision.effect === 'permit' && decision.dataset !== undefined;
  const id = randomUUID();
  const inboxId = permitted ? routeInbox(route) : undefined;
  const inserted = await tx.insert({
    id,
    messageId,
    pregnancyKey: pregnancyKey(booking),
    record: booking,
    decision,
    route,
    ...(inboxId !== undefined ? { inboxId, disclosed: minimiseBooking(booking) } : {}),
    status: permitted ? 'delivered' : 'withheld',
    at,
  });
  if (!inserted) {
    await tx.markMessage(messageId, 'duplicate', at, DUPLICATE_BOOKING_REASON);
    return 'skipped';
  }
  const base = { at, actor: WORKER_ACTOR, messageId, notificationId: id, subjectNhsNumber: nhs };
  const rule = ruleOf(decision);
  const audit: AuditEventInput[] = [
    decidedEvent(base, decision, {
      ...(decision.dataset !== undefined ? { dataset: decision.dataset } : {}),
      ...(decision.consentRecords !== undefined ? { consentRecords: decision.consentRecords } : {}),
    }),
  ];
  if (inboxId === undefined) {
    // Not shared: the audit says so, with the rule, the basis and the reason (never a centre, never the record).
    audit.push({
      ...base,
      ...rule,
      action: 'withheld',
      outcome: 'withheld',
      details: { kind: 'antenatal', shared: false, reason: decision.reason, route },
    });
  } else {
    audit.push(...deliveredEvents(base, decision, route, inboxId, {}));
    if (deps.families !== undefined) audit.push(await joinFamily(deps.families, tx, id, messageId, booking, route, at));
  }
  await tx.appendAudit(audit);
  await tx.markMessage(messageId, 'processed', at);
  return inboxId === undefined ? 'withheld' : 'delivered';
}

/**
 * The mother's family: the live family her NHS number leads is joined (its address, centre, GP and language follow the
 * booking), else one is made for her with the booking as its source. The birth's family match (by the mother's NHS
 * number, else probabilistically on her name, date of birth and postcode) then finds it.
 */
async function joinFamily(
  matcher: FamilyMatcher,
  tx: AntenatalTransaction,
  id: string,
  messageId: string | undefined,
  booking: AntenatalBooking,
  route: Route,
  at: Date,
): Promise<AuditEventInput> {
  const m = booking.mother;
  const lead: FamilyLead = {
    nhsNumber: m.nhsNumber,
    ...(m.name !== undefined ? { name: m.name } : {}),
    ...(m.birthDate !== undefined ? { birthDate: m.birthDate } : {}),
    ...(m.phone !== undefined ? { phone: m.phone } : {}),
    ...(m.preferredLanguage !== undefined ? { preferredLanguage: m.preferredLanguage } : {}),
  };
  const centre = route.kind === 'centre' ? { centre: route.centreId } : {};
  const blockKeys = matcher.blockingKeys(personOf(lead, m.address?.postcode));
  const [existing] = await tx.families.familiesByLeadNhsNumber([m.nhsNumber]);
  let familyId: string;
  let method: 'nhs-number' | 'new-family';
  if (existing !== undefined) {
    familyId = existing.id;
    method = 'nhs-number';
    await tx.families.refreshFamilies([
      {
        familyId,
        lead,
        ...(m.address !== undefined ? { address: m.address } : {}),
        ...(booking.gpPractice !== undefined ? { gp: booking.gpPractice } : {}),
        ...(m.preferredLanguage !== undefined ? { preferredLanguage: m.preferredLanguage } : {}),
        ...centre,
        blockKeys,
        at,
      },
    ]);
  } else {
    familyId = randomUUID();
    method = 'new-family';
    const created = await tx.families.createFamilies([
      {
        id: familyId,
        lead,
        ...(m.address !== undefined ? { address: m.address } : {}),
        ...(booking.gpPractice !== undefined ? { gp: booking.gpPractice } : {}),
        ...(m.preferredLanguage !== undefined ? { preferredLanguage: m.preferredLanguage } : {}),
        ...centre,
        origin: 'notification',
        blockKeys,
        at,
      },
    ]);
    // Another worker made her family between the look-up and the insert: the transaction is retried with the job.
    if (created.size === 0) throw new Error('a family for the same NHS number was created concurrently; retry the job');
  }
  await tx.families.recordSources([{ familyId, kind: 'antenatal-booking', ref: id, at }]);
  await tx.setFamily(id, familyId);
  return {
    at,
    actor: WORKER_ACTOR,
    action: 'family-linked',
    ...(messageId !== undefined ? { messageId } : {}),
    notificationId: id,
    subjectNhsNumber: m.nhsNumber,
    outcome: method,
    details: { kind: 'antenatal', familyId, method },
  };
}

async function processLoss(
  deps: AntenatalDeps,
  tx: AntenatalTransaction,
  messageId: string,
  motherNhsNumber: string,
  pregnancyId: string | undefined,
  at: Date,
): Promise<number> {
  const live = await tx.lockLive(motherNhsNumber, pregnancyId);
  if (live.length === 0) {
    await tx.markMessage(messageId, 'not-relevant', at, LOSS_NOT_APPLIED_REASON);
    return 0;
  }
  const withdrawals = live.map((n) => ({ n, decision: decideAntenatal(n.record, deps.agreement, { ended: true }) }));
  await tx.withdraw(
    withdrawals.map((w) => ({ id: w.n.id, decision: w.decision })),
    at,
  );
  await tx.appendAudit(
    withdrawals.map(({ n, decision }) => ({
      at,
      actor: WORKER_ACTOR,
      // One withdrawn already under a consent hold is not withdrawn again from the centre: the loss ends the hold.
      action: n.status === 'withdrawn' ? ('decided' as const) : ('withdrawn' as const),
      messageId,
      notificationId: n.id,
      subjectNhsNumber: motherNhsNumber,
      ...(n.inboxId !== undefined ? { recipient: n.inboxId } : {}),
      ...ruleOf(decision),
      outcome: n.status === 'withdrawn' ? decision.effect : 'withdrawn',
      details: {
        kind: 'antenatal',
        reason: 'A later message reports the pregnancy ended; the antenatal notification is withdrawn and its record no longer shown',
        previousStatus: n.status,
      },
    })),
  );
  await tx.markMessage(messageId, 'processed', at);
  return withdrawals.length;
}

/** What deciding a mother's bookings again did (counts only). */
export interface BookingEffects {
  /** Withheld (or withdrawn under a consent hold) and now delivered to the covering centre. */
  delivered: number;
  /** Delivered and now denied: withdrawn from the centre at once. */
  withdrawn: number;
}

/**
 * Decides again the mother's live bookings under her consent records as the register now stands (issue 17
 * follow-up), as reconsider-consent.ts does for births: called after a record about her in scope `antenatal` is
 * recorded or withdrawn (`POST /v1/consents`, the web consent pages), and by the consent-period job when such a
 * record's period starts or ends. Only the mother's `antenatal` records decide a booking (antenatalConsent): an
 * objection in scope `antenatal` naming her (recipient `any`, her centre or its local authority) covers antenatal
 * sharing; `offer-of-support` and `clinical-details` records are about the baby and its birth, never read here.
 * - Delivered, now denied (her consent withdrawn or its period over, an objection recorded or begun): withdrawn from
 *   the centre at once (its item shows withdrawn, without content), audited `decided` and `withdrawn` with the rule
 *   and the consent record that caused it, and held: her consent recorded again delivers it to the same centre once,
 *   audited `decided` and `delivered` (outcome `redelivered`, with the hold it ends). A loss ends the hold for good.
 * - Withheld, now permitted: delivered at once to the covering centre, as if it had been permitted when it arrived:
 *   audited `decided`, `routed`, `delivered`, and its family joined or made.
 * - Otherwise (the same effect): nothing, unaudited. Deciding again with nothing changed does nothing: safe to repeat.
 * Under the mother's register lock, as processing takes it, so a booking being processed meanwhile is seen by one or
 * the other. A purged booking, or one withdrawn by a loss, never comes back.
 */
export async function redecideBookings(
  deps: AntenatalDeps,
  motherNhsNumber: string,
  actor: string,
  cause: { consentId?: string },
): Promise<BookingEffects> {
  const at = deps.clock();
  const effects = await deps.store.transaction(async (tx) => {
    const register = tx.consents();
    await register.lockSubjects([motherNhsNumber]);
    const live = await tx.lockLive(motherNhsNumber, undefined);
    if (live.length === 0) return { delivered: 0, withdrawn: 0 };
    const records = await register.recordsAbout([motherNhsNumber]);
    const audit: AuditEventInput[] = [];
    const withdrawals: { id: string; decision: AntenatalDecision; hold: ConsentHold }[] = [];
    let delivered = 0;
    for (const n of live) {
      const route = routeNotification(n.record.mother.address?.postcode, deps.catchments);
      const decision = decideAntenatal(n.record, deps.agreement, antenatalConsent(records, motherNhsNumber, route, at));
      const permitted = decision.effect === 'permit' && decision.dataset !== undefined;
      const base = { at, actor, notificationId: n.id, subjectNhsNumber: motherNhsNumber };
      const rule = ruleOf(decision);
      const used = {
        ...(decision.consentRecords !== undefined ? { consentRecords: decision.consentRecords } : {}),
        ...(cause.consentId !== undefined ? { consentId: cause.consentId } : {}),
      };
      if (n.status === 'delivered') {
        if (permitted) continue;
        const hold: ConsentHold = { at: at.toISOString(), outcome: 'withdrawn-from-inbox', consentRecords: decision.consentRecords ?? [] };
        withdrawals.push({ id: n.id, decision, hold });
        audit.push(decidedEvent(base, decision, { previousRuleId: n.decision.ruleId, ...used }), {
          ...base,
          ...rule,
          action: 'withdrawn',
          ...(n.inboxId !== undefined ? { recipient: n.inboxId } : {}),
          outcome: 'withdrawn',
          details: { kind: 'antenatal', reason: CONSENT_WITHDRAWN_REASON, previousStatus: n.status, ...used },
        });
        continue;
      }
      if (!permitted || decision.dataset === undefined) continue;
      const inboxId = routeInbox(route);
      const hold = n.status === 'withdrawn' ? n.consentHold : undefined;
      // Withdrawn from a centre: back to that centre only (a move is not undone here).
      if (n.status === 'withdrawn' && (hold === undefined || inboxId !== n.inboxId)) continue;
      if (!(await tx.deliverWithheld({ id: n.id, decision, route, inboxId, disclosed: minimiseBooking(n.record), at }))) continue;
      delivered++;
      if (hold !== undefined) {
        // The earlier withdrawal this delivery ends: when, how and under which consent records.
        const ends = { heldAt: hold.at, heldOutcome: hold.outcome, heldBy: hold.consentRecords };
        audit.push(
          decidedEvent(base, decision, { dataset: decision.dataset, previousRuleId: n.decision.ruleId, redelivered: ends, ...used }),
          {
            ...base,
            ...rule,
            action: 'delivered',
            recipient: inboxId,
            outcome: 'redelivered',
            details: { kind: 'antenatal', dataset: decision.dataset, redelivered: ends, ...used },
          },
        );
        continue;
      }
      audit.push(
        decidedEvent(base, decision, { dataset: decision.dataset, previousRuleId: n.decision.ruleId, ...used }),
        ...deliveredEvents(base, decision, route, inboxId, { redecided: true }),
      );
      if (deps.families !== undefined) {
        const linked = await joinFamily(deps.families, tx, n.id, undefined, n.record, route, at);
        audit.push({ ...linked, actor });
      }
    }
    await tx.withdraw(withdrawals, at);
    await tx.appendAudit(audit);
    return { delivered, withdrawn: withdrawals.length };
  });
  if (effects.delivered + effects.withdrawn > 0)
    deps.logger.info({ ...effects }, 'antenatal bookings decided again after a consent change');
  return effects;
}
