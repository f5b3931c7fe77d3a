/**
 * One birth, one offer, whatever the route (issue 10 item 6; issue 12 items 4 and 5): what a message about a
 * baby already notified does to that notification, as a pure function. The store has found the notifications the
 * batch's not-created births and updates share a key with (subject key, baby NHS number, birth key, demographic
 * key) and locked them; this decides, birth by birth, whether it is that baby (an identity key: yes; a second-level
 * key: only if the comparison for it says so), then enriches (or, for an update, updates) the notification's
 * record, decides and routes it again (it may move to another inbox), and audits it with both message ids and the
 * names (never the values) of the fields changed.
 */
import type { BirthNotification } from '../domain/birth-notification.js';
import { decisionAgreement, type DisclosedRecord } from '../pipeline/consent/decide.js';
import type { DeliveryPlan } from '../pipeline/plan-delivery.js';
import { applyUpdate, birthKey, compareBirths, compareByMotherDetails, demographicKey, mergeRecords } from '../pipeline/same-birth.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { ExistingNotification, MatchKeys, NotificationUpdate, ProcessOutcome, ProcessedBirth } from '../ports/notification-store.js';
import { WORKER_ACTOR, type Settlement } from './birth-outcomes.js';

const WITHDRAWN_REASON = 'A later message reports the baby has died; the notification is withdrawn and its record no longer shown';
const UPDATE_NOT_APPLIED_REASON = 'An update about a baby Stork has not notified: recorded, and no notification made of it';
const NOT_LINKED_REASON =
  'Another notification shares a key of this birth (the mother and the date, time or order of birth), but the records do not agree that it is the same baby: not merged';

/** The keys a batch's not-created births are looked up by. */
export function matchKeys(births: readonly ProcessedBirth[]): MatchKeys {
  const keys: MatchKeys = { subjectKeys: [], babyNhsNumbers: [], birthKeys: [], demographicKeys: [] };
  for (const b of births) {
    keys.subjectKeys.push(b.plan.subjectKey);
    if (b.record.baby.nhsNumber !== undefined) keys.babyNhsNumbers.push(b.record.baby.nhsNumber);
    if (b.plan.birthKey !== undefined) keys.birthKeys.push(b.plan.birthKey);
    if (b.plan.demographicKey !== undefined) keys.demographicKeys.push(b.plan.demographicKey);
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
  /** Updates about a baby Stork has not notified (marked not relevant). */
  notRelevant: string[];
  /** Births that are not the baby holding their birth key: to be inserted as their own notification, keyless. */
  unlinked: ProcessedBirth[];
  audit: AuditEventInput[];
}

interface Match {
  notification: ExistingNotification;
  matchedBy: 'subject-key' | 'nhs-number' | 'birth-key' | 'demographic-key';
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

/** What the keys found: the notification of the same baby, or a candidate that is not clearly the same baby. */
interface Found {
  match?: Match;
  ambiguous?: { notification: ExistingNotification; fields: string[] };
}

/**
 * The notification a birth is about: by identity (subject key, the baby's NHS number), else by a second-level
 * key (birth key, then demographic key) only when the comparison for that key says it is the same baby.
 */
function findMatch(b: ProcessedBirth, existing: readonly ExistingNotification[]): Found {
  const bySubject = existing.find((e) => e.subjectKey === b.plan.subjectKey);
  if (bySubject) return { match: { notification: bySubject, matchedBy: 'subject-key' } };
  const nhs = b.record.baby.nhsNumber;
  const byNhs = nhs === undefined ? undefined : existing.find((e) => e.babyNhsNumber === nhs);
  if (byNhs) return { match: { notification: byNhs, matchedBy: 'nhs-number' } };
  const { birthKey: bk, demographicKey: dk } = b.plan;
  const tries = [
    {
      matchedBy: 'birth-key' as const,
      candidate: bk === undefined ? undefined : existing.find((e) => e.birthKey === bk),
      compare: compareBirths,
    },
    {
      matchedBy: 'demographic-key' as const,
      candidate: dk === undefined ? undefined : existing.find((e) => e.demographicKey === dk),
      compare: compareByMotherDetails,
    },
  ];
  let ambiguous: Found['ambiguous'];
  for (const { matchedBy, candidate, compare } of tries) {
    if (candidate === undefined) continue;
    const verdict = compare(candidate.record, b.record);
    if (verdict.verdict === 'same') return { match: { notification: candidate, matchedBy } };
    ambiguous ??= { notification: candidate, fields: verdict.fields };
  }
  return ambiguous === undefined ? {} : { ambiguous };
}

const MOVED_REASON = 'The notification no longer belongs in this inbox; it is withdrawn and its record no longer shown';

/** An update about a baby Stork has not notified: recorded (audit, message not relevant), never a notification. */
function notApplied(s: LinkSettlement, b: ProcessedBirth, at: Date): void {
  s.resolved.add(b.messageId);
  s.notRelevant.push(b.messageId);
  s.outcomes.push({ kind: 'update-not-applied', messageId: b.messageId });
  s.audit.push({
    at,
    actor: WORKER_ACTOR,
    action: 'not-relevant',
    messageId: b.messageId,
    ...subject(b.record.baby.nhsNumber),
    outcome: 'update-not-applied',
    details: { reason: UPDATE_NOT_APPLIED_REASON },
  });
}

type EventPart = Omit<AuditEventInput, 'at' | 'actor'>;

const ruleOf = (d: DeliveryPlan['decision']) => ({
  ruleId: d.ruleId,
  rulebookVersion: decisionAgreement(d),
  lawfulBasis: d.lawfulBasis,
});

/**
 * What a changed record does to a notification not withdrawn, given the plan the record now gets (`plan`): the
 * pure core of moves (issue 12 item 5). Mutates the working copy `n` and the pending write `update`; returns the
 * audit events (without time and actor) and whether the notification moved to another inbox.
 * - Same decision, same inbox: the disclosed record is rebuilt with the decided dataset; a delivered one shows
 *   the change (`updated` to its inbox, with the fields' names).
 * - Another decision, same inbox: the new decision replaces the old, the disclosed record is rebuilt with the new
 *   dataset (never more than it allows), audited `decided` and, delivered, `updated`.
 * - Another inbox (the family moved to another centre's catchment; a restricted record now goes to review; the
 *   decision now shares nothing): its item in the old inbox is withdrawn with a neutral reason (`withdrawn`,
 *   outcome `moved-away`, naming only the old inbox; the old centre keeps no record and learns nothing of the
 *   new), and it is routed to the new inbox with the record minimised by the new decision's dataset (`routed`,
 *   with the rule and lawful basis; the delivery job delivers it), or withheld when nothing may be shared.
 */
export function reconcile(
  n: ExistingNotification,
  plan: DeliveryPlan,
  update: NotificationUpdate,
): { fields: string[]; events: EventPart[]; moved?: boolean } {
  const sameDecision =
    plan.decision.effect === n.decision.effect &&
    plan.decision.ruleId === n.decision.ruleId &&
    plan.decision.dataset === n.decision.dataset;
  const events: EventPart[] = [];
  const decided = (): EventPart => ({
    action: 'decided',
    ...ruleOf(plan.decision),
    outcome: plan.decision.effect,
    details: { reason: plan.decision.reason, dataset: plan.decision.dataset, redecided: true },
  });
  if (plan.inboxId !== undefined && plan.inboxId === n.inboxId && plan.disclosed !== undefined) {
    const fields = changedDisclosedFields(n.disclosed, plan.disclosed);
    if (!sameDecision) {
      events.push(decided());
      n.decision = plan.decision;
      update.decision = plan.decision;
    }
    if (fields.length > 0) {
      n.disclosed = plan.disclosed;
      update.disclosed = plan.disclosed;
    }
    if (fields.length > 0 && n.status === 'delivered') {
      update.inboxUpdated = true;
      events.push({ action: 'updated', recipient: n.inboxId, ...ruleOf(n.decision), details: { dataset: n.decision.dataset, fields } });
    }
    return { fields, events };
  }
  if (plan.inboxId === undefined && n.inboxId === undefined) {
    // Withheld before and still: only the decision may have changed.
    if (!sameDecision) {
      events.push(decided());
      n.decision = plan.decision;
      update.decision = plan.decision;
    }
    return { fields: [], events };
  }
  if (!sameDecision) events.push(decided());
  // Moved twice in one batch: the item to withdraw is still the one the notification was delivered to.
  const withdrawFrom = n.status === 'delivered' ? n.inboxId : update.reroute?.withdrawFrom;
  if (n.status === 'delivered' && withdrawFrom !== undefined) {
    events.push({
      action: 'withdrawn',
      recipient: withdrawFrom,
      ...ruleOf(n.decision),
      outcome: 'moved-away',
      details: { reason: MOVED_REASON },
    });
  }
  if (plan.inboxId !== undefined) {
    events.push({
      action: 'routed',
      recipient: plan.inboxId,
      ...ruleOf(plan.decision),
      outcome: plan.route.kind,
      details: { route: plan.route, moved: true },
    });
  } else {
    events.push({ action: 'withheld', ...ruleOf(plan.decision), outcome: 'withheld', details: { route: plan.route, moved: true } });
  }
  update.reroute = {
    decision: plan.decision,
    route: plan.route,
    ...(plan.inboxId !== undefined ? { inboxId: plan.inboxId } : {}),
    ...(plan.disclosed !== undefined ? { disclosed: plan.disclosed } : {}),
    ...(withdrawFrom !== undefined ? { withdrawFrom } : {}),
  };
  update.inboxUpdated = false;
  delete update.disclosed;
  delete update.decision;
  n.decision = plan.decision;
  n.status = plan.inboxId === undefined ? 'withheld' : 'routed';
  if (plan.inboxId === undefined) delete n.inboxId;
  else n.inboxId = plan.inboxId;
  if (plan.disclosed === undefined) delete n.disclosed;
  else n.disclosed = plan.disclosed;
  return { fields: [], events, moved: true };
}

/**
 * Settles the births whose notification was not created and that are neither retries nor handled death
 * reports, updates included. `replan` decides and routes a record as processing does (planDelivery with the
 * hub's rulebook and catchments). Rules:
 * - a birth is linked to the notification with its subject key or its baby's NHS number (the same baby by
 *   identity), else to the one with its birth key if compareBirths says it is the same baby, else to the one
 *   with its demographic key if compareByMotherDetails says so; a birth sharing a second-level key only with
 *   notifications that are not clearly the same baby is NOT merged: it is inserted as its own notification
 *   without the keys they hold, and the audit says why (field names); an update in that case is not applied;
 * - an update about no notification is recorded (not relevant), never inserted;
 * - a linked birth reporting a death withdraws the notification if it is still live, or held back by an objection
 *   (withheld or withdrawn with a consent hold): that withdrawal is for good, so lifting the objection later never
 *   delivers it (reconsider-consent.ts);
 * - otherwise the notification's record is enriched (mergeRecords: the first value is kept on a conflict) or,
 *   for an update, updated (applyUpdate: the update's values replace the notification's), and keys newly known
 *   (baby NHS number, birth key, demographic key) are set where no other notification holds them;
 * - the changed record is decided and routed again (reconcile): same decision and inbox, the disclosed record
 *   is rebuilt and a delivered one audited `updated` to its inbox; another inbox or decision, the notification
 *   moves (withdrawn from the old inbox with a neutral reason, routed to the new with the new dataset);
 * - one withdrawn is only linked (or, for an update, left as it is); if only an objection held it back, it no
 *   longer is: the message was not applied to its record, so delivering that record again later could send an
 *   old address, or miss a restriction. It stays withdrawn, for good (withdrawn again, clearing the hold).
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
    notRelevant: [],
    unlinked: [],
    audit: [],
  };
  // Working copies: several births of one batch may enrich the same notification, one after the other.
  const current = new Map(existing.map((e) => [e.id, { ...e }]));
  const pending = new Map<string, NotificationUpdate>();
  const heldBy = (column: 'babyNhsNumber' | 'birthKey' | 'demographicKey', value: string, id: string): boolean =>
    [...current.values()].some((e) => e.id !== id && e[column] === value);

  for (const b of births) {
    const isUpdate = b.record.source.update === true && !b.record.baby.deceased;
    const { match: found, ambiguous } = findMatch(b, [...current.values()]);
    if (found === undefined && ambiguous === undefined) {
      if (isUpdate) notApplied(s, b, at);
      continue;
    }
    s.resolved.add(b.messageId);
    if (found === undefined && ambiguous !== undefined) {
      const candidate = ambiguous.notification;
      const note: AuditEventInput = {
        at: b.at,
        actor: WORKER_ACTOR,
        action: 'not-linked',
        messageId: b.messageId,
        ...(isUpdate ? {} : { notificationId: b.notificationId }),
        ...subject(b.record.baby.nhsNumber),
        outcome: 'ambiguous',
        details: {
          reason: NOT_LINKED_REASON,
          candidateNotificationId: candidate.id,
          candidateMessageId: candidate.messageId,
          fields: ambiguous.fields,
        },
      };
      if (isUpdate) {
        s.audit.push(note);
        notApplied(s, b, at);
        continue;
      }
      // Inserted as its own notification without the second-level keys another notification holds.
      const plan: DeliveryPlan = { ...b.plan };
      const held = [...current.values()];
      if (held.some((e) => e.birthKey !== undefined && e.birthKey === plan.birthKey)) delete plan.birthKey;
      if (held.some((e) => e.demographicKey !== undefined && e.demographicKey === plan.demographicKey)) delete plan.demographicKey;
      s.unlinked.push({ ...b, plan, audit: [...b.audit, note] });
      continue;
    }
    if (found === undefined) continue;
    const n = found.notification;
    const base = {
      at,
      actor: WORKER_ACTOR,
      messageId: b.messageId,
      notificationId: n.id,
      ...subject(n.babyNhsNumber ?? b.record.baby.nhsNumber),
    };
    const linkDetails = { firstMessageId: n.messageId, matchedBy: found.matchedBy };

    const held = n.consentHold !== undefined && (n.status === 'withheld' || n.status === 'withdrawn');
    if (b.record.baby.deceased && (n.status === 'routed' || n.status === 'delivered' || held)) {
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
        details: { reason: WITHDRAWN_REASON, ...(held ? { consentHoldEnded: true } : {}) },
      });
      n.status = 'withdrawn';
      delete n.consentHold;
      continue;
    }

    // An update changed the notification: its message is processed; a second message about the baby is a duplicate.
    if (isUpdate) s.processed.push(b.messageId);
    else s.linked.push(b.messageId);
    if (n.status === 'withdrawn') {
      // Not applied to a withdrawn notification: one an objection held back is now withdrawn for good.
      const ended = held ? { consentHoldEnded: true } : {};
      if (held) {
        s.withdraw.push(n.id);
        delete n.consentHold;
      }
      s.outcomes.push({ kind: isUpdate ? 'updated' : 'linked', messageId: b.messageId, notificationId: n.id, inboxUpdated: false });
      s.audit.push(
        isUpdate
          ? { ...base, action: 'updated', outcome: 'withdrawn', details: { ...linkDetails, fields: [], kept: [], ...ended } }
          : { ...base, action: 'linked', outcome: 'withdrawn', details: { ...linkDetails, enriched: [], conflicts: [], ...ended } },
      );
      continue;
    }

    let changed: string[];
    let record: BirthNotification;
    let details: Record<string, unknown>;
    if (isUpdate) {
      const u = applyUpdate(n.record, b.record);
      ({ changed, record } = u);
      details = { ...linkDetails, fields: u.changed, kept: u.kept };
    } else {
      const merged = mergeRecords(n.record, b.record);
      changed = merged.enriched;
      record = merged.record;
      details = { ...linkDetails, enriched: merged.enriched, conflicts: merged.conflicts };
    }
    const update: NotificationUpdate = pending.get(n.id) ?? { id: n.id, record, inboxUpdated: false };
    update.record = record;
    update.lastMessageId = b.messageId;
    n.record = record;
    const nhs = record.baby.nhsNumber;
    if (n.babyNhsNumber === undefined && nhs !== undefined && !heldBy('babyNhsNumber', nhs, n.id)) {
      n.babyNhsNumber = nhs;
      update.babyNhsNumber = nhs;
    }
    // The store keeps a mother's NHS number already there; this fills it where the notification had none.
    const mother = record.mother?.nhsNumber;
    if (mother !== undefined) update.motherNhsNumber = mother;
    const key = birthKey(record);
    if (n.birthKey === undefined && key !== undefined && !heldBy('birthKey', key, n.id)) {
      n.birthKey = key;
      update.birthKey = key;
    }
    const demo = demographicKey(record);
    if (n.demographicKey === undefined && demo !== undefined && !heldBy('demographicKey', demo, n.id)) {
      n.demographicKey = demo;
      update.demographicKey = demo;
    }

    const effect = changed.length > 0 ? reconcile(n, replan(record), update) : { fields: [], events: [] };
    if (changed.length > 0 || update.disclosed !== undefined || update.reroute !== undefined) pending.set(n.id, update);
    const routedTo = update.reroute?.inboxId;
    s.outcomes.push({
      kind: isUpdate ? 'updated' : 'linked',
      messageId: b.messageId,
      notificationId: n.id,
      inboxUpdated: update.inboxUpdated,
      ...(routedTo !== undefined && effect.moved === true ? { routedTo } : {}),
    });
    if (isUpdate) s.audit.push({ ...base, action: 'updated', outcome: changed.length > 0 ? 'record-updated' : 'nothing-new', details });
    else s.audit.push({ ...base, action: 'linked', outcome: changed.length > 0 ? 'enriched' : 'nothing-new', details });
    s.audit.push(...effect.events.map((e) => ({ ...base, ...e })));
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
    notRelevant: [...settled.notRelevant, ...links.notRelevant],
    duplicates: [...settled.duplicates.filter((id) => !settledHere.has(id)), ...links.linked],
    withdraw: [...settled.withdraw, ...links.withdraw],
    audit: [
      ...settled.audit.filter((e) => !(e.action === 'duplicate-birth' && e.messageId !== undefined && settledHere.has(e.messageId))),
      ...links.audit,
    ],
  };
}

/**
 * The settlement once updates another worker processed meanwhile (`done`) are set aside: each is already processed
 * (its job may still have deliveries to hand over, found by the message id), neither a duplicate nor audited again.
 */
export function alreadyProcessedUpdates(settled: Settlement, done: ReadonlySet<string>): Settlement {
  if (done.size === 0) return settled;
  return {
    ...settled,
    outcomes: settled.outcomes.map((o): ProcessOutcome =>
      done.has(o.messageId) ? { kind: 'already-processed', messageId: o.messageId } : o,
    ),
    duplicates: settled.duplicates.filter((id) => !done.has(id)),
    audit: settled.audit.filter((e) => !(e.action === 'duplicate-birth' && e.messageId !== undefined && done.has(e.messageId))),
  };
}
