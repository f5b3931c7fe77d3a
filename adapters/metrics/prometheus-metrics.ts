import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeliveryOutcome, MetricStage, Metrics, MetricsExposition } from '../../src/ports/metrics.js';
import type { QueueDepth } from '../../src/ports/queue-depths.js';

/** The ids label values may take; anything else is recorded as `unknown` (bounded cardinality, no personal data). */
export interface MetricLabelIds {
  feeds: ReadonlySet<string>;
  rules: ReadonlySet<string>;
  /** Dead-letter sources (e.g. webhook ids, inbox ids). */
  deadLetterSources: ReadonlySet<string>;
}

export interface PrometheusMetricsOptions {
  ids: MetricLabelIds;
  /** Queue depths read at scrape time (this process's queues); absent: no queue gauges. */
  queueDepths?: () => Promise<QueueDepth[]>;
  /** How long a scrape waits for the queue depths before giving up (a slow Redis must not hang the scrape). */
  queueDepthTimeoutMs?: number;
  /** Process default metrics (CPU, memory, event loop, GC); tests starting several hubs in one process may skip them. */
  defaultMetrics?: boolean;
}

const ACK_CODES = new Set(['AA', 'AE', 'AR', 'CA', 'CE', 'CR']);
const FHIR_OUTCOMES = new Set(['queued', 'processed', 'not-relevant', 'quarantined', 'duplicate', 'unavailable']);
const EFFECTS = new Set(['permit', 'deny', 'review']);
/** HL7 v2 message types as MSH-9 names them: ADT^A28, ORU^R01 (three letters, a letter and two digits). */
const MESSAGE_TYPE = /^[A-Z]{3}\^[A-Z][0-9]{2}$/;
const MESSAGE_STRUCTURES = new Set(['ADT', 'ORU', 'ACK', 'MDM', 'SIU', 'ORM']);

/** Seconds: sub-millisecond stages to minutes of queueing. */
const STAGE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const END_TO_END_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

const known = (ids: ReadonlySet<string>, v: string | undefined): string => (v !== undefined && ids.has(v) ? v : 'unknown');

/** Metrics of one process, in a registry of its own (several hubs may share a test process). */
export class PrometheusMetrics implements Metrics, MetricsExposition {
  readonly registry = new Registry();
  private readonly received: Counter<'feed' | 'message_type' | 'ack_code'>;
  private readonly fhir: Counter<'feed' | 'outcome'>;
  private readonly stages: Histogram<'stage'>;
  private readonly endToEnd: Histogram;
  private readonly decisions: Counter<'rule_id' | 'effect'>;
  private readonly delivered: Counter<'outcome'>;
  private readonly dead: Gauge<'source'>;

  constructor(private readonly options: PrometheusMetricsOptions) {
    const registers = [this.registry];
    this.received = new Counter({
      name: 'stork_messages_received_total',
      help: 'HL7 v2 messages answered, by feed (verified senders; else unknown), message type and ACK code sent',
      labelNames: ['feed', 'message_type', 'ack_code'],
      registers,
    });
    this.fhir = new Counter({
      name: 'stork_fhir_intake_total',
      help: 'FHIR messages (R4 messaging and NEMS) answered, by feed and outcome',
      labelNames: ['feed', 'outcome'],
      registers,
    });
    this.stages = new Histogram({
      name: 'stork_stage_duration_seconds',
      help: 'Latency of a processing stage',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.endToEnd = new Histogram({
      name: 'stork_end_to_end_seconds',
      help: 'Receipt of a message until its notification is in the inbox',
      buckets: END_TO_END_BUCKETS,
      registers,
    });
    this.decisions = new Counter({
      name: 'stork_decisions_total',
      help: 'Consent decisions made while processing, by rule id and effect',
      labelNames: ['rule_id', 'effect'],
      registers,
    });
    this.delivered = new Counter({
      name: 'stork_deliveries_total',
      help: 'Notifications by delivery outcome (delivered, withheld, withdrawn, failed; webhook-delivered, webhook-failed, webhook-dead-lettered, webhook-superseded)',
      labelNames: ['outcome'],
      registers,
    });
    this.dead = new Gauge({
      name: 'stork_dead_letters',
      help: 'Dead letters waiting for an operator, by source',
      labelNames: ['source'],
      registers,
    });
    if (options.queueDepths) this.queueGauges(options.queueDepths, options.queueDepthTimeoutMs ?? 1000);
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'stork_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  messageReceived(m: { feed: string | undefined; messageType: string | undefined; ack: string }): void {
    const type = m.messageType !== undefined && MESSAGE_TYPE.test(m.messageType) && MESSAGE_STRUCTURES.has(m.messageType.slice(0, 3));
    this.received.inc({
      feed: known(this.options.ids.feeds, m.feed),
      message_type: type ? (m.messageType ?? 'unknown') : 'unknown',
      ack_code: ACK_CODES.has(m.ack) ? m.ack : 'unknown',
    });
  }

  fhirIntake(m: { feed: string | undefined; outcome: string }): void {
    this.fhir.inc({ feed: known(this.options.ids.feeds, m.feed), outcome: FHIR_OUTCOMES.has(m.outcome) ? m.outcome : 'unknown' });
  }

  stage(stage: MetricStage, seconds: number): void {
    if (stage === 'end_to_end') this.endToEnd.observe(seconds);
    else this.stages.observe({ stage }, seconds);
  }

  decision(d: { ruleId: string; effect: string }): void {
    this.decisions.inc({ rule_id: known(this.options.ids.rules, d.ruleId), effect: EFFECTS.has(d.effect) ? d.effect : 'unknown' });
  }

  deliveries(outcome: DeliveryOutcome, count: number): void {
    if (count > 0) this.delivered.inc({ outcome }, count);
  }

  deadLetters(source: string, count: number): void {
    this.dead.set({ source: known(this.options.ids.deadLetterSources, source) }, count);
  }

  /**
   * Jobs per BullMQ queue and state, read when scraped (one getJobCounts per queue). A read slower than the timeout
   * (Redis slow or gone) leaves the depth gauges empty and sets stork_queue_depth_up to 0: the scrape still answers.
   */
  private queueGauges(read: () => Promise<QueueDepth[]>, timeoutMs: number): void {
    // Both gauges are collected concurrently at a scrape: they share one read.
    let pending: Promise<QueueDepth[] | undefined> | undefined;
    const refresh = (): Promise<QueueDepth[] | undefined> => {
      pending ??= withTimeout(read(), timeoutMs).finally(() => (pending = undefined));
      return pending;
    };
    new Gauge({
      name: 'stork_queue_jobs',
      help: 'Jobs in a BullMQ queue by state, read at scrape time',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        const depths = await refresh();
        this.reset();
        for (const q of depths ?? [])
          for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) this.set({ queue: q.queue, state }, q[state]);
      },
    });
    new Gauge({
      name: 'stork_queue_depth_up',
      help: '1 if the queue depths were read at this scrape, 0 if Redis did not answer in time',
      registers: [this.registry],
      async collect() {
        this.set((await refresh()) === undefined ? 0 : 1);
      },
    });
  }
}

/** The promise's value, or undefined if it fails or takes longer than `ms`. */
async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
