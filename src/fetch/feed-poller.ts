import type { Logger } from '../logger.js';
import type { FhirFeedConfig, FhirFetchSettings, FhirPollSettings } from '../pipeline/fhir/fhir-feed.js';
import type { FhirMapping } from '../pipeline/fhir/fhir-mapping.js';
import type { JsonObject } from '../pipeline/fhir/fhir-xml.js';
import { obj, str } from '../pipeline/fhir/json-access.js';
import type { FhirFetchStore, PollCursor } from '../ports/fhir-fetch.js';
import { FhirFetchError, type FhirServer } from '../ports/fhir-server.js';
import { fetchBirthRecord, matches } from './fetch-birth-record.js';
import { storeFetchedRecord, type FetchedReceiptDeps } from './fetched-receipt.js';
import { Periodic } from './periodic.js';

export interface FeedPollerDeps extends FetchedReceiptDeps {
  feed: FhirFeedConfig & { fetch: FhirFetchSettings & { poll: FhirPollSettings } };
  mapping: FhirMapping;
  server: FhirServer;
  store: FhirFetchStore;
  logger: Logger;
  /** This process's name for the poll lease (one poller per feed at a time, across processes). */
  owner: string;
}

/** `since` as a date: `YYYY-MM-DD` as given, `P<n>D` that many days before today (London). */
export function sinceDate(since: string, now: Date): string {
  const days = /^P(\d+)D$/.exec(since)?.[1];
  if (days === undefined) return since;
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    now,
  );
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - Number(days));
  return d.toISOString().slice(0, 10);
}

const lastUpdatedOf = (r: JsonObject): string | undefined => str(obj(r.meta)?.lastUpdated);

/**
 * Polls one feed's FHIR server: `Patient?birthdate=ge{since}&_lastUpdated=ge{cursor}&_sort=_lastUpdated&_count=n`,
 * following `next` links (on the server's own origin only, at most `maxPages`). Each Patient found is fetched with
 * its related resources and stored (a version already stored is recognised by its re-send key), and only when a
 * whole page is stored does the cursor move, in the store, to that page's highest meta.lastUpdated, with the ids
 * stored at exactly that instant (the next search asks `ge` and skips those: a tie at the cursor is neither missed
 * nor fetched again). So a restart, at any point, neither misses nor repeats. A failing server ends the round (the
 * cursor where it was) and the next round tries again; the requests themselves are retried with backoff and rate
 * limited by the FHIR server adapter.
 */
export class FeedPoller {
  private readonly loop: Periodic;

  constructor(private readonly deps: FeedPollerDeps) {
    this.loop = new Periodic(
      deps.feed.fetch.poll.intervalMs,
      async () => {
        await this.pollOnce();
      },
      (err) => deps.logger.error({ err, feed: deps.feed.id }, 'FHIR poll round failed; trying again at the next interval'),
    );
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.deps.store.releaseCursor(this.deps.feed.id, this.deps.owner).catch(() => undefined);
  }

  /** One round: every page from the cursor on, or until the server fails. Resolves to the number of Patients stored. */
  async pollOnce(): Promise<number> {
    const { feed, store, server, owner, clock } = this.deps;
    const settings = feed.fetch;
    const leaseMs = Math.max(60_000, settings.timeoutMs * (settings.retries + 1) * 4);
    let cursor = await store.leaseCursor(feed.id, owner, clock(), leaseMs);
    if (!cursor) return 0; // another process polls this feed
    const params: Record<string, string> = {
      birthdate: `ge${sinceDate(settings.poll.since, clock())}`,
      _sort: '_lastUpdated',
      _count: String(settings.poll.pageSize),
      ...(cursor.lastUpdated !== undefined ? { _lastUpdated: `ge${cursor.lastUpdated}` } : {}),
    };
    let stored = 0;
    let pages = 0;
    try {
      let page: JsonObject | undefined = await server.search('Patient', params);
      while (page !== undefined) {
        pages++;
        if (page.resourceType !== 'Bundle') throw new FhirFetchError('refused', 'a search answered something other than a Bundle');
        const patients = matches(page, 'Patient');
        let next: PollCursor = cursor;
        for (const p of patients) {
          const at = lastUpdatedOf(p);
          const id = str(p.id);
          if (id === undefined) continue;
          if (at !== undefined && at === cursor.lastUpdated && cursor.idsAtCursor.includes(id)) continue; // stored last time
          const record = await fetchBirthRecord(server, p, this.deps.mapping, settings);
          const result = await storeFetchedRecord(this.deps, feed, this.deps.mapping, record, { kind: 'poll' });
          if (!result.duplicate) stored++;
          if (at !== undefined) next = advance(next, at, id);
        }
        if (next !== cursor) {
          await store.advanceCursor(feed.id, owner, next, clock());
          cursor = next;
        }
        if (pages >= settings.maxPages) break;
        page = await server.nextPage(page);
      }
    } catch (err) {
      if (!(err instanceof FhirFetchError)) throw err;
      this.deps.logger.warn({ feed: feed.id, failure: err.failure, status: err.httpStatus, pages, stored }, 'FHIR poll round stopped');
      return stored;
    }
    this.deps.logger.info({ feed: feed.id, pages, stored }, 'FHIR poll round done');
    return stored;
  }
}

/** The cursor after storing a Patient last updated at `at`: later instants replace it, the same instant adds the id. */
function advance(c: PollCursor, at: string, id: string): PollCursor {
  if (c.lastUpdated === undefined || Date.parse(at) > Date.parse(c.lastUpdated)) return { lastUpdated: at, idsAtCursor: [id] };
  if (at === c.lastUpdated) return { lastUpdated: at, idsAtCursor: c.idsAtCursor.includes(id) ? c.idsAtCursor : [...c.idsAtCursor, id] };
  return c;
}
