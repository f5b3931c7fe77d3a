import { ConfigError } from '../domain/config-error.js';
import { compile } from '../domain/json-schema.js';
import { FeedDirectory, isFhirFeed, isNemsFeed, type FeedConfig } from '../pipeline/hl7v2/feed-directory.js';
import type { FhirFeedConfig, FhirFetchSettings, FhirPollSettings, MeshMailboxConfig, NemsFeedConfig } from '../pipeline/fhir/fhir-feed.js';
import { loadJsonFile } from './load-json-file.js';
import { parseRange } from '../domain/address-allow-list.js';

/** A FHIR feed's `fetch` block as written: every limit may be left out and takes its default. */
type FetchBlockInFile = Pick<FhirFetchSettings, 'baseUrl' | 'tokenEnv'> &
  Partial<Omit<FhirFetchSettings, 'baseUrl' | 'tokenEnv' | 'poll'>> & { poll?: Omit<FhirPollSettings, 'pageSize'> & { pageSize?: number } };

/** The defaults of a `fetch` block (README, "Event, then fetch"). */
export const FETCH_DEFAULTS = {
  ratePerSecond: 5,
  timeoutMs: 10000,
  retries: 3,
  retryBaseMs: 500,
  maxResponseBytes: 5242880,
  maxPages: 100,
  maxRelated: 50,
  pageSize: 50,
} as const;

function withDefaults(f: FetchBlockInFile): FhirFetchSettings {
  const { poll, ...rest } = f;
  const { pageSize, ...limits } = FETCH_DEFAULTS;
  return { ...limits, ...rest, ...(poll ? { poll: { pageSize, ...poll } } : {}) };
}

export interface FeedsFile {
  feeds: (FeedConfig | FhirFeedConfig | NemsFeedConfig)[];
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

/** Event, then fetch, and polling (issue 10 item 4): the FHIR feed's own server. Defaults are filled in on load. */
const fetchSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['baseUrl'],
  properties: {
    baseUrl: { type: 'string', pattern: '^https?://[^\\s?#]+$' },
    tokenEnv: { type: 'string', pattern: '^STORK_FHIR_TOKEN_[A-Z0-9_]+$' },
    ratePerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 600000 },
    retries: { type: 'integer', minimum: 0, maximum: 10 },
    retryBaseMs: { type: 'integer', minimum: 1, maximum: 600000 },
    maxResponseBytes: { type: 'integer', minimum: 1024, maximum: 104857600 },
    maxPages: { type: 'integer', minimum: 1, maximum: 10000 },
    maxRelated: { type: 'integer', minimum: 1, maximum: 1000 },
    poll: {
      type: 'object',
      additionalProperties: false,
      required: ['intervalMs', 'since'],
      properties: {
        intervalMs: { type: 'integer', minimum: 100, maximum: 86400000 },
        since: { type: 'string', pattern: '^(\\d{4}-\\d{2}-\\d{2}|P\\d{1,4}D)$' },
        pageSize: { type: 'integer', minimum: 1, maximum: 1000 },
      },
    },
  },
};

/** Addresses or CIDR ranges (checked further at load: each must parse). */
const sourceAddressesSchema = {
  type: 'array',
  minItems: 1,
  maxItems: 1000,
  items: { type: 'string', pattern: '^[0-9A-Fa-f:.]{2,45}(/[0-9]{1,3})?$' },
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
    fetch: fetchSchema,
    sourceAddresses: sourceAddressesSchema,
  },
};

/** Where a NEMS feed's MESH mailbox is, how to authenticate (names of environment variables, never secrets) and what to take. */
const meshSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'mailbox', 'passwordEnv', 'sharedKeyEnv', 'workflowIds', 'pollIntervalMs'],
  properties: {
    url: { type: 'string', pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$' },
    mailbox: { type: 'string', pattern: '^[A-Za-z0-9]{1,20}$' },
    passwordEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
    sharedKeyEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
    workflowIds: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' },
    },
    pollIntervalMs: { type: 'integer', minimum: 50, maximum: 86400000 },
    maxChunks: { type: 'integer', minimum: 1, maximum: 10000 },
    requestTimeoutMs: { type: 'integer', minimum: 100, maximum: 600000 },
    tls: {
      type: 'object',
      additionalProperties: false,
      properties: {
        certFile: { type: 'string', minLength: 1 },
        keyFile: { type: 'string', minLength: 1 },
        caFile: { type: 'string', minLength: 1 },
      },
    },
  },
};

const nemsFeedSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind', 'name', 'apiClient', 'mapping'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    kind: { const: 'nems' },
    name: { type: 'string', minLength: 1 },
    apiClient: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    mapping: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    backfill: backfillSchema,
    mesh: meshSchema,
    sourceAddresses: sourceAddressesSchema,
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
        // A FHIR or NEMS feed is told by its kind; anything else is an HL7 v2 feed (so errors name HL7 v2 fields, as before).
        if: { type: 'object', required: ['kind'], properties: { kind: { const: 'fhir' } } },
        then: fhirFeedSchema,
        else: {
          if: { type: 'object', required: ['kind'], properties: { kind: { const: 'nems' } } },
          then: nemsFeedSchema,
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
              sourceAddresses: sourceAddressesSchema,
              clientCertificates: {
                type: 'array',
                minItems: 1,
                items: {
                  type: 'object',
                  additionalProperties: false,
                  minProperties: 1,
                  maxProperties: 1,
                  properties: {
                    subjectCN: { type: 'string', minLength: 1, maxLength: 200 },
                    sha256Fingerprint: { type: 'string', pattern: '^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$' },
                  },
                },
              },
              mapping: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
              backfill: backfillSchema,
              attendances: {
                type: 'object',
                additionalProperties: false,
                required: ['events', 'patientClasses'],
                properties: {
                  events: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[A-Z0-9]{3}$' } },
                  patientClasses: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[A-Z]$' } },
                },
              },
            },
          },
        },
      },
    },
  },
};
const validate = compile<FeedsFile>(schema);

/** What the schema cannot say about a NEMS feed's MESH mailbox. */
function meshProblems(file: string, i: number, mesh: MeshMailboxConfig, mailboxes: Set<string>): string[] {
  const problems: string[] = [];
  const at = `${file}: field /feeds/${i}/mesh`;
  const url = new URL(mesh.url);
  // The NHSMESH header is an HMAC (the password never travels) but the messages do: plain HTTP only on this machine.
  if (url.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    problems.push(`${at}/url: MESH must be reached over https (plain http is allowed for a loopback address only)`);
  const key = `${url.origin}${url.pathname}|${mesh.mailbox.toUpperCase()}`;
  if (mailboxes.has(key)) problems.push(`${at}/mailbox: another NEMS feed polls mailbox "${mesh.mailbox}" of ${url.origin}`);
  mailboxes.add(key);
  if ((mesh.tls?.certFile === undefined) !== (mesh.tls?.keyFile === undefined))
    problems.push(`${at}/tls: certFile and keyFile go together (the client certificate and its private key)`);
  if (mesh.passwordEnv === mesh.sharedKeyEnv)
    problems.push(`${at}/sharedKeyEnv: must name a variable other than passwordEnv (the shared key is not the password)`);
  return problems;
}

/** Loads `feeds.json` (HL7 v2 feeds, FHIR feeds of kind `fhir`, NHS national birth notification feeds of kind `nems`); a bad file stops start-up naming the file and the field. */
export function loadFeeds(file: string, knownMappings?: ReadonlySet<string>, knownFhirMappings?: ReadonlySet<string>): FeedDirectory {
  const data = loadJsonFile(file, validate);
  const problems: string[] = [];
  const ids = new Set<string>();
  const endpoints = new Set<string>();
  const mailboxes = new Set<string>();
  data.feeds.forEach((feed, i) => {
    if (ids.has(feed.id)) problems.push(`${file}: field /feeds/${i}/id: duplicate feed id "${feed.id}"`);
    ids.add(feed.id);
    const fhirLike = isFhirFeed(feed) || isNemsFeed(feed);
    const known = fhirLike ? knownFhirMappings : knownMappings;
    if (known && !known.has(feed.mapping)) {
      const where = fhirLike ? 'FHIR mapping (mappings/fhir)' : 'mapping';
      problems.push(`${file}: field /feeds/${i}/mapping: no ${where} named "${feed.mapping}" (known: ${[...known].join(', ')})`);
    }
    if (isFhirFeed(feed)) {
      if (endpoints.has(feed.sourceEndpoint))
        problems.push(`${file}: field /feeds/${i}/sourceEndpoint: another FHIR feed has source endpoint "${feed.sourceEndpoint}"`);
      endpoints.add(feed.sourceEndpoint);
    }
    if (isNemsFeed(feed) && feed.mesh) problems.push(...meshProblems(file, i, feed.mesh, mailboxes));
    (feed.sourceAddresses ?? []).forEach((a, k) => {
      if (parseRange(a) === undefined)
        problems.push(`${file}: field /feeds/${i}/sourceAddresses/${k}: "${a}" is not an IPv4 or IPv6 address or CIDR range`);
    });
  });
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  return new FeedDirectory(
    data.feeds.filter((f): f is FeedConfig => !isFhirFeed(f) && !isNemsFeed(f)),
    data.feeds.filter(isFhirFeed).map((f) => (f.fetch ? { ...f, fetch: withDefaults(f.fetch) } : f)),
    data.feeds.filter(isNemsFeed),
  );
}
