import type { BackfillMode } from './map-outcome.js';
import type { FhirFeedConfig, NemsFeedConfig } from '../fhir/fhir-feed.js';

/** A trust's HL7 v2 feed: who may send, what they may send, and which mapping reads it. */
export interface FeedConfig {
  id: string;
  /** Absent or `hl7v2`: an HL7 v2 feed (FHIR feeds are `FhirFeedConfig`, kind `fhir`). */
  kind?: 'hl7v2';
  name: string;
  /** MSH-4.1: the sending facility, the trust's ODS code. */
  sendingFacility: string;
  /** MSH-3.1 values accepted; absent = any application of that facility. */
  sendingApplications?: string[];
  /** Message types and the trigger events accepted for each, e.g. `{ "ADT": ["A01", "A28"] }`. */
  messageTypes: Record<string, string[]>;
  /** MSH-12.1 values accepted. */
  versions: string[];
  /** MSH-11.1 values accepted: `P` production, `T` training, `D` debugging. */
  processingIds: string[];
  /** MLLP peers allowed for this feed (IPv4/IPv6 text); absent = any address. */
  sourceAddresses?: string[];
  /** The mapping in `mappings/hl7v2/` that reads this feed. */
  mapping: string;
  /**
   * Back-fill mode, until `until`: births that were newborns at their message time (MSH-7) are delivered
   * even if they are no longer newborns when received; each such message's audit records it.
   */
  backfill?: BackfillMode;
}

/** Finds a feed by the sender's MSH-4 and MSH-3 (HL7 v2) or MessageHeader.source.endpoint (FHIR), in O(1), for every message received. */
export class FeedDirectory {
  private readonly byFacility = new Map<string, FeedConfig[]>();
  private readonly byEndpoint: ReadonlyMap<string, FhirFeedConfig>;

  /** `feeds`: the HL7 v2 feeds; `fhirFeeds`: the FHIR messaging feeds; `nemsFeeds`: the NHS national birth notification feeds. */
  constructor(
    readonly feeds: readonly FeedConfig[],
    readonly fhirFeeds: readonly FhirFeedConfig[] = [],
    readonly nemsFeeds: readonly NemsFeedConfig[] = [],
  ) {
    this.byEndpoint = new Map(fhirFeeds.map((f) => [f.sourceEndpoint, f]));
    for (const feed of feeds) {
      const list = this.byFacility.get(feed.sendingFacility) ?? [];
      list.push(feed);
      this.byFacility.set(feed.sendingFacility, list);
    }
  }

  find(sendingFacility: string, sendingApplication: string): FeedConfig | undefined {
    return this.byFacility
      .get(sendingFacility)
      ?.find((f) => f.sendingApplications === undefined || f.sendingApplications.includes(sendingApplication));
  }

  byId(id: string): FeedConfig | undefined {
    return this.feeds.find((f) => f.id === id);
  }

  /** The FHIR feed a message names by its MessageHeader.source.endpoint. */
  fhirByEndpoint(endpoint: string): FhirFeedConfig | undefined {
    return this.byEndpoint.get(endpoint);
  }

  /** A FHIR feed by id (how a record Stork fetched names its feed). */
  fhirById(id: string): FhirFeedConfig | undefined {
    return this.fhirFeeds.find((f) => f.id === id);
  }

  /** The NEMS feed an API client posts for (each NEMS feed names its one client). */
  nemsForClient(apiClientId: string): NemsFeedConfig | undefined {
    return this.nemsFeeds.find((f) => f.apiClient === apiClientId);
  }

  /** A NEMS feed by id (how MESH names the feed of a mailbox). */
  nemsById(id: string): NemsFeedConfig | undefined {
    return this.nemsFeeds.find((f) => f.id === id);
  }
}

export const isFhirFeed = (f: FeedConfig | FhirFeedConfig | NemsFeedConfig): f is FhirFeedConfig => f.kind === 'fhir';
export const isNemsFeed = (f: FeedConfig | FhirFeedConfig | NemsFeedConfig): f is NemsFeedConfig => f.kind === 'nems';
