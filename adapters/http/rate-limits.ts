import type { NextFunction, Request, Response } from 'express';
import type { ApiClientDirectory, AuthenticatedClient } from '../../src/config/api-clients.js';
import { TokenBucket } from '../../src/domain/token-bucket.js';
import { sendProblem } from './problem.js';

export interface RateLimitSettings {
  /** Requests a second, on average, one client (or one source address) may make… */
  perSecond: number;
  /** …in bursts of up to this many. */
  burst: number;
  /** Buckets kept at most (clients and addresses); full buckets are forgotten first. Default 10,000. */
  maxKeys?: number;
}

/** The JWT verifier's memory of tokens it has verified (JwtVerifier.verifiedClient). */
export interface VerifiedTokens {
  verifiedClient(token: string, nowMs?: number): AuthenticatedClient | undefined;
}

const plainAddress = (a: string | undefined): string => (a === undefined ? '' : a.startsWith('::ffff:') ? a.slice(7) : a);

/**
 * Per-client request rate limits on every door of the HTTP server (the API, the health and metrics endpoints,
 * the OpenAPI document and the web app): a request with a known API key counts against that client, a bearer JWT
 * the verifier has already verified (and not expired) against its client (`jwt:<issuer id>:<client>`), any other
 * against its source address (so a flood of wrong keys from one address is limited too, before it is audited). A
 * token is never verified here: a JWT client's first request with a new token counts against its address, and so
 * does every forged, expired or garbage token, however many different ones are sent (they make no buckets).
 * Over the limit: 429 problem+json with Retry-After (whole seconds), before anything else is done for the
 * request. The concurrency limit (http-app.ts) still holds besides: this one bounds a client's rate, that one
 * its requests in progress.
 */
export function rateLimits(
  clients: ApiClientDirectory,
  settings: RateLimitSettings,
  tokens?: VerifiedTokens,
  now: () => number = Date.now,
) {
  const buckets = new Map<string, TokenBucket>();
  const maxKeys = settings.maxKeys ?? 10_000;
  const keyOf = (req: Request, t: number): string => {
    const credential = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    const client = credential ? clients.authenticate(credential) : undefined;
    if (client) return `client:${client.id}`;
    const jwt = credential && tokens ? tokens.verifiedClient(credential, t) : undefined;
    return jwt ? `jwt:${jwt.id}` : `address:${plainAddress(req.socket.remoteAddress)}`;
  };
  /** Keeps the map bounded: forgets full buckets, then (a flood of addresses) the oldest ones. */
  const prune = (t: number): void => {
    for (const [key, bucket] of buckets) if (bucket.isFull(t)) buckets.delete(key);
    for (const key of buckets.keys()) {
      if (buckets.size < maxKeys) break;
      buckets.delete(key);
    }
  };
  return (req: Request, res: Response, next: NextFunction): void => {
    const t = now();
    const key = keyOf(req, t);
    let bucket = buckets.get(key);
    if (!bucket) {
      if (buckets.size >= maxKeys) prune(t);
      bucket = new TokenBucket(settings.perSecond, settings.burst);
      buckets.set(key, bucket);
    }
    const wait = bucket.tryTake(t);
    if (wait === 0) {
      next();
      return;
    }
    const seconds = Math.max(1, Math.ceil(wait / 1000));
    res.set('Retry-After', String(seconds));
    sendProblem(
      res,
      429,
      'Too many requests',
      `This client is over its limit of ${settings.perSecond} requests a second (bursts of ${settings.burst}); retry after ${seconds} s`,
    );
  };
}
