import { existsSync } from 'node:fs';
import { ConfigError } from '../domain/config-error.js';
import { compile } from '../domain/json-schema.js';
import { WEB_ROLES, type WebRole } from '../ports/web-sessions.js';
import { loadJsonFile } from './load-json-file.js';

/**
 * The web app's sign-in (OpenID Connect) and sessions, from `mappings/web-app.json`. The client secret is not
 * in the file: it comes from the environment (STORK_OIDC_CLIENT_SECRET).
 */
export interface WebAppConfig {
  oidc: {
    /** The identity provider's issuer URL (discovery at `<issuer>/.well-known/openid-configuration`). */
    issuer: string;
    clientId: string;
    /** Scopes asked for; `openid` must be one. */
    scopes: string[];
    /** Which claims carry the person's name, role and scope (the inbox id of a centre worker). */
    claims: { name: string; role: string; scope: string };
    /** Claim values (as the provider spells them) → Stork's roles; absent = the claim holds Stork's role names. */
    roleValues?: Record<string, WebRole>;
  };
  session: {
    /** A session unused this long ends. */
    idleMinutes: number;
    /** A session ends this long after sign-in, however active. */
    absoluteMinutes: number;
  };
  /** The local OpenID provider for the quick start and tests (STORK_LOCAL_OIDC=on): its demo users. */
  localProvider?: { users: DemoUser[] };
}

/** A demo user of the local OpenID provider: signs in with `login` (any password), which is also their subject (`sub`). */
export interface DemoUser {
  login: string;
  name: string;
  role: WebRole;
  scope?: string;
}

const claimName = { type: 'string', pattern: '^[A-Za-z0-9_.:/-]+$' };
const validate = compile<WebAppConfig>({
  type: 'object',
  additionalProperties: false,
  required: ['oidc', 'session'],
  properties: {
    $schema: { type: 'string' },
    oidc: {
      type: 'object',
      additionalProperties: false,
      required: ['issuer', 'clientId', 'scopes', 'claims'],
      properties: {
        issuer: { type: 'string', pattern: '^https?://[^\\s?#]+$' },
        clientId: { type: 'string', minLength: 1 },
        scopes: { type: 'array', items: { type: 'string', pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' }, contains: { const: 'openid' } },
        claims: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'role', 'scope'],
          properties: { name: claimName, role: claimName, scope: claimName },
        },
        roleValues: { type: 'object', additionalProperties: { enum: WEB_ROLES } },
      },
    },
    session: {
      type: 'object',
      additionalProperties: false,
      required: ['idleMinutes', 'absoluteMinutes'],
      properties: {
        idleMinutes: { type: 'integer', minimum: 1, maximum: 1440 },
        absoluteMinutes: { type: 'integer', minimum: 1, maximum: 10080 },
      },
    },
    localProvider: {
      type: 'object',
      additionalProperties: false,
      required: ['users'],
      properties: {
        users: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['login', 'name', 'role'],
            properties: {
              login: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]*$' },
              name: { type: 'string', minLength: 1, maxLength: 200 },
              role: { enum: WEB_ROLES },
              scope: { type: 'string', minLength: 1 },
            },
          },
        },
      },
    },
  },
});

/**
 * Loads `web-app.json` if the configuration folder has one (no file: no web app). Checks that a centre worker's
 * scope names an inbox, and that only centre workers have one.
 */
export function loadWebAppConfig(file: string, inboxIds: ReadonlySet<string> | undefined): WebAppConfig | undefined {
  if (!existsSync(file)) return undefined;
  const data = loadJsonFile(file, validate);
  const problems: string[] = [];
  if (data.session.absoluteMinutes < data.session.idleMinutes)
    problems.push(`${file}: field /session/absoluteMinutes: must be at least idleMinutes`);
  const logins = new Set<string>();
  data.localProvider?.users.forEach((u, i) => {
    if (logins.has(u.login)) problems.push(`${file}: field /localProvider/users/${i}/login: duplicate login "${u.login}"`);
    logins.add(u.login);
    if (u.role === 'centre-worker' && u.scope === undefined)
      problems.push(`${file}: field /localProvider/users/${i}/scope: a centre worker needs the inbox id of their centre`);
    if (u.role === 'early-help-worker' && u.scope === undefined)
      problems.push(
        `${file}: field /localProvider/users/${i}/scope: an early-help worker needs the inbox id of their team's queue (a trigger's recipient)`,
      );
    if (u.scope !== undefined && inboxIds && !inboxIds.has(u.scope))
      problems.push(`${file}: field /localProvider/users/${i}/scope: no centre or inbox has id "${u.scope}"`);
  });
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  return data;
}
