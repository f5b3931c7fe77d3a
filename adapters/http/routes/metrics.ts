import { Router } from 'express';
import type { ApiClientDirectory } from '../../../src/config/api-clients.js';
import type { MetricsExposition } from '../../../src/ports/metrics.js';
import { authenticate, requireRole } from '../auth.js';

/**
 * `GET /metrics`: this process's Prometheus metrics, for an API client with role admin (the monitoring system's
 * key). Never anonymous: label values carry only configuration ids, but queue depths and volumes are operational
 * information. Each process (intake, worker) serves its own.
 */
export function metricsRoutes(exposition: MetricsExposition, clients: ApiClientDirectory): Router {
  const router = Router();
  router.get('/metrics', authenticate(clients), requireRole('admin'), async (_req, res) => {
    const text = await exposition.text();
    res.set('Content-Type', exposition.contentType).set('Cache-Control', 'no-store').send(text);
  });
  return router;
}
