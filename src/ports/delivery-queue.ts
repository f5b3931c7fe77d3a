/** Hands routed notifications to the delivery stage of one queue (a centre, unallocated, review). Ids only. */
export interface DeliveryQueues {
  enqueue(queue: string, notificationIds: readonly string[]): Promise<void>;
}
