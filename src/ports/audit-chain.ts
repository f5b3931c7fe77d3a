/** What verification of the audit chain found (adapters/store/audit-chain.ts; README, "Tamper-evident audit"). */
export interface AuditVerifyProblem {
  /** The first bad event: the event altered, missing or out of place; absent for a problem of no one event. */
  seq?: number;
  problem: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  /** The chain's id (its genesis event's chainId), which every checkpoint signs. */
  chainId?: string;
  /** Chained events checked (the genesis event and those after it). */
  eventsChecked: number;
  /** Events from before the chain (migration 020), checked against the genesis event's seal. */
  legacyEvents: number;
  lastSeq?: number;
  /** Checkpoints checked: those stored in audit_checkpoints, and those given as witnesses (from the log). */
  checkpointsChecked: number;
  lastCheckpoint?: { seq: number; at: string; keyId: string };
  /** Events after the last valid checkpoint: not yet covered by a signature. */
  eventsAfterLastCheckpoint: number;
  firstProblem?: AuditVerifyProblem;
  /** Every problem found, by seq (at most 100). */
  problems: AuditVerifyProblem[];
}
