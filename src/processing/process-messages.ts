import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { noMetrics, secondsSince, type Metrics } from '../ports/metrics.js';
import type { Catchments } from '../pipeline/catchments.js';
import type { AgreementChoice } from '../pipeline/consent/agreements.js';
import { planDelivery, type DeliveryPlan } from '../pipeline/plan-delivery.js';
import type { DeliveryJobs } from '../ports/delivery-jobs.js';
import type {
  NotificationStore,
  PendingDelivery,
  ProcessingTransaction,
  ProcessOutcome,
  ProcessedBirth,
} from '../ports/notification-store.js';
import type { BirthNotification } from '../domain/birth-notification.js';
import { decisionAudit, deathReports, DUPLICATE_MESSAGE_REASON, quarantineAudit, settleBatch } from './birth-outcomes.js';
import { alreadyProcessedUpdates, matchKeys, settleLinks, withLinks } from './link-births.js';
import type { IdentityStore } from '../ports/identity-store.js';
import { followIdentityKeys } from './identity-decisions.js';
import { processIdentityEvents, type QueuedIdentityEvent } from './identity-events.js';
import type { BirthToPlace, FamilyMatcher } from '../pipeline/family-match.js';
import type { MatchReviewJobs } from '../ports/match-review-jobs.js';
import { placeInFamilies, refreshLinkedFamilies } from './match-families.js';
import { readBatchConsents, reconsiderAfterBatch, splitConsents, type ReadyBirth } from './batch-consents.js';
import { objectionHold, type Replan } from './reconsider-consent.js';
import { processAntenatalEvents, type AntenatalDeps, type QueuedAntenatalEvent } from './antenatal-bookings.js';
import { processAttendances, type QueuedAttendance, type TriggerDeps } from './trigger-attendances.js';

/** An update about a baby (not a death report): it changes the baby's notification and never makes one. */
const isUpdate = (b: ProcessedBirth): boolean => b.record.source.update === true && !b.record.baby.deceased;

/** The reason an update about a baby Stork has not notified is kept with. */
export const UPDATE_NOT_APPLIED_MESSAGE_REASON = 'update about a baby Stork has not notified';

export interface ProcessDeps {
  store: NotificationStore;
  deliveryJobs: DeliveryJobs;
  /** The agreements per area (or one rulebook for every birth). */
  rulebook: AgreementChoice;
  catchments: Catchments;
  logger: Logger;
  clock?: () => Date;
  /** Where identity events (A40 merges, A24 links) are applied; without it they are quarantined for an operator. */
  identity?: IdentityStore;
  /** Family matching (issue 12): each birth notified is placed in a family. Absent: no family records. */
  families?: FamilyMatcher;
  /** Where a match held for review is announced, after the batch commits. */
  reviewJobs?: MatchReviewJobs;
  /** Decisions, outcomes and stage latencies (the hub's metrics; none in some tests). */
  metrics?: Metrics;
  /** Maternity bookings and pregnancy losses (issue 17); without it they are quarantined for an operator. */
  antenatal?: Omit<AntenatalDeps, 'logger' | 'clock' | 'catchments' | 'families'>;
  /** Triggers over A&E attendances (issue 17); without it attendances are quarantined for an operator. */
  triggers?: Omit<TriggerDeps, 'logger' | 'clock'>;
}

/** Groups pending deliveries by inbox, so each inbox gets one delivery job per batch. */
export function byInbox(pending: readonly PendingDelivery[]): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const p of pending) {
    const ids = grouped.get(p.inboxId);
    if (ids === undefined) grouped.set(p.inboxId, [p.notificationId]);
    else ids.push(p.notificationId);
  }
  return grouped;
}

/**
 * The processing job: for accepted births, decide (consent rules) and route (catchments) in memory, commit
 * the notifications and their audit in one transaction, then hand them to their inboxes' delivery jobs.
 * Safe to run twice for the same messages: a retried job creates no second notification, and deliveries
 * left undone by a crash are picked up again.
 */
export async function processMessages(deps: ProcessDeps, messageIds: readonly string[]): Promise<void> {
  const clock = deps.clock ?? (() => new Date());
  const metrics = deps.metrics ?? noMetrics;
  const queued = await deps.store.loadQueued(messageIds);
  const ready: (ReadyBirth & { at: Date })[] = [];
  const identity: QueuedIdentityEvent[] = [];
  const antenatal: QueuedAntenatalEvent[] = [];
  const attendances: QueuedAttendance[] = [];
  for (const m of queued) {
    const at = clock();
    if (m.antenatalEvent) {
      antenatal.push({ messageId: m.id, event: m.antenatalEvent });
      continue;
    }
    if (m.attendance) {
      attendances.push({ messageId: m.id, attendance: m.attendance });
      continue;
    }
    if (m.identityEvent) {
      identity.push({ messageId: m.id, event: m.identityEvent });
      continue;
    }
    if (!m.canonical) {
      const reason = 'Accepted message has no canonical record; replay it';
      await deps.store.quarantine(m.id, reason, at, quarantineAudit(m.id, reason, at));
      deps.logger.error({ messageId: m.id }, 'queued message without canonical record quarantined');
      continue;
    }
    ready.push({ ...splitConsents(m.id, m.canonical), at });
  }
  const births: ProcessedBirth[] = [];
  const pending: PendingDelivery[] = [];
  const retried: string[] = [];
  if (ready.length > 0) {
    // Decided inside the transaction, under the families' consent-register locks (batch-consents.ts).
    const { outcomes, families } = await deps.store.processingTransaction(async (tx) => {
      const at = ready[0]?.at ?? clock();
      const consents = await readBatchConsents(tx, ready, at);
      for (const r of ready) {
        const started = process.hrtime.bigint();
        const planned = {
          messageId: r.messageId,
          notificationId: randomUUID(),
          record: r.record,
          plan: planDelivery(r.record, r.messageId, deps.rulebook, deps.catchments, { records: consents.records, at: r.at }),
          at: r.at,
        };
        metrics.stage('decide', secondsSince(started));
        // Withheld only because a parent objected: held, so lifting the objection may deliver it (reconsider-consent.ts).
        const hold = planned.plan.inboxId === undefined ? objectionHold(planned.plan.decision, r.record, r.at, 'withheld') : undefined;
        births.push({ ...planned, audit: decisionAudit(planned), ...(hold !== undefined ? { consentHold: hold } : {}) });
      }
      const replan: Replan = (record, consent) => planDelivery(record, '', deps.rulebook, deps.catchments, consent);
      const saved = await saveProcessed(tx, births, (record) => replan(record, { records: consents.records, at }), deps.families, metrics);
      const created = new Set(saved.outcomes.flatMap((o) => (o.kind === 'created' ? [o.notificationId] : [])));
      await reconsiderAfterBatch(tx, consents, created, replan, at);
      return saved;
    });
    const counts = {
      created: 0,
      duplicates: 0,
      linked: 0,
      updated: 0,
      moved: 0,
      updatesNotApplied: 0,
      retried: 0,
      withdrawn: 0,
      ...families.counts,
    };
    if (families.reviewIds.length > 0 && deps.reviewJobs) await deps.reviewJobs.enqueue(families.reviewIds);
    const plans = new Map(births.map((b) => [b.messageId, b.plan]));
    for (const o of outcomes) {
      if (o.kind === 'created') {
        counts.created++;
        // Counted once per notification made (a retried job's births are not decided twice).
        const decision = plans.get(o.messageId)?.decision;
        if (decision !== undefined) metrics.decision({ ruleId: decision.ruleId, effect: decision.effect });
        if (o.inboxId !== undefined) pending.push({ inboxId: o.inboxId, notificationId: o.notificationId });
        else metrics.deliveries('withheld', 1);
      } else if (o.kind === 'duplicate-birth') counts.duplicates++;
      else if (o.kind === 'linked' || o.kind === 'updated') {
        if (o.kind === 'linked') counts.linked++;
        else counts.updated++;
        // A notification that moved to another inbox (or was re-decided into review) is delivered there.
        if (o.routedTo !== undefined) {
          counts.moved++;
          pending.push({ inboxId: o.routedTo, notificationId: o.notificationId });
        }
      } else if (o.kind === 'update-not-applied') counts.updatesNotApplied++;
      else if (o.kind === 'withdrew') counts.withdrawn += o.notificationIds.length;
      else {
        counts.retried++;
        retried.push(o.messageId);
      }
    }
    metrics.deliveries('withdrawn', counts.withdrawn);
    deps.logger.info({ messages: messageIds.length, ...counts }, 'births processed');
  }
  if (identity.length > 0) await processIdentity(deps, clock, identity);
  if (antenatal.length > 0) await processAntenatal(deps, clock, antenatal);
  if (attendances.length > 0) await processTriggers(deps, clock, attendances);
  // A retried job may have stopped between its commit and its deliveries: those still waiting go out now.
  const born = new Set([
    ...births.map((b) => b.messageId),
    ...identity.map((e) => e.messageId),
    ...antenatal.map((e) => e.messageId),
    ...attendances.map((a) => a.messageId),
  ]);
  const notQueued = messageIds.filter((id) => !born.has(id));
  const recheck = [...retried, ...notQueued];
  if (recheck.length > 0) pending.push(...(await deps.store.undelivered(recheck)));
  if (pending.length === 0) return;
  const routing = process.hrtime.bigint();
  for (const [inboxId, ids] of byInbox(pending)) await deps.deliveryJobs.enqueue(inboxId, ids);
  metrics.stage('route', secondsSince(routing));
}

/**
 * Saves a batch in its transaction. The common case (every birth new) is one statement: the notifications,
 * their messages marked processed and their decision audit. Only births whose notification was not created
 * (a retried job, a second message about a birth already notified, a death report) need a second look, with
 * a fresh snapshot: what that means is decided by settleBatch, then, for those about a baby already notified
 * (by this route or another), by settleLinks, which enriches that notification instead of making a second
 * one; the store writes it. The unique keys of notifications (message, subject key, baby NHS number, birth
 * key) are the arbiter between two workers: the second insert waits for the first to commit, then conflicts.
 */
async function saveProcessed(
  tx: ProcessingTransaction,
  items: readonly ProcessedBirth[],
  replan: (record: BirthNotification) => DeliveryPlan,
  matcher: FamilyMatcher | undefined,
  metrics: Metrics,
): Promise<{ outcomes: ProcessOutcome[]; families: FamilyOutcome }> {
  const at = items[0]?.at ?? new Date();
  const linkedUpdates: BirthToPlace[] = [];
  // A birth under an identifier an A40 merged takes the subject key of the person it was merged into.
  items = followIdentityKeys(items, await tx.resolveIdentityKeys(items.map((b) => b.plan.subjectKey)));
  // An update (A08, A31, a FHIR update) never makes a notification: it changes the one of its baby, if any.
  const created = await tx.createNotifications(
    items.filter((b) => !isUpdate(b)),
    at,
  );
  const rest = items.filter((b) => !created.has(b.notificationId));
  const alreadyProcessed = rest.length > 0 ? await tx.messagesWithNotification(rest.map((b) => b.messageId)) : new Set<string>();
  // A death reported for a baby already notified withdraws that notification, delivered or not.
  const subjects = [...new Set(deathReports(rest, alreadyProcessed).map((b) => b.plan.subjectKey))];
  const live = subjects.length > 0 ? await tx.lockLiveNotifications(subjects) : [];
  let settled = settleBatch(items, created, alreadyProcessed, live, at);
  if (settled.withdraw.length > 0) await tx.withdrawNotifications(settled.withdraw, at);
  const others = rest.filter((b) => settled.duplicates.includes(b.messageId));
  if (others.length > 0) {
    // A second message about a baby already notified: one notification, enriched, both messages linked.
    const locked = await tx.lockMatchingNotifications(matchKeys(others));
    // An update another worker applied while this one waited for the locks (a retried job running beside the
    // first): already processed, not applied twice. Read after the locks, so that worker's commit is seen.
    const done = await tx.messagesNotQueued(others.filter(isUpdate).map((b) => b.messageId));
    const links = settleLinks(
      others.filter((b) => !done.has(b.messageId)),
      locked,
      replan,
      at,
    );
    if (links.withdraw.length > 0) await tx.withdrawNotifications(links.withdraw, at);
    if (links.updates.length > 0) await tx.enrichNotifications(links.updates, at);
    // The enriched records, for their families to follow (a mother's NHS number newly known, another address).
    for (const u of links.updates) linkedUpdates.push({ notificationId: u.id, messageId: '', record: u.record, at });
    const again = links.unlinked.length > 0 ? await tx.createNotifications(links.unlinked, at) : new Set<string>();
    settled = alreadyProcessedUpdates(withLinks(settled, links, again), done);
  }
  const { processed, duplicates, notRelevant, audit } = settled;
  if (processed.length > 0) await tx.markMessages(processed, 'processed', at);
  if (notRelevant.length > 0) await tx.markMessages(notRelevant, 'not-relevant', at, UPDATE_NOT_APPLIED_MESSAGE_REASON);
  if (duplicates.length > 0) await tx.markMessages(duplicates, 'duplicate', at, DUPLICATE_MESSAGE_REASON);
  if (audit.length > 0) await tx.appendAudit(audit);
  const matching = process.hrtime.bigint();
  const families = matcher ? await placeCreated(tx.families, items, settled.outcomes, matcher) : noFamilies();
  if (matcher && linkedUpdates.length > 0) {
    const linked = linkedUpdates.map((u) => ({ ...u, ...centreOf(replan(u.record).route) }));
    families.counts.familiesRefreshed = await refreshLinkedFamilies(tx.families, linked, matcher);
  }
  if (matcher) metrics.stage('match', secondsSince(matching));
  return { outcomes: settled.outcomes, families };
}

/** Identity events (A40, A24) after the batch's births, each in its own transaction (src/processing/identity-events.ts). */
async function processIdentity(deps: ProcessDeps, clock: () => Date, events: readonly QueuedIdentityEvent[]): Promise<void> {
  if (deps.identity === undefined) {
    const reason = 'Identity event (merge or link) received but identity processing is not configured; replay it';
    for (const e of events) await deps.store.quarantine(e.messageId, reason, clock(), quarantineAudit(e.messageId, reason, clock()));
    return;
  }
  const replan = (record: BirthNotification) => planDelivery(record, '', deps.rulebook, deps.catchments);
  await processIdentityEvents({ store: deps.identity, replan, logger: deps.logger, clock }, events);
}

/** Antenatal events (issue 17) after the batch's births, each in its own transaction (src/processing/antenatal-bookings.ts). */
async function processAntenatal(deps: ProcessDeps, clock: () => Date, events: readonly QueuedAntenatalEvent[]): Promise<void> {
  if (deps.antenatal === undefined) {
    const reason = 'Maternity booking received but no antenatal agreement is configured (consent-rules/antenatal); replay it';
    for (const e of events) await deps.store.quarantine(e.messageId, reason, clock(), quarantineAudit(e.messageId, reason, clock()));
    return;
  }
  await processAntenatalEvents(
    { ...deps.antenatal, catchments: deps.catchments, logger: deps.logger, clock, ...(deps.families ? { families: deps.families } : {}) },
    events,
  );
}

/** A&E attendances for the triggers (src/processing/trigger-attendances.ts), each in its own transaction. */
async function processTriggers(deps: ProcessDeps, clock: () => Date, attendances: readonly QueuedAttendance[]): Promise<void> {
  if (deps.triggers === undefined) {
    const reason = 'A&E attendance received but triggers are not configured; replay it';
    for (const a of attendances) await deps.store.quarantine(a.messageId, reason, clock(), quarantineAudit(a.messageId, reason, clock()));
    return;
  }
  await processAttendances({ ...deps.triggers, logger: deps.logger, clock }, attendances);
}

interface FamilyOutcome {
  counts: { families: number; familyMatches: number; reviews: number; familiesRefreshed: number };
  reviewIds: string[];
}

const noFamilies = (): FamilyOutcome => ({ counts: { families: 0, familyMatches: 0, reviews: 0, familiesRefreshed: 0 }, reviewIds: [] });

/** The centre a route gives a family: a catchment's centre, never an unallocated or review inbox. */
const centreOf = (route: DeliveryPlan['route']): { centre?: string } => (route.kind === 'centre' ? { centre: route.centreId } : {});

/** The births whose notification this batch created, placed in their families in the same transaction. */
async function placeCreated(
  tx: ProcessingTransaction['families'],
  items: readonly ProcessedBirth[],
  outcomes: readonly ProcessOutcome[],
  matcher: FamilyMatcher,
): Promise<FamilyOutcome> {
  const byMessage = new Map(items.map((b) => [b.messageId, b]));
  const births: BirthToPlace[] = [];
  for (const o of outcomes) {
    if (o.kind !== 'created') continue;
    const b = byMessage.get(o.messageId);
    if (b === undefined) continue;
    births.push({ notificationId: o.notificationId, messageId: b.messageId, record: b.record, ...centreOf(b.plan.route), at: b.at });
  }
  if (births.length === 0) return noFamilies();
  const plan = await placeInFamilies(tx, births, matcher);
  return {
    counts: {
      families: plan.newFamilies.length,
      familyMatches: plan.placed.filter((p) => p.method === 'nhs-number' || p.method === 'probabilistic').length,
      reviews: plan.reviews.length,
      familiesRefreshed: 0,
    },
    reviewIds: plan.reviews.map((r) => r.id),
  };
}

/** The delivery job for one inbox: put its routed notifications in the inbox, audited as disclosures. */
export async function deliverNotifications(
  store: NotificationStore,
  logger: Logger,
  inboxId: string,
  notificationIds: readonly string[],
  clock: () => Date = () => new Date(),
  metrics: Metrics = noMetrics,
): Promise<void> {
  const started = process.hrtime.bigint();
  let delivered: { id: string; receivedAt: Date }[];
  try {
    delivered = await store.deliverReceipts(inboxId, notificationIds, clock());
  } catch (err) {
    metrics.deliveries('failed', notificationIds.length); // an attempt; the job is retried
    throw err;
  }
  metrics.stage('deliver', secondsSince(started));
  metrics.deliveries('delivered', delivered.length);
  const now = Date.now();
  for (const d of delivered) metrics.stage('end_to_end', Math.max(0, now - d.receivedAt.getTime()) / 1000);
  logger.info({ inboxId, requested: notificationIds.length, delivered: delivered.length }, 'notifications delivered');
}
