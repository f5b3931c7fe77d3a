/** Hands routed notifications to the delivery job of their inbox (a centre, an unallocated inbox, review). Ids only. */
export interface DeliveryJobs {
  enqueue(inboxId: string, notificationIds: readonly string[]): Promise<void>;
}
