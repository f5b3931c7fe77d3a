/**
 * A decision explained in words a Caldicott guardian can read (issue 13 item 4): the agreement that made it
 * (id, version, content hash), the rule that decided and its lawful basis, the rules tried before it and which
 * of their conditions did not hold, the consent records the decision saw, and the dataset with the fields it
 * left out. Re-derived from the stored record and decision with the same agreement version, never another.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';
import { CONDITION_WORDS, type ConditionName } from './conditions.js';
import { DATASETS, isDatasetName, type DisclosedField } from './datasets.js';
import { NO_RULE_MATCHED, traceDecision, type Decision } from './decide.js';
import type { Party, Rulebook } from './rulebook.js';

/** Every field a dataset may disclose, in words, in the order the explanation lists them. */
export const FIELD_WORDS: Record<DisclosedField, string> = {
  'baby.nhsNumber': "the baby's NHS number",
  'baby.nhsNumberStatus': "the status of the baby's NHS number",
  'baby.localIdentifiers': "the baby's hospital numbers",
  'baby.name': "the baby's name",
  'baby.sex': "the baby's sex",
  'baby.birthDate': "the baby's date of birth",
  'baby.birthTime': "the baby's time of birth",
  'baby.multipleBirth': 'whether it was a multiple birth',
  'baby.birthOrder': 'the birth order (for twins and more)',
  'baby.birthPlace': 'the place of birth',
  'baby.deceased': 'whether the baby has died',
  'baby.deceasedAt': "the date of the baby's death",
  'baby.address': "the baby's address",
  'mother.nhsNumber': "the mother's NHS number",
  'mother.localIdentifiers': "the mother's hospital numbers",
  'mother.name': "the mother's name",
  'mother.birthDate': "the mother's date of birth",
  'mother.address': "the mother's address",
  'mother.phone': "the mother's phone number",
  'mother.preferredLanguage': "the mother's preferred language",
  familyAddress: "the family's home address",
  gpPractice: "the family's GP practice",
  birthDetails: 'clinical birth details (birth weight, gestation)',
  confidentiality: "the record's confidentiality marking",
  source: 'which feed and message it came from',
};

const ALL_FIELDS = Object.keys(FIELD_WORDS) as DisclosedField[];

const EFFECT_WORDS = {
  permit: 'shared with the children’s centre that covers the family',
  review: 'sent for safeguarding review instead of to a centre',
  deny: 'not shared with anyone',
} as const;

/** One condition of a rule tried, in words. */
export interface ExplainedCondition {
  condition: ConditionName;
  held: boolean;
  words: string;
}

/** A rule tried before the deciding one, and why it did not apply. */
export interface RuleNotApplied {
  ruleId: string;
  description: string;
  /** The conditions that did not hold (every one, not only the first). */
  notHeld: ExplainedCondition[];
  /** Its conditions that did hold (so the reader sees the whole rule). */
  held: ExplainedCondition[];
  why: string;
}

export interface DecisionExplanation {
  notificationId: string;
  /** True when this explanation was re-derived with the agreement version that made the decision. */
  explained: boolean;
  agreement: {
    id: string;
    version: string;
    /** SHA-256 of the agreement's canonical content; absent on decisions stored before agreements were hashed. */
    sha256?: string;
    /** Whether that exact version is what the hub has loaded now (else it was found among the versions it loaded before). */
    inForce: boolean;
    purpose?: string;
    parties?: Party[];
    reviewDate?: string;
  };
  outcome: { effect: Decision['effect']; words: string };
  decidingRule: { ruleId: string; description: string; lawfulBasis: string; conditions: ExplainedCondition[] };
  rulesNotApplied: RuleNotApplied[];
  consent: { objection?: boolean; clinicalConsent?: boolean; consentRecords: string[]; words: string };
  dataset?: { name: string; shared: { field: DisclosedField; words: string }[]; leftOut: { field: DisclosedField; words: string }[] };
  /** The explanation in sentences, in order. */
  summary: string[];
  /** When the explanation could not be given as made (a version no longer available, or a re-derivation that differs): why. */
  caveat?: string;
}

const words = (c: { condition: ConditionName; holds: boolean }): ExplainedCondition => ({
  condition: c.condition,
  held: c.holds,
  words: CONDITION_WORDS[c.condition][c.holds ? 'holds' : 'fails'],
});

function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

function consentWords(d: Decision): DecisionExplanation['consent'] {
  const c = d.consent ?? {};
  const records = c.consentRecords ?? [];
  const parts: string[] = [];
  if (c.objection === true) parts.push('a parent’s objection was recorded');
  if (c.clinicalConsent === true) parts.push('consent to share clinical details was recorded');
  const text =
    parts.length === 0 && records.length === 0
      ? 'No consent or objection was recorded for this family when the decision was made.'
      : `${parts.length > 0 ? `When the decision was made, ${listWords(parts)}` : 'Consent records were consulted'}${
          records.length > 0 ? ` (consent records ${records.join(', ')})` : ''
        }.`;
  return {
    ...(c.objection !== undefined ? { objection: c.objection } : {}),
    ...(c.clinicalConsent !== undefined ? { clinicalConsent: c.clinicalConsent } : {}),
    consentRecords: records,
    words: text,
  };
}

function agreementOf(d: Decision, rulebook: Rulebook | undefined, inForce: boolean): DecisionExplanation['agreement'] {
  return {
    id: d.rulebookId,
    version: d.rulebookVersion,
    ...(d.rulebookHash !== undefined ? { sha256: d.rulebookHash } : {}),
    inForce,
    ...(rulebook !== undefined
      ? {
          purpose: rulebook.purpose,
          ...(rulebook.parties ? { parties: rulebook.parties } : {}),
          ...(rulebook.reviewDate ? { reviewDate: rulebook.reviewDate } : {}),
        }
      : {}),
  };
}

function datasetOf(d: Decision): DecisionExplanation['dataset'] {
  if (d.dataset === undefined || !isDatasetName(d.dataset)) return undefined;
  const fields: readonly DisclosedField[] = DATASETS[d.dataset];
  return {
    name: d.dataset,
    shared: fields.map((field) => ({ field, words: FIELD_WORDS[field] })),
    leftOut: ALL_FIELDS.filter((f) => !fields.includes(f)).map((field) => ({ field, words: FIELD_WORDS[field] })),
  };
}

/**
 * Explains a stored decision. `rulebook` is the agreement version that made it (matched by content hash), or
 * undefined when the hub no longer has that version: then the explanation says so and gives only what the
 * stored decision itself records, rather than explaining it with another version's rules.
 */
export function explainDecision(
  stored: { notificationId: string; record: BirthNotification; decision: Decision },
  rulebook: Rulebook | undefined,
  inForce: boolean,
): DecisionExplanation {
  const d = stored.decision;
  const label = `${d.rulebookId} version ${d.rulebookVersion}`;
  const consent = consentWords(d);
  const dataset = datasetOf(d);
  const outcome = { effect: d.effect, words: EFFECT_WORDS[d.effect] };
  const base = {
    notificationId: stored.notificationId,
    agreement: agreementOf(d, rulebook, inForce),
    outcome,
    consent,
    ...(dataset ? { dataset } : {}),
  };
  const datasetSentence =
    dataset === undefined
      ? 'Nothing was disclosed.'
      : `The ${dataset.name} dataset was disclosed: ${listWords(dataset.shared.map((f) => f.words))}. It left out ${listWords(
          dataset.leftOut.map((f) => f.words),
        )}.`;
  if (rulebook === undefined) {
    const caveat =
      d.rulebookHash === undefined
        ? `This decision was stored before agreements were identified by their content, so the exact text of ${label} that made it is not known; it is not explained with another version's rules.`
        : `The hub no longer holds ${label} with content hash ${d.rulebookHash}, so the rules tried before the deciding one cannot be shown; it is not explained with another version's rules.`;
    return {
      ...base,
      explained: false,
      decidingRule: { ruleId: d.ruleId, description: d.reason, lawfulBasis: d.lawfulBasis, conditions: [] },
      rulesNotApplied: [],
      summary: [
        `This notification was ${outcome.words} under the information-sharing agreement ${label}.`,
        `The rule that decided was “${d.ruleId}”: ${d.reason} Lawful basis: ${d.lawfulBasis}`,
        consent.words,
        datasetSentence,
      ],
      caveat,
    };
  }
  const { decision, trace } = traceDecision(stored.record, rulebook, d.consent ?? {});
  const ruleOf = (id: string) => rulebook.rules.find((r) => r.id === id);
  const notApplied: RuleNotApplied[] = trace
    .filter((t) => !t.decided)
    .map((t) => {
      const notHeld = t.conditions.filter((c) => !c.holds).map(words);
      return {
        ruleId: t.ruleId,
        description: ruleOf(t.ruleId)?.description ?? '',
        notHeld,
        held: t.conditions.filter((c) => c.holds).map(words),
        why: `It did not apply because ${listWords(notHeld.map((c) => c.words))}.`,
      };
    });
  const deciding = trace.find((t) => t.decided);
  const conditions = deciding?.conditions.map(words) ?? [];
  const same = decision.ruleId === d.ruleId && decision.effect === d.effect && decision.dataset === d.dataset;
  const summary = [
    `This notification was ${outcome.words} under the information-sharing agreement ${label}${
      rulebook.purpose ? ` (purpose: ${rulebook.purpose})` : ''
    }.`,
    ...notApplied.map((r) => `Rule “${r.ruleId}” was tried and did not apply: ${listWords(r.notHeld.map((c) => c.words))}.`),
    d.ruleId === NO_RULE_MATCHED
      ? `No rule applied, so nothing was shared. ${d.lawfulBasis}`
      : `Rule “${d.ruleId}” decided, because ${listWords(conditions.map((c) => c.words))}: ${d.reason} Lawful basis: ${d.lawfulBasis}`,
    consent.words,
    datasetSentence,
  ];
  return {
    ...base,
    explained: same,
    decidingRule: { ruleId: d.ruleId, description: d.reason, lawfulBasis: d.lawfulBasis, conditions },
    rulesNotApplied: notApplied,
    summary,
    ...(same
      ? {}
      : {
          caveat: `Re-deriving the decision from the stored record with the same agreement version gives rule “${decision.ruleId}”, not “${d.ruleId}”: the record has changed since (a later message), so the rules tried are shown for the record as it is now.`,
        }),
  };
}
