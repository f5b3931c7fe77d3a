/**
 * Consent rulebooks (`consent-rules/*.json`): for one purpose, an ordered list of declarative rules;
 * the first rule whose named conditions all hold decides. Loading validates the file (JSON Schema,
 * known condition and dataset names, unique rule ids) and then proves the product's safety rules
 * against every combination of conditions, so an unsafe edit stops start-up instead of reaching a family.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../../domain/config-error.js';
import { compile } from '../../domain/json-schema.js';
import { CONDITION_NAMES, isConditionName, type ConditionName } from './conditions.js';
import { CLINICAL_FIELDS, CONTACT_FIELDS, DATASETS, isDatasetName, type DatasetName } from './datasets.js';
import { AGREEMENT_TEXT } from './agreement-header-schema.js';
import { agreementFileSchema } from './agreement-file-schema.js';
import { firstMatchUnderEveryCombination } from './rule-combinations.js';

/** What a rule decides: share, never share, or send to people for review. */
export type Effect = 'permit' | 'deny' | 'review';

/**
 * Review inboxes a rule may send to (inbox ids): the safeguarding team's, and the young-parents pathway's (a
 * named team, e.g. the family nurse partnership, that reviews births to mothers under 18).
 */
export const REVIEW_INBOXES = ['safeguarding-review', 'young-parents-review'] as const;
export type ReviewInbox = (typeof REVIEW_INBOXES)[number];

/** One rule as loaded: condition and dataset names are checked against the registries. */
export interface Rule {
  id: string;
  description: string;
  /** All must hold. */
  when: ConditionName[];
  effect: Effect;
  dataset?: DatasetName;
  inbox?: ReviewInbox;
  /** The legal basis for the decision, quoted in every audit event. */
  lawfulBasis: string;
}

/** An organisation that signed an information-sharing agreement, and its part in it. */
export interface Party {
  name: string;
  /** e.g. `data controller (discloser)`, `data controller (recipient)`. */
  role: string;
  /** Its ODS code, where it has one. */
  odsCode?: string;
}

/**
 * A loaded, checked rulebook for one purpose: an information-sharing agreement between the parties, in
 * force for the local authorities configured to use it (mappings/agreements.json).
 */
export interface Rulebook {
  id: string;
  version: string;
  purpose: string;
  description: string;
  /** The organisations party to the agreement (every file names them; rulebooks built in code may not). */
  parties?: Party[];
  /** When the agreement is next to be reviewed (YYYY-MM-DD); past it, start-up warns. */
  reviewDate?: string;
  rules: Rule[];
  /**
   * SHA-256 (hex) of the file's canonical content (keys sorted, no whitespace): what every decision names, so
   * an audit reader knows exactly which text decided, whatever the version number says.
   */
  hash: string;
}

/** The file as written, before names are checked. */
export interface RulebookFile extends Omit<Rulebook, 'rules' | 'hash'> {
  $schema?: string;
  rules: (Omit<Rule, 'when' | 'dataset'> & { when: string[]; dataset?: string })[];
}

/** JSON Schema for a rulebook file. Names are checked after it, for messages that list the known names. */
export const rulebookSchema = agreementFileSchema('https://stork.example/schemas/consent-rulebook.json', {
  effect: { enum: ['permit', 'deny', 'review'] },
  dataset: AGREEMENT_TEXT,
  inbox: { enum: REVIEW_INBOXES },
});

export const validateRulebookFile = compile<RulebookFile>(rulebookSchema);

function checkNames(file: RulebookFile, source: string): string[] {
  const problems: string[] = [];
  const ids = new Map<string, number>();
  file.rules.forEach((r, i) => {
    const at = `${source}: field /rules/${i}`;
    const seen = ids.get(r.id);
    if (seen !== undefined) problems.push(`${at}/id: duplicate rule id "${r.id}" (also /rules/${seen})`);
    else ids.set(r.id, i);
    r.when.forEach((c, j) => {
      if (!isConditionName(c)) problems.push(`${at}/when/${j}: unknown condition "${c}" (known: ${CONDITION_NAMES.join(', ')})`);
    });
    if (r.dataset !== undefined && !isDatasetName(r.dataset)) {
      problems.push(`${at}/dataset: unknown dataset "${r.dataset}" (known: ${Object.keys(DATASETS).join(', ')})`);
    }
    if (r.effect === 'permit' && r.dataset === undefined) problems.push(`${at}/dataset: a permit rule must name a dataset`);
    if (r.effect === 'review' && (r.dataset === undefined || r.inbox === undefined)) {
      problems.push(`${at}: a review rule must name a dataset and an inbox`);
    }
    if (r.effect === 'deny' && (r.dataset !== undefined || r.inbox !== undefined)) {
      problems.push(`${at}: a deny rule discloses nothing, so it takes no dataset or inbox`);
    }
    if (r.effect === 'permit' && r.inbox !== undefined)
      problems.push(`${at}/inbox: a permit rule goes to the centre's inbox, so it names no inbox`);
  });
  return problems;
}

/**
 * Proves the product's safety rules for a name-checked rulebook by evaluating the first matching rule
 * under every combination of condition values (conditions are treated as independent, which is
 * conservative): a deceased baby is always denied; a restricted record is never permitted and never
 * discloses contact fields; an objection is overridden only by a review in the safeguarding inbox (never a
 * permit, nor another review pathway); clinical fields need clinical consent, except for safeguarding review.
 */
export function checkSafety(rules: readonly Rule[], source: string): string[] {
  const problems = new Set<string>();
  for (const { holds, rule, index } of firstMatchUnderEveryCombination(CONDITION_NAMES, rules)) {
    if (rule === undefined) continue; // no match: decide() denies
    const at = `${source}: field /rules/${index}: rule "${rule.id}"`;
    const fields: readonly string[] = rule.dataset === undefined ? [] : DATASETS[rule.dataset];
    if (holds.has('baby-deceased') && rule.effect !== 'deny') {
      problems.add(`${at} would ${rule.effect} for a baby who was stillborn or has died; a deny rule must come first`);
    }
    if (holds.has('record-restricted') && rule.effect === 'permit') {
      problems.add(`${at} would permit a restricted record; it must go to review`);
    }
    if (holds.has('record-restricted') && fields.some((f) => CONTACT_FIELDS.some((c) => c === f))) {
      problems.add(`${at} would disclose the address or phone of a restricted record`);
    }
    if (holds.has('parent-objected') && rule.effect !== 'deny' && rule.inbox !== 'safeguarding-review') {
      problems.add(`${at} would ${rule.effect} despite a parent's objection; only a safeguarding review rule may override it`);
    }
    const clinical = fields.some((f) => CLINICAL_FIELDS.some((c) => c === f));
    if (!holds.has('clinical-consent-recorded') && clinical && rule.effect !== 'deny' && rule.inbox !== 'safeguarding-review') {
      problems.add(`${at} would disclose clinical details without recorded consent for them`);
    }
  }
  return [...problems];
}

/** JSON with object keys sorted and no whitespace: the same content always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * SHA-256 (hex) of a rulebook file's canonical content. `$schema` (a pointer for editors) is left out, and so is a
 * `hash` (a loaded rulebook spread into a new one in code carries its old hash; no file may have one).
 */
export function rulebookHash(file: object): string {
  const { $schema: _ignored, hash: _hash, ...content } = file as { $schema?: unknown; hash?: unknown };
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** Checks a parsed rulebook (names, rule shapes, safety) and returns it typed. Pure; `source` names the file. */
export function buildRulebook(file: RulebookFile, source = 'rulebook'): Rulebook {
  const problems = checkNames(file, source);
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  const rules = file.rules as Rule[]; // every name was checked above
  const unsafe = checkSafety(rules, source);
  if (unsafe.length > 0) throw new ConfigError(unsafe.join('\n'), unsafe);
  const { $schema: _schema, hash: _old, ...content } = file as RulebookFile & { hash?: string };
  return { ...content, rules, hash: rulebookHash(file) };
}

/** `id@version#sha256:hash`: how the audit and the API name the exact agreement text that decided. */
export function agreementLabel(r: { id: string; version: string; hash?: string }): string {
  return r.hash === undefined ? `${r.id}@${r.version}` : `${r.id}@${r.version}#sha256:${r.hash}`;
}
