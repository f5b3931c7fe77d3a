import { Router } from 'express';
import type { ApiClientDirectory } from '../../../src/config/api-clients.js';
import type { Logger } from '../../../src/logger.js';
import type { MetricsExposition } from '../../../src/ports/metrics.js';
import { authenticate, requireRole } from '../auth.js';
import type { JwtVerifier } from '../jwt-verifier.js';
import type { SignInFailureAudit } from '../sign-in-failures.js';

/** How `/metrics` callers are authenticated besides API keys: JWTs of the configured issuers, failures audited. */
export interface MetricsAuth {
  tokens?: JwtVerifier;
  failures?: SignInFailureAudit;
  logger?: Logger;
}

/**
 * `GET /metrics`: this process's Prometheus metrics, for a client with role admin: an admin API key (a scraper's
 * static key) or an admin bearer JWT of a configured issuer, checked as on `/v1`. Never anonymous: label values carry only configuration ids, but queue depths and volumes are operational
 * information. Each process (intake, worker) serves its own.
 */
export function metricsRoutes(exposition: MetricsExposition, clients: ApiClientDirectory, auth: MetricsAuth = {}): Router {
  const router = Router();
  router.get('/metrics', authenticate(clients, auth.failures, auth.tokens, auth.logger), requireRole('admin'), async (_req, res) => {
    const text = await exposition.text();
    res.set('Content-Type', exposition.contentType).set('Cache-Control', 'no-store').send(text);
  });
  return router;
}
