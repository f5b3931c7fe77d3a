/**
 * Runs the compiled rules of one canonical target against a message: picks the segment occurrence and
 * repetitions, then applies the function, table or plain conversion the rule names. Fallback rules are
 * tried in order until one yields a value. Values that are present but unusable give warnings here; the
 * caller decides whether a missing value is an error (e.g. the date of birth).
 */
import { parseHl7DateTime } from '../../domain/hl7-datetime.js';
import { Hl7ErrorCode, type Hl7Location, type Issue } from '../../domain/issue.js';
import type { Hl7Reader, RepRef, SegmentRef } from './hl7-reader.js';
import type { CompiledCondition, CompiledRule } from './build-mappings.js';
import { TARGETS, type KindValue, type TargetName } from './mapping-types.js';

/** A value found for a target, with where it was read. */
export interface Found<T> {
  value: T;
  location: Hl7Location;
}

/** The outcome for one target: a value, nothing, or a present-but-invalid date/time (location kept). */
export type RuleResult<T> = { found: Found<T> } | { found?: undefined; invalidAt?: Hl7Location };

const upper = (s: string | undefined): string => (s ?? '').trim().toUpperCase();

/** True when any repetition of the condition's field has a listed value at its component. */
export function conditionHolds(reader: Hl7Reader, seg: SegmentRef, c: CompiledCondition): boolean {
  return reader.repetitions(seg, c.path.field).some((r) => c.values.has(upper(r.value(c.path.component ?? 1, c.path.subComponent))));
}

function selectSegment(reader: Hl7Reader, rule: CompiledRule): SegmentRef | undefined {
  const all = reader.segments(rule.path.segment);
  const cond = rule.segmentWhere;
  return cond === undefined ? all[0] : all.find((s) => conditionHolds(reader, s, cond));
}

function selectReps(reader: Hl7Reader, seg: SegmentRef, rule: CompiledRule): RepRef[] {
  const reps = reader.repetitions(seg, rule.path.field);
  const w = rule.where;
  return w === undefined ? reps : reps.filter((r) => w.values.has(upper(r.value(w.component))));
}

function warn(issues: Issue[], code: Hl7ErrorCode, target: string, location: Hl7Location, rule: string): void {
  issues.push({ severity: 'warning', code, message: `${target}: ${rule}; value ignored`, location, path: target });
}

/** Evaluates the rules for `target`; warnings for unusable values are appended to `issues`. */
export function applyRules<N extends TargetName>(
  reader: Hl7Reader,
  target: N,
  rules: readonly CompiledRule[] | undefined,
  issues: Issue[],
): RuleResult<KindValue[(typeof TARGETS)[N]['kind']]> {
  type V = KindValue[(typeof TARGETS)[N]['kind']];
  const kind = TARGETS[target].kind;
  let invalidAt: Hl7Location | undefined;
  for (const rule of rules ?? []) {
    const seg = selectSegment(reader, rule);
    if (seg === undefined) continue;
    const reps = selectReps(reader, seg, rule);
    const rep = reps[0];
    if (rep === undefined) continue;
    if (rule.fn !== undefined) {
      const v = rule.fn.fn({ reps, segment: seg, reader });
      if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
      return { found: { value: v as V, location: rep.location() } };
    }
    const component = rule.path.component ?? 1;
    const location = rep.location(rule.path.component);
    if (kind === 'datetime') {
      const raw = rep.raw(component);
      if (raw === undefined) continue;
      const parsed = parseHl7DateTime(raw);
      if (parsed === undefined) {
        invalidAt ??= location;
        continue;
      }
      return { found: { value: parsed as V, location } };
    }
    const text = rep.value(component, rule.path.subComponent)?.trim();
    if (text === undefined || text === '') continue;
    if (rule.table !== undefined) {
      const mapped = rule.table[text.toUpperCase()];
      if (mapped === undefined) {
        warn(issues, Hl7ErrorCode.TableValueNotFound, target, location, 'code not in the mapping table');
        continue;
      }
      return { found: { value: mapped as V, location } };
    }
    if (kind === 'integer' || kind === 'number') {
      const ok = kind === 'integer' ? /^[0-9]{1,6}$/.test(text) : /^[0-9]{1,6}(\.[0-9]+)?$/.test(text);
      if (!ok) {
        warn(issues, Hl7ErrorCode.DataTypeError, target, location, `not ${kind === 'integer' ? 'an integer' : 'a number'}`);
        continue;
      }
      return { found: { value: Number(text) as V, location } };
    }
    return { found: { value: text as V, location } };
  }
  return invalidAt === undefined ? {} : { invalidAt };
}
