/**
 * Processing of identity events (issue 12 item 5): HL7 v2 A40 merges and A24 links, stored and acknowledged like
 * every message, then applied here, one transaction per event. What a merge does to notifications is decided by
 * identity-decisions.ts; this module reads and locks what the decision needs, applies it, and settles the message:
 * processed, or quarantined (a refused merge) with a reason so that it stands in the operators' queue.
 */
import type { Logger } from '../logger.js';
import type { IdentityEvent } from '../domain/identity-event.js';
import { identifierKinds, identityKeys } from '../domain/identity-event.js';
import type { BirthNotification } from '../domain/birth-notification.js';
import type { DeliveryPlan } from '../pipeline/plan-delivery.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { IdentityStore, IdentityTransaction } from '../ports/identity-store.js';
import { WORKER_ACTOR } from './birth-outcomes.js';
import { decideMerge, mergeEffects, type MergeDecision, type MergeEffects } from './identity-decisions.js';
import { applyLink, mergeMothers, retireMergedChild } from './identity-families.js';

export interface QueuedIdentityEvent {
  messageId: string;
  event: IdentityEvent;
}

export interface IdentityDeps {
  store: IdentityStore;
  /** Decides and routes a record as processing does (planDelivery with the hub's rulebook and catchments). */
  replan: (record: BirthNotification) => DeliveryPlan;
  logger: Logger;
  clock: () => Date;
}

/** What one event came to, for the log (ids and counts only). */
interface EventOutcome {
  status: 'processed' | 'quarantined';
  mergedNotifications: number;
}

/** Applies each identity event in its own transaction, in the order received. */
export async function processIdentityEvents(deps: IdentityDeps, events: readonly QueuedIdentityEvent[]): Promise<void> {
  for (const e of events) {
    const at = deps.clock();
    const outcome = await deps.store.identityTransaction((tx) =>
      e.event.kind === 'merge'
        ? applyMerge(tx, deps, e.messageId, e.event, at)
        : e.event.kind === 'link'
          ? link(tx, e.messageId, e.event, at)
          : recordLink(tx, e.messageId, e.event, at),
    );
    deps.logger.info({ messageId: e.messageId, kind: e.event.kind, ...outcome }, 'identity event processed');
  }
}

async function applyMerge(
  tx: IdentityTransaction,
  deps: IdentityDeps,
  messageId: string,
  event: Extract<IdentityEvent, { kind: 'merge' }>,
  at: Date,
): Promise<EventOutcome> {
  const feedId = event.source.feedId;
  const effects: MergeEffects[] = [];
  const decisions: MergeDecision[] = [];
  for (const pair of event.merges) {
    const keys = [...identityKeys(pair.surviving, feedId), ...identityKeys(pair.merged, feedId)];
    const resolved = await tx.resolveIdentityKeys(keys);
    const nhs = [pair.surviving.nhsNumber, pair.merged.nhsNumber].filter((x): x is string => x !== undefined);
    const found = await tx.lockMatchingNotifications({
      subjectKeys: [...keys, ...resolved.values()],
      babyNhsNumbers: nhs,
      birthKeys: [],
      demographicKeys: [],
    });
    const decision = decideMerge(pair, feedId, found, resolved);
    decisions.push(decision);
    effects.push(mergeEffects(decision, pair, feedId, messageId, at, deps.replan));
  }
  // A refusal stops the whole message: nothing of it is applied, and an operator sees it in the quarantine.
  const refused = effects.find((f) => f.refused !== undefined);
  if (refused?.refused !== undefined) {
    await tx.appendAudit(effects.flatMap((f) => (f.refused !== undefined ? f.audit : [])));
    await tx.settleMessage(messageId, 'quarantined', at, refused.refused);
    return { status: 'quarantined', mergedNotifications: 0 };
  }
  const audit: AuditEventInput[] = [];
  for (const [i, f] of effects.entries()) {
    const decision = decisions[i];
    const pair = event.merges[i];
    if (decision === undefined || pair === undefined) continue;
    if (f.withdraw.length > 0) await tx.withdrawNotifications(f.withdraw, at);
    if (f.updates.length > 0) await tx.enrichNotifications(f.updates, at);
    if (f.subjectKey !== undefined && f.keys.length > 0) await tx.recordIdentityKeys(f.keys, f.subjectKey, messageId, at);
    if (decision.kind === 'merge') await retireMergedChild(tx, decision.survivor, decision.merged, at);
    // Two mothers: their families become one. Then the notifications' "not known" says nothing more. A patient
    // who is a notified baby is not looked for as a mother (that lookup may scan the notifications' mothers).
    const families = decision.kind === 'not-known' ? await mergeMothers(tx, pair, messageId, at) : [];
    audit.push(...(families.length > 0 && decision.kind === 'not-known' ? [] : f.audit), ...families);
  }
  await tx.appendAudit(audit);
  await tx.settleMessage(messageId, 'processed', at);
  return { status: 'processed', mergedNotifications: effects.reduce((n, f) => n + f.mergedNotifications, 0) };
}

/** An A24: applied to families (identity-families.ts); a refusal is quarantined for an operator. */
async function link(
  tx: IdentityTransaction,
  messageId: string,
  event: Extract<IdentityEvent, { kind: 'link' }>,
  at: Date,
): Promise<EventOutcome> {
  const r = await applyLink(tx, event, messageId, at);
  await tx.appendAudit(r.audit);
  if (r.refused !== undefined) {
    await tx.settleMessage(messageId, 'quarantined', at, r.refused);
    return { status: 'quarantined', mergedNotifications: 0 };
  }
  await tx.settleMessage(messageId, 'processed', at);
  return { status: 'processed', mergedNotifications: 0 };
}

/** An A37: recorded in the audit, with the identifier kinds, and processed (undoing a link is for an operator). */
async function recordLink(
  tx: IdentityTransaction,
  messageId: string,
  event: Extract<IdentityEvent, { kind: 'unlink' }>,
  at: Date,
): Promise<EventOutcome> {
  const audit: AuditEventInput = {
    at,
    actor: WORKER_ACTOR,
    action: 'patients-unlinked',
    messageId,
    ...(event.first.nhsNumber !== undefined ? { subjectNhsNumber: event.first.nhsNumber } : {}),
    outcome: 'recorded',
    details: { identifiers: { first: identifierKinds(event.first), second: identifierKinds(event.second) } },
  };
  await tx.appendAudit([audit]);
  await tx.settleMessage(messageId, 'processed', at);
  return { status: 'processed', mergedNotifications: 0 };
}
