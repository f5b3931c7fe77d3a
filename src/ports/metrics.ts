/**
 * Operational metrics (issue 15): what intake, processing and delivery record, through an injected interface so
 * the pure layers never see it. Label values come only from configuration ids (feed, inbox, rule) and fixed
 * enums: the implementation maps anything else to `unknown`, so no personal data and no unbounded label sets.
 */

/** The stages whose latency is measured (seconds). */
export type MetricStage =
  /** HL7 v2 or FHIR receipt until the ACK / response is ready (assessed and committed). */
  | 'receipt_to_ack'
  /** Parse, map and validate one message (the assessment). */
  | 'parse_map_validate'
  /** Family matching and linking of a processing batch (inside its transaction). */
  | 'match'
  /** Route and consent decision of one birth (planDelivery). */
  | 'decide'
  /** Handing a batch's notifications to their inboxes' delivery queues. */
  | 'route'
  /** One delivery job: notifications put in an inbox. */
  | 'deliver'
  /** Receipt of the message until its notification is in the inbox. */
  | 'end_to_end';

export type DeliveryOutcome =
  | 'delivered'
  | 'withheld'
  | 'withdrawn'
  | 'failed'
  /** Webhooks (issue 15): a push answered 2xx, a failed attempt (retried), a dead letter, one not sent (withdrawn since). */
  | 'webhook-delivered'
  | 'webhook-failed'
  | 'webhook-dead-lettered'
  | 'webhook-superseded';

export interface Metrics {
  /** An HL7 v2 message answered: its feed (verified sender only), message type (`ADT^A28`) and the ACK code sent. */
  messageReceived(m: { feed: string | undefined; messageType: string | undefined; ack: string }): void;
  /** A FHIR (R4 messaging or NEMS) message answered: its feed and the outcome (message status, `duplicate`, `unavailable`). */
  fhirIntake(m: { feed: string | undefined; outcome: string }): void;
  /** Latency of one stage, in seconds. */
  stage(stage: MetricStage, seconds: number): void;
  /** A consent decision made while processing. */
  decision(d: { ruleId: string; effect: string }): void;
  /** Notifications delivered, withheld (denied), withdrawn or failed to deliver. */
  deliveries(outcome: DeliveryOutcome, count: number): void;
  /** Dead letters waiting for an operator, per source (fed by the webhook/dead-letter code). */
  deadLetters(source: string, count: number): void;
}

/** Records nothing: for tests and tools that do not care. */
export const noMetrics: Metrics = {
  messageReceived: () => undefined,
  fhirIntake: () => undefined,
  stage: () => undefined,
  decision: () => undefined,
  deliveries: () => undefined,
  deadLetters: () => undefined,
};

/** Seconds since a `process.hrtime.bigint()` reading. */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** The text exposition of a process's metrics (Prometheus format), served at GET /metrics. */
export interface MetricsExposition {
  contentType: string;
  text(): Promise<string>;
}
