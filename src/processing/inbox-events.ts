/**
 * The audit events of what happens at an inbox, as pure functions: a notification delivered into it (a
 * disclosure, with the rule, rulebook version and lawful basis that allowed it), a person or system reading
 * it, and the centre taking it on. The notification store only saves what these return.
 */
import { decisionAgreement } from '../pipeline/consent/decide.js';
import { actorFields, type AuditActor, type AuditEventInput } from '../ports/audit.js';
import { WORKER_ACTOR } from './birth-outcomes.js';

/** A notification as delivery moved it into its inbox: what its disclosure event is made of. */
export interface DeliveredNotification {
  notificationId: string;
  messageId: string;
  babyNhsNumber?: string;
  /** The stored consent decision that allowed the disclosure. */
  decision: { ruleId: string; rulebookId: string; rulebookVersion: string; rulebookHash?: string; lawfulBasis: string };
  dataset?: string;
}

const subject = (nhsNumber: string | undefined): { subjectNhsNumber?: string } => (nhsNumber ? { subjectNhsNumber: nhsNumber } : {});

/** `delivered`: the disclosure to the inbox, under the rule and lawful basis of the notification's decision. */
export function deliveredEvent(n: DeliveredNotification, inboxId: string, at: Date): AuditEventInput {
  return {
    at,
    actor: WORKER_ACTOR,
    action: 'delivered',
    messageId: n.messageId,
    notificationId: n.notificationId,
    ...subject(n.babyNhsNumber),
    recipient: inboxId,
    ruleId: n.decision.ruleId,
    rulebookVersion: decisionAgreement(n.decision),
    lawfulBasis: n.decision.lawfulBasis,
    details: { dataset: n.dataset ?? null },
  };
}

/**
 * Who acts at an inbox, with their role (an API client of role `centre`, or a person signed in as a
 * `centre-worker`) and the purpose of every read or take-on there: `care` (offering the family support).
 */
export function centreActor(who: AuditActor): Pick<AuditEventInput, 'actor' | 'details'> {
  const f = actorFields(who);
  return { actor: f.actor, details: { ...f.details, role: typeof who === 'string' ? 'centre' : 'centre-worker', purpose: 'care' } };
}

/** `read`: every read of a disclosed record, by whom, from which inbox. */
export function readEvent(
  notificationId: string,
  babyNhsNumber: string | undefined,
  inboxId: string,
  reader: AuditActor,
  at: Date,
): AuditEventInput {
  return { at, ...centreActor(reader), action: 'read', notificationId, recipient: inboxId, ...subject(babyNhsNumber) };
}

/** `acknowledged`: the centre has taken the family on. */
export function acknowledgedEvent(
  notificationId: string,
  babyNhsNumber: string | undefined,
  inboxId: string,
  by: AuditActor,
  at: Date,
): AuditEventInput {
  return { at, ...centreActor(by), action: 'acknowledged', notificationId, recipient: inboxId, ...subject(babyNhsNumber) };
}
