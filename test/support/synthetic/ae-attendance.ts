import { londonHl7Time } from './newborn-adt.js';

export interface AeAttendanceOptions {
  controlId: string;
  nhsNumber?: string;
  /** PID-32 (default NSTS01, verified). */
  nhsNumberStatus?: string;
  family: string;
  given: string;
  /** YYYYMMDD */
  birthDate: string;
  /** DG1-3 codes, `code^text^system` (e.g. `F10.0^Acute alcohol intoxication^I10`). */
  diagnoses: string[];
  /** PV2-3 admit reason, `code^text^system` (optional). */
  admitReason?: string;
  /** PD1-12 `Y`: the patient's record is restricted. */
  restricted?: boolean;
  /** PV1-2 (default `E`). */
  patientClass?: string;
  at?: Date;
}

/** An emergency-department ADT^A04 from Northgate's EDIS (RX1), the A&E feed of the sample configuration. */
export function aeAttendance(o: AeAttendanceOptions): string {
  const t = londonHl7Time(o.at ?? new Date());
  const pid3 = [`M${o.controlId}^^^RX1^MR`, ...(o.nhsNumber ? [`${o.nhsNumber}^^^NHS^NH`] : [])].join('~');
  return [
    `MSH|^~\\&|EDIS|RX1|STORK|STORK|${t}||ADT^A04^ADT_A01|${o.controlId}|P|2.4|||AL|NE`,
    `EVN|A04|${t}`,
    `PID|1||${pid3}||${o.family}^${o.given}^^^^^L||${o.birthDate}|F|||1 HIGH STREET^^LEEDS^^LS9 7AB^GBR^H|||||||||||||||||||||${o.nhsNumberStatus ?? 'NSTS01'}`,
    `PD1||||||||||||${o.restricted ? 'Y' : 'N'}`,
    `PV1|1|${o.patientClass ?? 'E'}|ED^^^RX1||||||||||||||||${o.controlId}V|||||||||||||||||||||||||${t}`,
    `PV2|||${o.admitReason ?? ''}`,
    ...o.diagnoses.map((d, i) => `DG1|${i + 1}||${d}||${t}|W`),
  ].join('\r');
}
