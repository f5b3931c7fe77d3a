/**
 * One birth, one offer, whatever the route (issue 10 item 6): what a message about a baby already notified
 * does to that notification, as a pure function. The store has found the notifications the batch's
 * not-created births share a key with (subject key, baby NHS number, birth key) and locked them; this decides,
 * birth by birth, whether it is that baby (an identity key: yes; a birth key: only if compareBirths says so),
 * then enriches the notification's record, its disclosed record within the dataset its rule allowed, and
 * audits the link with both message ids and the names (never the values) of the fields enriched or in conflict.
 */
import type { BirthNotification } from '../domain/birth-notification.js';
import { decisionAgreement, minimise, type DisclosedRecord } from '../pipeline/consent/decide.js';
import type { DeliveryPlan } from '../pipeline/plan-delivery.js';
import { birthKey, compareBirths, mergeRecords } from '../pipeline/same-birth.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { ExistingNotification, MatchKeys, NotificationUpdate, ProcessOutcome, ProcessedBirth } from '../ports/notification-store.js';
import { WORKER_ACTOR, type Settlement } from './birth-outcomes.js';

const WITHDRAWN_REASON = 'A later message reports the baby has died; the notification is withdrawn and its record no longer shown';
const NOT_LINKED_REASON =
  'Another notification has the same mother, date of birth and birth order, but the records do not agree that it is the same baby: not merged';

/** The keys a batch's not-created births are looked up by. */
export function matchKeys(births: readonly ProcessedBirth[]): MatchKeys {
  const keys: MatchKeys = { subjectKeys: [], babyNhsNumbers: [], birthKeys: [] };
  for (const b of births) {
    keys.subjectKeys.push(b.plan.subjectKey);
    if (b.record.baby.nhsNumber !== undefined) keys.babyNhsNumbers.push(b.record.baby.nhsNumber);
    if (b.plan.birthKey !== undefined) keys.birthKeys.push(b.plan.birthKey);
  }
  return keys;
}

/** What the second look decided. Births not named in `resolved` stay duplicates, as before. */
export interface LinkSettlement {
  /** Messages this settled (linked, withdrew, or to be inserted again without their birth key). */
  resolved: Set<string>;
  outcomes: ProcessOutcome[];
  updates: NotificationUpdate[];
  withdraw: string[];
  /** Messages that withdrew a notification (marked processed). */
  processed: string[];
  /** Messages linked to an existing notification (they create none: marked duplicate). */
  linked: string[];
  /** Births that are not the baby holding their birth key: to be inserted as their own notification, keyless. */
  unlinked: ProcessedBirth[];
  audit: AuditEventInput[];
}

interface Match {
  notification: ExistingNotification;
  matchedBy: 'subject-key' | 'nhs-number' | 'birth-key';
}

const subject = (nhsNumber: string | undefined): { subjectNhsNumber?: string } => (nhsNumber ? { subjectNhsNumber: nhsNumber } : {});

/** The names of the disclosed fields that differ (`baby.name`, `familyAddress`, …). */
export function changedDisclosedFields(before: DisclosedRecord | undefined, after: DisclosedRecord): string[] {
  const flat = (r: DisclosedRecord | undefined): Map<string, string> => {
    const m = new Map<string, string>();
    if (r === undefined) return m;
    for (const [k, v] of Object.entries(r)) {
      if (k === 'dataset' || v === undefined) continue;
      if ((k === 'baby' || k === 'mother') && typeof v === 'object' && v !== null) {
        for (const [f, x] of Object.entries(v as Record<string, unknown>)) m.set(`${k}.${f}`, JSON.stringify(x));
      } else m.set(k, JSON.stringify(v));
    }
    return m;
  };
  const a = flat(before);
  const b = flat(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

function findMatch(b: ProcessedBirth, existing: readonly ExistingNotification[]): Match | undefined {
  const bySubject = existing.find((e) => e.subjectKey === b.plan.subjectKey);
  if (bySubject) return { notification: bySubject, matchedBy: 'subject-key' };
  const nhs = b.record.baby.nhsNumber;
  const byNhs = nhs === undefined ? undefined : existing.find((e) => e.babyNhsNumber === nhs);
  if (byNhs) return { notification: byNhs, matchedBy: 'nhs-number' };
  const byBirth = b.plan.birthKey === undefined ? undefined : existing.find((e) => e.birthKey === b.plan.birthKey);
  return byBirth ? { notification: byBirth, matchedBy: 'birth-key' } : undefined;
}

/**
 * Settles the births whose notification was not created and that are neither retries nor handled death
 * reports. `replan` decides and routes a record as processing does (planDelivery with the hub's rulebook
 * and catchments). Rules:
 * - a birth is linked to the notification with its subject key or its baby's NHS number (the same baby by
 *   identity), else to the one with its birth key if compareBirths says it is the same baby; a birth sharing
 *   only a birth key with a notification that is not clearly the same baby is NOT merged: it is inserted as
 *   its own notification without the birth key, and the audit says why (field names);
 * - a linked birth reporting a death withdraws the notification if it is still live;
 * - otherwise the notification's record is enriched (mergeRecords: the first value is kept on a conflict),
 *   and keys newly known (baby NHS number, birth key) are set where no other notification holds them;
 * - the disclosed record is rebuilt with the dataset the notification's rule allowed, but only while the
 *   rule, dataset and inbox the enriched record would get are those already decided; if they would change
 *   (for instance a later record marked restricted), nothing more is disclosed and the audit says so;
 * - a notification already delivered and now showing more is audited `updated` to its inbox, as a disclosure
 *   with its rule and lawful basis, and its inbox item stamped updated; one withdrawn is only linked.
 */
export function settleLinks(
  births: readonly ProcessedBirth[],
  existing: readonly ExistingNotification[],
  replan: (record: BirthNotification) => DeliveryPlan,
  at: Date,
): LinkSettlement {
  const s: LinkSettlement = {
    resolved: new Set(),
    outcomes: [],
    updates: [],
    withdraw: [],
    processed: [],
    linked: [],
    unlinked: [],
    audit: [],
  };
  // Working copies: several births of one batch may enrich the same notification, one after the other.
  const current = new Map(existing.map((e) => [e.id, { ...e }]));
  const pending = new Map<string, NotificationUpdate>();
  const heldBy = (column: 'babyNhsNumber' | 'birthKey', value: string, id: string): boolean =>
    [...current.values()].some((e) => e.id !== id && e[column] === value);

  for (const b of births) {
    const found = findMatch(b, [...current.values()]);
    if (found === undefined) continue;
    const n = found.notification;
    s.resolved.add(b.messageId);
    if (found.matchedBy === 'birth-key') {
      const verdict = compareBirths(n.record, b.record);
      if (verdict.verdict === 'ambiguous') {
        const plan: DeliveryPlan = { ...b.plan };
        delete plan.birthKey;
        const note: AuditEventInput = {
          at: b.at,
          actor: WORKER_ACTOR,
          action: 'not-linked',
          messageId: b.messageId,
          notificationId: b.notificationId,
          ...subject(b.record.baby.nhsNumber),
          outcome: 'ambiguous',
          details: { reason: NOT_LINKED_REASON, candidateNotificationId: n.id, candidateMessageId: n.messageId, fields: verdict.fields },
        };
        s.unlinked.push({ ...b, plan, audit: [...b.audit, note] });
        continue;
      }
    }
    const base = {
      at,
      actor: WORKER_ACTOR,
      messageId: b.messageId,
      notificationId: n.id,
      ...subject(n.babyNhsNumber ?? b.record.baby.nhsNumber),
    };
    const linkDetails = { firstMessageId: n.messageId, matchedBy: found.matchedBy };

    if (b.record.baby.deceased && (n.status === 'routed' || n.status === 'delivered')) {
      s.withdraw.push(n.id);
      s.processed.push(b.messageId);
      s.outcomes.push({ kind: 'withdrew', messageId: b.messageId, notificationIds: [n.id] });
      s.audit.push({ ...base, action: 'linked', outcome: 'death-reported', details: { ...linkDetails, enriched: [], conflicts: [] } });
      s.audit.push({
        ...base,
        action: 'withdrawn',
        ...(n.inboxId ? { recipient: n.inboxId } : {}),
        ruleId: b.plan.decision.ruleId,
        rulebookVersion: decisionAgreement(b.plan.decision),
        lawfulBasis: b.plan.decision.lawfulBasis,
        outcome: n.status === 'delivered' ? 'withdrawn-from-inbox' : 'withdrawn-before-delivery',
        details: { reason: WITHDRAWN_REASON },
      });
      n.status = 'withdrawn';
      continue;
    }

    s.linked.push(b.messageId);
    if (n.status === 'withdrawn') {
      s.outcomes.push({ kind: 'linked', messageId: b.messageId, notificationId: n.id, inboxUpdated: false });
      s.audit.push({ ...base, action: 'linked', outcome: 'withdrawn', details: { ...linkDetails, enriched: [], conflicts: [] } });
      continue;
    }

    const merged = mergeRecords(n.record, b.record);
    const update: NotificationUpdate = pending.get(n.id) ?? { id: n.id, record: merged.record, inboxUpdated: false };
    update.record = merged.record;
    n.record = merged.record;
    const nhs = merged.record.baby.nhsNumber;
    if (n.babyNhsNumber === undefined && nhs !== undefined && !heldBy('babyNhsNumber', nhs, n.id)) {
      n.babyNhsNumber = nhs;
      update.babyNhsNumber = nhs;
    }
    // The store keeps a mother's NHS number already there; this fills it where the notification had none.
    const mother = merged.record.mother?.nhsNumber;
    if (mother !== undefined) update.motherNhsNumber = mother;
    const key = birthKey(merged.record);
    if (n.birthKey === undefined && key !== undefined && !heldBy('birthKey', key, n.id)) {
      n.birthKey = key;
      update.birthKey = key;
    }

    const details: Record<string, unknown> = { ...linkDetails, enriched: merged.enriched, conflicts: merged.conflicts };
    let disclosedFields: string[] = [];
    const dataset = n.decision.dataset;
    if (n.inboxId !== undefined && dataset !== undefined && merged.enriched.length > 0) {
      const plan = replan(merged.record);
      const sameDecision =
        plan.decision.effect === n.decision.effect && plan.decision.ruleId === n.decision.ruleId && plan.decision.dataset === dataset;
      if (!sameDecision) details.decisionWouldChange = true;
      if (plan.inboxId !== n.inboxId) details.routeWouldChange = true;
      if (sameDecision) {
        const disclosed = minimise(merged.record, dataset);
        disclosedFields = changedDisclosedFields(n.disclosed, disclosed);
        if (disclosedFields.length > 0) {
          n.disclosed = disclosed;
          update.disclosed = disclosed;
        }
      }
    }
    const inboxUpdated = disclosedFields.length > 0 && n.status === 'delivered';
    if (inboxUpdated) update.inboxUpdated = true;
    if (merged.enriched.length > 0 || update.disclosed !== undefined) pending.set(n.id, update);
    s.outcomes.push({ kind: 'linked', messageId: b.messageId, notificationId: n.id, inboxUpdated });
    s.audit.push({ ...base, action: 'linked', outcome: merged.enriched.length > 0 ? 'enriched' : 'nothing-new', details });
    if (inboxUpdated && n.inboxId !== undefined) {
      s.audit.push({
        ...base,
        action: 'updated',
        recipient: n.inboxId,
        ruleId: n.decision.ruleId,
        rulebookVersion: decisionAgreement(n.decision),
        lawfulBasis: n.decision.lawfulBasis,
        details: { dataset, fields: disclosedFields },
      });
    }
  }
  s.updates = [...pending.values()];
  return s;
}

/**
 * The batch's settlement once the second look is done: the births it settled are no longer duplicates; those
 * linked are (they made no notification of their own), with a `linked` audit instead of `duplicate-birth`; those
 * that withdrew a notification are processed; those inserted again without their birth key (`again`: the
 * notifications that insert created) are created. An unlinked birth whose second insert created nothing (another
 * worker got there first) stays the duplicate it was.
 */
export function withLinks(settled: Settlement, links: LinkSettlement, again: ReadonlySet<string>): Settlement {
  const created = new Map(links.unlinked.filter((b) => again.has(b.notificationId)).map((b) => [b.messageId, b]));
  const notCreated = new Set(links.unlinked.filter((b) => !again.has(b.notificationId)).map((b) => b.messageId));
  const settledHere = new Set([...links.resolved].filter((id) => !notCreated.has(id)));
  const linkOutcomes = new Map(links.outcomes.map((o) => [o.messageId, o]));
  const outcomes = settled.outcomes.map((o): ProcessOutcome => {
    if (!settledHere.has(o.messageId)) return o;
    const b = created.get(o.messageId);
    if (b === undefined) return linkOutcomes.get(o.messageId) ?? o;
    return {
      kind: 'created',
      messageId: b.messageId,
      notificationId: b.notificationId,
      ...(b.plan.inboxId ? { inboxId: b.plan.inboxId } : {}),
    };
  });
  return {
    outcomes,
    processed: [...settled.processed, ...links.processed],
    duplicates: [...settled.duplicates.filter((id) => !settledHere.has(id)), ...links.linked],
    withdraw: [...settled.withdraw, ...links.withdraw],
    audit: [
      ...settled.audit.filter((e) => !(e.action === 'duplicate-birth' && e.messageId !== undefined && settledHere.has(e.messageId))),
      ...links.audit,
    ],
  };
}
