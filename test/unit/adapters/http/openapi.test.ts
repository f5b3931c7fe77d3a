import { readFileSync } from 'node:fs';
import express from 'express';
import { compileErrors, validate } from '@readme/openapi-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { createHttpApp, KNOWN_PATHS, type HttpAppDeps } from '../../../../adapters/http/http-app.js';
import { OPENAPI_FILE } from '../../../../adapters/http/routes/openapi.js';
import { ApiClientDirectory } from '../../../../src/config/api-clients.js';
import { createLogger } from '../../../../src/logger.js';
import { documentedOperations, routedOperations, type OpenApiDocument } from '../../../support/openapi.js';

const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;

/**
 * The app as the hub builds it, with every optional part present. Nothing here is called: the test only
 * reads the router's table, so the stores and intake are never reached.
 */
function appWithEveryRoute(): express.Express {
  const unused = {} as never;
  const deps: HttpAppDeps = {
    logger: createLogger('silent'),
    apiClients: new ApiClientDirectory([]),
    readiness: [],
    maxMessageBytes: 1024,
    clientConcurrency: 4,
    rateLimit: { perSecond: 100, burst: 200 },
    intake: unused,
    fhirIntake: unused,
    eventIntake: unused,
    fetchStore: unused,
    explainDecision: unused,
    verifyAudit: unused,
    fhirCapability: { resourceType: 'CapabilityStatement' },
    messages: unused,
    notifications: unused,
    antenatal: unused,
    familyView: unused,
    audit: unused,
    replay: unused,
    feedIdsForFacility: () => [],
    families: { families: unused, blockingKeys: () => [], centreIds: new Set(), maxImportBytes: 1024 },
    consents: unused,
    igReports: unused,
    offerOutcomes: unused,
    metrics: unused,
    webhooks: { store: unused, centreIds: new Set() },
  };
  return createHttpApp(deps);
}

describe('The OpenAPI description (adapters/http/openapi.json)', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(doc) as unknown as OpenAPIV3_1.Document);
    expect(result.valid ? 'valid' : compileErrors(result)).toBe('valid');
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
  });

  it('the validator can fail: a parameter "in: body" (Swagger 2), a dangling $ref, a missing info.version', async () => {
    const swagger2 = structuredClone(doc);
    (swagger2.paths['/v1/messages']?.get as { parameters: { in: string }[] }).parameters[0] = { in: 'body' };
    expect((await validate(swagger2 as unknown as OpenAPIV3_1.Document)).valid).toBe(false);
    const dangling = structuredClone(doc);
    (dangling.paths['/healthz']?.get as { responses: Record<string, unknown> }).responses['200'] = {
      $ref: '#/components/responses/NoSuchResponse',
    };
    expect((await validate(dangling as unknown as OpenAPIV3_1.Document)).valid).toBe(false);
    const noVersion = structuredClone(doc);
    delete (noVersion.info as { version?: string }).version;
    expect((await validate(noVersion as unknown as OpenAPIV3_1.Document)).valid).toBe(false);
  });

  it('describes exactly the routes the app has: every route is documented, every documented route exists', () => {
    const routed = routedOperations(appWithEveryRoute());
    const documented = documentedOperations(doc);
    expect({ undocumented: routed.filter((o) => !documented.includes(o)) }).toEqual({ undocumented: [] });
    expect({ notRouted: documented.filter((o) => !routed.includes(o)) }).toEqual({ notRouted: [] });
    expect(routed).toContain('GET /v1/centres/{centreId}/notifications/{id}');
    expect(routed.length).toBeGreaterThanOrEqual(11);
  });

  it('the 405 table (KNOWN_PATHS) allows exactly the documented methods of each documented path', () => {
    const documented = new Map<string, string[]>();
    for (const op of documentedOperations(doc)) {
      const [method = '', p = ''] = op.split(' ');
      documented.set(p, [...(documented.get(p) ?? []), method]);
    }
    const table = new Map(
      KNOWN_PATHS.map(([p, allow]) => [p.replace(/:([A-Za-z]+)/g, '{$1}'), allow.split(', ').filter((m) => m !== 'HEAD')]),
    );
    expect(new Map([...table].map(([p, ms]) => [p, [...ms].sort()]))).toEqual(
      new Map([...documented].map(([p, ms]) => [p, [...ms].sort()])),
    );
  });

  it('the route walk sees routes of routers mounted at a path, and the comparison catches a missing one', () => {
    const app = appWithEveryRoute();
    const extra = express.Router();
    extra.delete('/things/:thingId', (_req, res) => void res.end());
    app.use('/v1/extra', extra);
    const routed = routedOperations(app);
    expect(routed).toContain('DELETE /v1/extra/things/{thingId}');
    expect(routed.filter((o) => !documentedOperations(doc).includes(o))).toEqual(['DELETE /v1/extra/things/{thingId}']);
  });

  it('documents the errors: every keyed call lists 401, 403, 429, 431 and 503 (GET /metrics, outside /v1: 401, 403, 431); 400 where it reads input; 404 and 409 where they occur', () => {
    const statuses = (p: string, m: string): string[] =>
      Object.keys((doc.paths[p]?.[m] as { responses: Record<string, unknown> }).responses).sort();
    for (const op of documentedOperations(doc)) {
      const [method = '', p = ''] = op.split(' ');
      const m = method.toLowerCase();
      const security = (doc.paths[p]?.[m] as { security?: unknown[] }).security;
      if (security?.length === 0) continue; // no key: health and this description
      // GET /metrics authenticates on its own, outside /v1's per-client limits (429) and store checks (503).
      const expected = p.startsWith('/v1/') ? ['401', '403', '429', '431', '503'] : ['401', '403', '431'];
      expect({ op, missing: expected.filter((s) => !statuses(p, m).includes(s)) }).toEqual({ op, missing: [] });
    }
    for (const p of ['/v1/messages', '/v1/centres/{centreId}/notifications', '/v1/audit']) expect(statuses(p, 'get')).toContain('400');
    expect(statuses('/v1/hl7v2', 'post')).toEqual(expect.arrayContaining(['200', '400', '403', '413', '415', '503']));
    expect(statuses('/v1/messages/{id}/replay', 'post')).toEqual(expect.arrayContaining(['404', '409']));
    expect(statuses('/v1/centres/{centreId}/notifications/{id}/ack', 'post')).toEqual(expect.arrayContaining(['404', '409']));
    const responses = (doc.components as { responses: Record<string, unknown> }).responses;
    expect(Object.keys(responses)).toEqual(expect.arrayContaining(['MethodNotAllowed', 'HeadersTooLarge', 'TooManyRequests']));
  });
});
