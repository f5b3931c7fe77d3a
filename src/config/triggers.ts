/**
 * Trigger agreements (issue 17 item 2): `consent-rules/triggers/*.json`, each an information-sharing agreement that
 * declares triggers (a value set of codes, the recipient, the lawful basis), and the one each local authority uses
 * (`triggers` in `mappings/agreements.json`: local authority id → trigger agreement id). A local authority with none
 * has no lawful basis for any trigger: a matching event there is audited as not fired. Every file is checked against
 * JSON Schema on load (systems and code shapes included); any problem stops start-up naming the file and field.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/config-error.js';
import { compile } from '../domain/json-schema.js';
import { ICD10_SYSTEM, SNOMED_SYSTEM, type Trigger, type TriggerAgreement } from '../domain/trigger.js';
import type { DeclaredTrigger } from '../pipeline/triggers/evaluate-trigger.js';
import { AGREEMENT_HEADER_REQUIRED, agreementHeaderProperties } from '../pipeline/consent/agreement-header-schema.js';
import { rulebookHash } from '../pipeline/consent/rulebook.js';
import { loadJsonFile } from './load-json-file.js';

const ID = '^[a-z0-9][a-z0-9-]*$';

const codeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['system', 'code'],
  properties: {
    system: { enum: [ICD10_SYSTEM, SNOMED_SYSTEM] },
    code: { type: 'string' },
    descendants: { type: 'boolean' },
    display: { type: 'string', maxLength: 200 },
  },
  allOf: [
    {
      if: { properties: { system: { const: ICD10_SYSTEM } } },
      then: { properties: { code: { type: 'string', pattern: '^[A-Z][0-9]{2}(\\.?[0-9A-Z]{1,2})?$' } } },
    },
    {
      if: { properties: { system: { const: SNOMED_SYSTEM } } },
      then: { properties: { code: { type: 'string', pattern: '^[1-9][0-9]{5,17}$' } } },
    },
  ],
} as const;

export const triggerAgreementSchema = {
  $id: 'https://stork.example/schemas/trigger-agreement.json',
  type: 'object',
  additionalProperties: false,
  // The header every information-sharing agreement has (a description and a review date included), then its triggers.
  required: [...AGREEMENT_HEADER_REQUIRED, 'triggers'],
  properties: {
    ...agreementHeaderProperties,
    triggers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'description', 'event', 'valueSet', 'recipient', 'lawfulBasis'],
        properties: {
          id: { type: 'string', pattern: ID },
          name: { type: 'string', minLength: 1, maxLength: 120 },
          description: { type: 'string', minLength: 1 },
          event: { enum: ['ae-attendance'] },
          valueSet: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'name', 'codes'],
            properties: {
              id: { type: 'string', pattern: ID },
              name: { type: 'string', minLength: 1 },
              codes: { type: 'array', minItems: 1, maxItems: 5000, items: codeSchema },
            },
          },
          recipient: {
            type: 'object',
            additionalProperties: false,
            required: ['inbox', 'name'],
            properties: { inbox: { type: 'string', pattern: ID }, name: { type: 'string', minLength: 1 } },
          },
          lawfulBasis: { type: 'string', minLength: 10 },
          nhsNumber: { enum: ['verified', 'verified-or-unstated'] },
        },
      },
    },
  },
} as const;

type TriggerAgreementFile = Omit<TriggerAgreement, 'hash'> & { $schema?: string; description: string };
const validateTriggerAgreement = compile<TriggerAgreementFile>(triggerAgreementSchema);

/** The part of agreements.json read here (the rest is src/pipeline/consent/agreements.ts's). */
const validateChoice = compile<{ triggers?: Record<string, string> }>({
  $id: 'https://stork.example/schemas/agreements-triggers.json',
  type: 'object',
  properties: {
    triggers: { type: 'object', propertyNames: { pattern: ID }, additionalProperties: { type: 'string', pattern: ID } },
  },
});

/** The loaded trigger agreements and which one each local authority uses. */
export interface TriggerConfig {
  readonly agreements: ReadonlyMap<string, TriggerAgreement>;
  readonly byLocalAuthority: ReadonlyMap<string, TriggerAgreement>;
  /** Every trigger of every agreement, with its agreement. */
  readonly all: readonly DeclaredTrigger[];
  /** Recipient inbox id → its name (the early-help queues). */
  readonly inboxes: ReadonlyMap<string, string>;
}

export const NO_TRIGGERS: TriggerConfig = { agreements: new Map(), byLocalAuthority: new Map(), all: [], inboxes: new Map() };

/**
 * Loads `<rulesDir>/triggers/*.json` and agreements.json's `triggers`. No folder: no triggers (and a `triggers` key
 * naming one is an error). `reservedInboxes` (the centres' and review inboxes) may not be a trigger's recipient.
 */
export function loadTriggers(
  rulesDir: string,
  agreementsFile: string,
  localAuthorityIds: ReadonlySet<string>,
  reservedInboxes: ReadonlySet<string>,
): TriggerConfig {
  const dir = path.join(rulesDir, 'triggers');
  const problems: string[] = [];
  const agreements = new Map<string, TriggerAgreement>();
  const inboxes = new Map<string, string>();
  const triggerIds = new Map<string, string>();
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => path.join(dir, f))
    : [];
  for (const file of files) {
    let data: TriggerAgreementFile;
    try {
      data = loadJsonFile(file, validateTriggerAgreement);
    } catch (err) {
      if (err instanceof ConfigError) {
        problems.push(...err.problems);
        continue;
      }
      throw err;
    }
    if (agreements.has(data.id)) problems.push(`${file}: field /id: trigger agreement id "${data.id}" is used by another file`);
    data.triggers.forEach((t: Trigger, i) => {
      const other = triggerIds.get(t.id);
      if (other !== undefined) problems.push(`${file}: field /triggers/${i}/id: trigger id "${t.id}" is also declared in ${other}`);
      triggerIds.set(t.id, file);
      if (reservedInboxes.has(t.recipient.inbox))
        problems.push(`${file}: field /triggers/${i}/recipient/inbox: "${t.recipient.inbox}" is a centre's or review inbox`);
      inboxes.set(t.recipient.inbox, t.recipient.name);
    });
    const { $schema: _s, description: _d, ...content } = data;
    agreements.set(data.id, { ...content, hash: rulebookHash(data) });
  }
  const byLocalAuthority = new Map<string, TriggerAgreement>();
  if (existsSync(agreementsFile)) {
    try {
      const choice = loadJsonFile(agreementsFile, validateChoice);
      for (const [la, id] of Object.entries(choice.triggers ?? {})) {
        if (!localAuthorityIds.has(la))
          problems.push(`${agreementsFile}: field /triggers/${la}: no local authority "${la}" in mappings/catchments.json`);
        const a = agreements.get(id);
        if (a === undefined) problems.push(`${agreementsFile}: field /triggers/${la}: no trigger agreement "${id}" in ${dir}`);
        else byLocalAuthority.set(la, a);
      }
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  const all = [...agreements.values()].flatMap((agreement) => agreement.triggers.map((trigger) => ({ trigger, agreement })));
  return { agreements, byLocalAuthority, all, inboxes };
}
