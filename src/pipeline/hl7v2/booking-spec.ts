/**
 * The `antenatal` section of an HL7 v2 mapping file (issue 17) and its JSON Schema, apart from map-booking.ts so
 * that the mapping file's schema (mapping-types.ts) can include it without an import cycle.
 */
import { parseFieldPath, type FieldPath } from './hl7-reader.js';

/** A condition with its path parsed and its values upper-cased (as build-mappings' CompiledCondition). */
export interface CompiledCondition {
  path: FieldPath;
  values: ReadonlySet<string>;
}
const EVENT = { type: 'string', pattern: '^[A-Z][0-9A-Z]{2}$' } as const;
const PATH = { type: 'string', pattern: '^[A-Z][A-Z0-9]{2}-[1-9][0-9]{0,2}(\\.[1-9][0-9]?){0,2}$' } as const;
const CONDITION = {
  type: 'object',
  additionalProperties: false,
  required: ['path', 'in'],
  properties: { path: PATH, in: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } } },
} as const;
const LOCATED = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: { path: PATH, segmentWhere: CONDITION },
} as const;

/** A value's place: a field path, optionally in the occurrence of its segment that a condition selects. */
export interface LocatedValue {
  path: string;
  segmentWhere?: { path: string; in: string[] };
}

/** The `antenatal` section of an HL7 v2 mapping file, as written. */
export interface BookingSpec {
  bookingEvents: string[];
  dueDate: LocatedValue;
  pregnancyId?: LocatedValue;
  lossEvents?: string[];
  outcome?: LocatedValue & { events: string[]; lossCodes: string[] };
}

/** JSON Schema of the section (part of the HL7 v2 mapping file's schema). */
export const bookingSpecSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['bookingEvents', 'dueDate'],
  properties: {
    bookingEvents: { type: 'array', minItems: 1, items: EVENT },
    dueDate: LOCATED,
    pregnancyId: LOCATED,
    lossEvents: { type: 'array', items: EVENT },
    outcome: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'events', 'lossCodes'],
      properties: {
        path: PATH,
        segmentWhere: CONDITION,
        events: { type: 'array', minItems: 1, items: EVENT },
        lossCodes: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      },
    },
  },
} as const;

export interface CompiledLocated {
  path: FieldPath;
  segmentWhere?: CompiledCondition;
}

/** The section compiled: paths parsed, events and codes upper-cased. */
export interface CompiledBookingSpec {
  bookingEvents: ReadonlySet<string>;
  lossEvents: ReadonlySet<string>;
  dueDate: CompiledLocated;
  pregnancyId?: CompiledLocated;
  outcome?: CompiledLocated & { events: ReadonlySet<string>; lossCodes: ReadonlySet<string> };
  /** Every segment the section reads. */
  segments: ReadonlySet<string>;
}

const upperSet = (xs: readonly string[]): Set<string> => new Set(xs.map((x) => x.trim().toUpperCase()));

/** Compiles the section; a problem comes back naming its field (the loader adds the file). */
export function compileBookingSpec(spec: BookingSpec): CompiledBookingSpec | { field: string; problem: string } {
  const segments = new Set<string>(['MSH', 'PID']);
  const located = (v: LocatedValue, field: string): CompiledLocated | { field: string; problem: string } => {
    const path = parseFieldPath(v.path);
    if (path === undefined) return { field: `${field}/path`, problem: 'not a field path like OBX-5' };
    segments.add(path.segment);
    if (v.segmentWhere === undefined) return { path };
    const where = parseFieldPath(v.segmentWhere.path);
    if (where === undefined) return { field: `${field}/segmentWhere/path`, problem: 'not a field path like OBX-3.1' };
    if (where.segment !== path.segment)
      return { field: `${field}/segmentWhere`, problem: `selects ${where.segment} but the value is read from ${path.segment}` };
    return { path, segmentWhere: { path: where, values: upperSet(v.segmentWhere.in) } };
  };
  const dueDate = located(spec.dueDate, '/antenatal/dueDate');
  if ('problem' in dueDate) return dueDate;
  const pregnancyId = spec.pregnancyId === undefined ? undefined : located(spec.pregnancyId, '/antenatal/pregnancyId');
  if (pregnancyId !== undefined && 'problem' in pregnancyId) return pregnancyId;
  const outcome = spec.outcome === undefined ? undefined : located(spec.outcome, '/antenatal/outcome');
  if (outcome !== undefined && 'problem' in outcome) return outcome;
  const bookingEvents = upperSet(spec.bookingEvents);
  const lossEvents = upperSet(spec.lossEvents ?? []);
  for (const e of lossEvents)
    if (bookingEvents.has(e)) return { field: '/antenatal/lossEvents', problem: `event ${e} is also a booking event` };
  return {
    bookingEvents,
    lossEvents,
    dueDate,
    ...(pregnancyId !== undefined ? { pregnancyId } : {}),
    ...(outcome !== undefined && spec.outcome !== undefined
      ? { outcome: { ...outcome, events: upperSet(spec.outcome.events), lossCodes: upperSet(spec.outcome.lossCodes) } }
      : {}),
    segments,
  };
}
