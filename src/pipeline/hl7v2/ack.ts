import type { Issue } from '../../domain/issue.js';
import type { Envelope } from './envelope.js';

/** Original-mode acknowledgement codes; enhanced mode (MSH-15 set) uses the commit codes CA/CE/CR. */
export type AckCode = 'AA' | 'AE' | 'AR';
export type SentAckCode = AckCode | 'CA' | 'CE' | 'CR';

const DEFAULT_ENCODING = { fieldSeparator: '|', encodingCharacters: '^~\\&' };
const ERROR_TEXT: Record<string, string> = {
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '207': 'Application internal error',
};

export interface AckOptions {
  /** MSH-10 of the acknowledgement itself. */
  ackControlId: string;
  now: Date;
}

/** HL7 TS in UTC with an explicit offset, e.g. `20261125031416+0000`. */
export function hl7Timestamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + '+0000';
}

/** Whether an acknowledgement is due at all: enhanced mode lets the sender ask for none (NE) or only some. */
export function ackWanted(envelope: Envelope | undefined, code: AckCode): boolean {
  const mode = envelope?.acceptAckType.trim().toUpperCase() ?? '';
  if (mode === '' || mode === 'AL') return true;
  if (mode === 'NE') return false;
  if (mode === 'ER') return code !== 'AA';
  if (mode === 'SU') return code === 'AA';
  return true;
}

/** The code actually sent: CA/CE/CR when the sender uses enhanced mode (MSH-15 valued). */
export function sentCode(envelope: Envelope | undefined, code: AckCode): SentAckCode {
  if (envelope && envelope.acceptAckType.trim() !== '') return code === 'AA' ? 'CA' : code === 'AE' ? 'CE' : 'CR';
  return code;
}

/**
 * Builds the ACK by hand, in the sender's own encoding characters, with sender and receiver swapped, the
 * original MSH-10 echoed in MSA-2, and an ERR segment per issue (ERR-1 for v2.4 and earlier, ERR-2..4 for
 * v2.5 and later; both are sent). `hl7v2`'s createAck leaves MSH-3..5 and 11 empty, so it is not used.
 */
export function buildAck(envelope: Envelope | undefined, code: AckCode, issues: readonly Issue[], options: AckOptions): string {
  const fs = envelope?.fieldSeparator ?? DEFAULT_ENCODING.fieldSeparator;
  const enc = envelope?.encodingCharacters ?? DEFAULT_ENCODING.encodingCharacters;
  const [cs, ss] = [enc.charAt(0) || '^', enc.charAt(3) || '&'];
  const esc = (s: string): string => escapeText(s, fs, enc);
  const f = (n: number): string => envelope?.mshFields[n] ?? '';
  const msh = [
    'MSH',
    enc,
    f(5) || 'STORK',
    f(6),
    f(3),
    f(4),
    hl7Timestamp(options.now),
    '',
    ['ACK', envelope?.triggerEvent ?? '', 'ACK'].join(cs),
    esc(options.ackControlId),
    (envelope?.processingId ?? '') || 'P',
    f(12) || '2.4',
  ].join(fs);
  const first = issues.find((i) => i.severity === 'error') ?? issues[0];
  const text = code === 'AA' ? 'Message accepted' : first ? first.message : 'Message not accepted';
  // MSH-10 is echoed as sent (already in the sender's encoding), so the sender can match it.
  const msa = ['MSA', sentCode(envelope, code), envelope?.controlId ?? '', esc(text)].join(fs);
  const errs = issues.map((i) => {
    const loc = i.location;
    const codeText = ERROR_TEXT[i.code] ?? 'Error';
    const eld = loc ? [loc.segment, loc.sequence ?? 1, loc.field ?? '', [i.code, codeText, 'HL70357'].join(ss)].join(cs) : '';
    const erl = loc
      ? [loc.segment, loc.sequence ?? 1, loc.field ?? '', loc.field !== undefined ? (loc.repetition ?? 1) : '', loc.component ?? '']
          .join(cs)
          .replace(new RegExp(`\\${cs}+$`), '')
      : '';
    const cwe = [i.code, codeText, 'HL70357'].join(cs);
    const severity = i.severity === 'error' ? 'E' : 'W';
    return ['ERR', eld, erl, cwe, severity, '', '', '', esc(i.message)].join(fs);
  });
  return [msh, msa, ...errs].join('\r') + '\r';
}

/** Escapes the delimiters in free text with the HL7 escape sequences (\F\ \S\ \R\ \E\ \T\). */
export function escapeText(s: string, fieldSeparator: string, encodingCharacters: string): string {
  const [cs, rs, ec, ss] = [
    encodingCharacters.charAt(0) || '^',
    encodingCharacters.charAt(1) || '~',
    encodingCharacters.charAt(2) || '\\',
    encodingCharacters.charAt(3) || '&',
  ];
  let out = '';
  for (const ch of s) {
    if (ch === ec) out += `${ec}E${ec}`;
    else if (ch === fieldSeparator) out += `${ec}F${ec}`;
    else if (ch === cs) out += `${ec}S${ec}`;
    else if (ch === rs) out += `${ec}R${ec}`;
    else if (ch === ss) out += `${ec}T${ec}`;
    else if (ch === '\r' || ch === '\n') out += ' ';
    else out += ch;
  }
  return out;
}
