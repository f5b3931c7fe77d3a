import { Router, type NextFunction, type Request, type Response } from 'express';
import { createBullBoard } from '@bull-board/api';
import type { BaseAdapter } from '@bull-board/api/dist/queueAdapters/base.js';
import { ExpressAdapter } from '@bull-board/express';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';

/** Where the BullMQ dashboard lives inside the web app (mounted at /app). */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * The BullMQ dashboard (bull-board) for administrators only: the queues given, each built read-only by the hub
 * (no retry, clean, promote or remove from here: jobs hold only ids, and failed ones are handled by the recovery
 * sweep and the operators' console). Everyone else is sent to sign in, or answered 403. bull-board's own page
 * brings its scripts and inline styles: it gets a Content-Security-Policy of its own (see dashboardHeaders),
 * scoped to this path.
 */
export function queueDashboard(kit: PageKit, queues: readonly BaseAdapter[]): WebPages {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(`/app${QUEUE_DASHBOARD_PATH}`);
  createBullBoard({ queues, serverAdapter, options: { uiConfig: { boardTitle: 'Stork queues' } } });
  const router = Router();
  router.use(QUEUE_DASHBOARD_PATH, kit.requireRole('admin'), dashboardHeaders, serverAdapter.getRouter() as Router);
  return { nav: [{ href: `/app${QUEUE_DASHBOARD_PATH}`, text: 'Queues', roles: ['admin'] }], router };
}

/**
 * The dashboard's Content-Security-Policy, replacing the web app's on its path only: scripts from Stork alone
 * (bull-board's bundles, no inline script), inline styles (its loading screen and React's style attributes),
 * no fonts from elsewhere (its Google Fonts link is blocked: it falls back to system fonts).
 */
function dashboardHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set(
    'Content-Security-Policy',
    [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "font-src 'self'",
      "connect-src 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'self'",
    ].join('; '),
  );
  next();
}
