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
  | 'raw-read'
  /** A signal event (POST /v1/events) stored, accepted or refused. */
  | 'event-received'
  /** A signal event's record fetched and stored (messageId), or the fetch given up (outcome). */
  | 'event-fetched'
  /** An information-sharing agreement version (content hash) loaded for the first time (issue 13). */
  | 'rulebook-loaded';

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

/**
 * Who read or acted, as the audit trail records it: an actor id alone (`client:<id>` for an API key), or a person
 * signed in to the web app (`user:<sub>`, the identity provider's subject) with the name their token gave.
 */
export type AuditActor = string | { actor: string; name: string };

/** The audit event fields of an actor: `actor`, and the person's name in `details.name`. */
export function actorFields(who: AuditActor): Pick<AuditEventInput, 'actor' | 'details'> {
  return typeof who === 'string' ? { actor: who } : { actor: who.actor, details: { name: who.name } };
}
