import type { NextFunction, Request, Response } from 'express';
import type { ApiClientDirectory, AuthenticatedClient, ClientRole } from '../../src/config/api-clients.js';
import type { ApiClientGrant } from '../../src/ports/message-store.js';
import type { Logger } from '../../src/logger.js';
import { looksLikeJwt, type JwtVerifier } from './jwt-verifier.js';
import { sendProblem } from './problem.js';
import type { SignInFailureAudit } from './sign-in-failures.js';

/** The authenticated client of a request, set by `authenticate`. */
export function clientOf(res: Response): AuthenticatedClient {
  const client = res.locals.client as AuthenticatedClient | undefined;
  if (!client) throw new Error('route mounted without authenticate()');
  return client;
}

/**
 * Every `/v1` call carries `Authorization: Bearer <credential>`: an API key, or (when issuers are configured) an
 * OAuth 2.0 bearer JWT. A missing, unknown or invalid one is 401 (audited, rate-limited); a refused token's answer
 * never says why (the reason goes to the debug log and the audit as a short code).
 */
export function authenticate(clients: ApiClientDirectory, failures?: SignInFailureAudit, tokens?: JwtVerifier, logger?: Logger) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const credential = match?.[1];
    const remote = req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {};
    const byKey = credential !== undefined ? clients.byKey(credential) : undefined;
    if (byKey) {
      res.locals.client = byKey;
      next();
      return;
    }
    if (credential !== undefined && tokens?.configured === true && looksLikeJwt(credential)) {
      const result = await tokens.verify(credential);
      if (result.ok) {
        res.locals.client = result.client;
        next();
        return;
      }
      failures?.record('api-invalid-token', { ...remote, reason: result.reason });
      logger?.debug({ reason: result.reason, ...remote }, 'bearer token refused');
      res.set('WWW-Authenticate', 'Bearer realm="stork", error="invalid_token"');
      sendProblem(res, 401, 'Unauthorised', 'The bearer token is not valid');
      return;
    }
    failures?.record(match ? 'api-unknown-key' : 'api-no-key', remote);
    res.set('WWW-Authenticate', 'Bearer realm="stork"');
    sendProblem(res, 401, 'Unauthorised', match ? 'The API key is not recognised' : 'Send the API key as Authorization: Bearer <key>');
  };
}

/**
 * What a bearer-JWT client that may send messages was granted (role, scope), to be stored with what it sends: a
 * replay has no token to read it from again. Undefined for API keys (replay reads them from the file).
 */
export function grantOf(client: AuthenticatedClient): { apiClientGrant: ApiClientGrant } | Record<string, never> {
  if (client.via !== 'jwt' || (client.role !== 'feed' && client.role !== 'admin')) return {};
  return { apiClientGrant: { role: client.role, ...(client.scope !== undefined ? { scope: client.scope } : {}) } };
}

/** A client whose role is not among `roles` gets 403. */
export function requireRole(...roles: ClientRole[]) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const client = clientOf(res);
    if (!roles.includes(client.role)) {
      sendProblem(res, 403, 'Forbidden', `This needs the role ${roles.join(' or ')}; the client has role ${client.role}`);
      return;
    }
    next();
  };
}
