import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Catchments } from '../pipeline/catchments.js';
import type { AgreementChoice } from '../pipeline/consent/agreements.js';
import { planDelivery, type DeliveryPlan } from '../pipeline/plan-delivery.js';
import type { DeliveryJobs } from '../ports/delivery-jobs.js';
import type { NotificationStore, PendingDelivery, ProcessOutcome, ProcessedBirth } from '../ports/notification-store.js';
import type { BirthNotification } from '../domain/birth-notification.js';
import { decisionAudit, deathReports, DUPLICATE_MESSAGE_REASON, quarantineAudit, settleBatch } from './birth-outcomes.js';
import { matchKeys, settleLinks, withLinks } from './link-births.js';

export interface ProcessDeps {
  store: NotificationStore;
  deliveryJobs: DeliveryJobs;
  /** The agreements per area (or one rulebook for every birth). */
  rulebook: AgreementChoice;
  catchments: Catchments;
  logger: Logger;
  clock?: () => Date;
}

/** Groups pending deliveries by inbox, so each inbox gets one delivery job per batch. */
export function byInbox(pending: readonly PendingDelivery[]): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const p of pending) {
    const ids = grouped.get(p.inboxId);
    if (ids === undefined) grouped.set(p.inboxId, [p.notificationId]);
    else ids.push(p.notificationId);
  }
  return grouped;
}

/**
 * The processing job: for accepted births, decide (consent rules) and route (catchments) in memory, commit
 * the notifications and their audit in one transaction, then hand them to their inboxes' delivery jobs.
 * Safe to run twice for the same messages: a retried job creates no second notification, and deliveries
 * left undone by a crash are picked up again.
 */
export async function processMessages(deps: ProcessDeps, messageIds: readonly string[]): Promise<void> {
  const clock = deps.clock ?? (() => new Date());
  const queued = await deps.store.loadQueued(messageIds);
  const births: ProcessedBirth[] = [];
  for (const m of queued) {
    const at = clock();
    if (!m.canonical) {
      const reason = 'Accepted message has no canonical record; replay it';
      await deps.store.quarantine(m.id, reason, at, quarantineAudit(m.id, reason, at));
      deps.logger.error({ messageId: m.id }, 'queued message without canonical record quarantined');
      continue;
    }
    const planned = {
      messageId: m.id,
      notificationId: randomUUID(),
      record: m.canonical,
      plan: planDelivery(m.canonical, m.id, deps.rulebook, deps.catchments),
      at,
    };
    births.push({ ...planned, audit: decisionAudit(planned) });
  }
  const pending: PendingDelivery[] = [];
  const retried: string[] = [];
  if (births.length > 0) {
    const replan = (record: BirthNotification) => planDelivery(record, '', deps.rulebook, deps.catchments);
    const outcomes = await saveProcessed(deps.store, births, replan);
    const counts = { created: 0, duplicates: 0, linked: 0, retried: 0, withdrawn: 0 };
    for (const o of outcomes) {
      if (o.kind === 'created') {
        counts.created++;
        if (o.inboxId !== undefined) pending.push({ inboxId: o.inboxId, notificationId: o.notificationId });
      } else if (o.kind === 'duplicate-birth') counts.duplicates++;
      else if (o.kind === 'linked') counts.linked++;
      else if (o.kind === 'withdrew') counts.withdrawn += o.notificationIds.length;
      else {
        counts.retried++;
        retried.push(o.messageId);
      }
    }
    deps.logger.info({ messages: messageIds.length, ...counts }, 'births processed');
  }
  // A retried job may have stopped between its commit and its deliveries: those still waiting go out now.
  const born = new Set(births.map((b) => b.messageId));
  const notQueued = messageIds.filter((id) => !born.has(id));
  const recheck = [...retried, ...notQueued];
  if (recheck.length > 0) pending.push(...(await deps.store.undelivered(recheck)));
  for (const [inboxId, ids] of byInbox(pending)) await deps.deliveryJobs.enqueue(inboxId, ids);
}

/**
 * Saves a batch in one transaction. The common case (every birth new) is one statement: the notifications,
 * their messages marked processed and their decision audit. Only births whose notification was not created
 * (a retried job, a second message about a birth already notified, a death report) need a second look, with
 * a fresh snapshot: what that means is decided by settleBatch, then, for those about a baby already notified
 * (by this route or another), by settleLinks, which enriches that notification instead of making a second
 * one; the store writes it. The unique keys of notifications (message, subject key, baby NHS number, birth
 * key) are the arbiter between two workers: the second insert waits for the first to commit, then conflicts.
 */
async function saveProcessed(
  store: NotificationStore,
  items: readonly ProcessedBirth[],
  replan: (record: BirthNotification) => DeliveryPlan,
): Promise<ProcessOutcome[]> {
  const at = items[0]?.at ?? new Date();
  return store.processingTransaction(async (tx) => {
    const created = await tx.createNotifications(items, at);
    const rest = items.filter((b) => !created.has(b.notificationId));
    const alreadyProcessed = rest.length > 0 ? await tx.messagesWithNotification(rest.map((b) => b.messageId)) : new Set<string>();
    // A death reported for a baby already notified withdraws that notification, delivered or not.
    const subjects = [...new Set(deathReports(rest, alreadyProcessed).map((b) => b.plan.subjectKey))];
    const live = subjects.length > 0 ? await tx.lockLiveNotifications(subjects) : [];
    let settled = settleBatch(items, created, alreadyProcessed, live, at);
    if (settled.withdraw.length > 0) await tx.withdrawNotifications(settled.withdraw, at);
    const others = rest.filter((b) => settled.duplicates.includes(b.messageId));
    if (others.length > 0) {
      // A second message about a baby already notified: one notification, enriched, both messages linked.
      const links = settleLinks(others, await tx.lockMatchingNotifications(matchKeys(others)), replan, at);
      if (links.withdraw.length > 0) await tx.withdrawNotifications(links.withdraw, at);
      if (links.updates.length > 0) await tx.enrichNotifications(links.updates, at);
      const again = links.unlinked.length > 0 ? await tx.createNotifications(links.unlinked, at) : new Set<string>();
      settled = withLinks(settled, links, again);
    }
    const { processed, duplicates, audit } = settled;
    if (processed.length > 0) await tx.markMessages(processed, 'processed', at);
    if (duplicates.length > 0) await tx.markMessages(duplicates, 'duplicate', at, DUPLICATE_MESSAGE_REASON);
    if (audit.length > 0) await tx.appendAudit(audit);
    return settled.outcomes;
  });
}

/** The delivery job for one inbox: put its routed notifications in the inbox, audited as disclosures. */
export async function deliverNotifications(
  store: NotificationStore,
  logger: Logger,
  inboxId: string,
  notificationIds: readonly string[],
  clock: () => Date = () => new Date(),
): Promise<void> {
  const delivered = await store.deliver(inboxId, notificationIds, clock());
  logger.info({ inboxId, requested: notificationIds.length, delivered: delivered.length }, 'notifications delivered');
}
