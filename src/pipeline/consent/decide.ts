/**
 * The consent decision for one notification and one purpose: the first rule of the rulebook whose named
 * conditions all hold decides, and the decision carries everything the audit needs (rule id, rulebook
 * id and version, lawful basis) plus a plain-words reason that never contains personal data.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';
import { allHold, type ConsentContext } from './conditions.js';
import type { DatasetName } from './datasets.js';
import type { Effect, Rulebook } from './rulebook.js';

export { minimise, type DisclosedRecord } from './datasets.js';
export type { ConsentContext } from './conditions.js';

/** The outcome of `decide`, recorded in the audit with every disclosure (or non-disclosure). */
export interface Decision {
  effect: Effect;
  ruleId: string;
  rulebookId: string;
  rulebookVersion: string;
  lawfulBasis: string;
  /** What may be disclosed (permit, review). */
  dataset?: DatasetName;
  /** The inbox id a review goes to. */
  inbox?: string;
  /** Plain words for IG leads and operators; the rule's description, never personal data. */
  reason: string;
  /** The consent register records the decision read (ids), when any applied. */
  consentRecords?: string[];
}

/** The rule id reported when no rule matches: nothing is shared. */
export const NO_RULE_MATCHED = 'no-rule-matched';

/**
 * Decides whether (and what) to share about one notification under one rulebook. Pure and cheap: it
 * evaluates the rules in order and stops at the first whose conditions all hold; if none does, it denies.
 */
export function decide(n: BirthNotification, rulebook: Rulebook, context: ConsentContext = {}): Decision {
  for (const rule of rulebook.rules) {
    if (!allHold(rule.when, n, context)) continue;
    const decision: Decision = {
      effect: rule.effect,
      ruleId: rule.id,
      rulebookId: rulebook.id,
      rulebookVersion: rulebook.version,
      lawfulBasis: rule.lawfulBasis,
      reason: rule.description,
    };
    if (rule.dataset !== undefined) decision.dataset = rule.dataset;
    if (rule.inbox !== undefined) decision.inbox = rule.inbox;
    if (context.consentRecords !== undefined && context.consentRecords.length > 0) decision.consentRecords = [...context.consentRecords];
    return decision;
  }
  return {
    ...(context.consentRecords !== undefined && context.consentRecords.length > 0 ? { consentRecords: [...context.consentRecords] } : {}),
    effect: 'deny',
    ruleId: NO_RULE_MATCHED,
    rulebookId: rulebook.id,
    rulebookVersion: rulebook.version,
    lawfulBasis: 'No disclosure: no rule of this rulebook permits sharing (common-law duty of confidentiality).',
    reason: 'No rule in the rulebook matched, so nothing is shared.',
  };
}
