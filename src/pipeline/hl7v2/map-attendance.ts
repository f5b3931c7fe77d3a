/**
 * HL7 v2 emergency-department attendances (issue 17 item 2): an ADT event the feed lists under `attendances`
 * (typically A04, register a patient) whose PV1-2 patient class is one the feed names (`E`, emergency) becomes the
 * canonical Attendance (src/domain/trigger.ts). Read here, standard HL7 v2.4 places, no mapping file:
 *
 * - the patient: PID-3 (the repetition whose CX.4 is `NHS`: the NHS number, check digit tested), PID-32 (NHS
 *   number status: `NSTS01` or `01` verified), PID-5 (name), PID-7 (date of birth), PD1-12 (protection: `Y` is a
 *   restricted record);
 * - when: PV1-44 (admit date/time), else EVN-2, else MSH-7;
 * - why: PV2-3 (admit reason, CE) and every DG1-3 (diagnosis code, CE/CWE), each with its alternate triplet: the code
 *   and its coding system (`I10`/`ICD10` → ICD-10, `SCT`/`SNOMEDCT` → SNOMED CT). The display text is never kept.
 *
 * Pure, never throws. A check digit that fails is an error at that field (the sender gets an AE naming it).
 */
import type { NhsNumberStatus, PersonName } from '../../domain/birth-notification.js';
import { parseHl7DateTime } from '../../domain/hl7-datetime.js';
import { Hl7ErrorCode, type Issue } from '../../domain/issue.js';
import { parseNhsNumber } from '../../domain/nhs-number.js';
import { ICD10_SYSTEM, SNOMED_SYSTEM, type Attendance, type Coding } from '../../domain/trigger.js';
import { Hl7Reader, type RepRef } from './hl7-reader.js';

/** A feed's `attendances` section (feeds.json). */
export interface AttendanceCriteria {
  /** Trigger events read as attendances, e.g. `["A04"]`. */
  events: string[];
  /** PV1-2 values that make an attendance, e.g. `["E"]`. */
  patientClasses: string[];
}

export type AttendanceOutcome =
  { kind: 'attendance'; attendance: Attendance } | { kind: 'not-attendance' } | { kind: 'invalid'; issues: Issue[] };

const SYSTEMS: Record<string, string> = {
  I10: ICD10_SYSTEM,
  ICD10: ICD10_SYSTEM,
  'ICD-10': ICD10_SYSTEM,
  I10P: ICD10_SYSTEM,
  SCT: SNOMED_SYSTEM,
  SNOMEDCT: SNOMED_SYSTEM,
  'SNOMED-CT': SNOMED_SYSTEM,
  SNM: SNOMED_SYSTEM,
};

const STATUS = /^(?:NSTS)?(0[1-8])$/;

const upper = (s: string | undefined): string => (s ?? '').trim().toUpperCase();

/** The codings of a CE/CWE repetition: identifier^text^system, then the alternate identifier^text^system. */
function codingsOf(rep: RepRef): Coding[] {
  const out: Coding[] = [];
  for (const first of [1, 4]) {
    const code = rep.value(first)?.trim();
    const sys = upper(rep.value(first + 2));
    if (code === undefined || code === '' || sys === '') continue;
    out.push({ system: SYSTEMS[sys] ?? sys, code });
  }
  return out;
}

/** Reads an attendance, or says the message is not one. `event` is e.g. `A04`; `source` names it in the record. */
export function mapAttendance(
  text: string,
  criteria: AttendanceCriteria,
  source: { feedId: string; messageControlId: string; messageType: string; triggerEvent: string },
): AttendanceOutcome {
  if (!criteria.events.includes(upper(source.triggerEvent))) return { kind: 'not-attendance' };
  const read = Hl7Reader.read(text, new Set(['EVN', 'PID', 'PD1', 'PV1', 'PV2', 'DG1']));
  if (!read.ok) return { kind: 'invalid', issues: [read.issue] };
  const r = read.reader;
  const pv1 = r.segments('PV1')[0];
  const patientClass = pv1 ? upper(r.repetitions(pv1, 2)[0]?.value(1)) : '';
  if (!criteria.patientClasses.includes(patientClass)) return { kind: 'not-attendance' };
  const issues: Issue[] = [];
  const pid = r.segments('PID')[0];
  let nhsNumber: string | undefined;
  let nhsNumberStatus: NhsNumberStatus | undefined;
  let name: PersonName | undefined;
  let birthDate: string | undefined;
  if (pid) {
    for (const rep of r.repetitions(pid, 3)) {
      if (upper(rep.value(4)) !== 'NHS') continue;
      const value = rep.value(1)?.trim() ?? '';
      if (value === '') continue;
      const parsed = parseNhsNumber(value);
      if (!parsed.ok) {
        issues.push({
          severity: 'error',
          code: Hl7ErrorCode.DataTypeError,
          message: `PID-3: the NHS number ${parsed.reason === 'shape' ? 'is not ten digits' : 'fails its check digit'}`,
          location: rep.location(1),
        });
        continue;
      }
      nhsNumber ??= parsed.value;
    }
    const status = STATUS.exec(upper(r.repetitions(pid, 32)[0]?.value(1)))?.[1];
    if (status !== undefined) nhsNumberStatus = status as NhsNumberStatus;
    const xpn = r.repetitions(pid, 5)[0];
    const family = xpn?.value(1, 1)?.trim();
    const given = [xpn?.value(2), xpn?.value(3)].map((g) => g?.trim()).filter((g): g is string => !!g);
    if (family || given.length > 0) name = { ...(family ? { family } : {}), ...(given.length ? { given } : {}) };
    const dob = parseHl7DateTime(r.repetitions(pid, 7)[0]?.value(1) ?? '');
    if (dob?.date.length === 10) birthDate = dob.date;
  }
  if (issues.length > 0) return { kind: 'invalid', issues };
  const pd1 = r.segments('PD1')[0];
  const restricted = pd1 !== undefined && upper(r.repetitions(pd1, 12)[0]?.value(1)) === 'Y';
  const when = [
    pv1 ? r.repetitions(pv1, 44)[0]?.value(1) : undefined,
    r.first({ segment: 'EVN', field: 2 }),
    r.first({ segment: 'MSH', field: 7 }),
  ]
    .map((t) => (t === undefined ? undefined : parseHl7DateTime(t)?.instant))
    .find((t): t is string => t !== undefined);
  if (when === undefined)
    return {
      kind: 'invalid',
      issues: [
        {
          severity: 'error',
          code: Hl7ErrorCode.DataTypeError,
          message: 'MSH-7: no usable date and time of the attendance',
          location: { segment: 'MSH', sequence: 1, field: 7 },
        },
      ],
    };
  const reasons: Coding[] = [];
  const pv2 = r.segments('PV2')[0];
  if (pv2) for (const rep of r.repetitions(pv2, 3)) reasons.push(...codingsOf(rep));
  for (const dg1 of r.segments('DG1')) for (const rep of r.repetitions(dg1, 3)) reasons.push(...codingsOf(rep));
  const unique = reasons.filter((c, i) => reasons.findIndex((o) => o.system === c.system && o.code === c.code) === i);
  return {
    kind: 'attendance',
    attendance: {
      kind: 'attendance',
      setting: 'emergency',
      patient: {
        ...(nhsNumber !== undefined ? { nhsNumber } : {}),
        ...(nhsNumberStatus !== undefined ? { nhsNumberStatus } : {}),
        ...(name ? { name } : {}),
        ...(birthDate !== undefined ? { birthDate } : {}),
      },
      occurredAt: when,
      reasons: unique,
      confidentiality: restricted ? 'restricted' : 'normal',
      source: {
        feedId: source.feedId,
        messageControlId: source.messageControlId,
        event: `${source.messageType}^${source.triggerEvent}`,
      },
    },
  };
}
