import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Catchments } from '../pipeline/catchments.js';
import type { Rulebook } from '../pipeline/consent/rulebook.js';
import { planDelivery } from '../pipeline/plan-delivery.js';
import type { DeliveryQueues } from '../ports/delivery-queue.js';
import type { NotificationStore, PendingDelivery, ProcessedBirth } from '../ports/notification-store.js';

export interface ProcessDeps {
  store: NotificationStore;
  deliveries: DeliveryQueues;
  rulebook: Rulebook;
  catchments: Catchments;
  logger: Logger;
  clock?: () => Date;
}

/** Groups pending deliveries by queue, so each queue gets one job per batch. */
export function byQueue(pending: readonly PendingDelivery[]): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const p of pending) {
    const ids = grouped.get(p.queue);
    if (ids === undefined) grouped.set(p.queue, [p.notificationId]);
    else ids.push(p.notificationId);
  }
  return grouped;
}

/**
 * The processing job: for accepted births, decide (consent rules) and route (catchments) in memory, commit
 * the notifications and their audit in one transaction, then hand them to their queues' delivery stage.
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
      await deps.store.quarantine(m.id, 'Accepted message has no canonical record; replay it', at);
      deps.logger.error({ messageId: m.id }, 'queued message without canonical record quarantined');
      continue;
    }
    births.push({
      messageId: m.id,
      notificationId: randomUUID(),
      record: m.canonical,
      plan: planDelivery(m.canonical, m.id, deps.rulebook, deps.catchments),
      at,
    });
  }
  const pending: PendingDelivery[] = [];
  const retried: string[] = [];
  if (births.length > 0) {
    const outcomes = await deps.store.saveProcessed(births);
    const counts = { created: 0, duplicates: 0, retried: 0, withdrawn: 0 };
    for (const o of outcomes) {
      if (o.kind === 'created') {
        counts.created++;
        if (o.queue !== undefined) pending.push({ queue: o.queue, notificationId: o.notificationId });
      } else if (o.kind === 'duplicate-birth') counts.duplicates++;
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
  for (const [queue, ids] of byQueue(pending)) await deps.deliveries.enqueue(queue, ids);
}

/** The delivery job for one queue: put its routed notifications in the inbox, audited as disclosures. */
export async function deliverNotifications(
  store: NotificationStore,
  logger: Logger,
  queue: string,
  notificationIds: readonly string[],
  clock: () => Date = () => new Date(),
): Promise<void> {
  const delivered = await store.deliver(queue, notificationIds, clock());
  logger.info({ queue, requested: notificationIds.length, delivered: delivered.length }, 'notifications delivered');
}
