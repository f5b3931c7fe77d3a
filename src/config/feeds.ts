import { ConfigError } from './config-error.js';
import { compile, loadJsonFile } from './json-schema.js';
import type { BackfillMode } from '../pipeline/hl7v2/map-hl7v2.js';

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

/**
 * A FHIR R4 messaging feed (`"kind": "fhir"`): bundles posted to `$process-message` by one API client. The
 * message names its sender in MessageHeader.source.endpoint; only `apiClient` may send for that endpoint.
 */
export interface FhirFeedConfig {
  id: string;
  kind: 'fhir';
  name: string;
  /** MessageHeader.source.endpoint of this feed's messages (unique among FHIR feeds). */
  sourceEndpoint: string;
  /** The API client (api-clients.json, role feed) allowed to send for this feed. */
  apiClient: string;
  /** The mapping in `mappings/fhir/` that reads this feed. */
  mapping: string;
  backfill?: BackfillMode;
}

export interface FeedsFile {
  feeds: (FeedConfig | FhirFeedConfig)[];
}

const backfillSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['until', 'reason'],
  properties: {
    until: { type: 'string', format: 'date-time' },
    reason: { type: 'string', minLength: 3 },
  },
};

const fhirFeedSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind', 'name', 'sourceEndpoint', 'apiClient', 'mapping'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    kind: { const: 'fhir' },
    name: { type: 'string', minLength: 1 },
    sourceEndpoint: { type: 'string', pattern: '^\\S+$' },
    apiClient: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    mapping: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    backfill: backfillSchema,
  },
};

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['feeds'],
  properties: {
    $schema: { type: 'string' },
    feeds: {
      type: 'array',
      items: {
        // A FHIR feed is told by its kind; anything else is an HL7 v2 feed (so errors name HL7 v2 fields, as before).
        if: { type: 'object', required: ['kind'], properties: { kind: { const: 'fhir' } } },
        then: fhirFeedSchema,
        else: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'name', 'sendingFacility', 'messageTypes', 'versions', 'processingIds', 'mapping'],
          properties: {
            id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
            kind: { const: 'hl7v2' },
            name: { type: 'string', minLength: 1 },
            sendingFacility: { type: 'string', minLength: 1 },
            sendingApplications: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
            messageTypes: {
              type: 'object',
              minProperties: 1,
              propertyNames: { pattern: '^[A-Z][A-Z0-9]{2}$' },
              additionalProperties: { type: 'array', items: { type: 'string', pattern: '^[A-Z0-9]{3}$' }, minItems: 1 },
            },
            versions: { type: 'array', items: { type: 'string', pattern: '^2\\.[0-9](\\.[0-9])?$' }, minItems: 1 },
            processingIds: { type: 'array', items: { enum: ['P', 'T', 'D'] }, minItems: 1 },
            sourceAddresses: { type: 'array', items: { type: 'string', minLength: 2 } },
            mapping: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
            backfill: backfillSchema,
          },
        },
      },
    },
  },
};
const validate = compile<FeedsFile>(schema);

/** Finds a feed by the sender's MSH-4 and MSH-3, in O(1), for every message received. */
export class FeedDirectory {
  private readonly byFacility = new Map<string, FeedConfig[]>();
  private readonly byEndpoint: ReadonlyMap<string, FhirFeedConfig>;

  /** `feeds`: the HL7 v2 feeds; `fhirFeeds`: the FHIR messaging feeds. */
  constructor(
    readonly feeds: readonly FeedConfig[],
    readonly fhirFeeds: readonly FhirFeedConfig[] = [],
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
}

export const isFhirFeed = (f: FeedConfig | FhirFeedConfig): f is FhirFeedConfig => f.kind === 'fhir';

/** Loads `feeds.json`; a bad file stops start-up naming the file and the field. */
export function loadFeeds(file: string, knownMappings?: ReadonlySet<string>, knownFhirMappings?: ReadonlySet<string>): FeedDirectory {
  const data = loadJsonFile(file, validate);
  const problems: string[] = [];
  const ids = new Set<string>();
  const endpoints = new Set<string>();
  data.feeds.forEach((feed, i) => {
    if (ids.has(feed.id)) problems.push(`${file}: field /feeds/${i}/id: duplicate feed id "${feed.id}"`);
    ids.add(feed.id);
    const known = isFhirFeed(feed) ? knownFhirMappings : knownMappings;
    if (known && !known.has(feed.mapping)) {
      const where = isFhirFeed(feed) ? 'FHIR mapping (mappings/fhir)' : 'mapping';
      problems.push(`${file}: field /feeds/${i}/mapping: no ${where} named "${feed.mapping}" (known: ${[...known].join(', ')})`);
    }
    if (isFhirFeed(feed)) {
      if (endpoints.has(feed.sourceEndpoint))
        problems.push(`${file}: field /feeds/${i}/sourceEndpoint: another FHIR feed has source endpoint "${feed.sourceEndpoint}"`);
      endpoints.add(feed.sourceEndpoint);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  return new FeedDirectory(
    data.feeds.filter((f): f is FeedConfig => !isFhirFeed(f)),
    data.feeds.filter(isFhirFeed),
  );
}
