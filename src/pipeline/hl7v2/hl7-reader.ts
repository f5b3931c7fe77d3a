/**
 * Read access to one received HL7 v2 message, by field path. Decoded values (escapes such as `\T\`, `\S\`,
 * `\F\`, `\R\`, `\E\` resolved) come from the `hl7v2` package; the raw text of a component comes from our
 * own split of the same text, because the package rewrites timestamps (drops negative offset signs,
 * shortens seconds, hides impossible dates). Line endings are normalised to CR first: the package reads
 * a `\n`-only message as one segment and silently loses the PID.
 */
import { HL7Message, type HL7Repetition, type HL7Segment } from 'hl7v2';
import { Hl7ErrorCode, type Hl7Location, type Issue } from '../../domain/issue.js';

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

/** Turns the package's typed values into text: numbers as sent, explicit null (`""`) as absent. */
function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}

/** One occurrence of a segment in the message. */
export interface SegmentRef {
  type: string;
  /** 1-based occurrence among segments of this type. */
  sequence: number;
  node: HL7Segment;
  /** Raw field texts split on the field separator; index = field number (MSH adjusted). */
  raw: string[];
}

/** One repetition of a field, with decoded and raw access. */
export class RepRef {
  constructor(
    readonly segment: SegmentRef,
    readonly field: number,
    /** 0-based */
    readonly index: number,
    private readonly node: HL7Repetition | undefined,
    private readonly reader: Hl7Reader,
  ) {}

  /** Decoded text of a component (1-based; default 1) and sub-component, or undefined when empty. */
  value(component = 1, subComponent?: number): string | undefined {
    if (this.node === undefined) return undefined;
    try {
      return asText(subComponent === undefined ? this.node.getValue(component) : this.node.getValue(component, subComponent));
    } catch {
      return undefined;
    }
  }

  /** Raw text of a component's first sub-component, exactly as received (no unescaping). */
  raw(component = 1): string | undefined {
    const fieldText = this.segment.raw[this.field];
    if (fieldText === undefined) return undefined;
    const e = this.reader.encoding;
    const rep = fieldText.split(e.repetition)[this.index];
    const comp = rep?.split(e.component)[component - 1]?.split(e.subComponent)[0];
    // `""` is HL7's explicit null: treat it as absent, like an empty component.
    return comp === undefined || comp === '' || comp === '""' ? undefined : comp;
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

/** The encoding characters declared in MSH-1 and MSH-2. */
export interface Encoding {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subComponent: string;
}

/** Normalises `\r\n` and lone `\n` to `\r`, the HL7 segment terminator. */
export function normaliseSegmentTerminators(text: string): string {
  return text.replace(/\r\n|\n/g, '\r');
}

/** A parsed message: `Hl7Reader.read(text)` never throws; a parse failure becomes an Issue. */
export class Hl7Reader {
  private readonly byType = new Map<string, SegmentRef[]>();

  private constructor(
    readonly message: HL7Message,
    readonly encoding: Encoding,
    lines: string[],
  ) {
    const counts = new Map<string, number>();
    const rawByType = new Map<string, string[][]>();
    for (const line of lines) {
      const fields = line.split(encoding.field);
      const type = fields[0] ?? '';
      // MSH-1 is the field separator itself, so MSH fields are shifted by one.
      const raw = type === 'MSH' ? ['MSH', encoding.field, ...fields.slice(1)] : fields;
      const list = rawByType.get(type) ?? [];
      list.push(raw);
      rawByType.set(type, list);
    }
    for (const node of message.segments) {
      const type = node.segmentType;
      const seq = (counts.get(type) ?? 0) + 1;
      counts.set(type, seq);
      const raw = rawByType.get(type)?.[seq - 1] ?? [type];
      const list = this.byType.get(type) ?? [];
      list.push({ type, sequence: seq, node, raw });
      this.byType.set(type, list);
    }
  }

  /** Parses the text (after normalising line endings). */
  static read(text: string, keep?: ReadonlySet<string>): { ok: true; reader: Hl7Reader } | { ok: false; issue: Issue } {
    const normalised = normaliseSegmentTerminators(text).replace(/^[\s\x0b]+/, '');
    if (!normalised.startsWith('MSH') || normalised.length < 8) {
      return { ok: false, issue: parseIssue(Hl7ErrorCode.SegmentSequence, 'message does not start with an MSH segment') };
    }
    const f = normalised.charAt(3);
    const encoding: Encoding = {
      field: f,
      component: normalised.charAt(4),
      repetition: normalised.charAt(5),
      escape: normalised.charAt(6),
      subComponent: normalised.charAt(7) === f ? '&' : normalised.charAt(7),
    };
    // Only the segment types the mapping reads go to the parser (it costs ~100 µs a message, most of
    // intake's CPU); occurrences within a type keep their order, so locations stay right.
    const lines = normalised.split('\r').filter((l, i) => l.trim() !== '' && (keep === undefined || i === 0 || keep.has(l.slice(0, 3))));
    // The parser builds (and catches) validation errors as it goes; their stack traces are never read.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      const message = HL7Message.parse(keep === undefined ? normalised : lines.join('\r'));
      return { ok: true, reader: new Hl7Reader(message, encoding, lines) };
    } catch (err) {
      return { ok: false, issue: fromParseError(err) };
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  /** All occurrences of a segment type, in message order. */
  segments(type: string): readonly SegmentRef[] {
    return this.byType.get(type) ?? [];
  }

  /** The repetitions of a field of a segment occurrence (an absent field gives none). */
  repetitions(seg: SegmentRef, field: number): RepRef[] {
    let reps: HL7Repetition[];
    try {
      reps = seg.node.field(field)?.repetitions ?? [];
    } catch {
      reps = [];
    }
    return reps.map((r, i) => new RepRef(seg, field, i, r, this));
  }

  /** Decoded first-repetition value at a path in the first occurrence of its segment. */
  first(path: FieldPath): string | undefined {
    const seg = this.segments(path.segment)[0];
    if (seg === undefined) return undefined;
    return this.repetitions(seg, path.field)[0]?.value(path.component ?? 1, path.subComponent);
  }
}

const KNOWN_CODES = new Set<string>(Object.values(Hl7ErrorCode));

function parseIssue(code: Hl7ErrorCode, message: string, location: Hl7Location = { segment: 'MSH' }): Issue {
  return { severity: 'error', code, message, location };
}

/** An exception from the `hl7v2` parser as an Issue: its own 0357 code and location when it gives them. */
function fromParseError(err: unknown): Issue {
  const e = (err ?? {}) as {
    hl7ErrorCode?: unknown;
    segmentType?: unknown;
    segmentSequence?: unknown;
    fieldPosition?: unknown;
    componentPosition?: unknown;
  };
  const given = e.hl7ErrorCode === undefined ? undefined : String(e.hl7ErrorCode);
  const code = given !== undefined && KNOWN_CODES.has(given) ? (given as Hl7ErrorCode) : Hl7ErrorCode.DataTypeError;
  const location: Hl7Location = {
    segment: typeof e.segmentType === 'string' && /^[A-Z][A-Z0-9]{2}$/.test(e.segmentType) ? e.segmentType : 'MSH',
    ...(typeof e.segmentSequence === 'number' ? { sequence: e.segmentSequence } : {}),
    ...(typeof e.fieldPosition === 'number' ? { field: e.fieldPosition } : {}),
    ...(typeof e.componentPosition === 'number' ? { component: e.componentPosition } : {}),
  };
  // The package's own message may quote field content; keep only our wording.
  return parseIssue(code, 'message could not be parsed as HL7 v2', location);
}
