/**
 * HL7 v2 escape sequences (v2.5.1 chapter 2.7) decoded into plain text, for the values Stork reads
 * (names, addresses, codes). The delimiters are the message's own (MSH-1, MSH-2).
 *
 * - `\F\ \S\ \T\ \R\ \E\`: the field, component, sub-component and repetition separators and the escape
 *   character itself.
 * - `\Xhh…\`: hexadecimal bytes, read in the message's character set (MSH-18: ISO 8859-1 when it says
 *   so, otherwise UTF-8; bytes that are not valid UTF-8 are read as ISO 8859-1, as senders often mean).
 * - `\H\`, `\N\` (highlighting), `\C…\`, `\M…\` (character-set switches) and `\Z…\` (local) carry no
 *   text: they are dropped.
 * - `\.br\` is a line break; the other formatting commands (`\.sp\`, `\.in\`, `\.ti\`, `\.sk\`, `\.ce\`,
 *   `\.fi\`, `\.nf\`) are dropped.
 * - Anything else (an unknown or unterminated sequence) is kept exactly as received, so nothing a sender
 *   meant is silently lost.
 */

export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subComponent: string;
}

const HEX = /^[0-9A-Fa-f]*$/;

function hexText(hex: string, latin1: boolean): string | undefined {
  if (hex.length % 2 !== 0 || !HEX.test(hex)) return undefined;
  const bytes = Buffer.from(hex, 'hex');
  if (latin1) return bytes.toString('latin1');
  const utf8 = bytes.toString('utf8');
  return utf8.includes('\uFFFD') ? bytes.toString('latin1') : utf8;
}

/** The text of one escape sequence's body (between the escape characters); undefined: keep it verbatim. */
function sequence(body: string, d: Delimiters, latin1: boolean): string | undefined {
  switch (body) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'T':
      return d.subComponent;
    case 'R':
      return d.repetition;
    case 'E':
      return d.escape;
    case 'H':
    case 'N':
      return '';
    case '.br':
      return '\n';
    default:
      break;
  }
  if (/^\.(sp|in|ti|sk|ce|fi|nf)[+-]?\d*$/.test(body)) return '';
  const kind = body.charAt(0);
  if (kind === 'X') return hexText(body.slice(1), latin1);
  if (kind === 'C' || kind === 'M' || kind === 'Z') return '';
  return undefined;
}

/**
 * Decodes the escape sequences of one component or sub-component's text. `latin1`: the message declared
 * ISO 8859-1 in MSH-18. Text without the escape character is returned as it is (the common case).
 */
export function unescapeHl7(text: string, d: Delimiters, latin1 = false): string {
  const esc = d.escape;
  if (esc === '' || !text.includes(esc)) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf(esc, i);
    if (start < 0) {
      out += text.slice(i);
      break;
    }
    const end = text.indexOf(esc, start + 1);
    if (end < 0) {
      out += text.slice(i);
      break;
    }
    const decoded = sequence(text.slice(start + 1, end), d, latin1);
    if (decoded === undefined) {
      // Not a sequence we know: keep the escape character and go on after it, so a stray `\` does not
      // swallow the text up to the next one.
      out += text.slice(i, start + 1);
      i = start + 1;
      continue;
    }
    out += text.slice(i, start) + decoded;
    i = end + 1;
  }
  return out;
}
