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
  /** An A40 merge applied (notifications or families made one) or recorded (identity keys), issue 12. */
  | 'merged'
  /** An A40 merge refused: the two records are plainly different babies (twins); an operator must check. */
  | 'merge-refused'
  /** An A24 link applied (a baby joined a family, siblings joined) or recorded. */
  | 'patients-linked'
  /** An A24 link refused: the baby is already in a family led by someone else; an operator must check. */
  | 'link-refused'
  /** An A37 unlink recorded. */
  | 'patients-unlinked'
  /** A signal event (POST /v1/events) stored, accepted or refused. */
  | 'event-received'
  /** A signal event's record fetched and stored (messageId), or the fetch given up (outcome). */
  | 'event-fetched'
  /** A centre assigned (or cleared) its named worker for a family. */
  | 'named-worker'
  /** A notification placed in a family (details: familyId, method, score and each field's level and weight). */
  | 'family-linked'
  /** An antenatal notification closed because the baby's birth joined the family it made (details: kind, birthNotificationId, familyId). */
  | 'antenatal-closed'
  /** A match in the review band held for an operator (details: review, families, score, contributions). */
  | 'match-review-created'
  /** An operator confirmed or rejected a held match. */
  | 'match-reviewed'
  /** A centre's register imported (details: counts only). */
  | 'families-imported'
  /** A parent's consent or objection recorded in the consent register (details: its id, kind, scope, source). */
  | 'consent-recorded'
  /** A consent record withdrawn (the record is kept; the withdrawal is appended). */
  | 'consent-withdrawn'
  /** An information-sharing agreement version (content hash) loaded for the first time (issue 13). */
  | 'rulebook-loaded'
  /** The tamper-evident audit chain's genesis event (migration 020): it seals the events before it (issue 14). */
  | 'audit-chain-started'
  /** The acknowledgement committed with a receipt (outcome: the HL7 v2 ACK code or FHIR response code). */
  | 'acked'
  /** A configuration file loaded at start-up (details: file, sha256). */
  | 'config-loaded'
  /** A failed sign-in: an unknown API key (aggregated per minute) or an OpenID Connect callback error. */
  | 'sign-in-failed'
  /** Data exported from Stork (a CSV or JSON download, details: what, format, rows). */
  | 'exported'
  /** A retention run purged one table's expired personal data (details: counts, cut-off, the retention file's hash). */
  | 'purged'
  /** A `keys:rotate` run re-encrypted stored data under the current data key (details: counts and key ids only). */
  | 'keys-rotated'
  /** A centre recorded an offer-of-support outcome for a notification (outcome; details: worker, date, outcomeId, corrects). */
  | 'offer-outcome-recorded'
  /** A notification or withdrawal pushed to a centre's webhook and answered 2xx, the receipt (details: event, idempotencyKey, httpStatus). */
  | 'webhook-delivered'
  /** A webhook delivery given up after retries past the horizon: a dead letter (details: deadLetterId, lastError, attempts). */
  | 'webhook-dead-lettered'
  /** An operator replayed a dead letter (details: deadLetterId, the original's idempotencyKey; outcome requeued or superseded). */
  | 'webhook-replayed'
  /** A trigger fired (issue 17): its minimum dataset delivered to the recipient's queue (ruleId = trigger id, rulebookVersion = its agreement). */
  | 'trigger-fired'
  /** A trigger did not fire for an event whose code its value set holds (outcome: why: no known children, no lawful basis, …). */
  | 'trigger-not-fired'
  /** A trigger's firing held for safeguarding review because a record is restricted: not delivered until released. */
  | 'trigger-held'
  /** A held firing released to its recipient or closed at safeguarding review (outcome `released` or `closed`). */
  | 'trigger-reviewed'
  /** An early-help worker recorded that the family of a delivered firing is taken on (details: role, purpose, firingId). */
  | 'firing-taken-on';

/** Every audit action, for validating a query's `action` filter. */
export const AUDIT_ACTIONS = [
  'received',
  'acked',
  'rejected',
  'mapped',
  'validated',
  'not-relevant',
  'duplicate-birth',
  'linked',
  'not-linked',
  'updated',
  'decided',
  'routed',
  'delivered',
  'withheld',
  'withdrawn',
  'read',
  'acknowledged',
  'replayed',
  'raw-read',
  'merged',
  'merge-refused',
  'patients-linked',
  'link-refused',
  'patients-unlinked',
  'event-received',
  'event-fetched',
  'named-worker',
  'family-linked',
  'antenatal-closed',
  'match-review-created',
  'match-reviewed',
  'families-imported',
  'consent-recorded',
  'consent-withdrawn',
  'rulebook-loaded',
  'config-loaded',
  'sign-in-failed',
  'exported',
  'audit-chain-started',
  'purged',
  'keys-rotated',
  'offer-outcome-recorded',
  'webhook-delivered',
  'webhook-dead-lettered',
  'webhook-replayed',
  'trigger-fired',
  'trigger-not-fired',
  'trigger-held',
  'trigger-reviewed',
  'firing-taken-on',
] as const satisfies readonly AuditAction[];

/** True only while AUDIT_ACTIONS lists every action: one missing makes this a compile error. */
export const AUDIT_ACTIONS_COMPLETE: [Exclude<AuditAction, (typeof AUDIT_ACTIONS)[number]>] extends [never] ? true : never = true;

/**
 * Documented keys of `details` every event may carry (audit_events has no column for them: the hash chain covers
 * every column): `role`, the actor's role (an API client's role, a person's web role, `system`); `purpose`, what a
 * person stated or the route's purpose (`care`, `operations`, `processing`, `compliance`, `subject-access`); `name`,
 * a signed-in person's name.
 */
export interface AuditDetailKeys {
  role?: string;
  purpose?: string;
  name?: string;
}

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
