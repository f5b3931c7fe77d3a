import type { BackfillMode } from './map-outcome.js';
import type { AttendanceCriteria } from './map-attendance.js';
import type { FhirFeedConfig, NemsFeedConfig } from '../fhir/fhir-feed.js';

/** A client certificate, by its subject common name or by its SHA-256 fingerprint (hex, colons optional). */
export type ClientCertificateMatch = { subjectCN: string } | { sha256Fingerprint: string };

/** What a TLS listener knows of the verified client certificate of a connection. */
export interface PeerCertificate {
  subjectCN?: string;
  /** SHA-256 fingerprint, upper-case hex with colons (as Node's `fingerprint256`). */
  sha256Fingerprint: string;
}

const normalFingerprint = (f: string): string => f.replace(/:/g, '').toUpperCase();

/** Whether a certificate is one of those listed. */
export function certificateMatches(list: readonly ClientCertificateMatch[], cert: PeerCertificate | undefined): boolean {
  if (!cert) return false;
  return list.some((m) =>
    'subjectCN' in m
      ? cert.subjectCN !== undefined && m.subjectCN === cert.subjectCN
      : normalFingerprint(m.sha256Fingerprint) === normalFingerprint(cert.sha256Fingerprint),
  );
}

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
  /**
   * Source addresses allowed for this feed on every transport (IPv4/IPv6 addresses or CIDR ranges); absent = any
   * address. Over MLLP a listed address also identifies the connection as this feed's: a message from it naming
   * another feed is refused.
   */
  sourceAddresses?: string[];
  /** TLS client certificates that identify this feed's MLLP connections; when present, only they may send for it. */
  clientCertificates?: ClientCertificateMatch[];
  /** The mapping in `mappings/hl7v2/` that reads this feed. */
  mapping: string;
  /**
   * Back-fill mode, until `until`: births that were newborns at their message time (MSH-7) are delivered
   * even if they are no longer newborns when received; each such message's audit records it.
   */
  backfill?: BackfillMode;
  /** A&E attendances read from this feed for the triggers (issue 17; src/pipeline/hl7v2/map-attendance.ts). */
  attendances?: AttendanceCriteria;
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

  /** The HL7 v2 feeds a client certificate identifies. */
  byCertificate(cert: PeerCertificate): FeedConfig[] {
    return this.feeds.filter((f) => f.clientCertificates !== undefined && certificateMatches(f.clientCertificates, cert));
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
