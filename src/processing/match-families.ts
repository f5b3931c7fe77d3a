/**
 * Family matching inside a processing batch's transaction (issue 12 item 2): one candidate query for the whole
 * batch (the families led by the mothers' NHS numbers or sharing a blocking key with one of them), the
 * decisions in memory (planFamilies, pure), then one statement per kind of write.
 */
import { randomUUID } from 'node:crypto';
import { familyAddress } from '../domain/birth-notification.js';
import { leadOf, personOf, planFamilies, type BirthToPlace, type FamilyMatcher, type FamilyPlan } from '../pipeline/family-match.js';
import type { FamilyTransaction } from '../ports/family-store.js';

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
    const lead = leadOf(b.record);
    if (lead.nhsNumber !== undefined) nhsNumbers.add(lead.nhsNumber);
    for (const k of matcher.blockingKeys(personOf(lead, familyAddress(b.record)?.postcode))) keys.add(k);
  }
  const candidates = await tx.candidateFamilies([...nhsNumbers], [...keys]);
  const plan = planFamilies(births, candidates, matcher, newId);
  const created = await tx.createFamilies(plan.newFamilies);
  if (created.size < plan.newFamilies.length) throw new FamilyRaceError();
  await tx.refreshFamilies(plan.refreshes);
  await tx.addChildren(plan.children);
  await tx.linkNotifications(plan.links);
  await tx.recordSources(plan.sources);
  await tx.createReviews(plan.reviews);
  await tx.appendAudit(plan.audit);
  return plan;
}
