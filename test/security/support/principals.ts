/**
 * The callers of the role matrix (the README's "Who may do what" table): one entry per column, saying how that
 * caller presents itself on a request. A new kind of credential is one more factory beside `apiKey`, `bearerJwt`
 * and `webSession`, one more column in the README and one more entry in `principals`; its broken forms go in
 * `BAD_CREDENTIALS`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { SqlWebSessionStore } from '../../../adapters/store/sql-web-session-store.js';
import type { Database } from '../../../src/ports/database.js';
import type { SignedInPerson } from '../../../src/ports/web-sessions.js';
import { MATRIX_AUDIENCE, MATRIX_ISSUER, type MATRIX_ROLES, type TestIssuer } from './jwt-issuer.js';

/** What a caller adds to a request: headers, and for a signed-in person the session's CSRF token (for form posts). */
export interface Presented {
  headers: Record<string, string>;
  csrf?: string;
}

export interface Principal {
  /** `api` callers use the API's credentials, `web` ones a session, `none` nothing. */
  channel: 'api' | 'web' | 'none';
  /** The caller's own inbox or feed scope (`{self}` in the matrix); Osmondthorpe for callers without one. */
  scope?: string;
  /**
   * Credentials for one request. A web caller keeps one session; `fresh` gives it a new one of its own (for a
   * request that ends its session, such as signing out).
   */
  present(options?: { fresh?: boolean }): Promise<Presented>;
}

export const anonymous = (): Principal => ({ channel: 'none', present: () => Promise.resolve({ headers: {} }) });

export const apiKey = (key: string, scope?: string): Principal => ({
  channel: 'api',
  ...(scope !== undefined ? { scope } : {}),
  present: () => Promise.resolve({ headers: { authorization: `Bearer ${key}` } }),
});

/**
 * A machine client with a bearer JWT of the matrix's issuer: `role` is the issuer's role value, `scope` the
 * `stork_scope` claim. One token, valid for an hour, signed on first use.
 */
export function bearerJwt(issuer: TestIssuer, sub: string, role: keyof typeof MATRIX_ROLES, scope?: string): Principal {
  let token: Promise<string> | undefined;
  return {
    channel: 'api',
    ...(scope !== undefined ? { scope } : {}),
    present: async () => {
      token ??= issuer.sign({ sub, stork_role: role, ...(scope !== undefined ? { stork_scope: scope } : {}) }, { exp: '1h' });
      return { headers: { authorization: `Bearer ${await token}` } };
    },
  };
}

/** A session put in the store as a sign-in leaves it (no identity provider needed), expiring in an hour. */
export async function newSession(
  db: Database,
  person: SignedInPerson,
  expiresInMs = 3_600_000,
): Promise<{ cookie: string; csrf: string; id: string }> {
  const id = randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  const now = new Date();
  const expires = new Date(now.getTime() + expiresInMs);
  const lastSeen = expiresInMs > 0 ? now : new Date(expires.getTime() - 60_000);
  await new SqlWebSessionStore(db).create(
    createHash('sha256').update(id).digest('hex'),
    { person, csrfToken: csrf, lastSeenAt: lastSeen, expiresAt: expires, absoluteExpiresAt: expires },
    lastSeen,
  );
  return { cookie: `stork_session=${id}`, csrf, id };
}

export function webSession(db: () => Database, person: SignedInPerson): Principal {
  let kept: Promise<Presented> | undefined;
  const open = async (): Promise<Presented> => {
    const s = await newSession(db(), person);
    return { headers: { cookie: s.cookie }, csrf: s.csrf };
  };
  return {
    channel: 'web',
    ...(person.scope !== undefined ? { scope: person.scope } : {}),
    present: (options) => {
      if (options?.fresh === true) return open();
      kept ??= open();
      return kept;
    },
  };
}

/** The matrix's columns, by their README header. The demo users are those of mappings/web-app.json. */
export function principals(db: () => Database, issuer: TestIssuer): Record<string, Principal> {
  return {
    anonymous: anonymous(),
    feed: apiKey('demo-northgate-feed-key', 'RX1'),
    'feed B': apiKey('demo-northgate-fhir-key', 'northgate-fhir'),
    centre: apiKey('demo-osmondthorpe-key', 'osmondthorpe'),
    'centre B': apiKey('demo-harehills-key', 'harehills'),
    ig: apiKey('demo-ig-key'),
    admin: apiKey('demo-admin-key'),
    'jwt centre': bearerJwt(issuer, 'osmondthorpe-system', 'children-centre', 'osmondthorpe'),
    'jwt ig': bearerJwt(issuer, 'ig-system', 'auditor'),
    'jwt admin': bearerJwt(issuer, 'ops-system', 'operator'),
    olivia: webSession(db, { sub: 'olivia', name: 'Olivia Demo', role: 'centre-worker', scope: 'osmondthorpe' }),
    harry: webSession(db, { sub: 'harry', name: 'Harry Demo', role: 'centre-worker', scope: 'harehills' }),
    iris: webSession(db, { sub: 'iris', name: 'Iris Demo', role: 'ig-lead' }),
    owen: webSession(db, { sub: 'owen', name: 'Owen Demo', role: 'operator' }),
    ada: webSession(db, { sub: 'ada', name: 'Ada Demo', role: 'admin' }),
  };
}

/**
 * Broken credentials, each answered as no credential at all (the matrix's `anonymous` cell) on every door that is
 * not public. `channel` says where it is tried: API doors, or web pages.
 */
export interface BadCredential {
  name: string;
  channel: 'api' | 'web';
  present(context: { db: Database; issuer: TestIssuer }): Promise<Presented>;
}

const forgedId = (): string => randomBytes(32).toString('base64url');
const bearer = (token: string): Presented => ({ headers: { authorization: `Bearer ${token}` } });
const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
/** The claims of an admin token of the matrix's issuer (for the forged ones: the most a forger could want). */
const adminClaims = (): Record<string, unknown> => ({
  iss: MATRIX_ISSUER,
  aud: MATRIX_AUDIENCE,
  sub: 'ops-system',
  exp: Math.floor(Date.now() / 1000) + 300,
  stork_role: 'operator',
});
const jwtBad = (name: string, token: (issuer: TestIssuer) => Promise<string | undefined>): BadCredential => ({
  name: `API JWT: ${name}`,
  channel: 'api',
  present: async ({ issuer }) => {
    const t = await token(issuer);
    return t === undefined ? { headers: {} } : bearer(t);
  },
});
const admin = { sub: 'ops-system', stork_role: 'operator' };

/**
 * A bearer JWT broken in each way a verifier must catch, each for the issuer's admin client (so a slip would open
 * every door). Their answers must also not say what was wrong.
 */
export const BAD_JWTS: readonly BadCredential[] = [
  jwtBad('missing (no Authorization header)', () => Promise.resolve(undefined)),
  jwtBad('malformed', () => Promise.resolve('eyJhbGciOi.not-base64!.x')),
  jwtBad('three segments of garbage', () => Promise.resolve('aaaa.bbbb.cccc')),
  jwtBad('expired an hour ago', (i) => i.sign(admin, { exp: Math.floor(Date.now() / 1000) - 3600 })),
  jwtBad('not valid for another hour (nbf)', (i) => i.sign(admin, { nbf: Math.floor(Date.now() / 1000) + 3600 })),
  jwtBad('another issuer', (i) => i.sign(admin, { iss: 'https://evil.example' })),
  jwtBad('another audience', (i) => i.sign(admin, { aud: 'someone-else' })),
  jwtBad('signed by another key', async (i) => i.sign(admin, { key: (await generateKeyPair('ES256')).privateKey })),
  jwtBad('alg none', () => Promise.resolve(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(adminClaims())}.`)),
  jwtBad('HS256 signed with the issuer’s public key as the secret', (i) =>
    new SignJWT(adminClaims()).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(i.publicKeyPem)),
  ),
  jwtBad('a valid token’s signature cut off', async (i) => (await i.sign(admin)).replace(/[^.]+$/, '')),
];

export const BAD_CREDENTIALS: readonly BadCredential[] = [
  {
    name: 'API: Authorization with another scheme',
    channel: 'api',
    present: () => Promise.resolve({ headers: { authorization: 'Basic ZGVtbzpkZW1v' } }),
  },
  { name: 'API: Bearer with no key', channel: 'api', present: () => Promise.resolve({ headers: { authorization: 'Bearer ' } }) },
  {
    name: 'API: Bearer with two values',
    channel: 'api',
    present: () => Promise.resolve({ headers: { authorization: 'Bearer demo-admin-key extra' } }),
  },
  { name: 'API: an unknown key', channel: 'api', present: () => Promise.resolve({ headers: { authorization: `Bearer ${forgedId()}` } }) },
  {
    name: 'API: a key differing from a real one in its last letter',
    channel: 'api',
    present: () => Promise.resolve({ headers: { authorization: 'Bearer demo-admin-kez' } }),
  },
  {
    name: 'API: the key’s SHA-256 instead of the key',
    channel: 'api',
    present: () => Promise.resolve({ headers: { authorization: `Bearer ${createHash('sha256').update('demo-admin-key').digest('hex')}` } }),
  },
  {
    name: 'web: a forged session cookie (well formed, never issued)',
    channel: 'web',
    present: () => Promise.resolve({ headers: { cookie: `stork_session=${forgedId()}` }, csrf: 'x' }),
  },
  {
    name: 'web: a malformed session cookie',
    channel: 'web',
    present: () => Promise.resolve({ headers: { cookie: 'stork_session=%zz;stork_session=../../etc' }, csrf: 'x' }),
  },
  {
    name: 'web: an expired session (an admin’s)',
    channel: 'web',
    present: async ({ db }) => {
      const s = await newSession(db, { sub: 'ada', name: 'Ada Demo', role: 'admin' }, -1000);
      return { headers: { cookie: s.cookie }, csrf: s.csrf };
    },
  },
  {
    name: 'web: a session’s stored hash as the cookie',
    channel: 'web',
    present: async ({ db }) => {
      const s = await newSession(db, { sub: 'ada', name: 'Ada Demo', role: 'admin' });
      return { headers: { cookie: `stork_session=${createHash('sha256').update(s.id).digest('base64url')}` }, csrf: s.csrf };
    },
  },
  ...BAD_JWTS,
];
