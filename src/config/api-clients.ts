import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../domain/config-error.js';
import { compile } from '../domain/json-schema.js';
import { loadJsonFile } from './load-json-file.js';

/** What an API client may do: send feeds, read one centre's inbox, audit, or operate the hub. */
export type ClientRole = 'feed' | 'centre' | 'ig' | 'admin';

export interface ApiClient {
  id: string;
  /** Hex SHA-256 of the bearer key; the key itself is never stored. */
  keySha256: string;
  role: ClientRole;
  /** The feed's ODS code or FHIR feed id (role feed), or the inbox id: a centre id or another inbox (role centre). */
  scope?: string;
}

interface ApiClientsFile {
  clients: ApiClient[];
}

const validate = compile<ApiClientsFile>({
  type: 'object',
  additionalProperties: false,
  required: ['clients'],
  properties: {
    $schema: { type: 'string' },
    clients: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'keySha256', 'role'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
          keySha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          role: { enum: ['feed', 'centre', 'ig', 'admin'] },
          scope: { type: 'string', minLength: 1 },
        },
        if: { properties: { role: { enum: ['feed', 'centre'] } } },
        then: { properties: { scope: { type: 'string' } }, required: ['scope'] },
      },
    },
  },
});

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Looks up the client presenting a bearer key, comparing hashes in constant time. */
export class ApiClientDirectory {
  private readonly byHash: Map<string, ApiClient>;

  constructor(readonly clients: readonly ApiClient[]) {
    this.byHash = new Map(clients.map((c) => [c.keySha256, c]));
  }

  authenticate(key: string): ApiClient | undefined {
    const hash = sha256Hex(key);
    const client = this.byHash.get(hash);
    if (!client) return undefined;
    return timingSafeEqual(Buffer.from(client.keySha256, 'hex'), Buffer.from(hash, 'hex')) ? client : undefined;
  }
}

/** Loads `api-clients.json`; checks that every scope names a configured feed or centre. */
/** Scopes are checked against the feeds and inbox ids given; a set left out (its file failed) is not checked. */
export function loadApiClients(
  file: string,
  known: { feedFacilities?: ReadonlySet<string>; centreIds?: ReadonlySet<string> },
): ApiClientDirectory {
  const data = loadJsonFile(file, validate);
  const problems: string[] = [];
  const ids = new Set<string>();
  const hashes = new Set<string>();
  data.clients.forEach((c, i) => {
    if (ids.has(c.id)) problems.push(`${file}: field /clients/${i}/id: duplicate client id "${c.id}"`);
    if (hashes.has(c.keySha256)) problems.push(`${file}: field /clients/${i}/keySha256: the same key is given to two clients`);
    ids.add(c.id);
    hashes.add(c.keySha256);
    if (c.role === 'feed' && c.scope !== undefined && known.feedFacilities && !known.feedFacilities.has(c.scope)) {
      problems.push(`${file}: field /clients/${i}/scope: no feed has sending facility "${c.scope}"`);
    }
    if (c.role === 'centre' && c.scope !== undefined && known.centreIds && !known.centreIds.has(c.scope)) {
      problems.push(`${file}: field /clients/${i}/scope: no centre or inbox has id "${c.scope}"`);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  return new ApiClientDirectory(data.clients);
}
