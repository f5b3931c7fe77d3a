import type { Logger } from '../logger.js';
import type { DeliveryJobs } from '../ports/delivery-jobs.js';
import type { ProcessingJobs } from '../ports/processing-jobs.js';
import type { MessageStore } from '../ports/message-store.js';
import type { NotificationStore } from '../ports/notification-store.js';
import { byInbox } from './process-messages.js';

/** Most queued messages re-enqueued at one boot; more wait for the next. */
const MAX_RECOVERED_MESSAGES = 100_000;

/**
 * Queues again the messages and deliveries a crash or a failed enqueue left unfinished. Every job is
 * idempotent, so queuing one that is also still in Redis does no harm. Run by a worker process at start-up.
 */
export async function recoverUnfinished(deps: {
  messages: Pick<MessageStore, 'pendingIds'>;
  notifications: Pick<NotificationStore, 'undelivered'>;
  processingJobs: ProcessingJobs;
  deliveryJobs: DeliveryJobs;
  logger: Logger;
}): Promise<{ messages: number; deliveries: number }> {
  const pending = await deps.messages.pendingIds(MAX_RECOVERED_MESSAGES);
  if (pending.length > 0) await deps.processingJobs.enqueue(pending);
  const undelivered = await deps.notifications.undelivered();
  for (const [inboxId, ids] of byInbox(undelivered)) await deps.deliveryJobs.enqueue(inboxId, ids);
  const recovered = { messages: pending.length, deliveries: undelivered.length };
  if (recovered.messages + recovered.deliveries > 0) deps.logger.info(recovered, 'recovered unfinished work at boot');
  return recovered;
}
