import type { ConsentKind, ConsentRecord, ConsentScope, ConsentSource } from '../../../src/domain/consent.js';
import { longDate, longDateTime, spacedNhsNumber } from './family-view.js';

const WHAT: Record<ConsentScope, string> = {
  'offer-of-support': 'being offered support by the children’s centre',
  'clinical-details': 'sharing clinical details (birth weight and gestation)',
  antenatal: 'contact during pregnancy',
};

const KIND: Record<ConsentKind, string> = { consent: 'Consent to', objection: 'Objection to' };

const HOW: Record<ConsentSource, string> = {
  'parent-by-phone': 'by phone',
  midwife: 'by the midwife',
  'antenatal-booking': 'at the antenatal booking',
  fhir: 'from a maternity system’s FHIR message',
  hl7v2: 'from a maternity system’s HL7 v2 message',
};

/** The source as the IG lead's table names it. */
const SOURCE: Record<ConsentSource, string> = {
  'parent-by-phone': 'The parent, by phone',
  midwife: 'The midwife',
  'antenatal-booking': 'Antenatal booking',
  fhir: 'FHIR message',
  hl7v2: 'HL7 v2 message',
};

/** Who recorded or withdrew a record, in words: a person by name, an API client, a message, or Stork. */
export function recorderInWords(actor: string | undefined, name: string | undefined): string {
  if (name !== undefined) return name;
  if (actor === undefined) return 'someone not recorded';
  const [kind, ...rest] = actor.split(':');
  const id = rest.join(':');
  if (kind === 'user') return 'a person whose name was not recorded';
  if (kind === 'client') return `the API client ${id}`;
  if (kind === 'message') return 'the maternity system (with the birth message)';
  if (kind === 'system') return 'Stork';
  return actor;
}

/** "Objection to being offered support by the children’s centre": what the record says, in words. */
export function consentWhat(r: Pick<ConsentRecord, 'kind' | 'scope'>): string {
  return `${KIND[r.kind]} ${WHAT[r.scope]}`;
}

/** The period in words: "From 1 December 2026 to 31 March 2027", "Until withdrawn". */
export function periodInWords(r: Pick<ConsentRecord, 'from' | 'to'>): string {
  const from = longDate(r.from);
  const to = longDate(r.to);
  if (from !== undefined && to !== undefined) return `From ${from} to ${to}`;
  if (from !== undefined) return `From ${from} until withdrawn`;
  if (to !== undefined) return `Until ${to}`;
  return 'Until withdrawn';
}

/** Whom a record names as recipient, in words. */
export function recipientInWords(
  recipient: string,
  inboxName: (id: string) => string | undefined,
  laName: (id: string) => string | undefined,
): string {
  if (recipient === 'any') return 'Any service';
  if (recipient.startsWith('centre:')) {
    const id = recipient.slice('centre:'.length);
    return inboxName(id) ?? id;
  }
  if (recipient.startsWith('local-authority:')) {
    const id = recipient.slice('local-authority:'.length);
    return laName(id) ?? id;
  }
  return recipient;
}

/** One record as the pages show it: a sentence, and the facts beside it. */
export interface ConsentLine {
  id: string;
  /** "Objection to being offered support …, recorded by phone on 3 December 2026 by Olivia Demo." */
  sentence: string;
  what: string;
  /** The scope in words: "being offered support by the children’s centre". */
  scope: string;
  active: boolean;
  period: string;
  recordedAt: string;
  recordedBy: string;
  source: string;
  purpose?: string;
  /** "Withdrawn on 5 December 2026 at 10:04 by Iris Demo." */
  withdrawal?: string;
  /** NHS numbers as people read them (the IG lead's pages only). */
  mother?: string;
  baby?: string;
  recipient: string;
}

export function consentLine(
  r: ConsentRecord,
  names: { inboxName: (id: string) => string | undefined; laName: (id: string) => string | undefined },
): ConsentLine {
  const what = consentWhat(r);
  const recordedBy = recorderInWords(r.recordedBy, r.recordedByName);
  const line: ConsentLine = {
    id: r.id,
    sentence: `${what}, recorded ${HOW[r.source]} on ${longDate(r.recordedAt) ?? r.recordedAt} by ${recordedBy}.`,
    what,
    scope: WHAT[r.scope],
    active: r.withdrawnAt === undefined,
    period: periodInWords(r),
    recordedAt: longDateTime(r.recordedAt) ?? r.recordedAt,
    recordedBy,
    source: SOURCE[r.source],
    recipient: recipientInWords(r.recipient, names.inboxName, names.laName),
  };
  if (r.purpose !== undefined) line.purpose = r.purpose;
  if (r.withdrawnAt !== undefined)
    line.withdrawal = `Withdrawn on ${longDateTime(r.withdrawnAt) ?? r.withdrawnAt} by ${recorderInWords(r.withdrawnBy, r.withdrawnByName)}.`;
  const mother = spacedNhsNumber(r.motherNhsNumber);
  const baby = spacedNhsNumber(r.babyNhsNumber);
  if (mother !== undefined) line.mother = mother;
  if (baby !== undefined) line.baby = baby;
  return line;
}
