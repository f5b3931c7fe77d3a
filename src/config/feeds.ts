import { ConfigError } from '../domain/config-error.js';
import { compile, loadJsonFile } from '../domain/json-schema.js';

/** A trust's HL7 v2 feed: who may send, what they may send, and which mapping reads it. */
export interface FeedConfig {
  id: string;
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
}

export interface FeedsFile {
  feeds: FeedConfig[];
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['feeds'],
  properties: {
    $schema: { type: 'string' },
    feeds: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'sendingFacility', 'messageTypes', 'versions', 'processingIds', 'mapping'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
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
        },
      },
    },
  },
};
const validate = compile<FeedsFile>(schema);

/** Finds a feed by the sender's MSH-4 and MSH-3, in O(1), for every message received. */
export class FeedDirectory {
  private readonly byFacility = new Map<string, FeedConfig[]>();

  constructor(readonly feeds: readonly FeedConfig[]) {
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
}

/** Loads `feeds.json`; a bad file stops start-up naming the file and the field. */
export function loadFeeds(file: string, knownMappings?: ReadonlySet<string>): FeedDirectory {
  const data = loadJsonFile(file, validate);
  const problems: string[] = [];
  const ids = new Set<string>();
  data.feeds.forEach((feed, i) => {
    if (ids.has(feed.id)) problems.push(`${file}: field /feeds/${i}/id: duplicate feed id "${feed.id}"`);
    ids.add(feed.id);
    if (knownMappings && !knownMappings.has(feed.mapping)) {
      problems.push(`${file}: field /feeds/${i}/mapping: no mapping named "${feed.mapping}" (known: ${[...knownMappings].join(', ')})`);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  return new FeedDirectory(data.feeds);
}
