/**
 * JSON Schema for a consent statement (src/domain/consent.ts): the body of `POST /v1/consents` and the
 * `consents` a mapped message carries. Dates are YYYY-MM-DD; NHS numbers ten digits (the API checks the check
 * digit too); at least one of the two names the subject.
 */
import { compile } from './json-schema.js';
import { CONSENT_SCOPES, CONSENT_SOURCES, RECIPIENT_PATTERN, type ConsentStatement } from './consent.js';

export const consentStatementSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'scope', 'recipient', 'source'],
  properties: {
    kind: { type: 'string', enum: ['consent', 'objection'] },
    scope: { type: 'string', enum: CONSENT_SCOPES },
    purpose: { type: 'string', minLength: 1, maxLength: 500 },
    recipient: { type: 'string', pattern: RECIPIENT_PATTERN, maxLength: 200 },
    from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date' },
    source: { type: 'string', enum: CONSENT_SOURCES },
    motherNhsNumber: { type: 'string', pattern: '^[0-9]{10}$' },
    babyNhsNumber: { type: 'string', pattern: '^[0-9]{10}$' },
  },
  anyOf: [
    { properties: { motherNhsNumber: true }, required: ['motherNhsNumber'] },
    { properties: { babyNhsNumber: true }, required: ['babyNhsNumber'] },
  ],
} as const;

/** Compiled once; `.errors` holds ajv's errors after a failure. */
export const validateConsentStatement = compile<ConsentStatement>(consentStatementSchema);
