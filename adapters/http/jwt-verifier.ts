import { createHash, type KeyObject } from 'node:crypto';
import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  errors,
  type FetchImplementation,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import {
  JWT_ALGORITHMS,
  type ApiClientDirectory,
  type AuthenticatedClient,
  type ClientRole,
  type JwtAlgorithm,
  type JwtIssuer,
} from '../../src/config/api-clients.js';

/** Why a token was refused: a short code for the log and the audit (never the token, never its claims). */
export type TokenRefusal =
  | 'malformed'
  | 'unknown-issuer'
  | 'expired'
  | 'not-yet-valid'
  | 'claim-mismatch'
  | 'bad-signature'
  | 'no-key'
  | 'algorithm'
  | 'claims'
  | 'jwks-unavailable'
  | 'invalid';

export type TokenResult = { ok: true; client: AuthenticatedClient } | { ok: false; reason: TokenRefusal };

/** A bearer JWT longer than this is refused unread (a real access token is a few hundred bytes). */
export const MAX_TOKEN_CHARS = 8192;
const DEFAULT_ALGORITHMS: JwtAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const CLIENT_ID = /^[A-Za-z0-9._@:/-]{1,128}$/;
const ROLES: readonly ClientRole[] = ['feed', 'centre', 'ig', 'admin'];

/** Verified tokens remembered for the rate limiter (JwtVerifier.verifiedClient): about 1 MB at most. */
const MAX_REMEMBERED_TOKENS = 10_000;
const tokenDigest = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** Whether a bearer credential has the shape of a compact JWS (three base64url parts). */
export const looksLikeJwt = (token: string): boolean => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);

/** The key types an algorithm can be verified with (so a static key of the wrong kind is never tried). */
function fits(alg: string, key: KeyObject): boolean {
  const t = key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return t === 'rsa' || (alg.startsWith('PS') && t === 'rsa-pss');
  if (alg.startsWith('ES')) return t === 'ec';
  if (alg === 'EdDSA') return t === 'ed25519' || t === 'ed448';
  return false;
}

/**
 * A fetch of the issuer's JWKS that runs at most once per cooldown, whether or not the last one succeeded: a
 * flood of tokens naming unknown key ids (or an issuer that is down) cannot become a flood of JWKS requests.
 */
function gatedFetch(cooldownMs: number): FetchImplementation {
  let last = Number.NEGATIVE_INFINITY;
  return async (url, options) => {
    const now = performance.now();
    if (now - last < cooldownMs) throw new Error('JWKS fetched recently: cooling down');
    last = now;
    return fetch(url, { ...options, redirect: 'error' });
  };
}

interface IssuerVerifier {
  issuer: JwtIssuer;
  options: JWTVerifyOptions;
  remote?: JWTVerifyGetKey;
  keys?: KeyObject[];
}

/**
 * Verifies OAuth 2.0 bearer JWTs from the configured issuers (`jose`) and maps their claims to a Stork client.
 * The issuer is chosen by the token's `iss` (exact match); its signature, `iss`, `aud`, `exp` (required) and
 * `nbf` are then checked with only asymmetric algorithms allowed (never `none`, never HS*: a public key
 * is not a shared secret). An issuer's JWKS is cached and fetched again when a token names an unknown key id
 * (so keys rotate without a restart), at most once per cooldown.
 */
export class JwtVerifier {
  private readonly byIssuer = new Map<string, IssuerVerifier>();
  /** Tokens verified lately: SHA-256 of the token → its client, until the token's `exp` (see verifiedClient). */
  private readonly verified = new Map<string, { client: AuthenticatedClient; untilMs: number }>();

  constructor(private readonly directory: ApiClientDirectory) {
    for (const issuer of directory.issuers) {
      const cooldownMs = (issuer.jwksCooldownSeconds ?? 30) * 1000;
      const options: JWTVerifyOptions = {
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms: issuer.algorithms ?? DEFAULT_ALGORITHMS,
        clockTolerance: issuer.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp'],
      };
      const v: IssuerVerifier = { issuer, options };
      if (issuer.jwksUrl !== undefined)
        v.remote = createRemoteJWKSet(new URL(issuer.jwksUrl), {
          cooldownDuration: cooldownMs,
          cacheMaxAge: (issuer.jwksCacheMaxAgeSeconds ?? 600) * 1000,
          timeoutDuration: issuer.jwksTimeoutMs ?? 5000,
          [customFetch]: gatedFetch(cooldownMs),
        });
      if (issuer.publicKeys) v.keys = issuer.publicKeys;
      this.byIssuer.set(issuer.issuer, v);
    }
  }

  get configured(): boolean {
    return this.byIssuer.size > 0;
  }

  /**
   * The client of a token this verifier has already verified and whose `exp` has not passed, else undefined; no
   * signature is checked here. Only the rate limiter asks (to count a JWT client in its own bucket before the
   * token is verified again): a token never verified (forged, garbage, or a client's first request) gets nothing,
   * so it cannot make a bucket of its own. Authentication always verifies the token in full.
   */
  verifiedClient(token: string, nowMs: number = Date.now()): AuthenticatedClient | undefined {
    if (token.length > MAX_TOKEN_CHARS || this.verified.size === 0) return undefined;
    const key = tokenDigest(token);
    const hit = this.verified.get(key);
    if (!hit) return undefined;
    if (hit.untilMs > nowMs) return hit.client;
    this.verified.delete(key);
    return undefined;
  }

  /** Remembers a verified token for verifiedClient; at most MAX_REMEMBERED_TOKENS, expired ones then the oldest forgotten first. */
  private remember(token: string, client: AuthenticatedClient, exp: number | undefined): void {
    if (exp === undefined) return;
    const nowMs = Date.now();
    if (this.verified.size >= MAX_REMEMBERED_TOKENS) {
      for (const [key, v] of this.verified) if (v.untilMs <= nowMs) this.verified.delete(key);
      for (const key of this.verified.keys()) {
        if (this.verified.size < MAX_REMEMBERED_TOKENS) break;
        this.verified.delete(key);
      }
    }
    this.verified.set(tokenDigest(token), { client, untilMs: exp * 1000 });
  }

  async verify(token: string): Promise<TokenResult> {
    if (token.length > MAX_TOKEN_CHARS || !looksLikeJwt(token)) return { ok: false, reason: 'malformed' };
    let iss: string | undefined;
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const v = iss !== undefined ? this.byIssuer.get(iss) : undefined;
    if (!v) return { ok: false, reason: 'unknown-issuer' };
    if (alg === undefined || !(JWT_ALGORITHMS as readonly string[]).includes(alg) || !(v.options.algorithms ?? []).includes(alg))
      return { ok: false, reason: 'algorithm' };
    let payload: JWTPayload;
    try {
      payload = await this.verifyWith(v, token, alg);
    } catch (err) {
      return { ok: false, reason: refusalOf(err) };
    }
    const client = this.clientOf(v.issuer, payload);
    if (!client) return { ok: false, reason: 'claims' };
    this.remember(token, client, payload.exp);
    return { ok: true, client };
  }

  private async verifyWith(v: IssuerVerifier, token: string, alg: string): Promise<JWTPayload> {
    if (v.remote) return (await jwtVerify(token, v.remote, v.options)).payload;
    // Static keys: each key of the right type is tried (a handful at most); any failure but the signature's is final.
    const keys = (v.keys ?? []).filter((k) => fits(alg, k));
    if (keys.length === 0) throw new errors.JWKSNoMatchingKey();
    let last: unknown;
    for (const key of keys) {
      try {
        return (await jwtVerify(token, key, v.options)).payload;
      } catch (err) {
        if (!(err instanceof errors.JWSSignatureVerificationFailed)) throw err;
        last = err;
      }
    }
    throw last;
  }

  /** The Stork client a verified token stands for, or undefined when its claims do not say one clearly. */
  private clientOf(issuer: JwtIssuer, payload: JWTPayload): AuthenticatedClient | undefined {
    const m = issuer.claims;
    const name = payload[m.clientId ?? 'sub'];
    if (typeof name !== 'string' || !CLIENT_ID.test(name)) return undefined;
    const raw = payload[m.role];
    const values = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
    const roles = new Set<ClientRole>();
    for (const value of values) {
      const role = m.roles ? (Object.hasOwn(m.roles, value) ? m.roles[value] : undefined) : ROLES.find((r) => r === value);
      if (role) roles.add(role);
    }
    const [role, ...more] = [...roles];
    if (role === undefined || more.length > 0) return undefined;
    const id = `${issuer.id}:${name}`;
    if (role === 'ig' || role === 'admin') return { id, role, via: 'jwt' };
    const scope = m.scope !== undefined ? payload[m.scope] : undefined;
    if (typeof scope !== 'string' || scope === '') return undefined;
    const known = role === 'feed' ? this.directory.known.feedFacilities : this.directory.known.centreIds;
    if (known && !known.has(scope)) return undefined;
    return { id, role, scope, via: 'jwt' };
  }
}

function refusalOf(err: unknown): TokenRefusal {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed)
    return err.claim === 'nbf' || err.claim === 'iat' ? 'not-yet-valid' : 'claim-mismatch';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad-signature';
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return 'no-key';
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return 'algorithm';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return 'jwks-unavailable';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'malformed';
  return 'invalid';
}
