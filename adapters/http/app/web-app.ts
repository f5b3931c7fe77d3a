import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../../src/logger.js';
import type { WebAppConfig } from '../../../src/config/web-app.js';
import type { WebRole, WebSessionStore } from '../../../src/ports/web-sessions.js';
import { createRenderer, govukFrontendDist, webAppDir } from './render.js';
import { securityHeaders } from './security-headers.js';
import { allowed, csrfTokenMatches, csrfTokenOf, readCookies, Sessions, signedIn } from './sessions.js';
import { OidcSignIn, SignInRefused, type SignInEndpoint } from './oidc-sign-in.js';
import { PENDING_SIGN_IN_MS, PendingSignInSeal, safeReturnTo } from './pending-sign-in.js';
import { ROLE_NAMES, type NavItem, type WebPages } from './navigation.js';
import type { SignInFailureAudit } from '../sign-in-failures.js';

/** The what-if page (agreement-pages.ts), whose form carries a whole proposed agreement. */
const WHAT_IF_PATH = '/agreements/what-if';

export interface WebAppDeps {
  logger: Logger;
  config: WebAppConfig;
  sessions: WebSessionStore;
  /** Resolved once the HTTP port is bound and the local provider (if on) has started. */
  signInEndpoint: () => Promise<SignInEndpoint>;
  /** Stork is reached over https (cookies are Secure). */
  secure: boolean;
  /** Every inbox id (a centre worker's scope must be one), and how a centre is named on the pages. */
  inboxIds: ReadonlySet<string>;
  inboxName: (inboxId: string) => string | undefined;
  /** The page groups built on this foundation (worklist, audit, operations). */
  pages: (page: PageKit) => WebPages[];
  clock?: () => Date;
  /** Audits sign-ins whose callback failed (rate-limited). */
  signInFailures?: SignInFailureAudit;
}

/** What a page group needs to render pages and check people: given to each group's router. */
export interface PageKit {
  render(res: Response, view: string, context: Record<string, unknown>, status?: number): void;
  /** Lets the request on if the person has one of these roles; otherwise signs them in, or answers 403. */
  requireRole(...roles: WebRole[]): (req: Request, res: Response, next: NextFunction) => void;
  /** The page for "no such thing here" (also what another centre's record looks like). */
  notFound(res: Response): void;
  inboxName: (inboxId: string) => string | undefined;
  clock: () => Date;
}

const PENDING_COOKIE = 'stork_signin';

/**
 * The web app under `/app`, for people (the API under /v1 stays for machines): server-rendered pages with
 * GOV.UK Frontend, sign-in with OpenID Connect, server-side sessions, a synchroniser CSRF token on every form.
 * The page groups (`pages`) add their routes and navigation links on this foundation.
 */
export function createWebApp(deps: WebAppDeps): express.Express {
  const clock = deps.clock ?? (() => new Date());
  const render = createRenderer();
  const sessions = new Sessions({
    store: deps.sessions,
    secure: deps.secure,
    idleMs: deps.config.session.idleMinutes * 60_000,
    absoluteMs: deps.config.session.absoluteMinutes * 60_000,
    clock,
  });
  const signIn = new OidcSignIn(deps.config.oidc, deps.signInEndpoint, deps.inboxIds);
  let seal: PendingSignInSeal | undefined;
  const sealer = async (): Promise<PendingSignInSeal> => {
    if (seal) return seal;
    const secret = (await deps.signInEndpoint()).clientSecret;
    if (secret === undefined)
      throw new SignInRefused('Sign-in is not set up yet: the client secret (STORK_OIDC_CLIENT_SECRET) is missing.');
    seal = new PendingSignInSeal(secret);
    return seal;
  };
  let nav: readonly NavItem[] = [];

  const renderPage = (res: Response, view: string, context: Record<string, unknown>, status = 200): void => {
    const person = signedIn(res);
    const current = typeof context.current === 'string' ? context.current : undefined;
    const html = render(view, {
      cspNonce: res.locals.cspNonce as string,
      person,
      roleName: person ? ROLE_NAMES[person.role] : undefined,
      csrfToken: csrfTokenOf(res),
      nav: person
        ? nav.filter((n) => n.roles.includes(person.role)).map((n) => ({ href: n.href, text: n.text, current: n.href === current }))
        : [],
      ...context,
    });
    res.status(status).type('html').send(html);
  };
  const errorPage = (res: Response, status: number, title: string, lines: string[]): void =>
    renderPage(res, 'error.njk', { title, lines }, status);
  const notFound = (res: Response): void =>
    errorPage(res, 404, 'Page not found', [
      'If you typed the web address, check it is correct.',
      'If you pasted the web address, check you copied the entire address.',
    ]);
  const kit: PageKit = {
    render: renderPage,
    requireRole:
      (...roles) =>
      (req, res, next) => {
        const verdict = allowed(res, roles);
        if (verdict === 'ok') next();
        else if (verdict === 'signed-out' && req.method === 'GET')
          res.redirect(303, `/app/sign-in?returnTo=${encodeURIComponent(req.originalUrl)}`);
        else if (verdict === 'signed-out') errorPage(res, 401, 'You are signed out', ['Your session has ended. Sign in again.']);
        else errorPage(res, 403, 'You cannot open this page', ['Your role does not give access to this page.']);
      },
    notFound,
    inboxName: deps.inboxName,
    clock,
  };
  const groups = deps.pages(kit);
  nav = groups.flatMap((g) => g.nav);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(securityHeaders);
  app.use('/assets', assetRoutes());
  app.use(sessions.middleware());
  // Forms are small; the what-if page's pasted agreement (a few kB, escaped) is allowed more. A body read by the
  // first parser is not read again by the second.
  app.use(WHAT_IF_PATH, express.urlencoded({ extended: false, limit: '256kb', parameterLimit: 50 }));
  app.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 }));
  // Every form post carries the session's synchroniser token; a post without it changes nothing.
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST') {
      next();
      return;
    }
    const body = req.body as Record<string, unknown> | undefined;
    if (!csrfTokenMatches(res, body?._csrf)) {
      errorPage(res, 403, 'This form has expired', ['Nothing was changed. Go back, reload the page and try again.']);
      return;
    }
    next();
  });

  app.get('/', (_req, res) => {
    const person = signedIn(res);
    if (!person) {
      renderPage(res, 'sign-in.njk', { title: 'Sign in', signInHref: '/app/sign-in' });
      return;
    }
    renderPage(res, 'home.njk', {
      title: 'Stork',
      current: '/app/',
      scopeName: person.scope !== undefined ? (deps.inboxName(person.scope) ?? person.scope) : undefined,
    });
  });

  app.get('/sign-in', async (req, res) => {
    const now = clock();
    try {
      const { url, pending } = await signIn.start(safeReturnTo(req.query.returnTo), now);
      res.cookie(PENDING_COOKIE, (await sealer()).seal(pending), {
        httpOnly: true,
        secure: deps.secure,
        sameSite: 'lax',
        path: '/app/auth',
        maxAge: PENDING_SIGN_IN_MS,
      });
      res.redirect(303, url);
    } catch (err) {
      const refused = err instanceof SignInRefused;
      if (!refused) deps.logger.error({ err }, 'web sign-in could not start');
      renderPage(
        res,
        'sign-in.njk',
        {
          title: 'Sign in',
          signInHref: '/app/sign-in',
          problem: refused ? err.message : 'Sign-in is not available just now. Try again in a few minutes.',
        },
        503,
      );
    }
  });

  app.get('/auth/callback', async (req, res) => {
    const now = clock();
    res.clearCookie(PENDING_COOKIE, { httpOnly: true, secure: deps.secure, sameSite: 'lax', path: '/app/auth' });
    let pending;
    try {
      pending = (await sealer()).open(readCookies(req).get(PENDING_COOKIE), now);
    } catch {
      pending = undefined;
    }
    if (!pending) {
      deps.signInFailures?.record('web-expired', req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {});
      renderPage(
        res,
        'sign-in.njk',
        { title: 'Sign in', signInHref: '/app/sign-in', problem: 'Your sign-in took too long or was not started here. Sign in again.' },
        400,
      );
      return;
    }
    const { redirectUri } = await deps.signInEndpoint();
    const callbackUrl = new URL(redirectUri);
    callbackUrl.search = new URL(req.originalUrl, 'http://callback.invalid').search;
    try {
      const person = await signIn.finish(callbackUrl, pending);
      await sessions.start(res, person);
      deps.logger.info({ role: person.role }, 'web sign-in');
      res.redirect(303, pending.returnTo);
    } catch (err) {
      const refused = err instanceof SignInRefused;
      // Never log the claims or the tokens: only what kind of failure it was.
      deps.logger.warn({ err: refused ? undefined : err, refused }, 'web sign-in refused');
      deps.signInFailures?.record(refused ? 'web-refused' : 'web-failed', {
        ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}),
        ...(refused ? { reason: err.message } : {}),
      });
      renderPage(
        res,
        'sign-in.njk',
        { title: 'Sign in', signInHref: '/app/sign-in', problem: refused ? err.message : 'Sign-in did not complete. Sign in again.' },
        403,
      );
    }
  });

  // Sign-out ends Stork's session, then the provider's (RP-Initiated Logout): the provider sends the browser back
  // to /app/signed-out. The way there is a link followed at once by the page (a nonce'd script), not a redirect of
  // the form post: the CSP's `form-action 'self'` also covers where a form post is redirected.
  app.post('/sign-out', async (_req, res) => {
    const role = signedIn(res)?.role;
    await sessions.end(res);
    let url: string | undefined;
    try {
      url = await signIn.signOutUrl();
    } catch (err) {
      // Only what went wrong, never who signed out (nor any token: Stork keeps none).
      deps.logger.warn({ err: err instanceof SignInRefused ? undefined : err }, 'web sign-out: identity provider not reached');
    }
    deps.logger.info({ role, provider: url === undefined ? 'not-signed-out' : 'signing-out' }, 'web sign-out');
    if (url === undefined) {
      res.redirect(303, '/app/signed-out?provider=still-signed-in');
      return;
    }
    renderPage(res, 'signing-out.njk', { title: 'Signing you out', endSessionUrl: url });
  });
  app.get('/signed-out', (req, res) =>
    renderPage(res, 'signed-out.njk', { title: 'You have signed out', providerStillSignedIn: req.query.provider === 'still-signed-in' }),
  );

  for (const g of groups) app.use(g.router);
  app.use((_req: Request, res: Response) => notFound(res));
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      errorPage(res, err.status === 413 ? 413 : 400, 'The request could not be read', ['Go back and try again.']);
      return;
    }
    deps.logger.error({ err, method: req.method }, 'web page failed');
    errorPage(res, 500, 'Sorry, there is a problem with the service', ['Try again later.']);
  });
  return app;
}

/**
 * GOV.UK Frontend's CSS, JavaScript, fonts and images, straight from the package (no CSS of Stork's own). Its CSS
 * names its fonts and images under `/assets/`; the app serves them under `/app/assets/`, so those URLs are
 * rewritten once at start-up.
 */
function assetRoutes(): express.Router {
  const govuk = path.join(govukFrontendDist, 'govuk');
  const css = readFileSync(path.join(govuk, 'govuk-frontend.min.css'), 'utf8').replaceAll('url(/assets/', 'url(/app/assets/');
  const router = express.Router();
  router.get('/govuk-frontend.min.css', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').type('css').send(css);
  });
  router.get('/govuk-frontend.min.js', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').sendFile(path.join(govuk, 'govuk-frontend.min.js'));
  });
  router.get('/init.mjs', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').sendFile(path.join(webAppDir, 'static', 'init.mjs'));
  });
  router.use(express.static(path.join(govuk, 'assets'), { index: false, maxAge: '1h', fallthrough: true }));
  return router;
}
