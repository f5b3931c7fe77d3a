import type { Agreements } from '../pipeline/consent/agreements.js';
import { explainDecision, type DecisionExplanation } from '../pipeline/consent/explain.js';
import { buildRulebook, validateRulebookFile, type Rulebook } from '../pipeline/consent/rulebook.js';
import type { AgreementVersionLog, DecisionHistory } from '../ports/decision-history.js';

export interface ExplainDeps {
  history: DecisionHistory;
  versions: AgreementVersionLog;
  agreements: Agreements;
}

/** The agreement version with this content hash: loaded now, else one the hub loaded before (from its stored text). */
async function versionByHash(deps: ExplainDeps, hash: string | undefined): Promise<{ rulebook: Rulebook; inForce: boolean } | undefined> {
  if (hash === undefined) return undefined;
  for (const a of deps.agreements.byId.values()) if (a.hash === hash) return { rulebook: a, inForce: true };
  const content = await deps.versions.content(hash);
  if (content === undefined || !validateRulebookFile(content)) return undefined;
  try {
    const rulebook = buildRulebook(content, `agreement version sha256:${hash}`);
    // A condition whose code changed could make the stored text check differently: only the same hash is the same version.
    return rulebook.hash === hash ? { rulebook, inForce: false } : undefined;
  } catch {
    return undefined; // no longer loadable with today's conditions and datasets: explained without its rules, and said so
  }
}

/** A notification's explanation, or when retention purged the record it would be re-derived from. */
export type ExplainResult = { explanation: DecisionExplanation; babyNhsNumber?: string } | { purgedAt: Date };

/**
 * Explains a notification's decision (issue 13 item 4): re-derived from the record the decision was made on and
 * the consent context it saw, with the agreement version that made it (by content hash), never another.
 * `purgedAt` when retention purged its record (its rule, lawful basis and agreement stay in the audit trail);
 * undefined when there is no such notification.
 */
export async function explainNotification(deps: ExplainDeps, notificationId: string): Promise<ExplainResult | undefined> {
  const stored = await deps.history.get(notificationId);
  if (stored === undefined) {
    const purgedAt = await deps.history.purgedAt(notificationId);
    return purgedAt === undefined ? undefined : { purgedAt };
  }
  const record = (await deps.history.decidedRecord(notificationId)) ?? stored.record;
  const version = await versionByHash(deps, stored.decision.rulebookHash);
  const explanation = explainDecision({ notificationId, record, decision: stored.decision }, version?.rulebook, version?.inForce ?? false);
  return { explanation, ...(stored.babyNhsNumber !== undefined ? { babyNhsNumber: stored.babyNhsNumber } : {}) };
}
