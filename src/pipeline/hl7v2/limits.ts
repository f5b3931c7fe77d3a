/**
 * Limits on the shape of one HL7 v2 message, checked before it is mapped, so that what one message
 * contains cannot make intake slow for every other sender: a field repeated half a million times costs
 * the reader half a million objects. A message over a limit is refused (AR) with an ERR naming the limit
 * and the place; it is stored like any other refused message. Pure: no I/O, never throws.
 */
import { Hl7ErrorCode, issue, type Issue } from '../../domain/issue.js';
import type { Envelope } from './envelope.js';

export interface Hl7v2Limits {
  /** Segments in one message (MSH included). */
  maxSegments: number;
  /** Repetitions of one field in one segment. */
  maxRepetitions: number;
}

/**
 * Far above any birth or ADT message seen in the corpus (tens of segments, a handful of repetitions), and
 * low enough that a message at the limits maps in milliseconds.
 */
export const DEFAULT_HL7V2_LIMITS: Readonly<Hl7v2Limits> = { maxSegments: 1000, maxRepetitions: 100 };

/**
 * The first limit the message breaks, as an issue locating it; undefined when it keeps to them. Linear in
 * the message's length, and it stops at the first excess. `segments`: the message split into its non-empty
 * segments (as `readEnvelope` split it).
 */
export function checkHl7v2Limits(segments: readonly string[], envelope: Envelope, limits: Hl7v2Limits): Issue | undefined {
  if (segments.length > limits.maxSegments) {
    const over = segments[limits.maxSegments] ?? '';
    const type = over.slice(0, 3);
    return issue(
      Hl7ErrorCode.ApplicationError,
      `The message has ${segments.length} segments, over the limit of ${limits.maxSegments} segments per message`,
      { location: { segment: /^[A-Z][A-Z0-9]{2}$/.test(type) ? type : 'MSH', sequence: occurrence(segments, limits.maxSegments) } },
    );
  }
  const fs = envelope.fieldSeparator;
  const rs = envelope.encodingCharacters.charAt(1);
  const seen = new Map<string, number>();
  for (const segment of segments) {
    const type = segment.slice(0, 3);
    const sequence = (seen.get(type) ?? 0) + 1;
    seen.set(type, sequence);
    if (!segment.includes(rs)) continue;
    const fields = segment.split(fs);
    // MSH-1 is the separator itself and MSH-2 holds the repetition character: MSH's fields are shifted.
    const isMsh = type === 'MSH';
    for (let f = isMsh ? 2 : 1; f < fields.length; f++) {
      const text = fields[f] ?? '';
      const count = repetitions(text, rs, limits.maxRepetitions);
      if (count > limits.maxRepetitions) {
        const field = isMsh ? f + 1 : f;
        return issue(
          Hl7ErrorCode.ApplicationError,
          `${type}-${field} repeats more than ${limits.maxRepetitions} times, over the limit of ${limits.maxRepetitions} repetitions per field`,
          { location: { segment: type, sequence, field } },
        );
      }
    }
  }
  return undefined;
}

/** Repetitions in a field's text, counting no further than one past `max`. */
function repetitions(text: string, rs: string, max: number): number {
  if (text === '') return 0;
  let count = 1;
  for (let at = text.indexOf(rs); at !== -1 && count <= max; at = text.indexOf(rs, at + 1)) count++;
  return count;
}

/** 1-based occurrence of segment `index`'s type among the segments before it. */
function occurrence(segments: readonly string[], index: number): number {
  const type = segments[index]?.slice(0, 3);
  let n = 0;
  for (let i = 0; i <= index; i++) if (segments[i]?.slice(0, 3) === type) n++;
  return n;
}
