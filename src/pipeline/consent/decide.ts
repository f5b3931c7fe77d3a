/**
 * The consent decision for one notification and one purpose: the first rule of the rulebook whose named
 * conditions all hold decides, and the decision carries everything the audit needs (rule id, agreement id,
 * version and content hash, lawful basis) plus a plain-words reason that never contains personal data.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';
import { allHold, CONDITIONS, type ConditionName, type ConsentContext } from './conditions.js';
import type { DatasetName } from './datasets.js';
import { agreementLabel, type Effect, type Rulebook } from './rulebook.js';

export { minimise, type DisclosedRecord } from './datasets.js';
export type { ConsentContext } from './conditions.js';

/** The outcome of `decide`, recorded in the audit with every disclosure (or non-disclosure). */
export interface Decision {
  effect: Effect;
  ruleId: string;
  rulebookId: string;
  rulebookVersion: string;
  /**
   * SHA-256 of the agreement file's canonical content (rulebook.ts). Absent only on decisions stored before
   * agreements were hashed (issue 13).
   */
  rulebookHash?: string;
  lawfulBasis: string;
  /** What may be disclosed (permit, review). */
  dataset?: DatasetName;
  /** The inbox id a review goes to. */
  inbox?: string;
  /** Plain words for IG leads and operators; the rule's description, never personal data. */
  reason: string;
  /** The consent register records the decision read (ids), when any applied. */
  consentRecords?: string[];
  /**
   * The consent context the decision saw, when it saw anything (objection, consents, the consent record ids):
   * stored with the notification, so the decision can be explained (and re-derived) later exactly as made.
   */
  consent?: ConsentContext;
}

/** The rule id reported when no rule matches: nothing is shared. */
export const NO_RULE_MATCHED = 'no-rule-matched';

/** `id@version#sha256:hash` of the agreement that made a decision: the audit's `rulebookVersion`. */
export function decisionAgreement(d: Pick<Decision, 'rulebookId' | 'rulebookVersion' | 'rulebookHash'>): string {
  return agreementLabel({
    id: d.rulebookId,
    version: d.rulebookVersion,
    ...(d.rulebookHash !== undefined ? { hash: d.rulebookHash } : {}),
  });
}

const hasAny = (context: ConsentContext): boolean => Object.keys(context).length > 0;

function ruleDecision(rulebook: Rulebook, index: number, context: ConsentContext): Decision {
  const rule = rulebook.rules[index];
  if (rule === undefined) {
    return {
      effect: 'deny',
      ruleId: NO_RULE_MATCHED,
      rulebookId: rulebook.id,
      rulebookVersion: rulebook.version,
      rulebookHash: rulebook.hash,
      lawfulBasis: 'No disclosure: no rule of this rulebook permits sharing (common-law duty of confidentiality).',
      reason: 'No rule in the rulebook matched, so nothing is shared.',
      ...(hasAny(context) ? { consent: structuredClone(context) } : {}),
      ...(context.consentRecords !== undefined && context.consentRecords.length > 0 ? { consentRecords: [...context.consentRecords] } : {}),
    };
  }
  const decision: Decision = {
    effect: rule.effect,
    ruleId: rule.id,
    rulebookId: rulebook.id,
    rulebookVersion: rulebook.version,
    rulebookHash: rulebook.hash,
    lawfulBasis: rule.lawfulBasis,
    reason: rule.description,
  };
  if (rule.dataset !== undefined) decision.dataset = rule.dataset;
  if (rule.inbox !== undefined) decision.inbox = rule.inbox;
  if (hasAny(context)) decision.consent = structuredClone(context);
  if (context.consentRecords !== undefined && context.consentRecords.length > 0) decision.consentRecords = [...context.consentRecords];
  return decision;
}

/**
 * Decides whether (and what) to share about one notification under one rulebook. Pure and cheap: it
 * evaluates the rules in order and stops at the first whose conditions all hold; if none does, it denies.
 */
export function decide(n: BirthNotification, rulebook: Rulebook, context: ConsentContext = {}): Decision {
  const rules = rulebook.rules;
  let index = 0;
  while (index < rules.length) {
    const rule = rules[index];
    if (rule !== undefined && allHold(rule.when, n, context)) break;
    index++;
  }
  return ruleDecision(rulebook, index, context);
}

/** One condition of a rule that was tried, and whether it held. */
export interface ConditionTrial {
  condition: ConditionName;
  holds: boolean;
}

/** A rule tried in order: every one of its conditions evaluated (not only up to the first that fails). */
export interface RuleTrial {
  ruleId: string;
  conditions: ConditionTrial[];
  /** True for the rule that decided (every condition held). */
  decided: boolean;
}

/** A decision with the trace of how it was reached: the rules tried before it, and the one that decided. */
export interface TracedDecision {
  decision: Decision;
  trace: RuleTrial[];
}

/**
 * `decide` with its trace, for explanations and for the case files' coverage check: the same first-match rule
 * (a test holds the two to the same decisions), but every condition of each rule tried is evaluated and
 * recorded, so a reader sees every reason a rule did not apply. Not on the processing path.
 */
export function traceDecision(n: BirthNotification, rulebook: Rulebook, context: ConsentContext = {}): TracedDecision {
  const trace: RuleTrial[] = [];
  let index = 0;
  for (const rule of rulebook.rules) {
    const conditions = rule.when.map((condition) => ({ condition, holds: CONDITIONS[condition](n, context) }));
    const decided = conditions.length > 0 && conditions.every((c) => c.holds);
    trace.push({ ruleId: rule.id, conditions, decided });
    if (decided) break;
    index++;
  }
  return { decision: ruleDecision(rulebook, index, context), trace };
}
