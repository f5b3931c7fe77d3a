import type { Logger } from '../logger.js';
import type { FeedDirectory } from '../pipeline/hl7v2/feed-directory.js';
import type { FhirMappingSet } from '../pipeline/fhir/fhir-mapping.js';
import type { ClaimedFhirEvent, FhirFetchStore } from '../ports/fhir-fetch.js';
import { FhirFetchError, type FhirServer } from '../ports/fhir-server.js';
import { describeError } from '../ports/errors.js';
import { fetchBirthRecord, findBaby } from './fetch-birth-record.js';
import { storeFetchedRecord, type FetchedReceiptDeps } from './fetched-receipt.js';
import { Periodic } from './periodic.js';

export interface EventFetcherDeps extends FetchedReceiptDeps {
  feeds: FeedDirectory;
  mappings: FhirMappingSet;
  store: FhirFetchStore;
  /** Each fetching feed's FHIR server, by feed id. */
  servers: ReadonlyMap<string, FhirServer>;
  logger: Logger;
  /** How often the work list is looked at when not nudged. */
  intervalMs: number;
  /** How long a claimed event is this worker's; after it another worker may take it (this one died). */
  leaseMs: number;
  /** Attempts before an event the server keeps failing (or not finding) is given up. */
  maxAttempts: number;
  random?: () => number;
}

/**
 * Works through the stored signal events (the table is the durable work list, so nothing is lost on a restart):
 * claims the due ones, fetches each one's record from its feed's FHIR server, stores it as a message (which
 * queues it for processing like every birth), then marks the event fetched with an audit row linking the two.
 * A server that fails or does not (yet) know the Patient is asked again later with exponential backoff and jitter,
 * up to `maxAttempts`; a refusal (a foreign `next` link, an oversize answer, no such NHS number twice…) after that.
 */
export class EventFetcher {
  private readonly loop: Periodic;
  private readonly random: () => number;

  constructor(private readonly deps: EventFetcherDeps) {
    this.random = deps.random ?? Math.random;
    this.loop = new Periodic(
      deps.intervalMs,
      () => this.drain(),
      (err) => deps.logger.error({ err }, 'event fetcher: looking for due events failed; trying again later'),
    );
  }

  start(): void {
    this.loop.start();
  }

  /** Look for due events now (an event was just stored in this process). */
  nudge(): void {
    this.loop.nudge();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const claimed = await this.deps.store.claimDueEvents(this.deps.clock(), this.deps.leaseMs, 4);
      if (claimed.length === 0) return;
      await Promise.all(claimed.map((e) => this.fetchOne(e)));
    }
  }

  private async fetchOne(e: ClaimedFhirEvent): Promise<void> {
    const feed = this.deps.feeds.fhirFeeds.find((f) => f.id === e.feedId);
    const server = this.deps.servers.get(e.feedId);
    const actor = `feed:${e.feedId}`;
    const subject = e.subjectNhsNumber !== undefined ? { subjectNhsNumber: e.subjectNhsNumber } : {};
    if (!feed?.fetch || !server) {
      await this.deps.store.markAttemptFailed(e.id, 'the feed no longer fetches from a FHIR server', this.deps.clock(), undefined, [
        {
          at: this.deps.clock(),
          actor,
          action: 'event-fetched',
          outcome: 'failed',
          ...subject,
          details: { event: e.id, reason: 'feed not configured' },
        },
      ]);
      return;
    }
    const mapping = this.deps.mappings.get(feed.mapping);
    try {
      const baby = await findBaby(
        server,
        {
          ...(e.subjectReference !== undefined ? { patientId: e.subjectReference.slice('Patient/'.length) } : {}),
          ...(e.subjectNhsNumber !== undefined ? { nhsNumber: e.subjectNhsNumber } : {}),
        },
        mapping.file.identifiers.nhsNumber,
      );
      const record = await fetchBirthRecord(server, baby, mapping, feed.fetch);
      const stored = await storeFetchedRecord(this.deps, { ...feed, fetch: feed.fetch }, mapping, record, {
        kind: 'event',
        eventId: e.id,
        ...(e.eventId !== undefined ? { ownEventId: e.eventId } : {}),
      });
      const at = this.deps.clock();
      await this.deps.store.markFetched(e.id, stored.messageId, at, [
        {
          at,
          actor,
          action: 'event-fetched',
          outcome: 'fetched',
          messageId: stored.messageId,
          ...subject,
          details: {
            event: e.id,
            ...(e.eventId !== undefined ? { eventId: e.eventId } : {}),
            duplicate: stored.duplicate,
            status: stored.status,
          },
        },
      ]);
    } catch (err) {
      const failure = err instanceof FhirFetchError ? err.failure : 'unavailable';
      const retry = (failure === 'unavailable' || failure === 'not-found') && e.attempts < this.deps.maxAttempts;
      const at = this.deps.clock();
      const backoff = Math.min(600_000, feed.fetch.retryBaseMs * 2 ** e.attempts);
      const retryAt = retry ? new Date(at.getTime() + Math.round(backoff * (0.5 + this.random() / 2))) : undefined;
      const reason = err instanceof FhirFetchError ? `${err.failure}: ${err.message}` : `store or internal error: ${describeError(err)}`;
      if (!(err instanceof FhirFetchError)) this.deps.logger.error({ err, event: e.id, feed: e.feedId }, 'event fetch failed');
      this.deps.logger.warn(
        { event: e.id, feed: e.feedId, failure, attempts: e.attempts, retry },
        retry ? 'event fetch failed; will try again' : 'event fetch given up',
      );
      await this.deps.store.markAttemptFailed(
        e.id,
        reason,
        at,
        retryAt,
        retry ? [] : [{ at, actor, action: 'event-fetched', outcome: 'failed', ...subject, details: { event: e.id, reason } }],
      );
    }
  }
}
