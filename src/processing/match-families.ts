/**
 * Family matching inside a processing batch's transaction (issue 12 item 2): one candidate query for the whole
 * batch (the families led by the mothers' NHS numbers or sharing a blocking key with one of them), the
 * decisions in memory (planFamilies, pure), then one statement per kind of write.
 */
import { randomUUID } from 'node:crypto';
import {
  planFamilies,
  probeOf,
  refreshFromLinked,
  type BirthToPlace,
  type FamilyMatcher,
  type FamilyPlan,
} from '../pipeline/family-match.js';
import { openKey, type FamilyTransaction } from '../ports/family-store.js';

/**
 * Another worker made a family for the same mother's NHS number between this batch's candidate query and its
 * insert (the number is unique). The batch's transaction rolls back and the job is retried, when the other's
 * family is there to be found.
 */
export class FamilyRaceError extends Error {
  constructor() {
    super('a family for the same NHS number was created concurrently; retry the batch');
    this.name = 'FamilyRaceError';
  }
}

/** Places the births in families and writes the plan; returns it (for counts and tests). */
export async function placeInFamilies(
  tx: FamilyTransaction,
  births: readonly BirthToPlace[],
  matcher: FamilyMatcher,
  newId: () => string = randomUUID,
): Promise<FamilyPlan> {
  const nhsNumbers = new Set<string>();
  const keys = new Set<string>();
  for (const b of births) {
    const nhs = b.record.mother?.nhsNumber;
    if (nhs !== undefined) nhsNumbers.add(nhs);
    // A mother with an NHS number is matched only to families no NHS number leads.
    for (const k of matcher.blockingKeys(probeOf(b))) keys.add(nhs === undefined ? k : openKey(k));
  }
  const candidates = await tx.candidateFamilies([...nhsNumbers], [...keys]);
  const plan = planFamilies(births, candidates, matcher, newId);
  const created = await tx.createFamilies(plan.newFamilies);
  if (created.size < plan.newFamilies.length) throw new FamilyRaceError();
  await tx.refreshFamilies(plan.refreshes);
  await tx.saveFamilyPlan(plan);
  return plan;
}

/**
 * Births linked to a notification already made (a later message about the same baby): where the enriched record
 * newly gives the mother's NHS number or another address, the notification's family follows it (address, centre,
 * lead, blocking keys). Returns how many families were refreshed.
 */
export async function refreshLinkedFamilies(
  tx: FamilyTransaction,
  linked: readonly BirthToPlace[],
  matcher: FamilyMatcher,
): Promise<number> {
  if (linked.length === 0) return 0;
  const familyOf = await tx.familyOfNotifications(linked.map((b) => b.notificationId));
  const families = new Map((await tx.familiesById([...new Set(familyOf.values())])).map((f) => [f.id, f]));
  const refreshes = refreshFromLinked(linked, familyOf, families, matcher);
  await tx.refreshFamilies(refreshes);
  return refreshes.length;
}
