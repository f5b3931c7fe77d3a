/**
 * FHIR R4 emergency-department attendances (issue 17 item 2): a message whose event the mapping lists under
 * `attendances.events`, carrying an Encounter whose `class` is one of `attendances.encounterClasses` (sample: v3
 * ActCode `EMER`), becomes the same canonical Attendance (src/domain/trigger.ts) as an HL7 v2 ADT^A04 does, and is
 * processed by the same triggers. Read here:
 *
 * - the patient: Encounter.subject (resolved in the Bundle), its NHS number identifier (check digit tested) and
 *   verification status extension, name and birthDate; `meta.security` of the Patient, the Encounter or the Bundle
 *   (the mapping's confidentiality codes) makes it restricted;
 * - when: Encounter.period.start, else Bundle.timestamp, else receipt;
 * - why: every coding of Encounter.reasonCode, of the Conditions Encounter.reasonReference and Encounter.diagnosis
 *   name, and of each Condition in the Bundle about the patient (Condition.code). The display and any text are never
 *   kept: only system and code.
 *
 * Pure, never throws. An Encounter of another class is not an attendance; a bad NHS number or a missing subject is an
 * error naming its element (FHIRPath), answered as an OperationOutcome.
 */
import type { Attendance, Coding } from '../../domain/trigger.js';
import { fhirIssue, hasFhirErrors, type FhirIssue } from './fhir-issue.js';
import { codingKey, type FhirMapping } from './fhir-mapping.js';
import type { JsonObject } from './fhir-xml.js';
import { obj, objs, str } from './json-access.js';
import { nameOf } from './map-fhir-r4.js';
import { resolveReference, type BundleEntry, type MessageBundle } from './message-bundle.js';
import { confidentialityOf, nhsNumberOf } from './uk-core-checks.js';

export type FhirAttendanceOutcome =
  | { kind: 'attendance'; attendance: Attendance; issues: FhirIssue[] }
  | { kind: 'not-attendance'; reason: string }
  | { kind: 'invalid'; issues: FhirIssue[] };

/** Whether the message's event is one the mapping reads as an attendance. */
export function isAttendanceEvent(m: MessageBundle, mapping: FhirMapping): boolean {
  return mapping.attendanceEvents.has(codingKey(m.event));
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function codingsOf(concept: JsonObject | undefined): Coding[] {
  return objs(concept?.coding).flatMap((c) => {
    const system = str(c.system);
    const code = str(c.code);
    return system !== undefined && code !== undefined && code.trim() !== '' ? [{ system, code: code.trim() }] : [];
  });
}

export function mapFhirAttendance(
  m: MessageBundle,
  mapping: FhirMapping,
  ctx: { feedId: string; receivedAt: Date },
): FhirAttendanceOutcome {
  const rules = mapping.file.attendances;
  if (rules === undefined) return { kind: 'not-attendance', reason: 'the mapping reads no attendances' };
  const focus = objs(m.header.focus)
    .map((f) => resolveReference(m.entries, str(f.reference)))
    .find((e) => e?.resource.resourceType === 'Encounter');
  const encounter = focus ?? m.entries.find((e) => e.resource.resourceType === 'Encounter');
  if (encounter === undefined)
    return {
      kind: 'invalid',
      issues: [fhirIssue('required', 'An attendance message must carry an Encounter', 'Bundle.entry.resource.ofType(Encounter)')],
    };
  const enc = encounter.resource;
  const at = encounter.expression;
  // R4: Encounter.class is one Coding.
  const cls = obj(enc.class);
  const classes = new Set(rules.encounterClasses.map(codingKey));
  if (cls === undefined || !classes.has(codingKey(cls)))
    return { kind: 'not-attendance', reason: 'Encounter of a class that is not an emergency attendance' };
  const subject = resolveReference(m.entries, str(obj(enc.subject)?.reference));
  if (subject?.resource.resourceType !== 'Patient')
    return {
      kind: 'invalid',
      issues: [fhirIssue('required', 'Encounter.subject must reference the Patient in the Bundle', `${at}.subject`)],
    };
  const p = subject.resource;
  const issues: FhirIssue[] = [];
  const f = mapping.file;
  const nhs = nhsNumberOf(p, subject.expression, {
    nhsNumber: f.identifiers.nhsNumber,
    verificationStatusUrl: f.extensions.nhsNumberVerificationStatus,
  });
  issues.push(...nhs.issues);
  let confidentiality: Attendance['confidentiality'] = 'normal';
  for (const [r, where] of [
    [p, subject.expression],
    [enc, at],
    [m.bundle, 'Bundle'],
  ] as const) {
    const c = confidentialityOf(r, where, f.confidentiality);
    issues.push(...c.issues);
    if (c.value === 'very-restricted' || (c.value === 'restricted' && confidentiality === 'normal')) confidentiality = c.value;
  }
  if (hasFhirErrors(issues)) return { kind: 'invalid', issues };

  const start = str(obj(enc.period)?.start);
  if (start !== undefined && !INSTANT.test(start))
    return {
      kind: 'invalid',
      issues: [fhirIssue('value', 'Encounter.period.start must be a dateTime with a time zone', `${at}.period.start`)],
    };
  const occurredAt = new Date(start ?? m.timestamp ?? ctx.receivedAt.toISOString()).toISOString();

  const reasons = new Map<string, Coding>();
  const add = (cs: readonly Coding[]) => cs.forEach((c) => reasons.set(codingKey(c), c));
  objs(enc.reasonCode).forEach((rc) => add(codingsOf(rc)));
  const conditions = new Set<BundleEntry>();
  for (const ref of [...objs(enc.reasonReference), ...objs(enc.diagnosis).map((d) => obj(d.condition) ?? {})]) {
    const c = resolveReference(m.entries, str(ref.reference));
    if (c?.resource.resourceType === 'Condition') conditions.add(c);
  }
  for (const e of m.entries)
    if (e.resource.resourceType === 'Condition' && resolveReference(m.entries, str(obj(e.resource.subject)?.reference)) === subject)
      conditions.add(e);
  for (const c of conditions) add(codingsOf(obj(c.resource.code)));

  const name = nameOf(p, { prefix: false });
  const birthDate = str(p.birthDate);
  const attendance: Attendance = {
    kind: 'attendance',
    setting: 'emergency',
    patient: {
      ...(nhs.value !== undefined ? { nhsNumber: nhs.value.nhsNumber } : {}),
      ...(nhs.value?.status !== undefined ? { nhsNumberStatus: nhs.value.status } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(birthDate !== undefined && DATE.test(birthDate) ? { birthDate } : {}),
    },
    occurredAt,
    reasons: [...reasons.values()],
    confidentiality,
    source: { feedId: ctx.feedId, messageControlId: `${m.bundleId}/${m.headerId}`, event: `FHIR^${m.event.code ?? 'unknown'}` },
  };
  return { kind: 'attendance', attendance, issues };
}
