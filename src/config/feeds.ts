import { ConfigError } from '../domain/config-error.js';
import { compile } from '../domain/json-schema.js';
import { FeedDirectory, isFhirFeed, isNemsFeed, type FeedConfig } from '../pipeline/hl7v2/feed-directory.js';
import type { FhirFeedConfig, NemsFeedConfig } from '../pipeline/fhir/fhir-feed.js';
import { loadJsonFile } from './load-json-file.js';

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
              sourceAddresses: { type: 'array', items: { type: 'string', minLength: 2 } },
              mapping: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
              backfill: backfillSchema,
            },
          },
        },
      },
    },
  },
};
const validate = compile<FeedsFile>(schema);

/** Loads `feeds.json` (HL7 v2 feeds, FHIR feeds of kind `fhir`, NHS national birth notification feeds of kind `nems`); a bad file stops start-up naming the file and the field. */
export function loadFeeds(file: string, knownMappings?: ReadonlySet<string>, knownFhirMappings?: ReadonlySet<string>): FeedDirectory {
  const data = loadJsonFile(file, validate);
  const problems: string[] = [];
  const ids = new Set<string>();
  const endpoints = new Set<string>();
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
  });
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  return new FeedDirectory(
    data.feeds.filter((f): f is FeedConfig => !isFhirFeed(f) && !isNemsFeed(f)),
    data.feeds.filter(isFhirFeed),
    data.feeds.filter(isNemsFeed),
  );
}
