/**
 * Rulebook test cases (issue 13 item 6: rules as tested code): `<agreement>.cases.json` beside `<agreement>.json`
 * lists notification fragments and the decision each must get. IG leads add cases without writing code;
 * `npm run rules:test` and `npm test` run every case file against its agreement, and `caseCoverage` says which
 * rule no case makes decide and which condition no case sees true, or false, at the point its rule is tried.
 * Pure: src/config/rulebook-cases.ts reads the files.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';
import { compile } from '../../domain/json-schema.js';
import type { ConditionName, ConsentContext } from './conditions.js';
import { traceDecision, type Decision } from './decide.js';
import type { Effect, Rulebook } from './rulebook.js';

/** A JSON value, for notification fragments. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** One case: a fragment merged over the base notification, an optional consent context, and what must happen. */
export interface RulebookCase {
  name: string;
  /** Deep-merged over `CASE_BASE_NOTIFICATION`; arrays replace, `null` removes a field (e.g. `"mother": null`). */
  notification?: Record<string, Json>;
  context?: ConsentContext;
  expect: { effect: Effect; ruleId: string; dataset?: string; inbox?: string };
}

/** A case file as written. */
export interface RulebookCaseFile {
  description?: string;
  cases: RulebookCase[];
}

/** JSON Schema for a case file. */
export const caseFileSchema = {
  $id: 'https://stork.example/schemas/consent-rulebook-cases.json',
  type: 'object',
  additionalProperties: false,
  required: ['cases'],
  properties: {
    $schema: { type: 'string' },
    description: { type: 'string' },
    cases: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'expect'],
        properties: {
          name: { type: 'string', minLength: 1 },
          notification: { type: 'object' },
          context: {
            type: 'object',
            additionalProperties: false,
            properties: {
              objection: { type: 'boolean' },
              clinicalConsent: { type: 'boolean' },
              consentRecords: { type: 'array', items: { type: 'string' } },
            },
          },
          expect: {
            type: 'object',
            additionalProperties: false,
            required: ['effect', 'ruleId'],
            properties: {
              effect: { enum: ['permit', 'deny', 'review'] },
              ruleId: { type: 'string', minLength: 1 },
              dataset: { type: 'string' },
              inbox: { type: 'string' },
            },
          },
        },
      },
    },
  },
} as const;

export const validateCaseFile = compile<RulebookCaseFile>(caseFileSchema);

/** A synthetic live birth, normal confidentiality, with every field set: the base each case modifies. */
export const CASE_BASE_NOTIFICATION: BirthNotification = {
  baby: {
    nhsNumber: '9000000009',
    nhsNumberStatus: '08',
    localIdentifiers: [{ value: 'RR8123456', assigner: 'RR8', type: 'MR' }],
    name: { family: 'TESTBABY', given: ['ALEX'] },
    sex: 'female',
    birthDate: '2025-03-14',
    birthTime: '2025-03-14T06:12:00+00:00',
    multipleBirth: false,
    birthOrder: 1,
    birthPlace: 'RR8',
    address: { lines: ['1 Sample Street'], city: 'Northgate', postcode: 'LS9 7AB' },
    deceased: false,
  },
  mother: {
    nhsNumber: '9449307946',
    localIdentifiers: [],
    name: { family: 'TESTMOTHER', given: ['SAM'] },
    birthDate: '1994-07-01',
    address: { lines: ['1 Sample Street'], city: 'Northgate', postcode: 'LS9 7AB' },
    phone: '07700900123',
    preferredLanguage: 'en',
  },
  gpPractice: { odsCode: 'B86001' },
  birthDetails: { weightGrams: 3400, gestationWeeks: 39 },
  confidentiality: 'normal',
  source: { format: 'hl7v2', feedId: 'sample-feed', messageControlId: 'CASE-1', event: 'ADT^A28' },
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: unknown, fragment: Json): unknown {
  if (!isObject(fragment) || !isObject(base)) return structuredClone(fragment);
  // A null in the fragment removes that field; anything else replaces or merges into it.
  const out: Record<string, unknown> = Object.fromEntries(
    Object.entries(base)
      .filter(([key]) => fragment[key] !== null)
      .map(([key, value]) => [key, structuredClone(value)]),
  );
  for (const [key, value] of Object.entries(fragment)) {
    if (value !== null) out[key] = merge(out[key], value);
  }
  return out;
}

/**
 * Deep-merges a fragment over a notification (arrays replace, `null` deletes). The result is only as
 * well-formed as the fragment: cases are operator-written test data, not live input.
 */
export function applyFragment(base: BirthNotification, fragment: Record<string, Json> = {}): BirthNotification {
  return merge(base, fragment) as BirthNotification;
}

/** The outcome of one case. */
export interface CaseResult {
  name: string;
  passed: boolean;
  expected: RulebookCase['expect'];
  actual: Decision;
  /** The rules tried and every condition's value (traceDecision), for the coverage check. */
  trace: ReturnType<typeof traceDecision>['trace'];
}

/** Runs every case of a file against a rulebook. Pure. */
export function runRulebookCases(rulebook: Rulebook, file: RulebookCaseFile): CaseResult[] {
  return file.cases.map((c) => {
    const { decision: actual, trace } = traceDecision(applyFragment(CASE_BASE_NOTIFICATION, c.notification), rulebook, c.context ?? {});
    const e = c.expect;
    const passed =
      actual.effect === e.effect &&
      actual.ruleId === e.ruleId &&
      (e.dataset === undefined || actual.dataset === e.dataset) &&
      (e.inbox === undefined || actual.inbox === e.inbox);
    return { name: c.name, passed, expected: e, actual, trace };
  });
}

/** Something no case reaches: a rule that never decides, or one side of a condition never seen where its rule is tried. */
export interface CoverageGap {
  ruleId: string;
  condition?: ConditionName;
  /** The side of the condition no case reaches (absent for a rule that never decides). */
  side?: 'true' | 'false';
  message: string;
}

/**
 * What the cases leave unreached: every rule must decide in at least one case, and every condition of a rule
 * must be seen both true and false in cases where that rule is tried (no earlier rule decided). `always`
 * cannot be false and needs only its true side. A condition that can never be false (or true) where its rule is
 * tried is reported too: it is dead, and the rule should lose it (or move).
 */
export function caseCoverage(rulebook: Rulebook, results: readonly CaseResult[]): CoverageGap[] {
  const decided = new Set<string>();
  const seen = new Map<string, { true: boolean; false: boolean }>();
  const key = (ruleId: string, condition: string) => `${ruleId}\u0000${condition}`;
  for (const r of results) {
    for (const t of r.trace) {
      if (t.decided) decided.add(t.ruleId);
      for (const c of t.conditions) {
        const k = key(t.ruleId, c.condition);
        const s = seen.get(k) ?? { true: false, false: false };
        s[c.holds ? 'true' : 'false'] = true;
        seen.set(k, s);
      }
    }
  }
  const gaps: CoverageGap[] = [];
  rulebook.rules.forEach((rule, i) => {
    if (!decided.has(rule.id)) {
      gaps.push({ ruleId: rule.id, message: `rule "${rule.id}" (/rules/${i}) decides no case` });
    }
    for (const condition of rule.when) {
      const s = seen.get(key(rule.id, condition)) ?? { true: false, false: false };
      for (const side of ['true', 'false'] as const) {
        if (s[side] || (side === 'false' && condition === 'always')) continue;
        gaps.push({
          ruleId: rule.id,
          condition,
          side,
          message: `condition "${condition}" of rule "${rule.id}" (/rules/${i}) is never ${side} in a case where that rule is tried`,
        });
      }
    }
  });
  return gaps;
}
