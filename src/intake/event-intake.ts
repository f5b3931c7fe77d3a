import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { FeedDirectory } from '../pipeline/hl7v2/feed-directory.js';
import { patientIdOn, readSignalEvent, type EventProblem, type SignalEvent } from '../pipeline/fhir/signal-event.js';
import type { FhirEventSummary, FhirFetchStore, ReceivedFhirEvent } from '../ports/fhir-fetch.js';

/** One signal event as the HTTP route received it. */
export interface InboundEvent {
  bytes: Buffer;
  /** Sent as FHIR (application/fhir+json): read as a Parameters event, answered with OperationOutcomes. */
  fhir: boolean;
  apiClientId: string;
}

export type EventIntakeResult =
  | { kind: 'accepted'; httpStatus: 202; event: FhirEventSummary; duplicate: boolean }
  | { kind: 'refused'; httpStatus: 400 | 403 | 422; title: string; problems: EventProblem[]; eventId?: string }
  | { kind: 'unavailable'; httpStatus: 503 };

export interface EventIntakeDeps {
  feeds: FeedDirectory;
  store: FhirFetchStore;
  logger: Logger;
  clock?: () => Date;
  /** Called after an accepted event is stored (the fetcher in this process, if any, looks at once). */
  onAccepted?: () => void;
}

/**
 * POST /v1/events: reads a signal event, finds the feed its `source` names, checks that the authenticated API
 * client is that feed's own and that the subject is on the feed's FHIR server, and stores it (with its audit row)
 * before answering: 202 and where to look, or the refusal naming the field. A refused event is stored too, under
 * the client's own key, so it never takes an event id the genuine feed needs. A re-sent event (same feed, same
 * event id) gets the original event back and stores nothing. The fetch itself happens later (EventFetcher).
 */
export class EventIntake {
  private readonly clock: () => Date;

  constructor(private readonly deps: EventIntakeDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async receive(d: InboundEvent): Promise<EventIntakeResult> {
    const receivedAt = this.clock();
    const id = randomUUID();
    const read = readSignalEvent(d.bytes, d.fhir);
    const clientKey = `client:${d.apiClientId}`;
    const row = (e: Partial<ReceivedFhirEvent> & Pick<ReceivedFhirEvent, 'status' | 'senderKey' | 'form'>): ReceivedFhirEvent => ({
      id,
      receivedAt,
      apiClient: d.apiClientId,
      raw: d.bytes,
      audit: [],
      ...e,
    });
    if (!read.ok) {
      const refusal = { httpStatus: 400 as const, title: 'Invalid event', problems: read.problems };
      return this.refuse(
        row({
          form: read.form,
          senderKey: clientKey,
          status: 'refused',
          reason: summarise(read.problems),
          ...(read.eventId ? { eventId: read.eventId } : {}),
        }),
        refusal,
      );
    }
    const ev = read.event;
    const feed = this.deps.feeds.fhirFeeds.find((f) => f.sourceEndpoint === ev.source && f.fetch !== undefined);
    const base = { form: ev.form, eventId: ev.eventId, ...(ev.nhsNumber !== undefined ? { subjectNhsNumber: ev.nhsNumber } : {}) };
    const sourceField = ev.form === 'fhir' ? "Parameters.parameter.where(name='source')" : 'source';
    if (!feed?.fetch)
      return this.refuse(row({ ...base, senderKey: clientKey, status: 'refused', reason: 'unknown source' }), {
        httpStatus: 422,
        title: 'Unknown source',
        problems: [{ field: sourceField, message: 'no feed that fetches from a FHIR server has this source' }],
      });
    if (feed.apiClient !== d.apiClientId)
      return this.refuse(row({ ...base, feedId: feed.id, senderKey: clientKey, status: 'refused', reason: 'another feed' }), {
        httpStatus: 403,
        title: 'Forbidden',
        problems: [{ field: sourceField, message: 'this API client may not signal events for this feed' }],
      });
    let subjectReference: string | undefined;
    if (ev.patientReference !== undefined) {
      const patientId = patientIdOn(feed.fetch.baseUrl, ev.patientReference);
      if (patientId === undefined)
        return this.refuse(
          row({ ...base, feedId: feed.id, senderKey: clientKey, status: 'refused', reason: 'subject not on the feed server' }),
          {
            httpStatus: 422,
            title: 'Invalid event',
            problems: [
              {
                field: subjectField(ev),
                message: "must be Patient/<id> or a Patient URL on the feed's FHIR server",
              },
            ],
          },
        );
      subjectReference = `Patient/${patientId}`;
    }
    const accepted = row({
      ...base,
      feedId: feed.id,
      senderKey: `feed:${feed.id}`,
      status: 'pending',
      ...(subjectReference !== undefined ? { subjectReference } : {}),
    });
    accepted.audit = [this.auditOf(accepted, `feed:${feed.id}`, 'accepted')];
    let receipt;
    try {
      receipt = await this.deps.store.recordEvent(accepted);
    } catch (err) {
      this.deps.logger.error({ err, bytes: d.bytes.length }, 'store unavailable: event not accepted, sender told to retry');
      return { kind: 'unavailable', httpStatus: 503 };
    }
    if (receipt.kind === 'duplicate') {
      this.deps.logger.info({ event: receipt.original.id, feed: feed.id, status: receipt.original.status }, 're-sent event recognised');
      return { kind: 'accepted', httpStatus: 202, event: receipt.original, duplicate: true };
    }
    this.deps.logger.info({ event: id, feed: feed.id, form: ev.form, bytes: d.bytes.length }, 'event received');
    this.deps.onAccepted?.();
    const iso = receivedAt.toISOString();
    return {
      kind: 'accepted',
      httpStatus: 202,
      duplicate: false,
      event: {
        id,
        receivedAt: iso,
        apiClient: d.apiClientId,
        feedId: feed.id,
        eventId: ev.eventId,
        form: ev.form,
        status: 'pending',
        attempts: 0,
        updatedAt: iso,
      },
    };
  }

  private auditOf(e: ReceivedFhirEvent, actor: string, outcome: string) {
    return {
      at: e.receivedAt,
      actor,
      action: 'event-received' as const,
      outcome,
      ...(e.subjectNhsNumber !== undefined ? { subjectNhsNumber: e.subjectNhsNumber } : {}),
      details: {
        event: e.id,
        form: e.form,
        ...(e.eventId !== undefined ? { eventId: e.eventId } : {}),
        ...(e.feedId ? { feed: e.feedId } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
      },
    };
  }

  /** Stores a refused event (under the client's key) before answering; a store failure is a 503, as always. */
  private async refuse(
    e: ReceivedFhirEvent,
    answer: { httpStatus: 400 | 403 | 422; title: string; problems: EventProblem[] },
  ): Promise<EventIntakeResult> {
    e.audit = [this.auditOf(e, e.senderKey, 'refused')];
    try {
      await this.deps.store.recordEvent(e);
    } catch (err) {
      this.deps.logger.error({ err, bytes: e.raw.length }, 'store unavailable: event not accepted, sender told to retry');
      return { kind: 'unavailable', httpStatus: 503 };
    }
    this.deps.logger.info(
      { event: e.id, client: e.apiClient, feed: e.feedId, http: answer.httpStatus, fields: answer.problems.map((p) => p.field) },
      'event refused',
    );
    return { kind: 'refused', ...answer, ...(e.eventId !== undefined ? { eventId: e.eventId } : {}) };
  }
}

const summarise = (problems: readonly EventProblem[]): string =>
  problems
    .map((p) => `${p.field} ${p.message}`)
    .join('; ')
    .slice(0, 500);

function subjectField(ev: SignalEvent): string {
  return ev.form === 'fhir' ? "Parameters.parameter.where(name='subject').valueReference.reference" : 'data.patient';
}
