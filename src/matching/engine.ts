/**
 * The Fellegi–Sunter engine over generic records: a model compiles once (cached per model object) into
 * level predicates and weights; records are prepared once; a pair's score is the prior's log-odds plus,
 * per field, log2(m/u) of the first level that holds (0 when either value is missing).
 */
import { compileLevel, type FieldPair, type LevelPredicate } from './comparators.js';
import {
  bandOf,
  priorWeight,
  probabilityOf,
  type ComparatorKind,
  type Contribution,
  type KeyTransform,
  type LinkageModel,
  type LinkRecord,
  type Score,
} from './model.js';
import { prepareValue, type PreparedValue } from './prepare.js';

interface CompiledLevel {
  level: string;
  pred: LevelPredicate;
  m: number;
  u: number;
  weight: number;
}

interface CompiledField {
  field: string;
  kind: ComparatorKind;
  swapIndex: number;
  levels: CompiledLevel[];
  /** value → frequency, for the term-frequency-adjusted exact level. */
  tf: Map<string, number> | undefined;
}

export interface CompiledModel {
  model: LinkageModel;
  fields: CompiledField[];
  prior: number;
  /** Record field name → the comparator kind used to prepare it (blocking parts may use other fields). */
  kinds: Map<string, ComparatorKind>;
  /** Blocking rules with their parts' field indexes resolved. */
  rules: CompiledRule[];
}

interface CompiledRule {
  prefix: string;
  unordered: boolean;
  parts: { index: number; transform: KeyTransform }[];
}

/** A record with each model field prepared (index-aligned with the model's fields). */
export interface PreparedRecord {
  values: (PreparedValue | undefined)[];
}

const compiledCache = new WeakMap<LinkageModel, CompiledModel>();

/** Compiles (once per model object) or throws an Error naming the field and level that are not understood. */
export function compileModel(model: LinkageModel): CompiledModel {
  const cached = compiledCache.get(model);
  if (cached) return cached;
  const kinds = new Map<string, ComparatorKind>();
  for (const f of model.fields) kinds.set(f.field, f.comparator);
  const fields = model.fields.map((f, i): CompiledField => {
    const swapIndex = f.swapWith === undefined ? -1 : model.fields.findIndex((g) => g.field === f.swapWith);
    if (f.swapWith !== undefined && swapIndex < 0) {
      throw new Error(`fields/${i}/swapWith: '${f.swapWith}' is not a field of the model`);
    }
    const levels = f.levels.map((l, j): CompiledLevel => {
      let pred: LevelPredicate;
      try {
        pred = compileLevel(f.comparator, l.level);
      } catch (err) {
        throw new Error(`fields/${i}/levels/${j}/level: ${(err as Error).message}`, { cause: err });
      }
      return { level: l.level, pred, m: l.m, u: l.u, weight: Math.log2(l.m / l.u) };
    });
    if (levels.at(-1)?.level !== 'else') throw new Error(`fields/${i}/levels: the last level must be 'else'`);
    const tfTable = f.termFrequency ? model.termFrequencies?.[f.field] : undefined;
    return {
      field: f.field,
      kind: f.comparator,
      swapIndex,
      levels,
      tf: tfTable ? new Map(Object.entries(tfTable)) : undefined,
    };
  });
  for (const [i, rule] of model.blocking.entries()) {
    for (const [j, part] of rule.parts.entries()) {
      if (!kinds.has(part.field)) throw new Error(`blocking/${i}/parts/${j}/field: '${part.field}' is not a field of the model`);
    }
  }
  const rules = model.blocking.map((rule) => ({
    prefix: `${rule.name}:`,
    unordered: rule.unordered === true,
    parts: rule.parts.map((p) => ({ index: model.fields.findIndex((f) => f.field === p.field), transform: p.transform })),
  }));
  const compiled: CompiledModel = { model, fields, prior: priorWeight(model), kinds, rules };
  compiledCache.set(model, compiled);
  return compiled;
}

export function prepareRecord(cm: CompiledModel, r: LinkRecord): PreparedRecord {
  return { values: cm.fields.map((f) => prepareValue(f.kind, r[f.field])) };
}

/** Index of the level the pair reaches on field i, or -1 when a value is missing. */
export function levelIndex(cm: CompiledModel, i: number, a: PreparedRecord, b: PreparedRecord): number {
  const f = cm.fields[i];
  const va = a.values[i];
  const vb = b.values[i];
  if (f === undefined || va === undefined || vb === undefined) return -1;
  const pair: FieldPair = {
    a: va,
    b: vb,
    aSwap: f.swapIndex >= 0 ? a.values[f.swapIndex] : undefined,
    bSwap: f.swapIndex >= 0 ? b.values[f.swapIndex] : undefined,
    jw: -1,
  };
  for (let j = 0; j < f.levels.length; j++) if (f.levels[j]?.pred(pair)) return j;
  return f.levels.length - 1;
}

function levelWeight(f: CompiledField | undefined, j: number, value: PreparedValue | undefined): number {
  const l = f?.levels[j];
  if (f === undefined || l === undefined || value === undefined) return 0;
  if (f.tf !== undefined && l.level === 'exact') {
    const freq = f.tf.get(value.s);
    if (freq !== undefined) return Math.log2(l.m / Math.max(freq, l.u / 4));
  }
  return l.weight;
}

/** Total weight only (the hot path for benchmarks and ranking). */
export function pairWeight(cm: CompiledModel, a: PreparedRecord, b: PreparedRecord): number {
  let w = cm.prior;
  for (let i = 0; i < cm.fields.length; i++) {
    const j = levelIndex(cm, i, a, b);
    if (j >= 0) w += levelWeight(cm.fields[i], j, a.values[i]);
  }
  return w;
}

export function scorePrepared(cm: CompiledModel, a: PreparedRecord, b: PreparedRecord): Score {
  let w = cm.prior;
  const contributions: Contribution[] = [];
  for (let i = 0; i < cm.fields.length; i++) {
    const f = cm.fields[i];
    if (f === undefined) continue;
    const j = levelIndex(cm, i, a, b);
    if (j < 0) {
      contributions.push({ field: f.field, level: 'missing', weight: 0 });
      continue;
    }
    const weight = levelWeight(f, j, a.values[i]);
    w += weight;
    contributions.push({ field: f.field, level: f.levels[j]?.level ?? 'else', weight });
  }
  return { weight: w, probability: probabilityOf(w), band: bandOf(cm.model, w), contributions };
}

function keyPart(v: PreparedValue, t: KeyTransform): string {
  switch (t) {
    case 'value':
      return v.s;
    case 'metaphone':
      return v.phon[0] ?? '';
    case 'year':
      return v.s.length === 8 ? v.s.slice(0, 4) : '';
    case 'month-day':
      return v.s.length === 8 ? v.s.slice(4) : '';
    case 'initial':
      return v.s.charAt(0);
    case 'outward':
      return v.outward ?? '';
    case 'sector':
      return v.sector ?? '';
    case 'last6':
      return v.s.length >= 6 ? v.s.slice(-6) : '';
    case 'first-token':
      return v.tokens[0] ?? '';
  }
}

function ruleKeyOf(rule: CompiledRule, r: PreparedRecord): string | undefined {
  const parts: string[] = [];
  for (const part of rule.parts) {
    const v = r.values[part.index];
    const p = v === undefined ? '' : keyPart(v, part.transform);
    if (p === '') return undefined;
    parts.push(p);
  }
  if (rule.unordered) parts.sort();
  return parts.join('|');
}

/**
 * The record's blocking keys: one per rule whose parts are all present, `rule:part|part`. Records
 * sharing at least one key are compared.
 */
export function recordKeys(cm: CompiledModel, r: PreparedRecord): string[] {
  const keys: string[] = [];
  for (const rule of cm.rules) {
    const k = ruleKeyOf(rule, r);
    if (k !== undefined) keys.push(rule.prefix + k);
  }
  return keys;
}

/** The key of one rule only, without its prefix (for training on one blocking rule). */
export function ruleKey(cm: CompiledModel, ruleIndex: number, r: PreparedRecord): string | undefined {
  const rule = cm.rules[ruleIndex];
  return rule === undefined ? undefined : ruleKeyOf(rule, r);
}
