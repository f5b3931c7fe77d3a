/** How many jobs a queue holds in each state, for the operators' console. */
export interface QueueDepth {
  /** `process`, or `deliver-<inboxId>` for an inbox's delivery queue. */
  queue: string;
  waiting: number;
  active: number;
  delayed: number;
  /** Failed for good (the dead-letter set an operator looks at). */
  failed: number;
}

/** The depths of the processing queue and of each inbox's delivery queue. */
export interface QueueDepths {
  depths(): Promise<QueueDepth[]>;
}
