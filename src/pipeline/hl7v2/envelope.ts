import { Hl7ErrorCode, issue, type Issue } from '../../domain/issue.js';

/**
 * The MSH header of an HL7 v2 message, read by hand: intake needs only these fields to decide who sent
 * what, and whether to accept it, before anything else runs. Values are the raw field text.
 */
export interface Envelope {
  fieldSeparator: string;
  /** MSH-2, e.g. `^~\&`. */
  encodingCharacters: string;
  /** Raw text of each MSH field, index = HL7 field number (1 = field separator, 2 = encoding characters). */
  mshFields: readonly string[];
  sendingApplication: string;
  sendingFacility: string;
  messageType: string;
  triggerEvent: string;
  controlId: string;
  processingId: string;
  /** MSH-12.1, e.g. `2.4`. */
  version: string;
  /** MSH-15; empty = original acknowledgement mode. */
  acceptAckType: string;
  /** MSH-18, the character set. */
  charset: string;
  segmentCount: number;
}

export type EnvelopeResult = { ok: true; envelope: Envelope } | { ok: false; issues: Issue[]; partial?: Partial<Envelope> };

const SEGMENT_ID = /^[A-Z][A-Z0-9]{2}$/;

/** Splits on CR, LF or CRLF: many senders and files use LF even though the wire format says CR. */
export function splitSegments(text: string): string[] {
  return text.split(/\r\n|\r|\n/).filter((s) => s.trim() !== '');
}

function firstComponent(value: string, componentSeparator: string): string {
  const i = value.indexOf(componentSeparator);
  return i === -1 ? value : value.slice(0, i);
}

/** Reads MSH and checks the message's overall shape. Never throws. */
export function readEnvelope(text: string): EnvelopeResult {
  const segments = splitSegments(text.replace(/^\uFEFF/, '').trimStart());
  const msh = segments[0];
  if (msh === undefined || !msh.startsWith('MSH') || msh.length < 8) {
    return {
      ok: false,
      issues: [
        issue(Hl7ErrorCode.SegmentSequence, 'The message does not start with an MSH segment', {
          location: { segment: 'MSH', sequence: 1 },
        }),
      ],
    };
  }
  const fieldSeparator = msh.charAt(3);
  const end = msh.indexOf(fieldSeparator, 4);
  const encodingCharacters = end === -1 ? msh.slice(4) : msh.slice(4, end);
  const encodingProblem =
    /[A-Za-z0-9\s]/.test(fieldSeparator) ||
    encodingCharacters.length < 3 ||
    encodingCharacters.length > 5 ||
    new Set(encodingCharacters + fieldSeparator).size !== encodingCharacters.length + 1 ||
    /[A-Za-z0-9\s]/.test(encodingCharacters);
  if (encodingProblem) {
    return {
      ok: false,
      issues: [
        issue(Hl7ErrorCode.DataTypeError, 'MSH-1/MSH-2 do not hold a valid field separator and encoding characters', {
          location: { segment: 'MSH', sequence: 1, field: 2 },
        }),
      ],
    };
  }
  const componentSeparator = encodingCharacters.charAt(0);
  const parts = msh.split(fieldSeparator);
  // parts[0] = 'MSH', parts[1] = MSH-2; so MSH-n is parts[n - 1].
  const mshFields = ['', fieldSeparator, ...parts.slice(1)];
  const field = (n: number): string => mshFields[n] ?? '';
  const type = field(9).split(componentSeparator);
  const envelope: Envelope = {
    fieldSeparator,
    encodingCharacters,
    mshFields,
    sendingApplication: firstComponent(field(3), componentSeparator),
    sendingFacility: firstComponent(field(4), componentSeparator),
    messageType: type[0] ?? '',
    triggerEvent: type[1] ?? '',
    controlId: field(10),
    processingId: firstComponent(field(11), componentSeparator),
    version: firstComponent(field(12), componentSeparator),
    acceptAckType: field(15),
    charset: field(18),
    segmentCount: segments.length,
  };
  const issues: Issue[] = [];
  const required: [number, string][] = [
    [9, 'MSH-9 message type is missing'],
    [10, 'MSH-10 message control id is missing'],
    [11, 'MSH-11 processing id is missing'],
    [12, 'MSH-12 version id is missing'],
  ];
  for (const [n, text] of required) {
    if (field(n).trim() === '')
      issues.push(issue(Hl7ErrorCode.RequiredFieldMissing, text, { location: { segment: 'MSH', sequence: 1, field: n } }));
  }
  if (envelope.messageType !== '' && envelope.triggerEvent === '' && envelope.messageType !== 'ACK') {
    issues.push(
      issue(Hl7ErrorCode.RequiredFieldMissing, 'MSH-9.2 trigger event is missing', {
        location: { segment: 'MSH', sequence: 1, field: 9, component: 2 },
      }),
    );
  }
  const seen = new Map<string, number>();
  for (const [i, segment] of segments.entries()) {
    const id = segment.slice(0, 3);
    const next = segment.charAt(3);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    if (!SEGMENT_ID.test(id) || (next !== '' && next !== fieldSeparator)) {
      issues.push(
        issue(Hl7ErrorCode.SegmentSequence, `Segment ${i + 1} does not start with a segment id and the field separator`, {
          location: { segment: SEGMENT_ID.test(id) ? id : 'MSH', sequence: i + 1 },
        }),
      );
      break;
    }
    if (i > 0 && id === 'MSH') {
      issues.push(
        issue(Hl7ErrorCode.SegmentSequence, 'More than one MSH segment: send one message per frame', {
          location: { segment: 'MSH', sequence: seen.get(id) ?? 2 },
        }),
      );
      break;
    }
  }
  return issues.length > 0 ? { ok: false, issues, partial: envelope } : { ok: true, envelope };
}

/**
 * MSH-9.2 read from the first line only: a cheap look for stages that need just the event (the full
 * `readEnvelope` checks every segment, which intake has already done).
 */
export function triggerEventOf(text: string): string | undefined {
  const start = text.replace(/^\uFEFF/, '').trimStart();
  const end = start.search(/[\r\n]/);
  const msh = end === -1 ? start : start.slice(0, end);
  if (!msh.startsWith('MSH') || msh.length < 8) return undefined;
  const fields = msh.split(msh.charAt(3));
  // fields[0] = 'MSH', fields[1] = MSH-2, so MSH-9 is fields[8].
  return fields[8]?.split(msh.charAt(4))[1];
}
