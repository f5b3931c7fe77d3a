/**
 * A parent's consent or objection (issue 13): what was said, about whom, for what, to whom, for how long and
 * how it reached the hub. A statement comes from a person through the API (`POST /v1/consents`) or with a
 * message (a FHIR `Consent` resource, an HL7 v2 CON or configured Z-segment); once recorded it becomes a
 * ConsentRecord in the register, which is never changed in place: withdrawing one appends a withdrawal.
 */

/** A permission (`consent`) or a refusal (`objection`). */
export type ConsentKind = 'consent' | 'objection';

/**
 * What the statement is about:
 * - `offer-of-support`: telling the children's centre about the baby (an objection stops it);
 * - `clinical-details`: sharing birth weight and gestation with the centre (consent allows it);
 * - `antenatal`: contact during pregnancy. Kept in the register, but no rule about a birth reads it.
 */
export const CONSENT_SCOPES = ['offer-of-support', 'clinical-details', 'antenatal'] as const;
export type ConsentScope = (typeof CONSENT_SCOPES)[number];

/** How the statement reached the hub. */
export const CONSENT_SOURCES = ['antenatal-booking', 'midwife', 'parent-by-phone', 'fhir', 'hl7v2'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/** Whom it is about as a recipient: `any`, `centre:<inbox id>` or `local-authority:<id>`. */
export const RECIPIENT_PATTERN = '^(any|centre:[a-z0-9][a-z0-9-]*|local-authority:[a-z0-9][a-z0-9-]*)$';

/** One statement as given, before it is recorded. At least one of the two NHS numbers names the subject. */
export interface ConsentStatement {
  kind: ConsentKind;
  scope: ConsentScope;
  /** Free-text purpose as the recorder gave it (e.g. "offer of early support"); never read by a rule. */
  purpose?: string;
  /** `any`, `centre:<inbox id>` or `local-authority:<id>`. */
  recipient: string;
  /** First day it applies (YYYY-MM-DD), inclusive; none: from the start. */
  from?: string;
  /** Last day it applies (YYYY-MM-DD), inclusive; none: until withdrawn. */
  to?: string;
  source: ConsentSource;
  motherNhsNumber?: string;
  babyNhsNumber?: string;
}

/** A statement in the register. */
export interface ConsentRecord extends ConsentStatement {
  id: string;
  recordedAt: string;
  /** `client:<api client id>`, `message:<message id>`, or `user:<sub>` for a person in the web app. */
  recordedBy: string;
  /** The person's name when a person in the web app recorded it. */
  recordedByName?: string;
  withdrawnAt?: string;
  withdrawnBy?: string;
  /** The person's name when a person in the web app withdrew it. */
  withdrawnByName?: string;
}
