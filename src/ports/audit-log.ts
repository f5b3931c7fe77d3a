import type { AuditEvent, AuditEventInput } from './audit.js';

export interface AuditQuery {
  notificationId?: string;
  messageId?: string;
  /** An NHS number: events about the baby or the mother. */
  subject?: string;
  limit: number;
  /** Return events with seq greater than this (paging). */
  afterSeq?: number;
}

/** The append-only audit trail: written by every step, read by IG leads. */
export interface AuditLog {
  append(events: readonly AuditEventInput[]): Promise<void>;
  query(q: AuditQuery): Promise<AuditEvent[]>;
}
