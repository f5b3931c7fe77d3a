/**
 * What identity events do to family records (issue 12 item 5), through the family store's transaction:
 * - an A40 merging two MOTHERS (family leads: the lead's NHS number, or the mother named in the family's
 *   notifications, by NHS number or local identifier) merges the merged mother's family into the surviving one's
 *   (children, links and sources move, `merged_into` set: FamilyTransaction.mergeFamily);
 * - an A40 merging two notifications of one baby leaves one child in the family (retireChild);
 * - an A24 linking a notified baby and a mother whose family Stork knows puts the baby in that family; an A24
 *   naming two notified babies makes them siblings in one family, if at least one has a family. A baby already in
 *   a family led by someone with another NHS number is not moved: the link is refused and waits for an operator.
 *   Otherwise the link is recorded only.
 * Audit details carry identifier kinds, family and notification ids: never a value beyond the subject column.
 */
import { identifierKinds, identityKeys, type IdentityEvent, type MergePair, type PatientIdentifiers } from '../domain/identity-event.js';
import { childKeyOf, childRecordOf } from '../pipeline/family-match.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { FamilyRecord } from '../ports/family-store.js';
import type { IdentityTransaction } from '../ports/identity-store.js';
import type { ExistingNotification } from '../ports/notification-store.js';
import { WORKER_ACTOR } from './birth-outcomes.js';
import { notificationsOf } from './identity-decisions.js';

export const LINK_REFUSED_REASON =
  'A24 link refused: the baby is already in a family led by someone with another NHS number; check with the sending trust';

/** A family as it stands now: following `merged_into` (a few hops at most), locked. */
async function liveFamily(tx: IdentityTransaction, id: string): Promise<FamilyRecord | undefined> {
  let f = await tx.families.lockFamily(id);
  for (let hops = 0; f?.mergedInto !== undefined && hops < 8; hops++) f = await tx.families.lockFamily(f.mergedInto);
  return f?.mergedInto === undefined ? f : undefined;
}

/** The live family this patient leads, or is the mother in (by her NHS number or local identifiers). */
export async function familyOfMother(tx: IdentityTransaction, ids: PatientIdentifiers): Promise<FamilyRecord | undefined> {
  if (ids.nhsNumber !== undefined) {
    const [led] = await tx.families.familiesByLeadNhsNumber([ids.nhsNumber]);
    if (led !== undefined) return liveFamily(tx, led.id);
  }
  const notes = await tx.notificationsOfMother(ids.nhsNumber, ids.local);
  const families = [...new Set((await tx.families.familyOfNotifications(notes)).values())].sort();
  for (const id of families) {
    const f = await liveFamily(tx, id);
    if (f !== undefined) return f;
  }
  return undefined;
}

async function familyOfBaby(tx: IdentityTransaction, n: ExistingNotification): Promise<FamilyRecord | undefined> {
  const id = (await tx.families.familyOfNotifications([n.id])).get(n.id);
  return id === undefined ? undefined : liveFamily(tx, id);
}

/** The A40 pair's mothers' families merged, if both are known and differ; the audit of it (empty otherwise). */
export async function mergeMothers(tx: IdentityTransaction, pair: MergePair, messageId: string, at: Date): Promise<AuditEventInput[]> {
  const survivor = await familyOfMother(tx, pair.surviving);
  const merged = await familyOfMother(tx, pair.merged);
  if (survivor === undefined || merged === undefined || survivor.id === merged.id) return [];
  await tx.families.mergeFamily(merged.id, survivor.id, at, 'merge');
  await tx.families.recordSources([{ familyId: survivor.id, kind: 'merge', ref: messageId, at }]);
  return [
    {
      at,
      actor: WORKER_ACTOR,
      action: 'merged',
      messageId,
      ...(pair.surviving.nhsNumber !== undefined ? { subjectNhsNumber: pair.surviving.nhsNumber } : {}),
      outcome: 'families-merged',
      details: {
        identifiers: { surviving: identifierKinds(pair.surviving), merged: identifierKinds(pair.merged) },
        familyId: survivor.id,
        mergedFamilyId: merged.id,
      },
    },
  ];
}

/** After two notifications of one baby became one: one child left in the family. */
export async function retireMergedChild(
  tx: IdentityTransaction,
  survivor: ExistingNotification,
  merged: ExistingNotification,
  at: Date,
): Promise<void> {
  await tx.retireChild(
    merged.id,
    { notificationId: survivor.id, childKey: childKeyOf(survivor.record, survivor.id), record: childRecordOf(survivor.record) },
    at,
  );
}

export interface LinkResult {
  audit: AuditEventInput[];
  /** Set when refused: the message is quarantined with it. */
  refused?: string;
}

type Outcome = 'baby-joined-family' | 'families-joined' | 'already-linked' | 'not-known' | 'different-mother';

/**
 * Puts baby `n` in family `into`: added as a child and linked (method `link`) if it has no family; its family merged
 * into `into` if it has another one whose lead has no other NHS number; refused otherwise.
 */
async function join(
  tx: IdentityTransaction,
  n: ExistingNotification,
  into: FamilyRecord,
  messageId: string,
  at: Date,
): Promise<{ outcome: Outcome; from?: string }> {
  const current = await familyOfBaby(tx, n);
  if (current?.id === into.id) return { outcome: 'already-linked' };
  if (current === undefined) {
    await tx.families.addChildren([
      { familyId: into.id, childKey: childKeyOf(n.record, n.id), notificationId: n.id, record: childRecordOf(n.record), at },
    ]);
    await tx.families.linkNotifications([{ notificationId: n.id, familyId: into.id, method: 'link', at }]);
    await tx.families.recordSources([{ familyId: into.id, kind: 'link', ref: messageId, at }]);
    return { outcome: 'baby-joined-family' };
  }
  if (current.leadNhsNumber !== undefined && into.leadNhsNumber !== undefined && current.leadNhsNumber !== into.leadNhsNumber) {
    return { outcome: 'different-mother', from: current.id };
  }
  await tx.families.mergeFamily(current.id, into.id, at, 'link');
  await tx.families.recordSources([{ familyId: into.id, kind: 'link', ref: messageId, at }]);
  return { outcome: 'families-joined', from: current.id };
}

/** Applies an A24: a baby joins its mother's family, or two babies become siblings; else it is recorded. */
export async function applyLink(
  tx: IdentityTransaction,
  event: Extract<IdentityEvent, { kind: 'link' }>,
  messageId: string,
  at: Date,
): Promise<LinkResult> {
  const feedId = event.source.feedId;
  const babiesOf = async (ids: PatientIdentifiers): Promise<ExistingNotification | undefined> => {
    const keys = identityKeys(ids, feedId);
    const resolved = await tx.resolveIdentityKeys(keys);
    const found = await tx.lockMatchingNotifications({
      subjectKeys: [...keys, ...resolved.values()],
      babyNhsNumbers: ids.nhsNumber !== undefined ? [ids.nhsNumber] : [],
      birthKeys: [],
      demographicKeys: [],
    });
    return notificationsOf(ids, feedId, found, resolved)[0];
  };
  const first = await babiesOf(event.first);
  const second = await babiesOf(event.second);
  let baby: ExistingNotification | undefined;
  let family: FamilyRecord | undefined;
  let result: { outcome: Outcome; from?: string } = { outcome: 'not-known' };
  if (first !== undefined && second !== undefined && first.id !== second.id) {
    // Two babies: siblings, in the family either already has.
    const f1 = await familyOfBaby(tx, first);
    const f2 = await familyOfBaby(tx, second);
    if (f1 !== undefined) [baby, family] = [second, f1];
    else if (f2 !== undefined) [baby, family] = [first, f2];
  } else if (first !== undefined || second !== undefined) {
    baby = first ?? second;
    const mother = first !== undefined ? event.second : event.first;
    family = await familyOfMother(tx, mother);
  }
  if (baby !== undefined && family !== undefined) result = await join(tx, baby, family, messageId, at);
  const event0: AuditEventInput = {
    at,
    actor: WORKER_ACTOR,
    action: result.outcome === 'different-mother' ? 'link-refused' : 'patients-linked',
    messageId,
    ...(baby !== undefined ? { notificationId: baby.id } : {}),
    ...(baby?.babyNhsNumber !== undefined ? { subjectNhsNumber: baby.babyNhsNumber } : {}),
    outcome: result.outcome === 'not-known' ? 'recorded' : result.outcome,
    details: {
      identifiers: { first: identifierKinds(event.first), second: identifierKinds(event.second) },
      ...(family !== undefined ? { familyId: family.id } : {}),
      ...(result.from !== undefined ? { fromFamilyId: result.from } : {}),
      ...(result.outcome === 'different-mother' ? { reason: LINK_REFUSED_REASON } : {}),
    },
  };
  return { audit: [event0], ...(result.outcome === 'different-mother' ? { refused: LINK_REFUSED_REASON } : {}) };
}
