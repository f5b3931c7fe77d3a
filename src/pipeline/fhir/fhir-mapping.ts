/**
 * Declarative FHIR R4 → canonical maps (`mappings/fhir/*.json`): which message events a feed may send, how
 * old a newborn may be, and the systems, codes and URLs that say where each canonical field is in a birth
 * message Bundle. Read at start-up by src/config/fhir-mappings.ts, checked against the JSON Schema here and
 * then for sense (no code given twice, deaths looked for at least as long as births); a bad file stops
 * start-up naming the file and the field, like `mappings/hl7v2`. Pure.
 */
import { ConfigError } from '../../domain/config-error.js';
import { compile } from '../../domain/json-schema.js';
import type { Confidentiality } from '../../domain/birth-notification.js';

export interface Coding {
  system: string;
  code: string;
}

/** A measurement Observation: the codes that identify it and the factor from each UCUM unit to the canonical one. */
export interface ObservationRule {
  codes: Coding[];
  /** UCUM code → factor to the canonical unit (grams, weeks), e.g. `{ "kg": 1000, "g": 1 }`. */
  units: Record<string, number>;
}

export interface FhirMappingFile {
  $schema?: string;
  description: string;
  /** MessageHeader.eventCoding values accepted; any other event is refused (not-supported). */
  events: Coding[];
  /**
   * MessageHeader.eventCoding values (accepted too) that mark the message an update about a baby: its values
   * replace those of the baby's notification; about a baby Stork has not notified it makes none.
   */
  updateEvents?: Coding[];
  births: {
    /** A baby older than this (days) at Bundle.timestamp, or at receipt, is not a newborn: not relevant. */
    maxAgeDays: number;
    /** A deceased baby is looked for up to this many days after birth (a death withdraws a notification). */
    deathWindowDays: number;
  };
  identifiers: {
    /** Identifier.system of the NHS number (UK Core: https://fhir.nhs.uk/Id/nhs-number). */
    nhsNumber: string;
    /** Identifier.system of ODS organisation codes (GP practice). */
    odsOrganisation: string;
  };
  extensions: {
    nhsNumberVerificationStatus: string;
    birthTime: string;
    birthPlace: string;
  };
  /** RelatedPerson.relationship codings that make a RelatedPerson the baby's mother. */
  motherRelationships: Coding[];
  observations: {
    birthWeight: ObservationRule;
    gestation: ObservationRule;
    /** Number of babies born at this delivery (UK: SNOMED 382341000000101): more than one = multiple birth. */
    numberOfBirths?: { codes: Coding[] };
  };
  /** meta.security codings and the confidentiality each means; the most restrictive found applies. */
  confidentiality: { system: string; codes: Record<string, Exclude<Confidentiality, 'normal'>> };
  /** Only for NEMS feeds (`"kind": "nems"`): how the STU3 PDS birth notification says what R4 says elsewhere. */
  nems?: NemsRules;
  /**
   * Emergency-department attendances for the triggers (issue 17; src/pipeline/fhir/map-fhir-attendance.ts): the
   * MessageHeader.eventCoding values (accepted too) whose Encounter is read as an attendance when its class is one of
   * `encounterClasses` (sample: v3 ActCode `EMER`).
   */
  attendances?: { events: Coding[]; encounterClasses: Coding[] };
  /** Antenatal bookings and pregnancy losses (issue 17 item 1; src/pipeline/fhir/map-fhir-antenatal.ts). */
  antenatal?: FhirAntenatalRules;
}

/**
 * The `antenatal` section: which MessageHeader events are maternity bookings and pregnancy outcomes, and the codes
 * that find the pregnancy, its estimated due date and a loss in the Bundle.
 */
export interface FhirAntenatalRules {
  /** Events whose message is a booking (sample: `antenatal-booking`). */
  bookingEvents: Coding[];
  /** Events whose message reports how a pregnancy ended (sample: `pregnancy-outcome`); a loss code in it is a loss. */
  lossEvents: Coding[];
  /** EpisodeOfCare.type codings of the pregnancy's antenatal episode (sample: SNOMED 424525001 Antenatal care). */
  episodeTypes: Coding[];
  /** Condition.code codings of the pregnancy (sample: SNOMED 77386006 Pregnancy). */
  pregnancyConditions: Coding[];
  dueDate: {
    /** Observation.code codings of the estimated due date (valueDateTime; sample: LOINC 11778-8). */
    observationCodes: Coding[];
    /** Extension URLs (valueDate or valueDateTime) on the pregnancy Condition or EpisodeOfCare that carry it. */
    extensions?: string[];
  };
  /** Observation.code codings of a pregnancy outcome whose valueCodeableConcept may be a loss code (sample: LOINC 63893-2). */
  outcomeObservationCodes: Coding[];
  /** The codes that report a pregnancy loss (Condition.code, outcome value): the HL7 v2 booking mapping's `lossCodes`. */
  lossCodes: Coding[];
}

/** The NHS national birth notification (STU3, `pds-birth-notification-1` / `PDS003`) rules of a mapping. */
export interface NemsRules {
  /** The stillbirth Observation's code, and the indicator values (valueCodeableConcept) that mean born alive. */
  stillbirth: { codes: Coding[]; liveIndicators: Coding[] };
  /** EpisodeOfCare.type of the delivery place episode; its managingOrganization is the place of delivery. */
  deliveryPlaceEpisode: Coding;
  /** A generalPractitioner reference starting with this is a directory URL ending in the practice's ODS code. */
  gpDirectoryPrefix: string;
  /** meta.security systems read as `confidentiality.system` (STU3 and R4 spell the v3 Confidentiality system differently). */
  confidentialitySystemAliases: string[];
}

const coding = {
  type: 'object',
  additionalProperties: false,
  required: ['system', 'code'],
  properties: { system: { type: 'string', minLength: 1 }, code: { type: 'string', minLength: 1 } },
};
const codings = { type: 'array', items: coding, minItems: 1 };
const observationRule = {
  type: 'object',
  additionalProperties: false,
  required: ['codes', 'units'],
  properties: {
    codes: codings,
    units: { type: 'object', minProperties: 1, additionalProperties: { type: 'number', exclusiveMinimum: 0 } },
  },
};
const uri = { type: 'string', pattern: '^(https?|urn):\\S+$' };

export const fhirMappingFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['description', 'events', 'births', 'identifiers', 'extensions', 'motherRelationships', 'observations', 'confidentiality'],
  properties: {
    $schema: { type: 'string' },
    description: { type: 'string', minLength: 1 },
    events: codings,
    updateEvents: codings,
    births: {
      type: 'object',
      additionalProperties: false,
      required: ['maxAgeDays', 'deathWindowDays'],
      properties: {
        maxAgeDays: { type: 'integer', minimum: 0, maximum: 366 },
        deathWindowDays: { type: 'integer', minimum: 0, maximum: 3660 },
      },
    },
    identifiers: {
      type: 'object',
      additionalProperties: false,
      required: ['nhsNumber', 'odsOrganisation'],
      properties: { nhsNumber: uri, odsOrganisation: uri },
    },
    extensions: {
      type: 'object',
      additionalProperties: false,
      required: ['nhsNumberVerificationStatus', 'birthTime', 'birthPlace'],
      properties: { nhsNumberVerificationStatus: uri, birthTime: uri, birthPlace: uri },
    },
    motherRelationships: codings,
    observations: {
      type: 'object',
      additionalProperties: false,
      required: ['birthWeight', 'gestation'],
      properties: {
        birthWeight: observationRule,
        gestation: observationRule,
        numberOfBirths: { type: 'object', additionalProperties: false, required: ['codes'], properties: { codes: codings } },
      },
    },
    nems: {
      type: 'object',
      additionalProperties: false,
      required: ['stillbirth', 'deliveryPlaceEpisode', 'gpDirectoryPrefix', 'confidentialitySystemAliases'],
      properties: {
        stillbirth: {
          type: 'object',
          additionalProperties: false,
          required: ['codes', 'liveIndicators'],
          properties: { codes: codings, liveIndicators: codings },
        },
        deliveryPlaceEpisode: coding,
        gpDirectoryPrefix: { type: 'string', pattern: '^https://\\S+/$' },
        confidentialitySystemAliases: { type: 'array', items: uri },
      },
    },
    attendances: {
      type: 'object',
      additionalProperties: false,
      required: ['events', 'encounterClasses'],
      properties: { events: codings, encounterClasses: codings },
    },
    antenatal: {
      type: 'object',
      additionalProperties: false,
      required: ['bookingEvents', 'lossEvents', 'episodeTypes', 'pregnancyConditions', 'dueDate', 'outcomeObservationCodes', 'lossCodes'],
      properties: {
        bookingEvents: codings,
        lossEvents: codings,
        episodeTypes: codings,
        pregnancyConditions: codings,
        dueDate: {
          type: 'object',
          additionalProperties: false,
          required: ['observationCodes'],
          properties: { observationCodes: codings, extensions: { type: 'array', items: uri } },
        },
        outcomeObservationCodes: codings,
        lossCodes: codings,
      },
    },
    confidentiality: {
      type: 'object',
      additionalProperties: false,
      required: ['system', 'codes'],
      properties: {
        system: uri,
        codes: { type: 'object', minProperties: 1, additionalProperties: { enum: ['restricted', 'very-restricted'] } },
      },
    },
  },
};
/** The schema check, for the loader. */
export const validateFhirMappingFile = compile<FhirMappingFile>(fhirMappingFileSchema);

/** A mapping ready to use: code lists as sets keyed `system|code`. */
export interface FhirMapping {
  name: string;
  file: FhirMappingFile;
  /** Accepted events, update and attendance events included. */
  events: ReadonlySet<string>;
  updateEvents: ReadonlySet<string>;
  /** Events read as emergency-department attendances (`attendances.events`). */
  attendanceEvents: ReadonlySet<string>;
  /** Events read as antenatal bookings and pregnancy outcomes (`antenatal.bookingEvents`, `antenatal.lossEvents`). */
  antenatalBookingEvents: ReadonlySet<string>;
  antenatalLossEvents: ReadonlySet<string>;
  motherRelationships: ReadonlySet<string>;
  birthWeight: ReadonlySet<string>;
  gestation: ReadonlySet<string>;
  numberOfBirths: ReadonlySet<string>;
  stillbirth: ReadonlySet<string>;
  liveIndicators: ReadonlySet<string>;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
export const codingKey = (c: { system?: unknown; code?: unknown }): string => `${text(c.system)}|${text(c.code)}`;

export class FhirMappingSet {
  constructor(private readonly byName: ReadonlyMap<string, FhirMapping>) {}
  names(): string[] {
    return [...this.byName.keys()];
  }
  get(name: string): FhirMapping {
    const m = this.byName.get(name);
    if (!m) throw new Error(`no FHIR mapping named ${name}`);
    return m;
  }
}

/** Checks one file's content beyond the schema; each problem names the field. */
export function mappingProblems(data: FhirMappingFile): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const claim = (list: readonly Coding[], field: string) =>
    list.forEach((c, i) => {
      const key = codingKey(c);
      const before = seen.get(key);
      if (before !== undefined) problems.push(`field ${field}/${i}: code ${c.code} of ${c.system} is already used at ${before}`);
      else seen.set(key, `${field}/${i}`);
    });
  claim(data.observations.birthWeight.codes, '/observations/birthWeight/codes');
  claim(data.observations.gestation.codes, '/observations/gestation/codes');
  if (data.observations.numberOfBirths) claim(data.observations.numberOfBirths.codes, '/observations/numberOfBirths/codes');
  if (data.nems) claim(data.nems.stillbirth.codes, '/nems/stillbirth/codes');
  const births = new Set(data.events.map(codingKey));
  (data.updateEvents ?? []).forEach((c, i) => {
    if (births.has(codingKey(c)))
      problems.push(`field /updateEvents/${i}: code ${c.code} of ${c.system} is already a birth event (/events)`);
  });
  const updates = new Set((data.updateEvents ?? []).map(codingKey));
  (data.attendances?.events ?? []).forEach((c, i) => {
    if (births.has(codingKey(c)) || updates.has(codingKey(c)))
      problems.push(`field /attendances/events/${i}: code ${c.code} of ${c.system} is already a birth or update event`);
  });
  const attendances = new Set((data.attendances?.events ?? []).map(codingKey));
  const a = data.antenatal;
  if (a !== undefined) {
    const bookings = new Set(a.bookingEvents.map(codingKey));
    const check = (list: readonly Coding[], field: string, also: ReadonlySet<string>) =>
      list.forEach((c, i) => {
        const k = codingKey(c);
        if (births.has(k) || updates.has(k) || attendances.has(k) || also.has(k))
          problems.push(`field /antenatal/${field}/${i}: code ${c.code} of ${c.system} is already another kind of event`);
      });
    check(a.bookingEvents, 'bookingEvents', new Set());
    check(a.lossEvents, 'lossEvents', bookings);
    const own = new Map<string, string>();
    const claimOwn = (list: readonly Coding[], field: string) =>
      list.forEach((c, i) => {
        const before = own.get(codingKey(c));
        if (before !== undefined)
          problems.push(`field /antenatal/${field}/${i}: code ${c.code} of ${c.system} is already used at ${before}`);
        else own.set(codingKey(c), `/antenatal/${field}/${i}`);
      });
    claimOwn(a.pregnancyConditions, 'pregnancyConditions');
    claimOwn(a.lossCodes, 'lossCodes');
    claimOwn(a.dueDate.observationCodes, 'dueDate/observationCodes');
    claimOwn(a.outcomeObservationCodes, 'outcomeObservationCodes');
  }
  if (data.births.deathWindowDays < data.births.maxAgeDays)
    problems.push('field /births/deathWindowDays: must be at least maxAgeDays (a death is looked for at least as long as a birth)');
  return problems;
}

export function compileFhirMapping(name: string, data: FhirMappingFile): FhirMapping {
  const keys = (list: readonly Coding[] = []) => new Set(list.map(codingKey));
  return {
    name,
    file: data,
    events: keys([
      ...data.events,
      ...(data.updateEvents ?? []),
      ...(data.attendances?.events ?? []),
      ...(data.antenatal?.bookingEvents ?? []),
      ...(data.antenatal?.lossEvents ?? []),
    ]),
    updateEvents: keys(data.updateEvents),
    attendanceEvents: keys(data.attendances?.events),
    antenatalBookingEvents: keys(data.antenatal?.bookingEvents),
    antenatalLossEvents: keys(data.antenatal?.lossEvents),
    motherRelationships: keys(data.motherRelationships),
    birthWeight: keys(data.observations.birthWeight.codes),
    gestation: keys(data.observations.gestation.codes),
    numberOfBirths: keys(data.observations.numberOfBirths?.codes),
    stillbirth: keys(data.nems?.stillbirth.codes),
    liveIndicators: keys(data.nems?.stillbirth.liveIndicators),
  };
}

/**
 * Checks each mapping file (already schema-valid) for sense and builds the set; the mapping's name is its file
 * name without `.json`. Every problem names the file and the field.
 */
export function buildFhirMappings(sources: readonly { name: string; file: string; data: FhirMappingFile }[]): FhirMappingSet {
  const problems: string[] = [];
  const byName = new Map<string, FhirMapping>();
  for (const { name, file, data } of sources) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
      problems.push(`${file}: the file name must be lower case letters, digits and hyphens (it is the mapping's name)`);
      continue;
    }
    const more = mappingProblems(data).map((p) => `${file}: ${p}`);
    if (more.length > 0) problems.push(...more);
    else byName.set(name, compileFhirMapping(name, data));
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  return new FhirMappingSet(byName);
}
