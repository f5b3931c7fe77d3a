/**
 * What processing decides about a batch of births, as pure functions: the audit events of each decision,
 * and what a birth whose notification was not created means (a retried job, a second message about a
 * birth already notified, or a death report withdrawing a notification). The store only saves the result.
 */
import { decisionAgreement } from '../pipeline/consent/decide.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { LiveNotification, ProcessOutcome, ProcessedBirth } from '../ports/notification-store.js';

export const WORKER_ACTOR = 'system:worker';

const WITHDRAWN_REASON = 'A later message reports the baby has died; the notification is withdrawn and its record no longer shown';
const DUPLICATE_REASON = 'This birth was already notified by an earlier message';
/** The reason a message about a birth already notified is kept with. */
export const DUPLICATE_MESSAGE_REASON = 'birth already notified';

type Planned = Omit<ProcessedBirth, 'audit'>;

const subject = (nhsNumber: string | undefined): { subjectNhsNumber?: string } => (nhsNumber ? { subjectNhsNumber: nhsNumber } : {});

const ruleOf = (b: Planned): Pick<AuditEventInput, 'ruleId' | 'rulebookVersion' | 'lawfulBasis'> => {
  const { decision } = b.plan;
  return {
    ruleId: decision.ruleId,
    rulebookVersion: decisionAgreement(decision),
    lawfulBasis: decision.lawfulBasis,
  };
};

/** The audit of one birth's decision: `decided` with the rule, then `routed` to its inbox or `withheld`. */
export function decisionAudit(b: Planned): AuditEventInput[] {
  const { decision, route, inboxId } = b.plan;
  const base = {
    at: b.at,
    actor: WORKER_ACTOR,
    messageId: b.messageId,
    notificationId: b.notificationId,
    ...subject(b.record.baby.nhsNumber),
  };
  const rule = ruleOf(b);
  return [
    {
      ...base,
      ...rule,
      action: 'decided',
      outcome: decision.effect,
      details: {
        reason: decision.reason,
        dataset: decision.dataset,
        ...(decision.consentRecords !== undefined ? { consentRecords: decision.consentRecords } : {}),
      },
    },
    inboxId === undefined
      ? { ...base, ...rule, action: 'withheld', outcome: 'withheld', details: { route } }
      : { ...base, action: 'routed', recipient: inboxId, outcome: route.kind, details: { route } },
  ];
}

/** The audit of a message that could not be processed (it is quarantined for an operator). */
export function quarantineAudit(messageId: string, reason: string, at: Date): AuditEventInput {
  return { at, actor: WORKER_ACTOR, action: 'rejected', messageId, outcome: 'quarantined', details: { reason } };
}

/** Of the births not created, the death reports that may withdraw a notification: those not processed before. */
export function deathReports(notCreated: readonly ProcessedBirth[], alreadyProcessed: ReadonlySet<string>): ProcessedBirth[] {
  return notCreated.filter((b) => !alreadyProcessed.has(b.messageId) && b.record.baby.deceased);
}

/** The outcome of a batch and the writes it needs beyond the notifications created. */
export interface Settlement {
  outcomes: ProcessOutcome[];
  /** Messages to mark processed (processed before, or withdrawing a notification). */
  processed: string[];
  /** Messages about a birth already notified. */
  duplicates: string[];
  /** Updates about a baby Stork has not notified. */
  notRelevant: string[];
  /** Notifications to withdraw. */
  withdraw: string[];
  /** Audit events: the withdrawals, then the duplicates. */
  audit: AuditEventInput[];
}

/**
 * Decides, for every birth of the batch, what happened: its notification was created; or its message was
 * processed before (a retried job); or it reports the death of a baby already notified, whose live
 * notifications are withdrawn (each audited with the rule that now denies it); or it is a second message
 * about a birth already notified (a duplicate). `live` are the live notifications of the death reports'
 * subjects; withdrawals are dated `at`, the batch's time.
 */
export function settleBatch(
  items: readonly ProcessedBirth[],
  created: ReadonlySet<string>,
  alreadyProcessed: ReadonlySet<string>,
  live: readonly LiveNotification[],
  at: Date,
): Settlement {
  const deaths = deathReports(
    items.filter((b) => !created.has(b.notificationId)),
    alreadyProcessed,
  );
  const deathBySubject = new Map(deaths.map((b) => [b.plan.subjectKey, b]));
  const withdrawnBy = new Map<string, string[]>();
  const s: Settlement = { outcomes: [], processed: [], duplicates: [], notRelevant: [], withdraw: [], audit: [] };
  for (const n of live) {
    const death = deathBySubject.get(n.subjectKey);
    if (death === undefined) continue;
    withdrawnBy.set(death.messageId, [...(withdrawnBy.get(death.messageId) ?? []), n.id]);
    s.withdraw.push(n.id);
    s.audit.push({
      at,
      actor: WORKER_ACTOR,
      action: 'withdrawn',
      messageId: death.messageId,
      notificationId: n.id,
      ...(n.inboxId ? { recipient: n.inboxId } : {}),
      ...subject(n.babyNhsNumber),
      ...ruleOf(death),
      outcome: n.status === 'delivered' ? 'withdrawn-from-inbox' : 'withdrawn-before-delivery',
      details: { reason: WITHDRAWN_REASON },
    });
  }
  const duplicateAudit: AuditEventInput[] = [];
  for (const b of items) {
    const withdrawn = withdrawnBy.get(b.messageId);
    if (created.has(b.notificationId)) {
      s.outcomes.push({
        kind: 'created',
        messageId: b.messageId,
        notificationId: b.notificationId,
        ...(b.plan.inboxId ? { inboxId: b.plan.inboxId } : {}),
      });
    } else if (alreadyProcessed.has(b.messageId)) {
      s.outcomes.push({ kind: 'already-processed', messageId: b.messageId });
      s.processed.push(b.messageId);
    } else if (withdrawn !== undefined) {
      s.outcomes.push({ kind: 'withdrew', messageId: b.messageId, notificationIds: withdrawn });
      s.processed.push(b.messageId);
    } else {
      s.outcomes.push({ kind: 'duplicate-birth', messageId: b.messageId });
      s.duplicates.push(b.messageId);
      duplicateAudit.push({
        at: b.at,
        actor: WORKER_ACTOR,
        action: 'duplicate-birth',
        messageId: b.messageId,
        ...subject(b.record.baby.nhsNumber),
        details: { reason: DUPLICATE_REASON },
      });
    }
  }
  s.audit.push(...duplicateAudit);
  return s;
}
