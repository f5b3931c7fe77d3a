/**
 * Rules every canonical BirthNotification must pass before it is stored or routed, whatever the feed
 * format: the JSON Schema shape, NHS number check digits, postcodes, and date plausibility (born in the
 * past, after the mother, not dying before being born). Pure: the caller supplies "now".
 *
 * Issues name the canonical path and, when the caller can say where the value came from (`locate`), the
 * HL7 location, so an intake can answer AE with an ERR naming e.g. PID-3. Messages never quote values.
 */
import type { ErrorObject } from 'ajv';
import type { BirthNotification } from '../domain/birth-notification.js';
import { validateBirthNotificationShape } from '../domain/birth-notification.schema.js';
import { localDateOf } from '../domain/hl7-datetime.js';
import { Hl7ErrorCode, type Hl7Location, type Issue } from '../domain/issue.js';
import { parseNhsNumber } from '../domain/nhs-number.js';
import { normalisePostcode } from '../domain/postcode.js';

/** Maps a canonical path (`baby.nhsNumber`) to where the value was read in the source message. */
export type Locator = (path: string) => Hl7Location | undefined;

/** A birth time this far ahead of "now" is tolerated as clock skew between sender and hub. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

const NHS_PATHS = ['baby.nhsNumber', 'mother.nhsNumber'] as const;
const POSTCODE_PATHS = ['baby.address.postcode', 'mother.address.postcode'] as const;

/** `/baby/localIdentifiers/0/value` → `baby.localIdentifiers.0.value`. */
function dotted(instancePath: string, e: ErrorObject): string {
  const base = instancePath
    .split('/')
    .filter((p) => p !== '')
    .join('.');
  const missing = e.keyword === 'required' ? (e.params as { missingProperty?: string }).missingProperty : undefined;
  const extra = e.keyword === 'additionalProperties' ? (e.params as { additionalProperty?: string }).additionalProperty : undefined;
  const leaf = missing ?? extra;
  return leaf === undefined ? base : base === '' ? leaf : `${base}.${leaf}`;
}

function shapeIssues(n: BirthNotification, locate: Locator): Issue[] {
  if (validateBirthNotificationShape(n)) return [];
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const e of validateBirthNotificationShape.errors ?? []) {
    const path = dotted(e.instancePath, e);
    // NHS numbers and postcodes get their own, more precise issues below.
    if ((NHS_PATHS as readonly string[]).includes(path) || (POSTCODE_PATHS as readonly string[]).includes(path)) continue;
    if (seen.has(path)) continue;
    seen.add(path);
    const code =
      e.keyword === 'required'
        ? Hl7ErrorCode.RequiredFieldMissing
        : e.keyword === 'additionalProperties'
          ? Hl7ErrorCode.ApplicationError
          : Hl7ErrorCode.DataTypeError;
    const location = locate(path);
    issues.push({
      severity: 'error',
      code,
      message: `${path === '' ? 'record' : path}: ${e.message ?? e.keyword}`,
      path,
      ...(location ? { location } : {}),
    });
  }
  return issues;
}

function at(severity: Issue['severity'], code: Hl7ErrorCode, path: string, message: string, locate: Locator): Issue {
  const location = locate(path);
  return { severity, code, message, path, ...(location ? { location } : {}) };
}

function getPath(n: BirthNotification, path: string): unknown {
  let cur: unknown = n;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The calendar date part of an ISO date or date-time. */
const datePart = (s: string): string => s.slice(0, 10);

/**
 * Validates a canonical record. Errors mean the record must not be used (the message is quarantined);
 * warnings travel with an accepted record. `locate` adds HL7 locations to issues (optional).
 */
export function validateNotification(n: BirthNotification, now: Date, locate: Locator = () => undefined): Issue[] {
  const issues = shapeIssues(n, locate);

  for (const path of NHS_PATHS) {
    const v = getPath(n, path);
    if (v === undefined) continue;
    const parsed = typeof v === 'string' ? parseNhsNumber(v) : { ok: false as const, reason: 'shape' as const };
    if (parsed.ok && parsed.value === v) continue;
    const rule = parsed.ok
      ? 'is not in the normalised ten-digit form'
      : parsed.reason === 'shape'
        ? 'is not a ten-digit NHS number'
        : 'fails the NHS number Modulus 11 check';
    issues.push(at('error', Hl7ErrorCode.DataTypeError, path, `${path} ${rule}`, locate));
  }

  for (const path of POSTCODE_PATHS) {
    const v = getPath(n, path);
    if (v === undefined) continue;
    if (typeof v === 'string' && normalisePostcode(v) === v) continue;
    const rule =
      typeof v === 'string' && normalisePostcode(v) !== undefined ? 'is not in the normalised form' : 'is not a recognisable UK postcode';
    issues.push(at('warning', Hl7ErrorCode.DataTypeError, path, `${path} ${rule}`, locate));
  }

  const baby = n.baby as Partial<BirthNotification['baby']> | undefined;
  const birthDate = typeof baby?.birthDate === 'string' ? baby.birthDate : undefined;
  const birthTime = typeof baby?.birthTime === 'string' ? Date.parse(baby.birthTime) : NaN;
  if (birthDate !== undefined) {
    const future = Number.isNaN(birthTime) ? birthDate > localDateOf(now) : birthTime > now.getTime() + CLOCK_SKEW_MS;
    if (future) {
      const path = Number.isNaN(birthTime) ? 'baby.birthDate' : 'baby.birthTime';
      issues.push(at('error', Hl7ErrorCode.DataTypeError, path, `${path} is in the future`, locate));
    }
    const motherBirth = n.mother?.birthDate;
    if (typeof motherBirth === 'string' && birthDate <= motherBirth) {
      issues.push(at('error', Hl7ErrorCode.DataTypeError, 'baby.birthDate', 'baby.birthDate is not after mother.birthDate', locate));
    }
    const deceasedAt = baby?.deceasedAt;
    if (typeof deceasedAt === 'string') {
      const death = Date.parse(deceasedAt);
      const before =
        deceasedAt.length > 10 && !Number.isNaN(birthTime) && !Number.isNaN(death) ? death < birthTime : datePart(deceasedAt) < birthDate;
      if (before) {
        issues.push(at('error', Hl7ErrorCode.DataTypeError, 'baby.deceasedAt', 'baby.deceasedAt is before the birth', locate));
      }
      if (baby?.deceased === false) {
        issues.push(
          at('warning', Hl7ErrorCode.DataTypeError, 'baby.deceasedAt', 'baby.deceasedAt is set but baby.deceased is false', locate),
        );
      }
    }
  }
  return issues;
}
