/** The steps the audit trail records, from receipt to a centre's acknowledgement. */
export type AuditAction =
  | 'received'
  | 'rejected'
  | 'mapped'
  | 'validated'
  | 'not-relevant'
  | 'duplicate-birth'
  | 'linked'
  | 'not-linked'
  | 'updated'
  | 'decided'
  | 'routed'
  | 'delivered'
  | 'withheld'
  | 'withdrawn'
  | 'read'
  | 'acknowledged'
  | 'replayed'
  | 'raw-read';

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
