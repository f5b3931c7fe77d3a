import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * helmet's headers, with the stricter of its defaults and Stork's own where both set one: Stork's Content
 * Security Policy (helmet's default allows inline styles, `data:` images and fonts from any https origin),
 * framing denied outright (helmet: SAMEORIGIN), and helmet's `no-referrer`. What helmet adds besides: HSTS,
 * Cross-Origin-Resource-Policy, Origin-Agent-Cluster, X-DNS-Prefetch-Control, X-Download-Options,
 * X-Permitted-Cross-Domain-Policies and X-XSS-Protection: 0.
 */
const helmetHeaders = helmet({
  contentSecurityPolicy: false, // set below, with this answer's nonce
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  crossOriginOpenerPolicy: { policy: 'same-origin' },
  crossOriginResourcePolicy: { policy: 'same-origin' },
});

/** Stork's Content Security Policy for its pages: scripts only from Stork, plus GOV.UK Frontend's one inline line. */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * Headers on every web app answer: helmet's (see helmetHeaders), a strict Content Security Policy, and pages
 * holding personal data never cached. The queue dashboard replaces the policy on its own path only.
 */
export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  helmetHeaders(req, res, (err?: unknown) => {
    if (err !== undefined) {
      next(err);
      return;
    }
    const nonce = randomBytes(16).toString('base64');
    res.locals.cspNonce = nonce;
    res.set('Content-Security-Policy', contentSecurityPolicy(nonce));
    if (!req.path.startsWith('/assets/')) res.set('Cache-Control', 'no-store');
    next();
  });
}
