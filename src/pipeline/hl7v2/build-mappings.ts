/**
 * Builds the HL7 v2 mappings from the parsed `mappings/hl7v2/*.json` files (src/config/hl7v2-mappings.ts
 * reads them at start-up and validates each against the JSON Schema), then checks semantics (known
 * tables and functions of the right kind, resolvable `extends`), resolves inheritance and compiles field
 * paths once, so mapping a message does no string parsing of the mapping. Any problem throws a ConfigError
 * naming the file and the field.
 *
 * `extends` merges section by section: `births` and `segmentSelectors` key by key, `tables` entry by
 * entry within each table, and `fields` target by target (an override replaces the parent's whole rule
 * list for that target).
 */
import { ConfigError } from '../../domain/config-error.js';
import { compile } from '../../domain/json-schema.js';
import { parseFieldPath, type FieldPath } from './hl7-reader.js';
import { MAPPING_FUNCTIONS, type MappingFunction } from './mapping-functions.js';
import { compileConsentSpec, type CompiledConsentSpec } from './map-consents.js';
import { compileBookingSpec, type CompiledBookingSpec } from './booking-spec.js';
import {
  hl7v2MappingFileSchema,
  TARGETS,
  type BirthCriteria,
  type Condition,
  type IdentityEventCriteria,
  type Hl7v2MappingFile,
  type SourceRule,
  type TargetKind,
  type TargetName,
} from './mapping-types.js';

/** A condition with its path parsed and its values upper-cased. */
export interface CompiledCondition {
  path: FieldPath;
  values: ReadonlySet<string>;
}

/** A source rule ready to run. */
export interface CompiledRule {
  path: FieldPath;
  where?: { component: number; values: ReadonlySet<string> };
  segmentWhere?: CompiledCondition;
  table?: Readonly<Record<string, string | boolean>>;
  fn?: { [K in TargetKind]: MappingFunction<K> }[TargetKind];
}

/** A resolved mapping (inheritance applied), as mapHl7v2 uses it. */
export interface Hl7v2Mapping {
  name: string;
  births: {
    events: ReadonlySet<string>;
    maxAgeDays: number;
    newbornIndicator?: CompiledCondition;
    deathEvents: ReadonlySet<string>;
    deathWindowDays: number;
    /** Update events (not birth events): a death report, else an update of a baby already notified. */
    updateEvents: ReadonlySet<string>;
  };
  fields: ReadonlyMap<TargetName, readonly CompiledRule[]>;
  /** Identity events (A40, A24, A37) and where their identifiers are. */
  identity: CompiledIdentityCriteria;
  /** Every segment type the mapping reads: the reader splits only these into fields. */
  segments: ReadonlySet<string>;
  /** Where the message carries consents, if the mapping says. */
  consents?: CompiledConsentSpec;
  /** Maternity bookings and pregnancy losses (issue 17), if the mapping says. */
  antenatal?: CompiledBookingSpec;
}

/** Identity event criteria, ready to run: the events by kind, the identifier sources parsed. */
export interface CompiledIdentityCriteria {
  /** Trigger event → the kind of identity event it is. */
  events: ReadonlyMap<string, 'merge' | 'link' | 'unlink'>;
  patientIdentifiers: readonly { field: number; segment: string; assigner?: string }[];
  priorIdentifiers: readonly { field: number; segment: string; assigner?: string }[];
}

/** All mappings of a directory, by name (file base name). */
export interface Hl7v2MappingSet {
  names(): string[];
  has(name: string): boolean;
  /** Throws ConfigError for an unknown name, so a feed naming a missing mapping stops start-up. */
  get(name: string): Hl7v2Mapping;
}

const DEFAULT_BIRTHS: BirthCriteria = {
  events: ['A28', 'A04', 'A01'],
  maxAgeDays: 28,
  deathEvents: ['A08', 'A31', 'A03'],
  deathWindowDays: 366,
  updateEvents: ['A08', 'A31'],
};
/**
 * Identity events every mapping reads unless it says otherwise: A40 and the other patient-identifier merges (A34,
 * A36, A39; A35 merges accounts only and is not one), A24 links and A37 unlinks; the patient's identifiers in PID-3,
 * the prior patient's in MRG-1, else MRG-4 (prior patient id, older versions).
 */
const DEFAULT_IDENTITY: IdentityEventCriteria = {
  mergeEvents: ['A40', 'A34', 'A36', 'A39'],
  linkEvents: ['A24'],
  unlinkEvents: ['A37'],
  patientIdentifiers: [{ path: 'PID-3' }],
  priorIdentifiers: [{ path: 'MRG-1' }, { path: 'MRG-4' }],
};

/** Validates one parsed mapping file against the JSON Schema (the semantic checks come in the build). */
export const validateHl7v2MappingFile = compile<Hl7v2MappingFile>(hl7v2MappingFileSchema);

function fail(file: string, field: string, problem: string): never {
  const msg = `${file}: field ${field}: ${problem}`;
  throw new ConfigError(msg, [msg]);
}

function compileCondition(c: Condition, file: string, field: string): CompiledCondition {
  const p = parseFieldPath(c.path);
  if (p === undefined) fail(file, `${field}/path`, 'not a field path like PID-3.1');
  return { path: p, values: new Set(c.in.map((v) => v.trim().toUpperCase())) };
}

function merge(parent: Hl7v2MappingFile, child: Hl7v2MappingFile): Hl7v2MappingFile {
  const tables: Record<string, Record<string, string | boolean>> = { ...parent.tables };
  for (const [k, v] of Object.entries(child.tables ?? {})) tables[k] = { ...tables[k], ...v };
  return {
    births: { ...parent.births, ...child.births },
    identityEvents: { ...parent.identityEvents, ...child.identityEvents },
    segmentSelectors: { ...parent.segmentSelectors, ...child.segmentSelectors },
    tables,
    fields: { ...parent.fields, ...child.fields },
    ...((child.consents ?? parent.consents) !== undefined ? { consents: child.consents ?? parent.consents } : {}),
    ...((child.antenatal ?? parent.antenatal) !== undefined ? { antenatal: child.antenatal ?? parent.antenatal } : {}),
  };
}

function compileRule(target: TargetName, r: SourceRule, m: Hl7v2MappingFile, file: string, field: string): CompiledRule {
  const spec: { kind: TargetKind; values?: readonly string[] } = TARGETS[target];
  const p = parseFieldPath(r.path);
  if (p === undefined) fail(file, `${field}/path`, 'not a field path like PID-3.1');
  const out: CompiledRule = { path: p };
  if (r.where) out.where = { component: r.where.component, values: new Set(r.where.in.map((v) => v.toUpperCase())) };
  const segWhere = r.segmentWhere ?? m.segmentSelectors?.[p.segment];
  if (segWhere) {
    out.segmentWhere = compileCondition(segWhere, file, `${field}/segmentWhere`);
    if (out.segmentWhere.path.segment !== p.segment) {
      fail(file, `${field}/segmentWhere`, `selects ${out.segmentWhere.path.segment} but the rule reads ${p.segment}`);
    }
  }
  if (r.function !== undefined) {
    const fn = MAPPING_FUNCTIONS[r.function];
    if (fn === undefined) fail(file, `${field}/function`, `unknown function "${r.function}"`);
    if (fn.kind !== spec.kind) fail(file, `${field}/function`, `"${r.function}" gives ${fn.kind}, ${target} needs ${spec.kind}`);
    out.fn = fn;
  }
  if (r.table !== undefined) {
    const table = m.tables?.[r.table];
    if (table === undefined) fail(file, `${field}/table`, `unknown table "${r.table}"`);
    for (const [code, value] of Object.entries(table)) {
      const ok =
        spec.kind === 'boolean'
          ? typeof value === 'boolean'
          : spec.kind === 'code'
            ? typeof value === 'string' && (spec.values ?? []).includes(value)
            : typeof value === 'string';
      if (!ok) fail(file, `/tables/${r.table}/${code}`, `value not allowed for ${target}`);
    }
    out.table = Object.fromEntries(Object.entries(table).map(([k, v]) => [k.trim().toUpperCase(), v]));
  }
  const needsFunction = ['name', 'address', 'identifiers', 'gp'].includes(spec.kind);
  if (needsFunction && out.fn === undefined) fail(file, field, `${target} needs a "function"`);
  if ((spec.kind === 'code' || spec.kind === 'boolean') && out.fn === undefined && out.table === undefined) {
    fail(file, field, `${target} needs a "table"`);
  }
  return out;
}

function compileMapping(name: string, m: Hl7v2MappingFile, file: string): Hl7v2Mapping {
  const births = { ...DEFAULT_BIRTHS, ...m.births };
  for (const [seg, c] of Object.entries(m.segmentSelectors ?? {})) {
    if (compileCondition(c, file, `/segmentSelectors/${seg}`).path.segment !== seg) {
      fail(file, `/segmentSelectors/${seg}/path`, `must be a path in ${seg}`);
    }
  }
  const fields = new Map<TargetName, CompiledRule[]>();
  for (const [target, value] of Object.entries(m.fields ?? {}) as [TargetName, SourceRule | SourceRule[]][]) {
    const list = Array.isArray(value) ? value : [value];
    fields.set(
      target,
      list.map((r, i) => compileRule(target, r, m, file, `/fields/${target}${Array.isArray(value) ? `/${i}` : ''}`)),
    );
  }
  if (!fields.has('baby.birth')) fail(file, '/fields', 'baby.birth is required (directly or inherited)');
  const identity = compileIdentity({ ...DEFAULT_IDENTITY, ...m.identityEvents }, births, file);
  const consents = m.consents === undefined ? undefined : compileConsentSpec(m.consents, m.tables ?? {});
  if (consents !== undefined && 'problem' in consents) fail(file, consents.field, consents.problem);
  const segments = segmentsRead(fields, births.newbornIndicator?.path);
  if (consents !== undefined) segments.add(consents.segment);
  const antenatal = m.antenatal === undefined ? undefined : compileBookingSpec(m.antenatal);
  if (antenatal !== undefined && 'problem' in antenatal) fail(file, antenatal.field, antenatal.problem);
  if (antenatal !== undefined) for (const s of antenatal.segments) segments.add(s);
  return {
    identity,
    name,
    births: {
      events: new Set(births.events),
      maxAgeDays: births.maxAgeDays,
      // An event listed as both is a birth event: a birth message with a dead baby is handled as a birth.
      deathEvents: new Set([...births.deathEvents, ...births.updateEvents].filter((e) => !births.events.includes(e))),
      deathWindowDays: Math.max(births.deathWindowDays, births.maxAgeDays),
      // An update event is also a death event (a death is the most important update there is).
      updateEvents: new Set(births.updateEvents.filter((e) => !births.events.includes(e))),
      ...(births.newbornIndicator ? { newbornIndicator: compileCondition(births.newbornIndicator, file, '/births/newbornIndicator') } : {}),
    },
    fields,
    segments,
    ...(consents !== undefined ? { consents } : {}),
    ...(antenatal !== undefined ? { antenatal } : {}),
  };
}

function compileIdentity(c: IdentityEventCriteria, births: BirthCriteria, file: string): CompiledIdentityCriteria {
  const events = new Map<string, 'merge' | 'link' | 'unlink'>();
  const birthEvents = new Set([...births.events, ...births.deathEvents]);
  for (const [kind, list, key] of [
    ['merge', c.mergeEvents, 'mergeEvents'],
    ['link', c.linkEvents, 'linkEvents'],
    ['unlink', c.unlinkEvents, 'unlinkEvents'],
  ] as const) {
    for (const e of list) {
      if (events.has(e) || birthEvents.has(e))
        fail(file, `/identityEvents/${key}`, `event ${e} is listed twice (or is also a birth event)`);
      events.set(e, kind);
    }
  }
  const sources = (list: IdentityEventCriteria['patientIdentifiers'], key: string) =>
    list.map((s, i) => {
      const p = parseFieldPath(s.path);
      if (p === undefined) fail(file, `/identityEvents/${key}/${i}/path`, 'not a field path like PID-3');
      return { segment: p.segment, field: p.field, ...(s.assigner !== undefined ? { assigner: s.assigner.trim().toUpperCase() } : {}) };
    });
  return {
    events,
    patientIdentifiers: sources(c.patientIdentifiers, 'patientIdentifiers'),
    priorIdentifiers: sources(c.priorIdentifiers, 'priorIdentifiers'),
  };
}

/** MSH and PID always; then each rule's segment, its selector's, and the newborn indicator's. */
function segmentsRead(fields: ReadonlyMap<TargetName, readonly CompiledRule[]>, indicatorPath: string | undefined): Set<string> {
  const out = new Set(['MSH', 'PID']);
  for (const rules of fields.values()) {
    for (const r of rules) {
      out.add(r.path.segment);
      if (r.segmentWhere) out.add(r.segmentWhere.path.segment);
    }
  }
  if (indicatorPath !== undefined) out.add(indicatorPath.slice(0, 3));
  return out;
}

/** One schema-valid mapping file, by the name feeds use (its base name). */
export interface Hl7v2MappingSource {
  name: string;
  /** Where it came from, for error messages. */
  file: string;
  data: Hl7v2MappingFile;
}

/**
 * Resolves inheritance and compiles every mapping. Pure: `dir` only names the folder in error messages.
 * Throws ConfigError naming the file and field of the first problem.
 */
export function buildHl7v2Mappings(sources: readonly Hl7v2MappingSource[], dir: string): Hl7v2MappingSet {
  const raw = new Map(sources.map((s) => [s.name, { file: s.file, data: s.data }]));
  const resolved = new Map<string, Hl7v2MappingFile>();
  const resolve = (name: string, chain: string[]): Hl7v2MappingFile => {
    const done = resolved.get(name);
    if (done) return done;
    const entry = raw.get(name);
    if (entry === undefined) throw new ConfigError(`unknown HL7 v2 mapping "${name}"`);
    const parentName = entry.data.extends;
    let data = entry.data;
    if (parentName !== undefined) {
      if (chain.includes(parentName)) fail(entry.file, '/extends', `circular: ${[...chain, name, parentName].join(' → ')}`);
      if (!raw.has(parentName)) fail(entry.file, '/extends', `no mapping "${parentName}" in ${dir}`);
      data = merge(resolve(parentName, [...chain, name]), entry.data);
    }
    resolved.set(name, data);
    return data;
  };
  const compiled = new Map<string, Hl7v2Mapping>();
  for (const [name, { file }] of raw) compiled.set(name, compileMapping(name, resolve(name, []), file));
  return {
    names: () => [...compiled.keys()],
    has: (name) => compiled.has(name),
    get: (name) => {
      const m = compiled.get(name);
      if (m === undefined) throw new ConfigError(`unknown HL7 v2 mapping "${name}" (known: ${[...compiled.keys()].join(', ')})`);
      return m;
    },
  };
}
