/** Hands accepted messages to the workers. Job data holds ids only: queues keep it in clear text. */
export interface ProcessingQueue {
  enqueue(messageIds: readonly string[]): Promise<void>;
}
