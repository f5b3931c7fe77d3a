import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../src/logger.js';
import type { ApiClientDirectory } from '../../src/config/api-clients.js';
import type { Hl7v2Intake } from '../../src/intake/hl7v2-intake.js';
import type { MessageStore } from '../../src/ports/message-store.js';
import type { NotificationStore } from '../../src/ports/notification-store.js';
import type { AuditLog } from '../../src/ports/audit-log.js';
import type { ReplayDeps } from '../../src/intake/replay-message.js';
import { authenticate } from './auth.js';
import { sendProblem } from './problem.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { hl7v2IntakeRoutes } from './routes/hl7v2-intake.js';
import { messageRoutes } from './routes/messages.js';
import { centreRoutes } from './routes/centres.js';
import { auditRoutes } from './routes/audit.js';

export interface HttpAppDeps {
  logger: Logger;
  apiClients: ApiClientDirectory;
  readiness: readonly ReadinessCheck[];
  maxMessageBytes: number;
  /** Present when this process runs the intake role. */
  intake?: Hl7v2Intake;
  messages: MessageStore;
  notifications: NotificationStore;
  audit: AuditLog;
  replay: ReplayDeps;
  feedIdsForFacility: (ods: string) => string[];
}

/** Builds the HTTP API: health without a key, everything under `/v1` behind a bearer key and a role. */
export function createHttpApp(deps: HttpAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(healthRoutes(deps.readiness));
  app.use('/v1', authenticate(deps.apiClients));
  if (deps.intake) app.use(hl7v2IntakeRoutes(deps.intake, deps.maxMessageBytes));
  app.use(messageRoutes(deps.messages, deps.audit, deps.replay, deps.feedIdsForFacility));
  app.use(centreRoutes(deps.notifications));
  app.use(auditRoutes(deps.audit));
  app.use((_req: Request, res: Response) => sendProblem(res, 404, 'Not found', 'No such resource'));
  // Express 5 sends async errors here. Only the error's kind is logged: it may come from a driver.
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
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
    deps.logger.error({ err: { name: err.name }, method: req.method, route: routePath(req) }, 'request failed');
    sendProblem(res, 503, 'Service unavailable', 'The hub could not complete the request; retry later');
  });
  return app;
}

/** The matched route's pattern (`/v1/messages/:id`), never the URL with its ids; Express types `req.route` as any. */
function routePath(req: Request): string | undefined {
  const route: unknown = req.route;
  return typeof route === 'object' && route !== null && 'path' in route && typeof route.path === 'string' ? route.path : undefined;
}
