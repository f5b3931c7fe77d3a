import type { AuditEvent, AuditEventInput } from './audit.js';

export interface AuditQuery {
  notificationId?: string;
  messageId?: string;
  /** An NHS number: events about the baby or the mother. */
  subject?: string;
  /** Events naming this recipient inbox (a centre). */
  recipient?: string;
  /** Events at or after this instant. */
  from?: Date;
  /** Events before this instant. */
  before?: Date;
  limit: number;
  /** Return events with seq greater than this (paging). */
  afterSeq?: number;
}

/** The append-only audit trail: written by every step, read by IG leads. */
export interface AuditLog {
  append(events: readonly AuditEventInput[]): Promise<void>;
  query(q: AuditQuery): Promise<AuditEvent[]>;
}
