import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { repoRoot } from '../../../src/config/env.js';

/** The OpenAPI 3.1 description of this API, kept in the repository beside the routes it describes. */
export const OPENAPI_FILE = path.join(repoRoot, 'adapters', 'http', 'openapi.json');

/** Reads and parses the description; a missing or broken file stops start-up (it ships with the code). */
export function loadOpenApiDocument(file: string = OPENAPI_FILE): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/**
 * `GET /v1/openapi.json`: served without a key. It holds no data, and integrators (and their code
 * generators) fetch it before they have a key. Read once; the bytes are sent as they are on disk.
 */
export function openApiRoutes(file: string = OPENAPI_FILE): Router {
  const text = JSON.stringify(loadOpenApiDocument(file));
  const router = Router();
  router.get('/v1/openapi.json', (_req, res) => {
    res.type('application/json').set('Cache-Control', 'public, max-age=300').send(text);
  });
  return router;
}
