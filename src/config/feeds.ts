import { ConfigError } from '../domain/config-error.js';
import { compile } from '../domain/json-schema.js';
import { FeedDirectory, type FeedConfig } from '../pipeline/hl7v2/feed-directory.js';
import { loadJsonFile } from './load-json-file.js';

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
          backfill: {
            type: 'object',
            additionalProperties: false,
            required: ['until', 'reason'],
            properties: {
              until: { type: 'string', format: 'date-time' },
              reason: { type: 'string', minLength: 3 },
            },
          },
        },
      },
    },
  },
};
const validate = compile<FeedsFile>(schema);

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
