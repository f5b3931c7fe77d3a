/**
 * What a change in the consent register does to notifications already made (issue 13): each live notification
 * (routed, or delivered to its inbox) about the family is decided again under the records that now apply. Pure.
 * - The new decision denies, or changes its kind (a permit becoming a review, another review inbox): the
 *   notification is withdrawn at once, as a death withdraws it. The centre keeps the item's id, status and
 *   time only; nothing says why (the reason is neutral, and the audit names the rule and the consent records).
 * - The same kind and inbox under another rule or dataset (clinical consent given or withdrawn): the disclosed
 *   record is rebuilt with the dataset that now applies, in place; a delivered item is stamped updated. A
 *   notification is never moved to another centre here.
 * - The same rule and dataset: nothing.
 * A notification withdrawn (or withheld at its decision) only because a parent objected keeps a consent hold. Once
 * the objection is lifted (withdrawn, overtaken by a later consent, its period over) and the decision now sends it
 * to the inbox it was withdrawn from (any inbox, for one never delivered), it is delivered there again: a new
 * delivery, status `new`, audited `decided` and `delivered` with the hold it ends. Not when anything else stands in
 * the way: another objection (the decision still denies), a death (the record says so, and a death reported
 * while it was held clears the hold: see link-births.ts), a restriction or a move (the decision sends it to
 * another inbox or as another kind: it stays withdrawn). A notification withdrawn for a death, a merge or a move
 * has no hold, so it never comes back this way.
 * Deciding again with records already taken into account changes nothing, so it is safe to repeat.
 */
import { decisionAgreement } from '../pipeline/consent/decide.js';
import type { BirthNotification } from '../domain/birth-notification.js';
import type { ConsentRecord } from '../domain/consent.js';
import { minimise, type Decision } from '../pipeline/consent/decide.js';
import type { ConsentInput, DeliveryPlan } from '../pipeline/plan-delivery.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { ConsentWithdrawal, FamilyNotification, Redecided, Redelivery } from '../ports/consent-register.js';
import type { ConsentHold } from '../ports/consent-register.js';
import { changedDisclosedFields } from './link-births.js';

/** What the centre-facing audit says about a notification withdrawn after a consent change: nothing about the family. */
export const CONSENT_WITHDRAWN_REASON =
  'A consent record made after the decision changes it: the notification is withdrawn and its record no longer shown';

/** Plans a record as processing does, with the consent records given. */
export type Replan = (record: BirthNotification, consent: ConsentInput) => DeliveryPlan;

export interface Reconsidered {
  withdraw: ConsentWithdrawal[];
  redecided: Redecided[];
  redeliver: Redelivery[];
  audit: AuditEventInput[];
}

/**
 * The hold a decision puts on a notification it keeps from its inbox when only a parent's objection does (the
 * decision denies with an objection in its consent context, and the baby is not known to have died); otherwise none.
 */
export function objectionHold(
  decision: Decision,
  record: BirthNotification,
  at: Date,
  outcome: ConsentHold['outcome'],
): ConsentHold | undefined {
  if (decision.effect !== 'deny' || decision.consent?.objection !== true || record.baby.deceased) return undefined;
  return { at: at.toISOString(), outcome, consentRecords: decision.consentRecords ?? [] };
}

const ruleOf = (d: Decision): Pick<AuditEventInput, 'ruleId' | 'rulebookVersion' | 'lawfulBasis'> => ({
  ruleId: d.ruleId,
  rulebookVersion: decisionAgreement(d),
  lawfulBasis: d.lawfulBasis,
});

/** What a consent change's audit events about one notification share: when, who, which notification and message. */
interface Change {
  at: Date;
  actor: string;
  cause: { consentId?: string; messageId?: string };
}

function eventBase(
  n: FamilyNotification,
  c: Change,
): Pick<AuditEventInput, 'at' | 'actor' | 'notificationId' | 'messageId' | 'subjectNhsNumber'> {
  return {
    at: c.at,
    actor: c.actor,
    notificationId: n.id,
    ...(c.cause.messageId !== undefined ? { messageId: c.cause.messageId } : {}),
    ...(n.babyNhsNumber !== undefined ? { subjectNhsNumber: n.babyNhsNumber } : {}),
  };
}

/** The consent records the new decision used, and the record whose change caused it. */
function usedRecords(after: Decision, c: Change): { consentRecords: string[]; consentId?: string } {
  return { consentRecords: after.consentRecords ?? [], ...(c.cause.consentId !== undefined ? { consentId: c.cause.consentId } : {}) };
}

/** The same effect (and, for a review, the same inbox): the notification may stay where it is. */
function sameKind(before: Decision, after: Decision): boolean {
  return before.effect === after.effect && (after.effect !== 'review' || before.inbox === after.inbox);
}

/**
 * Decides every live notification again under `records` at `at`. `cause` names what changed (a consent record
 * id, and the message that carried it), for the audit; `actor` is who changed it.
 */
export function reconsider(
  live: readonly FamilyNotification[],
  records: readonly ConsentRecord[],
  replan: Replan,
  at: Date,
  actor: string,
  cause: { consentId?: string; messageId?: string },
): Reconsidered {
  const out: Reconsidered = { withdraw: [], redecided: [], redeliver: [], audit: [] };
  const change: Change = { at, actor, cause };
  for (const n of live) {
    if (n.status === 'withheld' || n.status === 'withdrawn') {
      redeliverHeld(n, records, replan, change, out);
      continue;
    }
    const plan = replan(n.record, { records, at });
    const after = plan.decision;
    const before = n.decision;
    const base = eventBase(n, change);
    const used = usedRecords(after, change);
    if (after.effect === 'deny' || !sameKind(before, after) || after.dataset === undefined) {
      const outcome = n.status === 'delivered' ? 'withdrawn-from-inbox' : 'withdrawn-before-delivery';
      const hold = objectionHold(after, n.record, at, outcome);
      out.withdraw.push({ id: n.id, ...(hold !== undefined ? { hold } : {}) });
      out.audit.push({
        ...base,
        ...ruleOf(after),
        action: 'decided',
        outcome: after.effect,
        details: { reason: after.reason, previousRuleId: before.ruleId, ...used },
      });
      out.audit.push({
        ...base,
        ...ruleOf(after),
        action: 'withdrawn',
        ...(n.inboxId !== undefined ? { recipient: n.inboxId } : {}),
        outcome,
        details: { reason: CONSENT_WITHDRAWN_REASON, ...used },
      });
      continue;
    }
    if (after.ruleId === before.ruleId && after.dataset === before.dataset) continue;
    const disclosed = minimise(n.record, after.dataset);
    const fields = changedDisclosedFields(n.disclosed, disclosed);
    const inboxUpdated = n.status === 'delivered' && fields.length > 0;
    out.redecided.push({ id: n.id, decision: after, disclosed, inboxUpdated });
    out.audit.push({
      ...base,
      ...ruleOf(after),
      action: 'decided',
      outcome: after.effect,
      details: { reason: after.reason, dataset: after.dataset, previousRuleId: before.ruleId, ...used },
    });
    if (inboxUpdated && n.inboxId !== undefined) {
      out.audit.push({
        ...base,
        ...ruleOf(after),
        action: 'updated',
        recipient: n.inboxId,
        details: { dataset: after.dataset, fields, ...used },
      });
    }
  }
  return out;
}

/**
 * A notification held back by an objection: delivered again when the decision now permits it to the same inbox
 * (a withdrawn one) or to any inbox (one withheld at its decision, never delivered); otherwise left as it is.
 */
function redeliverHeld(n: FamilyNotification, records: readonly ConsentRecord[], replan: Replan, change: Change, out: Reconsidered): void {
  const hold = n.consentHold;
  if (hold === undefined || n.record.baby.deceased) return;
  const plan = replan(n.record, { records, at: change.at });
  const after = plan.decision;
  if (after.effect === 'deny' || plan.inboxId === undefined || plan.disclosed === undefined || after.dataset === undefined) return;
  // Withdrawn from an inbox: back to that inbox only, as the same kind (a move or a restriction is not undone here).
  if (n.status === 'withdrawn' && (plan.inboxId !== n.inboxId || !sameKind(n.decision, after))) return;
  out.redeliver.push({ id: n.id, decision: after, route: plan.route, inboxId: plan.inboxId, disclosed: plan.disclosed });
  const base = { ...eventBase(n, change), ...ruleOf(after) };
  const used = usedRecords(after, change);
  // The earlier withdrawal (or withholding) this delivery ends: when, how and under which consent records.
  const ends = { heldAt: hold.at, heldOutcome: hold.outcome, heldBy: hold.consentRecords };
  out.audit.push({
    ...base,
    action: 'decided',
    outcome: after.effect,
    details: { reason: after.reason, dataset: after.dataset, previousRuleId: n.decision.ruleId, redelivered: ends, ...used },
  });
  out.audit.push({
    ...base,
    action: 'delivered',
    recipient: plan.inboxId,
    outcome: 'redelivered',
    details: { dataset: after.dataset, redelivered: ends, ...used },
  });
}
