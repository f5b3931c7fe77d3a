/**
 * Consents in HL7 v2 (issue 13): a mapping file's `consents` section names the segment that carries them (the
 * standard CON segment of v2.6+, or a feed's own Z-segment such as `ZCN|objection|offer-of-support|20261101`)
 * and where its kind, scope and period are. Each occurrence becomes a ConsentStatement about the message's baby
 * and mother (their NHS numbers as mapped), source `hl7v2`. A code the mapping's tables do not know rejects the
 * message (AE naming the segment and field): an objection must never be dropped silently. A table may map a
 * code to `none` (e.g. CON-11 `P`, pending): that occurrence states nothing.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';
import { CONSENT_SCOPES, type ConsentKind, type ConsentScope, type ConsentStatement } from '../../domain/consent.js';
import { parseHl7DateTime } from '../../domain/hl7-datetime.js';
import { Hl7ErrorCode, type Hl7Location, type Issue } from '../../domain/issue.js';
import { parseFieldPath, type FieldPath, type Hl7Reader, type SegmentRef } from './hl7-reader.js';

/** The `consents` section of a mapping file, as written. */
export interface ConsentSegmentSpec {
  /** The segment type: `CON` or a Z-segment. */
  segment: string;
  /** Where the kind is, and the table turning its codes into `consent`, `objection` or `none`. */
  kind: { path: string; table: string };
  /** Where the scope is, and the table turning its codes into a scope. */
  scope: { path: string; table: string };
  /** First and last day it applies (HL7 dates), when sent. */
  from?: string;
  to?: string;
  /** Who it applies to; `any` when not given. */
  recipient?: string;
}

/** The section compiled: paths parsed, tables upper-cased and checked. */
export interface CompiledConsentSpec {
  segment: string;
  kind: { path: FieldPath; table: ReadonlyMap<string, ConsentKind | 'none'> };
  scope: { path: FieldPath; table: ReadonlyMap<string, ConsentScope> };
  from?: FieldPath;
  to?: FieldPath;
  recipient: string;
}

/** JSON Schema of the section (part of the mapping file's schema). */
export const consentSpecSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['segment', 'kind', 'scope'],
  properties: {
    segment: { type: 'string', pattern: '^(CON|Z[A-Z0-9]{2})$' },
    kind: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'table'],
      properties: { path: { type: 'string' }, table: { type: 'string', minLength: 1 } },
    },
    scope: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'table'],
      properties: { path: { type: 'string' }, table: { type: 'string', minLength: 1 } },
    },
    from: { type: 'string' },
    to: { type: 'string' },
    recipient: { type: 'string', pattern: '^(any|centre:[a-z0-9][a-z0-9-]*|local-authority:[a-z0-9][a-z0-9-]*)$' },
  },
} as const;

/**
 * Compiles the section against the mapping's tables. Returns the problem (`field`, words) instead of throwing,
 * so the mapping loader reports it with the file's name.
 */
export function compileConsentSpec(
  spec: ConsentSegmentSpec,
  tables: Readonly<Record<string, Record<string, string | boolean>>>,
): CompiledConsentSpec | { field: string; problem: string } {
  const path = (p: string, field: string): FieldPath | { field: string; problem: string } => {
    const parsed = parseFieldPath(p);
    if (parsed === undefined) return { field, problem: 'not a field path like ZCN-1' };
    if (parsed.segment !== spec.segment) return { field, problem: `must be a path in ${spec.segment}` };
    return parsed;
  };
  const isProblem = (x: unknown): x is { field: string; problem: string } => typeof x === 'object' && x !== null && 'problem' in x;
  const kindPath = path(spec.kind.path, '/consents/kind/path');
  if (isProblem(kindPath)) return kindPath;
  const scopePath = path(spec.scope.path, '/consents/scope/path');
  if (isProblem(scopePath)) return scopePath;
  const kindTable = tables[spec.kind.table];
  if (kindTable === undefined) return { field: '/consents/kind/table', problem: `unknown table "${spec.kind.table}"` };
  const scopeTable = tables[spec.scope.table];
  if (scopeTable === undefined) return { field: '/consents/scope/table', problem: `unknown table "${spec.scope.table}"` };
  const kinds = new Map<string, ConsentKind | 'none'>();
  for (const [code, v] of Object.entries(kindTable)) {
    if (v !== 'consent' && v !== 'objection' && v !== 'none')
      return { field: `/tables/${spec.kind.table}/${code}`, problem: 'must be consent, objection or none' };
    kinds.set(code.trim().toUpperCase(), v);
  }
  const scopes = new Map<string, ConsentScope>();
  for (const [code, v] of Object.entries(scopeTable)) {
    const scope = CONSENT_SCOPES.find((s) => s === v);
    if (scope === undefined)
      return { field: `/tables/${spec.scope.table}/${code}`, problem: `must be one of ${CONSENT_SCOPES.join(', ')}` };
    scopes.set(code.trim().toUpperCase(), scope);
  }
  const out: CompiledConsentSpec = {
    segment: spec.segment,
    kind: { path: kindPath, table: kinds },
    scope: { path: scopePath, table: scopes },
    recipient: spec.recipient ?? 'any',
  };
  for (const key of ['from', 'to'] as const) {
    const p = spec[key];
    if (p === undefined) continue;
    const parsed = path(p, `/consents/${key}`);
    if (isProblem(parsed)) return parsed;
    out[key] = parsed;
  }
  return out;
}

const at = (seg: SegmentRef, p: FieldPath): Hl7Location => ({
  segment: seg.type,
  sequence: seg.sequence,
  field: p.field,
  ...(p.component !== undefined ? { component: p.component } : {}),
});

const valueAt = (reader: Hl7Reader, seg: SegmentRef, p: FieldPath): string | undefined =>
  reader.repetitions(seg, p.field)[0]?.value(p.component ?? 1, p.subComponent);

const error = (code: Hl7ErrorCode, message: string, location: Hl7Location): Issue => ({ severity: 'error', code, message, location });

/**
 * The statements of every occurrence of the spec's segment, about `n`'s baby and mother. Issues (errors) for a
 * code no table knows, a date that is not a date, a period ending before it starts, or a message without either
 * NHS number to key the statement by.
 */
export function mapConsentSegments(
  reader: Hl7Reader,
  spec: CompiledConsentSpec,
  n: BirthNotification,
): { consents: ConsentStatement[]; issues: Issue[] } {
  const consents: ConsentStatement[] = [];
  const issues: Issue[] = [];
  for (const seg of reader.segments(spec.segment)) {
    const kindCode = valueAt(reader, seg, spec.kind.path)?.trim().toUpperCase();
    const kind = kindCode === undefined ? undefined : spec.kind.table.get(kindCode);
    if (kind === undefined) {
      issues.push(
        error(
          kindCode === undefined ? Hl7ErrorCode.RequiredFieldMissing : Hl7ErrorCode.TableValueNotFound,
          kindCode === undefined ? 'consent kind is missing' : 'consent kind is not a known code',
          at(seg, spec.kind.path),
        ),
      );
      continue;
    }
    if (kind === 'none') continue;
    const scopeCode = valueAt(reader, seg, spec.scope.path)?.trim().toUpperCase();
    const scope = scopeCode === undefined ? undefined : spec.scope.table.get(scopeCode);
    if (scope === undefined) {
      issues.push(
        error(
          scopeCode === undefined ? Hl7ErrorCode.RequiredFieldMissing : Hl7ErrorCode.TableValueNotFound,
          scopeCode === undefined ? 'consent scope is missing' : 'consent scope is not a known code',
          at(seg, spec.scope.path),
        ),
      );
      continue;
    }
    const period: Pick<ConsentStatement, 'from' | 'to'> = {};
    let bad = false;
    for (const key of ['from', 'to'] as const) {
      const p = spec[key];
      if (p === undefined) continue;
      const raw = valueAt(reader, seg, p);
      if (raw === undefined) continue;
      const t = parseHl7DateTime(raw.trim());
      if (t === undefined || t.precision === 'year' || t.precision === 'month') {
        issues.push(error(Hl7ErrorCode.DataTypeError, `consent ${key} date is not a date to the day`, at(seg, p)));
        bad = true;
      } else period[key] = t.date;
    }
    if (bad) continue;
    if (period.from !== undefined && period.to !== undefined && period.to < period.from && spec.to !== undefined) {
      issues.push(error(Hl7ErrorCode.DataTypeError, 'consent period ends before it starts', at(seg, spec.to)));
      continue;
    }
    const baby = n.baby.nhsNumber;
    const mother = n.mother?.nhsNumber;
    if (baby === undefined && mother === undefined) {
      issues.push(
        error(
          Hl7ErrorCode.RequiredFieldMissing,
          "a consent needs the baby's or the mother's NHS number in the message, to be kept in the register",
          { segment: seg.type, sequence: seg.sequence },
        ),
      );
      continue;
    }
    consents.push({
      kind,
      scope,
      recipient: spec.recipient,
      ...period,
      source: 'hl7v2',
      ...(mother !== undefined ? { motherNhsNumber: mother } : {}),
      ...(baby !== undefined ? { babyNhsNumber: baby } : {}),
    });
  }
  return { consents, issues };
}
