/** Hands accepted messages to the workers as processing jobs. Job data holds ids only: queues keep it in clear text. */
export interface ProcessingJobs {
  enqueue(messageIds: readonly string[]): Promise<void>;
  /** Jobs waiting to be taken (and delayed ones), for the recovery sweep: it holds back while there is a backlog. */
  backlog?(): Promise<number>;
}
