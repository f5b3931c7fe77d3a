import { createHash, createPublicKey, timingSafeEqual, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
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

/** The client a request was authenticated as: by a hashed API key, or by a bearer JWT of a configured issuer. */
export interface AuthenticatedClient {
  id: string;
  role: ClientRole;
  scope?: string;
  /** How it proved who it is (`jwt`: the id is `<issuer id>:<client id claim>`). */
  via: 'key' | 'jwt';
}

/** The asymmetric JWS algorithms an issuer may use (never `none`, never HS*: a public key is not a shared secret). */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** How a token's claims become a Stork client: which claim names it, holds its role, and holds its scope. */
export interface JwtClaimMapping {
  /** The claim naming the client (default `sub`); the Stork client id is `<issuer id>:<value>`. */
  clientId?: string;
  /** The claim holding the role (a string, or an array holding exactly one mapped value). */
  role: string;
  /** The issuer's role values and the Stork role each means; absent: the value must be a Stork role itself. */
  roles?: Record<string, ClientRole>;
  /** The claim holding the scope (a feed's sending facility or feed id, or an inbox id); needed for roles feed and centre. */
  scope?: string;
}

/** An OAuth 2.0 issuer whose bearer JWTs machine clients may present instead of an API key. */
export interface JwtIssuerConfig {
  id: string;
  issuer: string;
  audience: string;
  /** Where its signing keys are published (refetched on an unknown key id, no more than once per `jwksCooldownSeconds`)… */
  jwksUrl?: string;
  /** …or its public keys (PEM or JWK files, relative to the configuration folder). */
  publicKeyFiles?: string[];
  algorithms?: JwtAlgorithm[];
  clockToleranceSeconds?: number;
  jwksCooldownSeconds?: number;
  jwksCacheMaxAgeSeconds?: number;
  jwksTimeoutMs?: number;
  claims: JwtClaimMapping;
}

/** An issuer as loaded: its static keys read and parsed. */
export interface JwtIssuer extends Omit<JwtIssuerConfig, 'publicKeyFiles'> {
  publicKeys?: KeyObject[];
}

interface ApiClientsFile {
  clients: ApiClient[];
  issuers?: JwtIssuerConfig[];
}

const ROLES = ['feed', 'centre', 'ig', 'admin'];
const claimName = { type: 'string', pattern: '^[A-Za-z0-9_.:/-]{1,100}$' };

const issuerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'issuer', 'audience', 'claims'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,39}$' },
    issuer: { type: 'string', minLength: 1, maxLength: 500 },
    audience: { type: 'string', minLength: 1, maxLength: 500 },
    jwksUrl: { type: 'string', pattern: '^https?://[^\\s?#]+(\\?[^\\s#]*)?$' },
    publicKeyFiles: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    algorithms: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...JWT_ALGORITHMS] } },
    clockToleranceSeconds: { type: 'integer', minimum: 0, maximum: 300 },
    jwksCooldownSeconds: { type: 'number', minimum: 0.01, maximum: 3600 },
    jwksCacheMaxAgeSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
    jwksTimeoutMs: { type: 'integer', minimum: 100, maximum: 60000 },
    claims: {
      type: 'object',
      additionalProperties: false,
      required: ['role'],
      properties: {
        clientId: claimName,
        role: claimName,
        roles: {
          type: 'object',
          minProperties: 1,
          propertyNames: { minLength: 1, maxLength: 200 },
          additionalProperties: { enum: ROLES },
        },
        scope: claimName,
      },
    },
  },
};

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
          role: { enum: ROLES },
          scope: { type: 'string', minLength: 1 },
        },
        if: { properties: { role: { enum: ['feed', 'centre'] } } },
        then: { properties: { scope: { type: 'string' } }, required: ['scope'] },
      },
    },
    issuers: { type: 'array', items: issuerSchema },
  },
});

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Looks up the client presenting a bearer key, comparing hashes in constant time. */
export class ApiClientDirectory {
  private readonly byHash: Map<string, ApiClient>;

  /** `issuers`: the OAuth 2.0 issuers whose bearer JWTs are accepted (none: API keys only). */
  constructor(
    readonly clients: readonly ApiClient[],
    readonly issuers: readonly JwtIssuer[] = [],
    /** What a JWT client's scope may name (as checked for API keys at load): unknown sets are not checked. */
    readonly known: { feedFacilities?: ReadonlySet<string>; centreIds?: ReadonlySet<string> } = {},
  ) {
    this.byHash = new Map(clients.map((c) => [c.keySha256, c]));
  }

  /** The client a key names, with how it was authenticated. */
  byKey(key: string): AuthenticatedClient | undefined {
    const c = this.authenticate(key);
    return c ? { id: c.id, role: c.role, ...(c.scope !== undefined ? { scope: c.scope } : {}), via: 'key' } : undefined;
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
  configDir: string = path.resolve(path.dirname(file), '..'),
): ApiClientDirectory {
  const data = loadJsonFile(file, validate);
  const problems: string[] = [];
  const issuers = (data.issuers ?? []).map((iss, i) => loadIssuer(file, configDir, iss, i, problems));
  const issuerIds = new Set<string>();
  (data.issuers ?? []).forEach((iss, i) => {
    if (issuerIds.has(iss.id)) problems.push(`${file}: field /issuers/${i}/id: duplicate issuer id "${iss.id}"`);
    issuerIds.add(iss.id);
  });
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
  return new ApiClientDirectory(data.clients, issuers, known);
}

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

/** Checks what the schema cannot say about an issuer and reads its static public keys. */
function loadIssuer(file: string, configDir: string, iss: JwtIssuerConfig, i: number, problems: string[]): JwtIssuer {
  const at = `${file}: field /issuers/${i}`;
  const { publicKeyFiles, ...rest } = iss;
  if (iss.jwksUrl !== undefined) {
    const url = new URL(iss.jwksUrl);
    // Keys fetched over plain HTTP could be swapped on the way: https, except on this machine.
    if (url.protocol === 'http:' && !LOOPBACK.includes(url.hostname))
      problems.push(`${at}/jwksUrl: must be https (plain http is allowed for a loopback address only)`);
  }
  if ((iss.jwksUrl === undefined) === (publicKeyFiles === undefined))
    problems.push(`${at}: give either jwksUrl or publicKeyFiles (where the issuer's signing keys are)`);
  const publicKeys: KeyObject[] = [];
  (publicKeyFiles ?? []).forEach((name, k) => {
    let text: string;
    try {
      text = readFileSync(path.resolve(configDir, name), 'utf8');
    } catch {
      problems.push(`${at}/publicKeyFiles/${k}: cannot read ${name}`);
      return;
    }
    if (text.includes('PRIVATE KEY') || /"d"\s*:/.test(text)) {
      problems.push(`${at}/publicKeyFiles/${k}: ${name} holds a private key; give the issuer's public key only`);
      return;
    }
    try {
      const trimmed = text.trimStart();
      const key = trimmed.startsWith('{')
        ? createPublicKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' })
        : createPublicKey(text);
      if (key.type !== 'public') throw new Error('not a public key');
      publicKeys.push(key);
    } catch {
      problems.push(`${at}/publicKeyFiles/${k}: ${name} is not a public key (PEM or JWK)`);
    }
  });
  return { ...rest, ...(publicKeyFiles ? { publicKeys } : {}) };
}
