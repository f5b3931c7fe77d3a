/**
 * The declarative HL7 v2 → BirthNotification mapping format (`mappings/hl7v2/*.json`) and its JSON Schema.
 * A mapping only names field paths, repetition/segment selectors, code tables and registered TypeScript
 * functions; there is deliberately no expression language, so a mapping can be reviewed by an interface
 * analyst and cannot run arbitrary logic.
 */
import type { Address, GpPractice, LocalIdentifier, PersonName } from '../../domain/birth-notification.js';
import type { Hl7DateTime } from '../../domain/hl7-datetime.js';
import { consentSpecSchema, type ConsentSegmentSpec } from './map-consents.js';
import { bookingSpecSchema, type BookingSpec } from './booking-spec.js';

/** What kind of value a canonical target takes; functions and tables are checked against it at load. */
export type TargetKind = 'text' | 'code' | 'boolean' | 'integer' | 'number' | 'datetime' | 'name' | 'address' | 'identifiers' | 'gp';

/** The value type produced for each kind. */
export interface KindValue {
  text: string;
  code: string;
  boolean: boolean;
  integer: number;
  number: number;
  datetime: Hl7DateTime;
  name: PersonName;
  address: Address;
  identifiers: LocalIdentifier[];
  gp: GpPractice;
}

/** Every canonical field a mapping can fill, with its kind and (for codes) the allowed values. */
export const TARGETS = {
  'baby.nhsNumber': { kind: 'text' },
  'baby.nhsNumberStatus': { kind: 'code', values: ['01', '02', '03', '04', '05', '06', '07', '08'] },
  'baby.localIdentifiers': { kind: 'identifiers' },
  'baby.name': { kind: 'name' },
  'baby.sex': { kind: 'code', values: ['male', 'female', 'other', 'unknown'] },
  /** Date (and time, when sent) of birth: sets baby.birthDate and baby.birthTime. */
  'baby.birth': { kind: 'datetime' },
  'baby.multipleBirth': { kind: 'boolean' },
  'baby.birthOrder': { kind: 'integer' },
  'baby.birthPlace': { kind: 'text' },
  'baby.address': { kind: 'address' },
  'baby.deceased': { kind: 'boolean' },
  'baby.deceasedAt': { kind: 'datetime' },
  'mother.nhsNumber': { kind: 'text' },
  'mother.localIdentifiers': { kind: 'identifiers' },
  'mother.name': { kind: 'name' },
  'mother.birthDate': { kind: 'datetime' },
  'mother.address': { kind: 'address' },
  'mother.phone': { kind: 'text' },
  'mother.preferredLanguage': { kind: 'text' },
  gpPractice: { kind: 'gp' },
  confidentiality: { kind: 'code', values: ['normal', 'restricted', 'very-restricted'] },
  'birthDetails.weightGrams': { kind: 'number' },
  'birthDetails.gestationWeeks': { kind: 'number' },
} as const satisfies Record<string, { kind: TargetKind; values?: readonly string[] }>;

/** A canonical field name, e.g. `baby.nhsNumber`. */
export type TargetName = keyof typeof TARGETS;
export const TARGET_NAMES = Object.keys(TARGETS) as TargetName[];

/** Chooses values: `path`'s value must be one of `in` (compared trimmed and upper-cased). */
export interface Condition {
  path: string;
  in: string[];
}

/** Chooses repetitions of a repeating field: component `component` must be one of `in`. */
export interface RepetitionCondition {
  component: number;
  in: string[];
}

/** Where one canonical value comes from. */
export interface SourceRule {
  /** `PID-3`, `NK1-3.1`, `PID-11.5`: segment, field, optional component (default 1 for plain values). */
  path: string;
  /** Only repetitions satisfying this (e.g. PID-3 with CX.4 `NHS`). */
  where?: RepetitionCondition;
  /** Only occurrences of the segment satisfying this; overrides the mapping's `segmentSelectors`. */
  segmentWhere?: Condition;
  /** Name of a table in `tables`, for code and boolean targets. */
  table?: string;
  /** Name of a registered mapping function (see mapping-functions.ts). */
  function?: string;
}

/** Which messages describe a birth. */
export interface BirthCriteria {
  /** Trigger events (MSH-9.2) that may carry a birth. */
  events: string[];
  /**
   * A subject born at most this many days before the message (MSH-7, else receipt) is a newborn. A birth
   * event must also still be within it on the day Stork receives the message (unless its feed is in
   * back-fill mode); see map-hl7v2.ts.
   */
  maxAgeDays: number;
  /** A newborn indicator that settles it regardless of age (PV2-36 `Y`). */
  newbornIndicator?: Condition;
  /**
   * Trigger events that may report the death of a baby (an update, a discharge): mapped like a birth, and
   * passed on only when the baby is deceased, so that a notification already sent is withdrawn (and one
   * not yet sent never is). A baby is looked for up to `deathWindowDays` after birth.
   */
  deathEvents: string[];
  deathWindowDays: number;
  /**
   * Trigger events that update a baby already known (A08, A31): a death report as above; otherwise mapped like a
   * birth (a baby up to `deathWindowDays` old) and marked an update, whose values replace those of the baby's
   * notification. An update about a baby Stork never notified makes no notification (an event listed in `events`
   * too is a birth). Default A08 and A31.
   */
  updateEvents: string[];
}

/** Where a patient's identifiers are, for identity events: a CX field of PID or MRG. */
export interface IdentifierSource {
  /** `PID-3`, `MRG-1`: a segment and field (repetitions are CX). */
  path: string;
  /** The assigning authority to assume when a repetition names none (e.g. `NHS` for a bare NHS number in PID-2). */
  assigner?: string;
}

/**
 * Which messages are identity events (src/domain/identity-event.ts) and where their identifiers are. Kept apart
 * from `births`: an A40 or A24 is about who a patient is, not about a birth, and is mapped whatever the age.
 */
export interface IdentityEventCriteria {
  /** Merges (A40 and kin): each PID's patient absorbs the one its MRG names. */
  mergeEvents: string[];
  /** Links (A24): the first and second PID's patients are related. */
  linkEvents: string[];
  /** Unlinks (A37): the link between the two PIDs' patients is undone. */
  unlinkEvents: string[];
  /** The patient's identifiers in PID (the surviving patient of a merge; each patient of a link). */
  patientIdentifiers: IdentifierSource[];
  /** The prior (merged) patient's identifiers in MRG (MRG-1; MRG-4 in older versions). */
  priorIdentifiers: IdentifierSource[];
}

/** A mapping file as written (overrides leave out what they inherit). */
export interface Hl7v2MappingFile {
  description?: string;
  /** Name (file base name) of the mapping this one refines. */
  extends?: string;
  births?: Partial<BirthCriteria>;
  identityEvents?: Partial<IdentityEventCriteria>;
  /** Default occurrence selector per segment type, e.g. the NK1 whose NK1-3.1 is `MTH`. */
  segmentSelectors?: Record<string, Condition>;
  tables?: Record<string, Record<string, string | boolean>>;
  /** Per canonical field, one rule or fallbacks tried in order. */
  fields?: Partial<Record<TargetName, SourceRule | SourceRule[]>>;
  /** The segment carrying a parent's consents or objections (CON, or the feed's Z-segment); see map-consents.ts. */
  consents?: ConsentSegmentSpec;
  /** Maternity bookings and pregnancy losses (issue 17): which events, where the due date is; see map-booking.ts. */
  antenatal?: BookingSpec;
}

const condition = {
  type: 'object',
  additionalProperties: false,
  required: ['path', 'in'],
  properties: {
    path: { type: 'string', pattern: '^[A-Z][A-Z0-9]{2}-[1-9][0-9]{0,2}(\\.[1-9][0-9]?){0,2}$' },
    in: { type: 'array', minItems: 1, items: { type: 'string' } },
  },
} as const;

const rule = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: condition.properties.path,
    where: {
      type: 'object',
      additionalProperties: false,
      required: ['component', 'in'],
      properties: {
        component: { type: 'integer', minimum: 1, maximum: 99 },
        in: { type: 'array', minItems: 1, items: { type: 'string' } },
      },
    },
    segmentWhere: condition,
    table: { type: 'string', minLength: 1 },
    function: { type: 'string', minLength: 1 },
  },
} as const;

function identifierSource(segment: 'PID' | 'MRG') {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', pattern: `^${segment}-[1-9][0-9]{0,2}$` },
      assigner: { type: 'string', minLength: 1, maxLength: 20 },
    },
  } as const;
}

/** JSON Schema for a mapping file; semantic checks (tables, functions, kinds) follow in the loader. */
export const hl7v2MappingFileSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    description: { type: 'string' },
    extends: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    births: {
      type: 'object',
      additionalProperties: false,
      properties: {
        events: { type: 'array', items: { type: 'string', pattern: '^[A-Z][0-9A-Z]{2}$' } },
        maxAgeDays: { type: 'integer', minimum: 0, maximum: 366 },
        newbornIndicator: condition,
        deathEvents: { type: 'array', items: { type: 'string', pattern: '^[A-Z][0-9A-Z]{2}$' } },
        deathWindowDays: { type: 'integer', minimum: 0, maximum: 3660 },
        updateEvents: { type: 'array', items: { type: 'string', pattern: '^[A-Z][0-9A-Z]{2}$' } },
      },
    },
    identityEvents: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mergeEvents: { type: 'array', items: { type: 'string', pattern: '^[A-Z][0-9A-Z]{2}$' } },
        linkEvents: { type: 'array', items: { type: 'string', pattern: '^[A-Z][0-9A-Z]{2}$' } },
        unlinkEvents: { type: 'array', items: { type: 'string', pattern: '^[A-Z][0-9A-Z]{2}$' } },
        patientIdentifiers: { type: 'array', minItems: 1, items: identifierSource('PID') },
        priorIdentifiers: { type: 'array', minItems: 1, items: identifierSource('MRG') },
      },
    },
    segmentSelectors: {
      type: 'object',
      propertyNames: { pattern: '^[A-Z][A-Z0-9]{2}$' },
      additionalProperties: condition,
    },
    tables: {
      type: 'object',
      additionalProperties: { type: 'object', additionalProperties: { type: ['string', 'boolean'] } },
    },
    fields: {
      type: 'object',
      propertyNames: { enum: TARGET_NAMES },
      additionalProperties: { anyOf: [rule, { type: 'array', minItems: 1, items: rule }] },
    },
    consents: consentSpecSchema,
    antenatal: bookingSpecSchema,
  },
} as const;
