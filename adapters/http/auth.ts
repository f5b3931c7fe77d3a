import type { NextFunction, Request, Response } from 'express';
import type { ApiClient, ApiClientDirectory, ClientRole } from '../../src/config/api-clients.js';
import { sendProblem } from './problem.js';
import type { SignInFailureAudit } from './sign-in-failures.js';

/** The authenticated client of a request, set by `authenticate`. */
export function clientOf(res: Response): ApiClient {
  const client = res.locals.client as ApiClient | undefined;
  if (!client) throw new Error('route mounted without authenticate()');
  return client;
}

/** Every `/v1` call carries `Authorization: Bearer <key>`; a missing or unknown key is 401 (and audited, rate-limited). */
export function authenticate(clients: ApiClientDirectory, failures?: SignInFailureAudit) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const client = match?.[1] ? clients.authenticate(match[1]) : undefined;
    if (!client) {
      failures?.record(
        match ? 'api-unknown-key' : 'api-no-key',
        req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {},
      );
      res.set('WWW-Authenticate', 'Bearer realm="stork"');
      sendProblem(res, 401, 'Unauthorised', match ? 'The API key is not recognised' : 'Send the API key as Authorization: Bearer <key>');
      return;
    }
    res.locals.client = client;
    next();
  };
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
