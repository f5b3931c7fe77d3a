/**
 * The antenatal agreement (issue 17 item 1): its own rulebook file (`consent-rules/antenatal/*.json`), with its own
 * named conditions and one dataset (`antenatal`), because pregnancy data is sensitive and the birth rulebooks'
 * conditions are about a baby. The first rule whose conditions all hold decides, as for births. Loading proves the
 * safety rule every antenatal agreement must keep: nothing is permitted unless the mother's consent is recorded
 * (every permit rule names `antenatal-consent-recorded`), an ended pregnancy is always denied, and an objection is
 * never overridden. Pure: the file is read in src/config/antenatal-agreement.ts.
 */
import { ConfigError } from '../../domain/config-error.js';
import { compile } from '../../domain/json-schema.js';
import type { AntenatalBooking } from '../../domain/antenatal-notification.js';
import type { ConsentRecord } from '../../domain/consent.js';
import { localDateOf } from '../../domain/hl7-datetime.js';
import { coversRecipient, inPeriod } from '../consent/consent-context.js';
import { agreementLabel, rulebookHash, type Party } from '../consent/rulebook.js';
import type { Route } from '../route.js';
import { agreementFileSchema } from '../consent/agreement-file-schema.js';
import { firstMatchUnderEveryCombination } from '../consent/rule-combinations.js';

/** What the register and later messages say about one pregnancy, beyond the booking itself. */
export interface AntenatalContext {
  /** The newest `antenatal` record in force for this recipient is a consent. */
  consent?: boolean;
  /** The newest `antenatal` record in force for this recipient is an objection. */
  objection?: boolean;
  /** A later message reported the pregnancy ended without a live birth. */
  ended?: boolean;
  /** The consent records the context came from (ids). */
  consentRecords?: string[];
}

/** The conditions an antenatal rule's `when` may name. */
export const ANTENATAL_CONDITIONS = {
  /** The pregnancy ended without a live birth (a loss reported after the booking). */
  'pregnancy-ended': (_b: AntenatalBooking, c: AntenatalContext) => c.ended === true,
  /** Restricted or very restricted (PD1-12, a FHIR security label). */
  'record-restricted': (b: AntenatalBooking) => b.confidentiality !== 'normal',
  /** The mother's newest `antenatal` record in the consent register, for this recipient, is an objection. */
  'antenatal-objection-recorded': (_b: AntenatalBooking, c: AntenatalContext) => c.objection === true,
  /** The mother's newest `antenatal` record in the consent register, for this recipient, is a consent. */
  'antenatal-consent-recorded': (_b: AntenatalBooking, c: AntenatalContext) => c.consent === true,
  /** Always holds: for the final, default rule. */
  always: () => true,
} as const satisfies Record<string, (b: AntenatalBooking, c: AntenatalContext) => boolean>;

export type AntenatalConditionName = keyof typeof ANTENATAL_CONDITIONS;
const CONDITION_NAMES = Object.keys(ANTENATAL_CONDITIONS) as AntenatalConditionName[];
const isCondition = (n: string): n is AntenatalConditionName => Object.prototype.hasOwnProperty.call(ANTENATAL_CONDITIONS, n);

/** The one dataset an antenatal rule may disclose: mother, due date, address, language, GP. */
export const ANTENATAL_DATASETS = ['antenatal'] as const;
export type AntenatalDatasetName = (typeof ANTENATAL_DATASETS)[number];

export interface AntenatalRule {
  id: string;
  description: string;
  when: AntenatalConditionName[];
  effect: 'permit' | 'deny';
  dataset?: AntenatalDatasetName;
  lawfulBasis: string;
}

export interface AntenatalAgreement {
  id: string;
  version: string;
  purpose: string;
  description: string;
  parties: Party[];
  reviewDate: string;
  rules: AntenatalRule[];
  /** SHA-256 of the file's canonical content, as for birth agreements. */
  hash: string;
}

interface AntenatalAgreementFile extends Omit<AntenatalAgreement, 'rules' | 'hash'> {
  $schema?: string;
  rules: (Omit<AntenatalRule, 'when'> & { when: string[] })[];
}

/** JSON Schema of an antenatal agreement file. Condition names are checked after it, with the known names listed. */
export const antenatalAgreementSchema = agreementFileSchema('https://stork.example/schemas/antenatal-agreement.json', {
  effect: { enum: ['permit', 'deny'] },
  dataset: { enum: ANTENATAL_DATASETS },
});

export const validateAntenatalAgreementFile = compile<AntenatalAgreementFile>(antenatalAgreementSchema);

/**
 * Checks names and shapes, then proves the safety rules under every combination of conditions: an ended pregnancy is
 * denied; a permit needs the mother's recorded consent, and never applies to a restricted record or over an objection.
 */
export function buildAntenatalAgreement(file: AntenatalAgreementFile, source: string): AntenatalAgreement {
  const problems: string[] = [];
  const ids = new Set<string>();
  file.rules.forEach((r, i) => {
    const at = `${source}: field /rules/${i}`;
    if (ids.has(r.id)) problems.push(`${at}/id: duplicate rule id "${r.id}"`);
    ids.add(r.id);
    r.when.forEach((c, j) => {
      if (!isCondition(c)) problems.push(`${at}/when/${j}: unknown condition "${c}" (known: ${CONDITION_NAMES.join(', ')})`);
    });
    if (r.effect === 'permit' && r.dataset === undefined) problems.push(`${at}/dataset: a permit rule must name a dataset`);
    if (r.effect === 'deny' && r.dataset !== undefined) problems.push(`${at}/dataset: a deny rule discloses nothing`);
  });
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  const rules = file.rules as AntenatalRule[];
  const unsafe = new Set<string>();
  for (const { holds, rule, index } of firstMatchUnderEveryCombination(CONDITION_NAMES, rules)) {
    if (rule?.effect !== 'permit') continue;
    const at = `${source}: field /rules/${index}: rule "${rule.id}"`;
    if (!rule.when.includes('antenatal-consent-recorded'))
      unsafe.add(`${at} would permit without the mother's recorded consent; every permit rule must name antenatal-consent-recorded`);
    if (holds.has('pregnancy-ended')) unsafe.add(`${at} would permit after the pregnancy ended; a deny rule must come first`);
    if (holds.has('record-restricted')) unsafe.add(`${at} would permit a restricted record; a deny rule must come first`);
    if (holds.has('antenatal-objection-recorded')) unsafe.add(`${at} would permit despite the mother's objection`);
  }
  if (unsafe.size > 0) throw new ConfigError([...unsafe].join('\n'), [...unsafe]);
  const { $schema: _schema, ...content } = file;
  return { ...content, rules, hash: rulebookHash(file) };
}

/** The decision about one antenatal notification, with what the audit needs (rule, agreement, lawful basis). */
export interface AntenatalDecision {
  effect: 'permit' | 'deny';
  ruleId: string;
  rulebookId: string;
  rulebookVersion: string;
  rulebookHash: string;
  lawfulBasis: string;
  dataset?: AntenatalDatasetName;
  /** The rule's description: plain words, never personal data. */
  reason: string;
  consentRecords?: string[];
}

export const NO_ANTENATAL_RULE = 'no-rule-matched';

/** `id@version#sha256:hash` of the agreement that decided (the audit's rulebookVersion). */
export const antenatalAgreementLabel = (d: Pick<AntenatalDecision, 'rulebookId' | 'rulebookVersion' | 'rulebookHash'>): string =>
  agreementLabel({ id: d.rulebookId, version: d.rulebookVersion, hash: d.rulebookHash });

/** First matching rule decides; none: nothing is shared. Pure. */
export function decideAntenatal(b: AntenatalBooking, agreement: AntenatalAgreement, context: AntenatalContext): AntenatalDecision {
  const rule = agreement.rules.find((r) => r.when.every((c) => ANTENATAL_CONDITIONS[c](b, context)));
  const base = { rulebookId: agreement.id, rulebookVersion: agreement.version, rulebookHash: agreement.hash };
  const records =
    context.consentRecords !== undefined && context.consentRecords.length > 0 ? { consentRecords: [...context.consentRecords] } : {};
  if (rule === undefined)
    return {
      ...base,
      effect: 'deny',
      ruleId: NO_ANTENATAL_RULE,
      lawfulBasis: 'No disclosure: no rule of this agreement permits sharing (common-law duty of confidentiality).',
      reason: 'No rule in the agreement matched, so nothing is shared.',
      ...records,
    };
  return {
    ...base,
    effect: rule.effect,
    ruleId: rule.id,
    lawfulBasis: rule.lawfulBasis,
    reason: rule.description,
    ...(rule.dataset !== undefined ? { dataset: rule.dataset } : {}),
    ...records,
  };
}

/**
 * The register's say on one pregnancy: of the mother's `antenatal` records (naming her NHS number and no baby), not
 * withdrawn, in force on the decision's London date and covering the route's recipient, the newest wins.
 */
export function antenatalConsent(records: readonly ConsentRecord[], motherNhsNumber: string, route: Route, at: Date): AntenatalContext {
  const day = localDateOf(at);
  let best: ConsentRecord | undefined;
  for (const r of records) {
    if (r.scope !== 'antenatal' || r.withdrawnAt !== undefined || r.motherNhsNumber !== motherNhsNumber || r.babyNhsNumber !== undefined)
      continue;
    if (!inPeriod(r, day) || !coversRecipient(r.recipient, route)) continue;
    if (best === undefined || r.recordedAt > best.recordedAt || (r.recordedAt === best.recordedAt && r.id > best.id)) best = r;
  }
  if (best === undefined) return {};
  return best.kind === 'consent' ? { consent: true, consentRecords: [best.id] } : { objection: true, consentRecords: [best.id] };
}
