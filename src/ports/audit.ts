/** The steps the audit trail records, from receipt to a centre's acknowledgement. */
export type AuditAction =
  | 'received'
  | 'rejected'
  | 'mapped'
  | 'validated'
  | 'not-relevant'
  | 'duplicate-birth'
  | 'decided'
  | 'routed'
  | 'delivered'
  | 'withheld'
  | 'withdrawn'
  | 'read'
  | 'acknowledged'
  | 'replayed'
  | 'raw-read'
  /** A signal event (POST /v1/events) stored, accepted or refused. */
  | 'event-received'
  /** A signal event's record fetched and stored (messageId), or the fetch given up (outcome). */
  | 'event-fetched';

/** One audit event to append. Personal data appears only in `subjectNhsNumber`, which IG leads query by. */
export interface AuditEventInput {
  at: Date;
  /** Who acted: `feed:<id>`, `system:intake`, `system:worker`, `client:<id>`. */
  actor: string;
  action: AuditAction;
  messageId?: string;
  notificationId?: string;
  subjectNhsNumber?: string;
  /** The inbox (a centre's or another) that received data. */
  recipient?: string;
  ruleId?: string;
  rulebookVersion?: string;
  lawfulBasis?: string;
  outcome?: string;
  details?: Record<string, unknown>;
}

export interface AuditEvent extends AuditEventInput {
  seq: number;
}
