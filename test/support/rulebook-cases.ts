/**
 * Rulebook test cases: `<rulebook>.cases.json` beside `<rulebook>.json` lists notification fragments
 * and the decision each must get. Operators add cases without writing code; the test suite (and later
 * a "what would change?" tool) runs every case file against its rulebook.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BirthNotification } from '../../src/domain/birth-notification.js';
import { loadJsonFile } from '../../src/config/load-json-file.js';
import { compile } from '../../src/domain/json-schema.js';
import type { ConsentContext } from '../../src/pipeline/consent/conditions.js';
import { decide, type Decision } from '../../src/pipeline/consent/decide.js';
import type { Effect, Rulebook } from '../../src/pipeline/consent/rulebook.js';

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

const validateCaseFile = compile<RulebookCaseFile>(caseFileSchema);

/** Reads and validates a case file; a ConfigError names the file and field. */
export function loadRulebookCases(file: string): RulebookCaseFile {
  return loadJsonFile<RulebookCaseFile>(file, validateCaseFile);
}

/** A rulebook file and its case file, found side by side in a directory. */
export interface RulebookWithCases {
  rulebookFile: string;
  casesFile: string | undefined;
}

/** Lists every rulebook in a directory with its case file, if any (`x.json` ↔ `x.cases.json`). */
export function findRulebooks(dir: string): RulebookWithCases[] {
  const names = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const all = new Set(names);
  return names
    .filter((f) => !f.endsWith('.cases.json'))
    .sort()
    .map((f) => {
      const cases = f.replace(/\.json$/, '.cases.json');
      return { rulebookFile: join(dir, f), casesFile: all.has(cases) ? join(dir, cases) : undefined };
    });
}

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
}

/** Runs every case of a file against a rulebook. Pure. */
export function runRulebookCases(rulebook: Rulebook, file: RulebookCaseFile): CaseResult[] {
  return file.cases.map((c) => {
    const actual = decide(applyFragment(CASE_BASE_NOTIFICATION, c.notification), rulebook, c.context ?? {});
    const e = c.expect;
    const passed =
      actual.effect === e.effect &&
      actual.ruleId === e.ruleId &&
      (e.dataset === undefined || actual.dataset === e.dataset) &&
      (e.inbox === undefined || actual.inbox === e.inbox);
    return { name: c.name, passed, expected: e, actual };
  });
}
