/**
 * Synthetic HL7 v2 identity events (UK ITK v2.4 style) for tests: A40 merges (PID the surviving patient, MRG-1 the
 * merged one) and A24 links / A37 unlinks (two PIDs). Identifiers are given as CX text, e.g.
 * `9990001234^^^NHS^NH~RX10001234^^^RX1^MR`. No jest types: usable by the benchmark too.
 */
import { londonHl7Time } from './newborn-adt.js';

interface Common {
  controlId: string;
  sendingFacility?: string;
  sendingApplication?: string;
  messageTime?: Date;
}

const header = (o: Common, event: string, structure: string): string[] => {
  const t = londonHl7Time(o.messageTime ?? new Date());
  return [
    `MSH|^~\\&|${o.sendingApplication ?? 'MATERNITY'}|${o.sendingFacility ?? 'RX1'}|STORK|STORK|${t}||ADT^${event}^${structure}|${o.controlId}|P|2.4|||AL|NE|GBR|UNICODE|EN||iTKv1.0`,
    `EVN|${event}|${t}`,
  ];
};

/** CX text for an NHS number and optional MRN of trust `trust`. */
export const cx = (ids: { nhsNumber?: string; mrn?: string; trust?: string }): string =>
  [
    ids.nhsNumber !== undefined ? `${ids.nhsNumber}^^^NHS^NH` : undefined,
    ids.mrn !== undefined ? `${ids.mrn}^^^${ids.trust ?? 'RX1'}^MR` : undefined,
  ]
    .filter((x) => x !== undefined)
    .join('~');

/** An A40: each pair is one patient group (PID surviving, MRG-1 merged; `merged: undefined` leaves the MRG out). */
export function mergeAdt(o: Common & { pairs: { surviving: string; merged?: string; mrg4?: string }[]; event?: string }): string {
  const out = header(o, o.event ?? 'A40', 'ADT_A39');
  o.pairs.forEach((p, i) => {
    out.push(`PID|${i + 1}||${p.surviving}||MERGED^PATIENT||20250101|U`);
    if (p.merged !== undefined || p.mrg4 !== undefined) out.push(`MRG|${p.merged ?? ''}|||${p.mrg4 ?? ''}`);
  });
  return out.join('\r');
}

/** An A24 (or A37): the first and second PID's patients. */
export function linkAdt(o: Common & { first: string; second?: string; event?: 'A24' | 'A37' }): string {
  const out = header(o, o.event ?? 'A24', o.event === 'A37' ? 'ADT_A37' : 'ADT_A24');
  out.push(`PID|1||${o.first}||FIRST^PATIENT||20250101|U`, 'PD1|||LEEDS CITY MEDICAL PRACTICE^^B86001');
  if (o.second !== undefined) out.push(`PID|2||${o.second}||SECOND^PATIENT||20250101|U`);
  return out.join('\r');
}
