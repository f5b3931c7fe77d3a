/**
 * Read access to one received HL7 v2 message, by field path: our own reader over the raw text, built for
 * the intake hot path (the `hl7v2` package's object tree cost about 130 µs and much of the garbage per
 * message; this costs a few µs). It splits segments into fields once, and repetitions, components and
 * sub-components only when a value is asked for. Values are decoded (escape sequences, see
 * `hl7-unescape.ts`); `raw()` gives a component exactly as received, for timestamps, which are parsed
 * from their text by `hl7-datetime.ts`.
 *
 * Line endings are normalised to CR first (`\r\n` and lone `\n` are common in files and some feeds).
 * The reader is lenient, as a receiver should be: anything after a valid MSH can be read; what a value
 * must look like is for the mapping and validation stages to say. The `hl7v2` package reads the same
 * messages identically (test/unit/pipeline/hl7v2/hl7-reader.test.ts checks every field of the corpus).
 */
import { Hl7ErrorCode, type Hl7Location, type Issue } from '../../domain/issue.js';
import { unescapeHl7, type Delimiters } from './hl7-unescape.js';

/** `PID-3`, `NK1-3.1`, `XAD-5`: a segment, a 1-based field and optional component / sub-component. */
export interface FieldPath {
  segment: string;
  field: number;
  component?: number;
  subComponent?: number;
}

const PATH = /^([A-Z][A-Z0-9]{2})-([1-9][0-9]{0,2})(?:\.([1-9][0-9]?)(?:\.([1-9][0-9]?))?)?$/;

/** Parses `PID-11.5` style paths; undefined when malformed. */
export function parseFieldPath(s: string): FieldPath | undefined {
  const m = PATH.exec(s);
  if (!m) return undefined;
  const [, segment = '', field, component, subComponent] = m;
  return {
    segment,
    field: Number(field),
    ...(component !== undefined ? { component: Number(component) } : {}),
    ...(subComponent !== undefined ? { subComponent: Number(subComponent) } : {}),
  };
}

/** The encoding characters declared in MSH-1 and MSH-2. */
export type Encoding = Delimiters;

/** One occurrence of a segment in the message. */
export interface SegmentRef {
  type: string;
  /** 1-based occurrence among segments of this type. */
  sequence: number;
  /** Raw field texts split on the field separator; index = field number (MSH adjusted: raw[1] is MSH-1). */
  raw: string[];
}

/** HL7's explicit null (`""`) and an empty component both read as absent. */
const absent = (s: string | undefined): boolean => s === undefined || s === '' || s === '""';

/** One repetition of a field, with decoded and raw access. */
export class RepRef {
  private components: string[] | undefined;
  private splitLimit = 0;
  /** MSH-1 and MSH-2 hold the delimiters themselves: they are never split. */
  private readonly literal: boolean;

  constructor(
    readonly segment: SegmentRef,
    readonly field: number,
    /** 0-based */
    readonly index: number,
    /** The repetition's text as received. */
    private readonly text: string,
    private readonly reader: Hl7Reader,
  ) {
    this.literal = segment.type === 'MSH' && field <= 2;
  }

  private component(n: number): string | undefined {
    if (this.literal) return n === 1 ? this.text : undefined;
    // Split only as far as asked (at least the first 16 components): a repetition of ten thousand
    // components costs the same as one of sixteen when only the first few are read.
    if (this.components === undefined || (n > this.components.length && this.components.length === this.splitLimit)) {
      this.splitLimit = Math.max(16, n, this.splitLimit * 2);
      this.components = this.text.split(this.reader.encoding.component, this.splitLimit);
    }
    return this.components[n - 1];
  }

  /**
   * Decoded text of a component (1-based; default 1) and sub-component (default 1), or undefined when it
   * is empty, blank or HL7's explicit null.
   */
  value(component = 1, subComponent = 1): string | undefined {
    const comp = this.component(component);
    if (comp === undefined) return undefined;
    const e = this.reader.encoding;
    const sub = this.literal ? comp : comp.split(e.subComponent, subComponent)[subComponent - 1];
    if (sub === undefined || absent(sub)) return undefined;
    const text = unescapeHl7(sub, e, this.reader.latin1);
    return text.trim() === '' ? undefined : text;
  }

  /** Raw text of a component's first sub-component, exactly as received (no unescaping). */
  raw(component = 1): string | undefined {
    const comp = this.component(component)?.split(this.reader.encoding.subComponent, 1)[0];
    return absent(comp) ? undefined : comp;
  }

  /** Where this repetition sits, for issues. */
  location(component?: number): Hl7Location {
    return {
      segment: this.segment.type,
      sequence: this.segment.sequence,
      field: this.field,
      repetition: this.index + 1,
      ...(component !== undefined ? { component } : {}),
    };
  }
}

/** Normalises `\r\n` and lone `\n` to `\r`, the HL7 segment terminator. */
export function normaliseSegmentTerminators(text: string): string {
  return text.replace(/\r\n|\n/g, '\r');
}

const SEGMENT_TYPE = /^[A-Z][A-Z0-9]{2}$/;

/** A read message: `Hl7Reader.read(text)` never throws; a message that cannot be read becomes an Issue. */
export class Hl7Reader {
  private readonly byType = new Map<string, SegmentRef[]>();
  /** MSH-18 declares ISO 8859-1: `\X…\` bytes are read in it. */
  readonly latin1: boolean;

  private constructor(
    readonly encoding: Encoding,
    lines: readonly string[],
  ) {
    for (const line of lines) {
      const fields = line.split(encoding.field);
      const type = fields[0] ?? '';
      // MSH-1 is the field separator itself, so MSH fields are shifted by one.
      const raw = type === 'MSH' ? ['MSH', encoding.field, ...fields.slice(1)] : fields;
      let list = this.byType.get(type);
      if (list === undefined) {
        list = [];
        this.byType.set(type, list);
      }
      list.push({ type, sequence: list.length + 1, raw });
    }
    const charset = this.byType.get('MSH')?.[0]?.raw[18] ?? '';
    this.latin1 = /8859[/-]?1|LATIN/i.test(charset);
  }

  /**
   * Reads the text (after normalising line endings). `keep`: the segment types the caller will read (MSH
   * is always kept); the others are not split at all. Occurrence numbers count every segment of a kept
   * type, so locations stay right.
   */
  static read(text: string, keep?: ReadonlySet<string>): { ok: true; reader: Hl7Reader } | { ok: false; issue: Issue } {
    const normalised = normaliseSegmentTerminators(text).replace(/^\s+/, ''); // \s includes MLLP's start block, VT (\v);
    if (!normalised.startsWith('MSH') || normalised.length < 8) {
      return { ok: false, issue: parseIssue(Hl7ErrorCode.SegmentSequence, 'message does not start with an MSH segment') };
    }
    const f = normalised.charAt(3);
    const encoding: Encoding = {
      field: f,
      component: normalised.charAt(4),
      repetition: normalised.charAt(5),
      escape: normalised.charAt(6) === f ? '' : normalised.charAt(6),
      subComponent: normalised.charAt(7) === f || normalised.charAt(6) === f ? '&' : normalised.charAt(7),
    };
    if (
      [f, encoding.component, encoding.repetition].some((c) => /[A-Za-z0-9\s]/.test(c)) ||
      new Set([f, encoding.component, encoding.repetition]).size < 3
    ) {
      return {
        ok: false,
        issue: parseIssue(Hl7ErrorCode.DataTypeError, 'MSH-1 and MSH-2 do not declare usable, distinct delimiters', {
          segment: 'MSH',
          field: 2,
        }),
      };
    }
    const lines = normalised
      .split('\r')
      .filter((l, i) => i === 0 || (SEGMENT_TYPE.test(l.slice(0, 3)) && (keep === undefined || keep.has(l.slice(0, 3)))));
    return { ok: true, reader: new Hl7Reader(encoding, lines) };
  }

  /** All occurrences of a segment type, in message order. */
  segments(type: string): readonly SegmentRef[] {
    return this.byType.get(type) ?? [];
  }

  /** The repetitions of a field of a segment occurrence (an absent or empty field gives none). */
  repetitions(seg: SegmentRef, field: number): RepRef[] {
    const text = seg.raw[field];
    if (text === undefined || text === '') return [];
    if (seg.type === 'MSH' && field <= 2) return [new RepRef(seg, field, 0, text, this)];
    return text.split(this.encoding.repetition).map((r, i) => new RepRef(seg, field, i, r, this));
  }

  /** Decoded first-repetition value at a path in the first occurrence of its segment. */
  first(path: FieldPath): string | undefined {
    const seg = this.segments(path.segment)[0];
    if (seg === undefined) return undefined;
    return this.repetitions(seg, path.field)[0]?.value(path.component ?? 1, path.subComponent);
  }
}

function parseIssue(code: Hl7ErrorCode, message: string, location: Hl7Location = { segment: 'MSH' }): Issue {
  return { severity: 'error', code, message, location };
}
