/**
 * What an A40 merge does to notifications, as pure functions (issue 12 item 5). The store has found and locked
 * the notifications either patient's identity keys name; this decides:
 * - both patients are notified babies, and the records do not plainly differ: ONE notification remains, the
 *   survivor's (the one under the surviving identifiers). The merged one is withdrawn from its inbox with a neutral
 *   reason (if it was delivered; before delivery otherwise), its first message is linked to the survivor, and the
 *   survivor's record is enriched with what the merged one knew (mergeRecords: the survivor's values win);
 * - the two records are plainly different babies (different date or time of birth, birth order, sex or mother's
 *   NHS number: twins, say): REFUSED, nothing changes, audited `merge-refused` with the field names, and the A40
 *   is quarantined with a reason so that it stands in the operators' queue until someone checks with the trust;
 * - only one is known, or neither: every identity key of both patients is recorded as resolving to the one subject
 *   key that stands for the person (the known notification's, else the surviving identifiers'), so a later message
 *   under either identifier reaches the same notification; a notification known only under the merged
 *   identifiers also takes on the surviving ones (a missing NHS number, the local identifiers).
 * The audit carries identifier KINDS (NHS number; local identifiers' assigning authority and type), notification
 * and message ids, field names: never a value beyond the subject column.
 */
import { decisionAgreement } from '../pipeline/consent/decide.js';
import type { BirthNotification } from '../domain/birth-notification.js';
import { identifierKinds, identityKeys, primaryIdentityKey, type MergePair, type PatientIdentifiers } from '../domain/identity-event.js';
import { minimise } from '../pipeline/consent/decide.js';
import type { DeliveryPlan } from '../pipeline/plan-delivery.js';
import { mergeRecords, statedBirthOrder } from '../pipeline/same-birth.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { ExistingNotification, NotificationUpdate, ProcessedBirth } from '../ports/notification-store.js';
import { WORKER_ACTOR } from './birth-outcomes.js';
import { changedDisclosedFields } from './link-births.js';

/** Shown nowhere but the audit: the centre sees the item withdrawn, without its record, and the survivor remains. */
export const MERGED_REASON = 'The sending trust merged two records of the same baby; this notification continues as another one';
export const MERGE_REFUSED_REASON =
  'A40 merge refused: the two notifications are different babies (see the audit for the fields that differ); check with the sending trust';

/**
 * The births of a batch with their subject keys followed through the identity keys A40 merges left (migration 017):
 * a birth under a merged identifier gets the subject key of the person it was merged into.
 */
export function followIdentityKeys(births: readonly ProcessedBirth[], resolved: ReadonlyMap<string, string>): ProcessedBirth[] {
  if (resolved.size === 0) return [...births];
  return births.map((b) => {
    const to = resolved.get(b.plan.subjectKey);
    return to === undefined ? b : { ...b, plan: { ...b.plan, subjectKey: to } };
  });
}

const minuteOf = (instant: string | undefined): number | undefined => {
  if (instant === undefined) return undefined;
  const ms = Date.parse(instant);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 60_000);
};

/**
 * The fields (names) on which two baby records plainly differ: given by both and not equal. Any one means two
 * different babies (twins share a mother and a day but not a birth order, a minute of birth, often a sex), and a
 * merge of the two is refused. A difference in the babies' NHS numbers is not one: resolving a duplicate NHS number is
 * what an A40 is for.
 */
export function plainlyDifferentBabies(a: BirthNotification, b: BirthNotification): string[] {
  const fields: string[] = [];
  if (a.baby.birthDate !== b.baby.birthDate) fields.push('baby.birthDate');
  const orderA = statedBirthOrder(a.baby);
  const orderB = statedBirthOrder(b.baby);
  if (orderA !== undefined && orderB !== undefined && orderA !== orderB) fields.push('baby.birthOrder');
  const timeA = minuteOf(a.baby.birthTime);
  const timeB = minuteOf(b.baby.birthTime);
  if (timeA !== undefined && timeB !== undefined && timeA !== timeB) fields.push('baby.birthTime');
  const known = (s: BirthNotification['baby']['sex']) => s !== undefined && s !== 'unknown';
  if (known(a.baby.sex) && known(b.baby.sex) && a.baby.sex !== b.baby.sex) fields.push('baby.sex');
  const ma = a.mother?.nhsNumber;
  const mb = b.mother?.nhsNumber;
  if (ma !== undefined && mb !== undefined && ma !== mb) fields.push('mother.nhsNumber');
  return fields;
}

/** Whether a notification is this patient's: by identity key (directly, or resolved through an earlier merge) or baby NHS number. */
function belongsTo(
  n: ExistingNotification,
  ids: PatientIdentifiers,
  keys: readonly string[],
  resolved: ReadonlyMap<string, string>,
): boolean {
  if (ids.nhsNumber !== undefined && n.babyNhsNumber === ids.nhsNumber) return true;
  return keys.some((k) => n.subjectKey === k || resolved.get(k) === n.subjectKey);
}

/** The notifications (of those found) that are this patient's, live ones first. */
export function notificationsOf(
  ids: PatientIdentifiers,
  feedId: string,
  found: readonly ExistingNotification[],
  resolved: ReadonlyMap<string, string>,
): ExistingNotification[] {
  const keys = identityKeys(ids, feedId);
  const mine = found.filter((n) => belongsTo(n, ids, keys, resolved));
  return [...mine.filter((n) => n.status !== 'withdrawn'), ...mine.filter((n) => n.status === 'withdrawn')];
}

/** What a merge pair means for notifications. */
export type MergeDecision =
  | { kind: 'merge'; survivor: ExistingNotification; merged: ExistingNotification }
  | { kind: 'refuse'; survivor: ExistingNotification; merged: ExistingNotification; fields: string[] }
  /** Both identifiers already lead to the same notification. */
  | { kind: 'already-one'; survivor: ExistingNotification }
  | { kind: 'surviving-known'; survivor: ExistingNotification }
  /** Only the merged patient is notified: it takes on the surviving identifiers. */
  | { kind: 'merged-known'; merged: ExistingNotification }
  | { kind: 'not-known' };

/** Decides what one merge pair does, given the notifications (locked) either side's keys found. */
export function decideMerge(
  pair: MergePair,
  feedId: string,
  found: readonly ExistingNotification[],
  resolved: ReadonlyMap<string, string>,
): MergeDecision {
  const sKeys = identityKeys(pair.surviving, feedId);
  const mKeys = identityKeys(pair.merged, feedId);
  const survivors = found.filter((n) => belongsTo(n, pair.surviving, sKeys, resolved));
  const merged = found.filter((n) => belongsTo(n, pair.merged, mKeys, resolved));
  const survivor = survivors.find((n) => n.status !== 'withdrawn') ?? survivors[0];
  const other = merged.find((n) => n.id !== survivor?.id && n.status !== 'withdrawn') ?? merged.find((n) => n.id !== survivor?.id);
  if (survivor !== undefined && other !== undefined) {
    const fields = plainlyDifferentBabies(survivor.record, other.record);
    return fields.length > 0 ? { kind: 'refuse', survivor, merged: other, fields } : { kind: 'merge', survivor, merged: other };
  }
  if (survivor !== undefined) return merged.length > 0 ? { kind: 'already-one', survivor } : { kind: 'surviving-known', survivor };
  if (other !== undefined) return { kind: 'merged-known', merged: other };
  return { kind: 'not-known' };
}

/** The writes and audit of one applied merge pair. */
export interface MergeEffects {
  withdraw: string[];
  updates: NotificationUpdate[];
  audit: AuditEventInput[];
  /** Identity keys to record as resolving to `subjectKey` (none for a refusal). */
  keys: string[];
  subjectKey?: string;
  /** Set for a refusal: the A40 goes to the operators' quarantine with this reason. */
  refused?: string;
  /** Notifications made one (for the log: counts only). */
  mergedNotifications: number;
}

/**
 * The notification's record enriched (`record`), as a NotificationUpdate with the disclosed record rebuilt when
 * the decision (rule, dataset) `replan` gives is the one already made; `undefined` when nothing changed.
 */
function enrich(
  n: ExistingNotification,
  record: BirthNotification,
  enriched: readonly string[],
  replan: (record: BirthNotification) => DeliveryPlan,
): { update?: NotificationUpdate; disclosedFields: string[] } {
  if (enriched.length === 0 || n.status === 'withdrawn') return { disclosedFields: [] };
  const update: NotificationUpdate = { id: n.id, record, inboxUpdated: false };
  const mother = record.mother?.nhsNumber;
  if (mother !== undefined) update.motherNhsNumber = mother;
  let disclosedFields: string[] = [];
  const dataset = n.decision.dataset;
  if (n.inboxId !== undefined && dataset !== undefined) {
    const plan = replan(record);
    const same =
      plan.decision.effect === n.decision.effect && plan.decision.ruleId === n.decision.ruleId && plan.decision.dataset === dataset;
    if (same) {
      const disclosed = minimise(record, dataset);
      disclosedFields = changedDisclosedFields(n.disclosed, disclosed);
      if (disclosedFields.length > 0) update.disclosed = disclosed;
    }
  }
  update.inboxUpdated = disclosedFields.length > 0 && n.status === 'delivered';
  return { update, disclosedFields };
}

const subject = (nhs: string | undefined): { subjectNhsNumber?: string } => (nhs !== undefined ? { subjectNhsNumber: nhs } : {});
const ruleOf = (n: ExistingNotification) => ({
  ruleId: n.decision.ruleId,
  rulebookVersion: decisionAgreement(n.decision),
  lawfulBasis: n.decision.lawfulBasis,
});

/** The survivor's record with the surviving identifiers a merged-only notification now takes on. */
function withIdentifiers(record: BirthNotification, ids: PatientIdentifiers): { record: BirthNotification; enriched: string[] } {
  const enriched: string[] = [];
  const baby = { ...record.baby };
  if (baby.nhsNumber === undefined && ids.nhsNumber !== undefined) {
    baby.nhsNumber = ids.nhsNumber;
    enriched.push('baby.nhsNumber');
  }
  const local = [...baby.localIdentifiers];
  for (const l of ids.local) {
    if (!local.some((x) => x.value === l.value && (x.assigner ?? '') === (l.assigner ?? ''))) local.push(l);
  }
  if (local.length > baby.localIdentifiers.length) {
    baby.localIdentifiers = local;
    enriched.push('baby.localIdentifiers');
  }
  return { record: { ...record, baby }, enriched };
}

/**
 * The effects of one merge pair's decision. `messageId` is the A40's; `at` the processing time; `replan` decides
 * and routes a record as processing does (for the disclosed record of an enriched survivor).
 */
export function mergeEffects(
  decision: MergeDecision,
  pair: MergePair,
  feedId: string,
  messageId: string,
  at: Date,
  replan: (record: BirthNotification) => DeliveryPlan,
): MergeEffects {
  const identifiers = { surviving: identifierKinds(pair.surviving), merged: identifierKinds(pair.merged) };
  const keys = [...identityKeys(pair.surviving, feedId), ...identityKeys(pair.merged, feedId)];
  const base = { at, actor: WORKER_ACTOR, messageId };
  const fx: MergeEffects = { withdraw: [], updates: [], audit: [], keys: [], mergedNotifications: 0 };
  switch (decision.kind) {
    case 'refuse': {
      const { survivor, merged } = decision;
      fx.refused = MERGE_REFUSED_REASON;
      fx.audit.push({
        ...base,
        action: 'merge-refused',
        notificationId: survivor.id,
        ...subject(survivor.babyNhsNumber ?? pair.surviving.nhsNumber),
        outcome: 'different-babies',
        details: { identifiers, otherNotificationId: merged.id, fields: decision.fields, reason: MERGE_REFUSED_REASON },
      });
      return fx;
    }
    case 'merge': {
      const { survivor, merged } = decision;
      const combined = mergeRecords(survivor.record, merged.record);
      const { update, disclosedFields } = enrich(survivor, combined.record, combined.enriched, replan);
      if (update) fx.updates.push(update);
      const wasLive = merged.status !== 'withdrawn';
      if (wasLive) fx.withdraw.push(merged.id);
      fx.mergedNotifications = 1;
      fx.keys = keys;
      fx.subjectKey = survivor.subjectKey;
      fx.audit.push({
        ...base,
        action: 'merged',
        notificationId: survivor.id,
        ...subject(survivor.babyNhsNumber ?? pair.surviving.nhsNumber),
        outcome: 'notifications-merged',
        details: {
          identifiers,
          mergedNotificationId: merged.id,
          enriched: survivor.status === 'withdrawn' ? [] : combined.enriched,
          conflicts: combined.conflicts,
        },
      });
      fx.audit.push({
        ...base,
        action: 'linked',
        messageId: merged.messageId,
        notificationId: survivor.id,
        ...subject(survivor.babyNhsNumber ?? pair.surviving.nhsNumber),
        outcome: 'merged',
        details: { firstMessageId: survivor.messageId, matchedBy: 'merge', mergeMessageId: messageId, enriched: [], conflicts: [] },
      });
      if (wasLive) {
        fx.audit.push({
          ...base,
          action: 'withdrawn',
          notificationId: merged.id,
          ...(merged.inboxId !== undefined && merged.status === 'delivered' ? { recipient: merged.inboxId } : {}),
          ...subject(merged.babyNhsNumber),
          ...ruleOf(merged),
          outcome:
            merged.status === 'delivered'
              ? 'withdrawn-from-inbox'
              : merged.status === 'routed'
                ? 'withdrawn-before-delivery'
                : 'withdrawn-withheld',
          details: { reason: MERGED_REASON, mergedInto: survivor.id },
        });
      }
      if (update?.inboxUpdated === true && survivor.inboxId !== undefined) {
        fx.audit.push({
          ...base,
          action: 'updated',
          notificationId: survivor.id,
          recipient: survivor.inboxId,
          ...subject(survivor.babyNhsNumber),
          ...ruleOf(survivor),
          details: { dataset: survivor.decision.dataset, fields: disclosedFields },
        });
      }
      return fx;
    }
    case 'already-one':
    case 'surviving-known': {
      fx.keys = keys;
      fx.subjectKey = decision.survivor.subjectKey;
      fx.audit.push({
        ...base,
        action: 'merged',
        notificationId: decision.survivor.id,
        ...subject(decision.survivor.babyNhsNumber ?? pair.surviving.nhsNumber),
        outcome: decision.kind,
        details: { identifiers },
      });
      return fx;
    }
    case 'merged-known': {
      const n = decision.merged;
      const next = withIdentifiers(n.record, pair.surviving);
      const { update, disclosedFields } = enrich(n, next.record, next.enriched, replan);
      // No other notification holds the surviving NHS number (it would have been found as the survivor's).
      if (update && n.babyNhsNumber === undefined && next.record.baby.nhsNumber !== undefined)
        update.babyNhsNumber = next.record.baby.nhsNumber;
      if (update) fx.updates.push(update);
      fx.keys = keys;
      fx.subjectKey = n.subjectKey;
      fx.audit.push({
        ...base,
        action: 'merged',
        notificationId: n.id,
        ...subject(n.babyNhsNumber ?? pair.surviving.nhsNumber),
        outcome: 'took-surviving-identifiers',
        details: { identifiers, enriched: n.status === 'withdrawn' ? [] : next.enriched },
      });
      if (update?.inboxUpdated === true && n.inboxId !== undefined) {
        fx.audit.push({
          ...base,
          action: 'updated',
          notificationId: n.id,
          recipient: n.inboxId,
          ...subject(n.babyNhsNumber),
          ...ruleOf(n),
          details: { dataset: n.decision.dataset, fields: disclosedFields },
        });
      }
      return fx;
    }
    case 'not-known': {
      const target = primaryIdentityKey(pair.surviving, feedId);
      if (target !== undefined) {
        fx.keys = keys;
        fx.subjectKey = target;
      }
      fx.audit.push({ ...base, action: 'merged', ...subject(pair.surviving.nhsNumber), outcome: 'not-known', details: { identifiers } });
      return fx;
    }
  }
}
