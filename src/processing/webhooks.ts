/**
 * Webhooks (issue 15 items 1 and 2). After a notification is put in (or taken back from) the inbox of a centre whose
 * delivery is `webhook` or `both`, the sweep records the event (store: one row per event, its idempotency key stable)
 * and queues a job on the centre's own BullMQ queue (`webhook-<centreId>`), so a slow or failing receiver never
 * delays another centre. Sending reads the inbox item as it is NOW (so a notification withdrawn since, by an
 * objection, a death or a restriction, is never sent: its withdrawal is), signs the body and POSTs it; a 2xx is the
 * receipt. A failure is retried with exponential backoff and jitter until the next retry would start past the
 * horizon from the first try; then the delivery is a dead letter, with the last error's kind only.
 */
import type { Logger } from '../logger.js';
import { noMetrics, type Metrics } from '../ports/metrics.js';
import type { AuditActor } from '../ports/audit.js';
import type { NotificationStore } from '../ports/notification-store.js';
import type { AntenatalInbox } from '../ports/antenatal-store.js';
import type { ReplayOutcome, SupersededReason, WebhookDelivery, WebhookSender, WebhookStore, WebhookToSend } from '../ports/webhooks.js';
import { TransientError } from '../ports/errors.js';
import {
  EVENT_HEADER,
  IDEMPOTENCY_HEADER,
  SIGNATURE_HEADER,
  pastHorizon,
  signatureHeader,
  type Backoff,
} from '../domain/webhook-signature.js';
import { inboxItemBundle } from '../pipeline/fhir/disclosed-to-fhir.js';
import type { WebhookFormat } from '../pipeline/catchments.js';

/** A centre's webhook as the hub sends to it: secrets read (newest first), CA read. */
export interface WebhookTarget {
  centreId: string;
  url: string;
  secrets: readonly string[];
  ca?: string;
  /** This centre's receiver timeout, if not the hub's. */
  timeoutMs?: number;
  /** `webhook` only: the receiver's 2xx acknowledges the inbox item (with `both` the centre's staff take it on). */
  acknowledge: boolean;
  /** The body: Stork's JSON event (default) or the FHIR R4 Bundle of the item. */
  format?: WebhookFormat;
}

export interface WebhookSettings {
  backoff: Backoff;
  /** A delivery still failing once its next retry would start this long after its first try becomes a dead letter. */
  horizonMs: number;
  timeoutMs: number;
}

/** Queues one job per delivery on its centre's webhook queue (job id = delivery id and replay count: idempotent). */
export interface WebhookJobs {
  enqueue(centreId: string, deliveries: readonly { id: string; replays: number }[]): Promise<void>;
}

export interface WebhookDeps {
  store: WebhookStore;
  sender: WebhookSender;
  targets: ReadonlyMap<string, WebhookTarget>;
  settings: WebhookSettings;
  logger: Logger;
  clock: () => Date;
  metrics?: Metrics;
  /** For `webhook`-only centres: the 2xx acknowledges the inbox item. */
  notifications?: Pick<NotificationStore, 'acknowledge'>;
  /** Likewise for an antenatal item (issue 17). */
  antenatal?: Pick<AntenatalInbox, 'acknowledgeAntenatal'>;
}

export const EVENT_NAMES = { delivered: 'notification.delivered', withdrawn: 'notification.withdrawn' } as const;
/** The events of an antenatal item (a booking shared with the centre, and its withdrawal). */
export const ANTENATAL_EVENT_NAMES = { delivered: 'antenatal.delivered', withdrawn: 'antenatal.withdrawn' } as const;

/** The Stork-Event name of a delivery. */
export const eventName = (d: Pick<WebhookDelivery, 'event' | 'kind'>): string =>
  (d.kind === 'antenatal' ? ANTENATAL_EVENT_NAMES : EVENT_NAMES)[d.event];

/**
 * Why this delivery must not be sent now, or undefined to send it. A notification is sent only while the centre's
 * inbox holds it as delivered at the time of its event: not withdrawn (an objection, a death, a restriction), not
 * moved, not purged, not delivered again since (that is its own event). A withdrawal is sent only if the
 * notification's own event may have reached the receiver (sent, being tried, a dead letter, or ever tried).
 */
export function supersededReason(s: WebhookToSend): SupersededReason | undefined {
  const { delivery } = s;
  const item = delivery.kind === 'antenatal' ? s.antenatal : s.item;
  if (delivery.event === 'withdrawn') return s.notificationEventLive ? undefined : 'never-sent';
  if (item === undefined) return 'moved';
  if (item.purgedAt !== undefined) return 'purged';
  if (item.status === 'withdrawn') return 'withdrawn';
  if (new Date(item.deliveredAt).getTime() !== new Date(delivery.occurredAt).getTime()) return 'redelivered';
  return undefined;
}

/**
 * The body and its media type. `json`: the event, its idempotency key, and the inbox item exactly as the centre API
 * returns it. `fhir`: the FHIR R4 Bundle the centre API returns for the item with `Accept: application/fhir+json`
 * (the same disclosed record only; the event and its key are in the Stork-Event and Idempotency-Key headers).
 */
export function webhookBody(s: WebhookToSend, format: WebhookFormat = 'json'): { body: string; contentType: string } {
  const d = s.delivery;
  if (d.kind === 'antenatal') {
    // An antenatal item has no FHIR form yet: it is always Stork's JSON event, `kind: antenatal` on the event and the item.
    const antenatal = s.antenatal ?? {
      antenatalId: d.notificationId,
      kind: 'antenatal' as const,
      inbox: d.centreId,
      status: 'withdrawn' as const,
    };
    const body = JSON.stringify({
      id: d.idempotencyKey,
      event: ANTENATAL_EVENT_NAMES[d.event],
      kind: 'antenatal',
      centreId: d.centreId,
      occurredAt: d.occurredAt,
      antenatal,
    });
    return { body, contentType: 'application/json' };
  }
  const notification = s.item ?? { notificationId: d.notificationId, inbox: d.centreId, status: 'withdrawn' as const };
  if (format === 'fhir') {
    const item = s.item ?? { ...notification, deliveredAt: d.occurredAt, withdrawnAt: d.occurredAt };
    return { body: JSON.stringify(inboxItemBundle(item)), contentType: 'application/fhir+json' };
  }
  const body = JSON.stringify({
    id: d.idempotencyKey,
    event: EVENT_NAMES[d.event],
    centreId: d.centreId,
    occurredAt: d.occurredAt,
    notification,
  });
  return { body, contentType: 'application/json' };
}

/** The request headers: the media type, the signature over `t.body` with each secret (newest first), the idempotency key, the event. */
export function webhookHeaders(
  target: WebhookTarget,
  d: WebhookDelivery,
  body: string,
  now: Date,
  contentType = 'application/json',
): Record<string, string> {
  return {
    'content-type': contentType,
    [SIGNATURE_HEADER]: signatureHeader(target.secrets, Math.floor(now.getTime() / 1000), body),
    [IDEMPOTENCY_HEADER]: d.idempotencyKey,
    [EVENT_HEADER]: eventName(d),
    'user-agent': 'stork-webhooks/1',
  };
}

/**
 * The webhook job of one delivery: sends it if it is still to be sent (attempts counted by the store). Resolves when
 * the delivery is settled (delivered, superseded, dead-lettered, or nothing to do); throws TransientError to have the
 * queue retry it after its backoff.
 */
export async function sendWebhook(deps: WebhookDeps, deliveryId: string): Promise<void> {
  const metrics = deps.metrics ?? noMetrics;
  const state = await deps.store.loadToSend(deliveryId);
  if (state?.delivery.status !== 'pending') return;
  const d = state.delivery;
  const attempt = d.attempts + 1;
  const target = deps.targets.get(d.centreId);
  const now = deps.clock();
  const firstTriedAt = d.firstTriedAt !== undefined ? new Date(d.firstTriedAt) : now;
  if (target === undefined) {
    // The centre's webhook was removed from the configuration: kept as a dead letter for an operator to decide.
    await deps.store.deadLettered(d.id, { at: now, firstTriedAt, error: 'no webhook configured for this centre' });
    metrics.deliveries('webhook-dead-lettered', 1);
    return;
  }
  const reason = supersededReason(state);
  if (reason !== undefined) {
    await deps.store.superseded(d.id, reason, now);
    metrics.deliveries('webhook-superseded', 1);
    deps.logger.info({ centreId: d.centreId, deliveryId: d.id, event: d.event, reason }, 'webhook not sent: superseded');
    return;
  }
  const { body, contentType } = webhookBody(state, target.format);
  const response = await deps.sender.post({
    url: target.url,
    headers: webhookHeaders(target, d, body, now, contentType),
    body,
    ...(target.ca !== undefined ? { ca: target.ca } : {}),
    timeoutMs: target.timeoutMs ?? deps.settings.timeoutMs,
  });
  const at = deps.clock();
  if (response.ok) {
    await deps.store.delivered(d.id, { at, firstTriedAt, status: response.status });
    metrics.deliveries('webhook-delivered', 1);
    if (target.acknowledge && d.event === 'delivered' && d.kind === 'antenatal' && deps.antenatal)
      await deps.antenatal.acknowledgeAntenatal(d.centreId, d.notificationId, `webhook:${d.centreId}`, at);
    else if (target.acknowledge && d.event === 'delivered' && d.kind !== 'antenatal' && deps.notifications)
      await deps.notifications.acknowledge(d.centreId, d.notificationId, `webhook:${d.centreId}`, at);
    deps.logger.info(
      { centreId: d.centreId, deliveryId: d.id, event: eventName(d), status: response.status, attempt },
      'webhook delivered',
    );
    return;
  }
  if (pastHorizon(firstTriedAt, at, attempt, deps.settings.backoff, deps.settings.horizonMs)) {
    await deps.store.deadLettered(d.id, { at, firstTriedAt, error: response.error });
    metrics.deliveries('webhook-dead-lettered', 1);
    deps.logger.warn({ centreId: d.centreId, deliveryId: d.id, event: d.event, error: response.error, attempt }, 'webhook dead-lettered');
    return;
  }
  await deps.store.failed(d.id, { at, firstTriedAt, error: response.error });
  metrics.deliveries('webhook-failed', 1);
  deps.logger.warn({ centreId: d.centreId, deliveryId: d.id, event: d.event, error: response.error, attempt }, 'webhook failed; retried');
  throw new TransientError(`webhook ${response.error}`);
}

/**
 * The sweep: records the webhook centres' inbox events since its last look (less a margin for transactions that
 * commit late with an earlier time), queues the pending deliveries whose job is not in Redis, and sets the
 * dead-letter gauge. Several workers may sweep at once: the store records each event once and the job ids dedupe.
 */
export class WebhookSweep {
  private since: Date;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly deps: {
      store: WebhookStore;
      jobs: WebhookJobs;
      centreIds: readonly string[];
      clock: () => Date;
      logger: Logger;
      metrics?: Metrics;
      /** How far back the first sweep looks (events older than this when the hub starts are not pushed). */
      lookbackMs: number;
      /** How far back each later sweep looks again before its last look. */
      marginMs: number;
    },
  ) {
    this.since = new Date(deps.clock().getTime() - deps.lookbackMs);
  }

  /** One sweep now (or, if one is running, one more after it). */
  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.once();
        } while (this.askedAgain());
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Whether run() was called while this sweep ran (read through a method: it changes across the await). */
  private askedAgain(): boolean {
    return this.again;
  }

  private async once(): Promise<void> {
    const { store, jobs, clock } = this.deps;
    const started = clock();
    const pending = await store.sweep(this.deps.centreIds, this.since, started);
    this.since = new Date(started.getTime() - this.deps.marginMs);
    const byCentre = new Map<string, WebhookDelivery[]>();
    for (const p of pending) byCentre.set(p.centreId, [...(byCentre.get(p.centreId) ?? []), p]);
    for (const [centreId, ds] of byCentre) {
      await jobs.enqueue(centreId, ds);
      await store.markJobsAdded(
        ds.map((x) => x.id),
        clock(),
      );
    }
    const counts = await store.deadLetterCounts();
    const metrics = this.deps.metrics ?? noMetrics;
    for (const id of this.deps.centreIds) metrics.deadLetters(id, counts.get(id) ?? 0);
  }
}

/** What a replay did, in words for an operator (API, CLI and web page say the same). */
export function replaySentence(o: ReplayOutcome): string {
  switch (o.kind) {
    case 'requeued':
      return o.delivery.event === 'delivered'
        ? 'Queued again: the notification is sent with its original idempotency key.'
        : 'Queued again: the withdrawal is sent with its original idempotency key.';
    case 'superseded':
      return {
        withdrawn:
          'Not sent: the notification has been withdrawn since (an objection, a death or a restriction). Its withdrawal is sent as its own event.',
        moved: 'Not sent: the notification has moved to another inbox since.',
        purged: 'Not sent: the notification has been purged under retention since.',
        redelivered: 'Not sent: the notification was delivered again since, and that delivery is its own event.',
        'never-sent': 'Not sent: the notification itself never reached this centre, so there is nothing to withdraw.',
      }[o.reason];
    case 'not-found':
      return 'No dead letter with this id.';
    case 'not-dead':
      return `Not a dead letter (it is ${o.delivery.status}).`;
  }
}

/** At most this many dead letters are replayed by one "replay all". */
export const REPLAY_ALL_LIMIT = 1000;

/** Replays one dead letter, or every dead letter of a centre (up to REPLAY_ALL_LIMIT); each is audited by the store. */
export async function replayDeadLetters(
  deps: { store: WebhookStore; clock: () => Date; nudge?: () => void },
  what: { id: string } | { centreId: string },
  by: AuditActor,
  role: string,
): Promise<ReplayOutcome[]> {
  const ids = 'id' in what ? [what.id] : await deps.store.deadLetterIds(what.centreId, REPLAY_ALL_LIMIT);
  const outcomes: ReplayOutcome[] = [];
  for (const id of ids) outcomes.push(await deps.store.replay(id, by, role, deps.clock()));
  if (outcomes.some((o) => o.kind === 'requeued')) deps.nudge?.();
  return outcomes;
}
