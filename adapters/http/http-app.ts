import { webhookRoutes, type WebhookRoutesDeps } from './routes/webhooks.js';
import http from 'node:http';
import https from 'node:https';

/** The HTTP listener: plain, or HTTPS with the configured certificate. */
export type HttpServer = http.Server | https.Server;
import type { Duplex } from 'node:stream';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../src/logger.js';
import type { ApiClientDirectory } from '../../src/config/api-clients.js';
import type { Hl7v2Intake } from '../../src/intake/hl7v2-intake.js';
import type { FhirIntake } from '../../src/intake/fhir-intake.js';
import type { EventIntake } from '../../src/intake/event-intake.js';
import type { FhirFetchStore } from '../../src/ports/fhir-fetch.js';
import type { JsonObject } from '../../src/pipeline/fhir/fhir-xml.js';
import type { MessageStore } from '../../src/ports/message-store.js';
import type { NotificationStore } from '../../src/ports/notification-store.js';
import type { FamilyViewStore } from '../../src/ports/family-view.js';
import type { AuditEventsLog, AuditLog } from '../../src/ports/audit-log.js';
import type { ReplayDeps } from '../../src/intake/replay-message.js';
import { InvalidCursorError } from '../../src/ports/paging.js';
import { authenticate, clientOf } from './auth.js';
import type { JwtVerifier } from './jwt-verifier.js';
import { sendProblem } from './problem.js';
import { rateLimits, type RateLimitSettings } from './rate-limits.js';
import type { SignInFailureAudit } from './sign-in-failures.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { hl7v2IntakeRoutes } from './routes/hl7v2-intake.js';
import { fhirIntakeRoutes, fhirMetadataRoutes } from './routes/fhir.js';
import { messageRoutes } from './routes/messages.js';
import { centreRoutes } from './routes/centres.js';
import { centreAntenatalRoutes } from './routes/centre-antenatal.js';
import type { AntenatalInbox } from '../../src/ports/antenatal-store.js';
import { centreFamilyRoutes } from './routes/centre-families.js';
import { auditRoutes } from './routes/audit.js';
import { openApiRoutes } from './routes/openapi.js';
import { eventRoutes } from './routes/events.js';
import { familyRoutes, type FamilyRoutesDeps } from './routes/families.js';
import { consentRoutes } from './routes/consents.js';
import type { ConsentDeps } from '../../src/processing/record-consents.js';
import { metricsRoutes } from './routes/metrics.js';
import type { MetricsExposition } from '../../src/ports/metrics.js';
import { decisionRoutes, type ExplainNotification } from './routes/decisions.js';
import type { AuditVerifyResult } from '../../src/ports/audit-chain.js';
import { igReportRoutes, type IgReportDeps } from './routes/ig-reports.js';
import { offerOutcomeRoutes, type OfferOutcomeDeps } from './routes/offer-outcomes.js';

export interface HttpAppDeps {
  logger: Logger;
  apiClients: ApiClientDirectory;
  /** Verifies OAuth 2.0 bearer JWTs of the issuers in `apiClients` (absent: API keys only). */
  tokens?: JwtVerifier;
  readiness: readonly ReadinessCheck[];
  maxMessageBytes: number;
  /** Requests one API client may have in progress at once; more are answered 429 with Retry-After. */
  clientConcurrency: number;
  /** Requests a second per client (API key, verified JWT client, else source address) on every door; more are answered 429 with Retry-After. */
  rateLimit: RateLimitSettings;
  /** Present when this process runs the intake role. */
  intake?: Hl7v2Intake;
  /** FHIR R4 messaging intake; present with `intake`. */
  fhirIntake?: FhirIntake;
  /** Signal events (POST /v1/events); present with `intake`. */
  eventIntake?: EventIntake;
  /** Where signal events are stored (GET /v1/events/{id}). */
  fetchStore: FhirFetchStore;
  /** The CapabilityStatement served at GET /v1/fhir/metadata. */
  fhirCapability?: JsonObject;
  messages: MessageStore;
  notifications: NotificationStore;
  /** A centre's antenatal items (GET /v1/centres/{centreId}/antenatal, issue 17). */
  antenatal: AntenatalInbox;
  /** A centre's whole families and its named workers. */
  familyView: FamilyViewStore;
  /** Verifies the audit chain and its checkpoints (GET /v1/audit/verify, role ig). */
  verifyAudit: () => Promise<AuditVerifyResult>;
  audit: AuditLog & AuditEventsLog;
  replay: ReplayDeps;
  feedIdsForFacility: (ods: string) => string[];
  /** Family records (issue 12): the register import and the match review queue. */
  families?: FamilyRoutesDeps;
  /** Explains a notification's consent decision (GET /v1/notifications/{id}/decision, role ig). */
  explainDecision: ExplainNotification;
  /** The web app for people, served under `/app` (HTML pages, not part of the API this document's routes describe). */
  web?: express.Express;
  /** The consent register (POST/GET /v1/consents). */
  consents: ConsentDeps;
  /** Audits requests refused for a missing or unknown key (rate-limited). */
  signInFailures?: SignInFailureAudit;
  /** A person's disclosure report and the counts reports (role ig, issue 14 items 4 and 5). */
  igReports: IgReportDeps;
  /** The offer-of-support loop: outcomes a centre records, and the reach report (issue 15 item 3). */
  offerOutcomes: OfferOutcomeDeps;
  /** This process's Prometheus metrics (GET /metrics, an API key or JWT with role admin). */
  metrics?: MetricsExposition;
  /** Webhook dead letters: list and replay (issue 15 item 2, role admin). */
  webhooks?: WebhookRoutesDeps;
}

/** Builds the HTTP API: health without a key, everything under `/v1` behind a bearer key and a role. */
export function createHttpApp(deps: HttpAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(rateLimits(deps.apiClients, deps.rateLimit, deps.tokens)); // every door, before anything else is done for a request
  app.use(healthRoutes(deps.readiness));
  app.use(openApiRoutes()); // before authentication: the description needs no key
  if (deps.fhirCapability) app.use(fhirMetadataRoutes(deps.fhirCapability)); // likewise the CapabilityStatement
  if (deps.web) app.use('/app', deps.web); // signed in with OpenID Connect, not with an API key
  if (deps.metrics)
    app.use(metricsRoutes(deps.metrics, deps.apiClients, { tokens: deps.tokens, failures: deps.signInFailures, logger: deps.logger })); // role admin
  app.use('/v1', authenticate(deps.apiClients, deps.signInFailures, deps.tokens, deps.logger));
  app.use('/v1', perClientConcurrency(deps.clientConcurrency));
  app.use('/v1', refuseRepeatedParameters);
  if (deps.intake) app.use(hl7v2IntakeRoutes(deps.intake, deps.maxMessageBytes));
  if (deps.fhirIntake) app.use(fhirIntakeRoutes(deps.fhirIntake, deps.maxMessageBytes));
  app.use(eventRoutes(deps.eventIntake, deps.fetchStore, deps.audit));
  app.use(messageRoutes(deps.messages, deps.audit, deps.replay, deps.feedIdsForFacility));
  app.use(centreRoutes(deps.notifications));
  app.use(centreAntenatalRoutes(deps.antenatal));
  app.use(centreFamilyRoutes(deps.familyView));
  app.use(auditRoutes(deps.audit, deps.verifyAudit));
  if (deps.families) app.use(familyRoutes(deps.families, deps.audit));
  app.use(consentRoutes(deps.consents));
  app.use(decisionRoutes(deps.explainDecision, deps.audit));
  app.use(igReportRoutes(deps.igReports));
  app.use(offerOutcomeRoutes(deps.offerOutcomes));
  if (deps.webhooks) app.use(webhookRoutes(deps.webhooks));
  // A known path reached here was asked with a method it does not have: 405 with Allow. (OPTIONS is answered
  // by Express itself, with the same Allow, from the routes.) One middleware, not routes, so the router's
  // table holds only the real operations (the OpenAPI test compares it with the document).
  app.use(
    methodNotAllowed({
      hl7v2: deps.intake !== undefined,
      fhir: deps.fhirIntake !== undefined,
      metadata: deps.fhirCapability !== undefined,
      events: deps.eventIntake !== undefined,
    }),
  );
  app.use((_req: Request, res: Response) => sendProblem(res, 404, 'Not found', 'No such resource'));
  // Express 5 sends async errors here. Only the error's kind is logged: it may come from a driver.
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof InvalidCursorError) {
      sendProblem(res, 400, 'Invalid query', undefined, [{ field: err.field, message: 'must be the `next` value of the previous page' }]);
      return;
    }
    if (err.type === 'entity.too.large') {
      sendProblem(res, 413, 'Message too large', `The body is over the limit of ${deps.maxMessageBytes} bytes`);
      return;
    }
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      sendProblem(res, err.status, 'Bad request', 'The request could not be read');
      return;
    }
    deps.logger.error({ err, method: req.method, route: routePath(req) }, 'request failed');
    res.set('Retry-After', '5');
    sendProblem(res, 503, 'Service unavailable', 'The hub could not complete the request; retry later');
  });
  return app;
}

/** Every path the API serves and the methods it allows there (HEAD with GET); `:name` is one path segment. */
export const KNOWN_PATHS: readonly (readonly [string, string])[] = [
  ['/healthz', 'GET, HEAD'],
  ['/readyz', 'GET, HEAD'],
  ['/metrics', 'GET, HEAD'],
  ['/v1/openapi.json', 'GET, HEAD'],
  ['/v1/hl7v2', 'POST'],
  ['/v1/fhir/$process-message', 'POST'],
  ['/v1/fhir/metadata', 'GET, HEAD'],
  ['/v1/events', 'POST'],
  ['/v1/events/:id', 'GET, HEAD'],
  ['/v1/messages', 'GET, HEAD'],
  ['/v1/messages/:id', 'GET, HEAD'],
  ['/v1/messages/:id/raw', 'GET, HEAD'],
  ['/v1/messages/:id/replay', 'POST'],
  ['/v1/centres/:centreId/notifications', 'GET, HEAD'],
  ['/v1/centres/:centreId/notifications/:id', 'GET, HEAD'],
  ['/v1/centres/:centreId/notifications/:id/ack', 'POST'],
  ['/v1/centres/:centreId/antenatal', 'GET, HEAD'],
  ['/v1/centres/:centreId/antenatal/:id', 'GET, HEAD'],
  ['/v1/centres/:centreId/antenatal/:id/ack', 'POST'],
  ['/v1/centres/:centreId/families/:familyId', 'GET, HEAD'],
  ['/v1/centres/:centreId/families/:familyId/named-worker', 'PUT, DELETE'],
  ['/v1/audit', 'GET, HEAD'],
  ['/v1/audit/verify', 'GET, HEAD'],
  ['/v1/audit/events', 'GET, HEAD'],
  ['/v1/families/import', 'POST'],
  ['/v1/match-reviews', 'GET, HEAD'],
  ['/v1/match-reviews/:id', 'POST'],
  ['/v1/consents', 'GET, HEAD, POST'],
  ['/v1/consents/:id/withdraw', 'POST'],
  ['/v1/notifications/:id/decision', 'GET, HEAD'],
  ['/v1/subjects/:nhsNumber/disclosures', 'GET, HEAD'],
  ['/v1/reports/feeds', 'GET, HEAD'],
  ['/v1/reports/centres', 'GET, HEAD'],
  ['/v1/reports/rules', 'GET, HEAD'],
  ['/v1/centres/:centreId/notifications/:id/outcomes', 'GET, HEAD, POST'],
  ['/v1/centres/:centreId/reach', 'GET, HEAD'],
  ['/v1/reports/reach', 'GET, HEAD'],
  ['/v1/webhooks/dead-letters', 'GET, HEAD'],
  ['/v1/webhooks/dead-letters/:id/replay', 'POST'],
  ['/v1/webhooks/centres/:centreId/replay', 'POST'],
];

/** 405 with Allow for a known path asked with another method; anything else goes on (to the 404). */
function methodNotAllowed(present: { hl7v2: boolean; fhir: boolean; metadata: boolean; events: boolean }) {
  const absent = new Set([
    ...(present.hl7v2 ? [] : ['/v1/hl7v2']),
    ...(present.fhir ? [] : ['/v1/fhir/$process-message']),
    ...(present.metadata ? [] : ['/v1/fhir/metadata']),
    ...(present.events ? [] : ['/v1/events']),
  ]);
  const patterns = KNOWN_PATHS.filter(([path]) => !absent.has(path)).map(
    ([path, allow]) =>
      [
        new RegExp(
          `^${path
            .replaceAll('.', '\\.')
            .replaceAll('$', '\\$')
            .replace(/:[A-Za-z]+/g, '[^/]+')}/?$`,
        ),
        allow,
      ] as const,
  );
  return (req: Request, res: Response, next: NextFunction): void => {
    const allow = patterns.find(([pattern]) => pattern.test(req.path))?.[1];
    if (allow === undefined || req.method === 'OPTIONS') {
      next();
      return;
    }
    res.set('Allow', allow);
    sendProblem(res, 405, 'Method not allowed', `${req.method} is not allowed here; this resource allows ${allow}`);
  };
}

/** Seconds a client told 429 should wait: its requests in progress are short reads. */
const RETRY_AFTER_SECONDS = 1;

/**
 * At most `limit` requests of one API client in progress at once; the next is answered 429 with Retry-After
 * before it touches the store, so one client cannot take the API's whole pool from the others. A request
 * counts until its handler has answered (res.end), not until its socket closes: a client that aborts its
 * requests does not get their slots back while their queries still run. HL7 v2 and FHIR intake are not limited
 * here: they answer 503 when they cannot store, and use intake's pool and group commit.
 */
function perClientConcurrency(limit: number) {
  const inProgress = new Map<string, number>();
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'POST' && (req.path === '/hl7v2' || req.path === '/fhir/$process-message')) {
      next();
      return;
    }
    const id = clientOf(res).id;
    const n = inProgress.get(id) ?? 0;
    if (n >= limit) {
      res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      sendProblem(
        res,
        429,
        'Too many requests',
        `This client already has ${limit} requests in progress; retry after ${RETRY_AFTER_SECONDS} s`,
      );
      return;
    }
    inProgress.set(id, n + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const left = (inProgress.get(id) ?? 1) - 1;
      if (left > 0) inProgress.set(id, left);
      else inProgress.delete(id);
    };
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    res.end = ((...args: unknown[]) => {
      release();
      return end(...args);
    }) as Response['end'];
    next();
  };
}

/**
 * A query parameter given twice (`status=new&status=withdrawn`) is refused, 400 naming it, rather than
 * one value being used or the filter silently dropped.
 */
function refuseRepeatedParameters(req: Request, res: Response, next: NextFunction): void {
  const repeated = Object.entries(req.query as Record<string, unknown>)
    .filter(([, v]) => Array.isArray(v))
    .map(([k]) => k);
  if (repeated.length > 0) {
    sendProblem(
      res,
      400,
      'Invalid query',
      'A query parameter was given more than once',
      repeated.map((field) => ({ field, message: 'give this parameter once' })),
    );
    return;
  }
  next();
}

/** Status line and problem title for the errors Node's HTTP parser reports before the app sees a request. */
function clientErrorAnswer(code: string | undefined): [number, string, string, string] {
  if (code === 'HPE_HEADER_OVERFLOW')
    return [431, 'Request Header Fields Too Large', 'Request header fields too large', `The headers are over ${http.maxHeaderSize} bytes`];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'Request Timeout', 'Request timeout', 'The request did not arrive in time'];
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW')
    return [413, 'Payload Too Large', 'Chunk extensions too large', 'A chunk extension is too large'];
  return [400, 'Bad Request', 'Bad request', 'The request is not valid HTTP/1.1'];
}

/** Slow-client resistance: how long a request's headers, a whole request and an idle keep-alive connection may take. */
export interface HttpTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersTimeoutMs: 20_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 5_000 };

/**
 * The HTTP server for an app. A client that sends its headers or its request slowly (slowloris) is answered 408
 * and cut off once past `timeouts`; others are not held up meanwhile. Requests Node refuses before the app sees them (oversized headers, a request
 * that is not HTTP) still get an application/problem+json answer, and the connection is closed. Logged at
 * debug with the parser's code only: a flood of bad requests must not become a flood of log lines.
 */
export function createHttpServer(
  app: express.Express,
  logger: Logger,
  tls?: { cert: Buffer; key: Buffer },
  timeouts: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS,
): HttpServer {
  const options: http.ServerOptions = {
    headersTimeout: Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs), // Node wants it no longer
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    // Node looks for requests past their deadline this often (default 30 s): a quarter of the shorter deadline.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.headersTimeoutMs / 4))),
  };
  // HTTPS when a certificate is configured (STORK_HTTP_TLS_*); plain HTTP is the default for the quick start.
  const server: HttpServer = tls
    ? https.createServer({ ...options, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, app)
    : http.createServer(options, app);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    logger.debug({ code: err.code }, 'http request refused by the parser');
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason, title, detail] = clientErrorAnswer(err.code);
    const body = JSON.stringify({ type: 'about:blank', title, status, detail });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/** The matched route's pattern (`/v1/messages/:id`), never the URL with its ids; Express types `req.route` as any. */
function routePath(req: Request): string | undefined {
  const route: unknown = req.route;
  return typeof route === 'object' && route !== null && 'path' in route && typeof route.path === 'string' ? route.path : undefined;
}
