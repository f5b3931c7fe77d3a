import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CookieOptions, NextFunction, Request, Response } from 'express';
import type { SignedInPerson, WebRole, WebSession, WebSessionStore } from '../../../src/ports/web-sessions.js';

/** The session cookie's name: `__Host-` (Secure, whole host, no Domain) when Stork is reached over https. */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-stork_session' : 'stork_session';
}

export interface SessionSettings {
  store: WebSessionStore;
  /** Stork is reached over https: cookies are Secure. */
  secure: boolean;
  idleMs: number;
  absoluteMs: number;
  clock: () => Date;
}

/** The idle expiry is moved on at most this often, so that a page view is not always a write. */
const TOUCH_EVERY_MS = 60_000;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The cookies of a request, by name (the first of a repeated name wins). */
export function readCookies(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (out.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      // A value that is not valid percent-encoding is no cookie of Stork's.
    }
  }
  return out;
}

/** What the session middleware found for this request. */
interface SessionState {
  person?: SignedInPerson;
  session?: WebSession;
  idHash?: string;
}

function stateOf(res: Response): SessionState {
  return (res.locals.session as SessionState | undefined) ?? {};
}

/** The person signed in on this request, if any. */
export function signedIn(res: Response): SignedInPerson | undefined {
  return stateOf(res).person;
}

/** This session's synchroniser token, for the forms a page renders. */
export function csrfTokenOf(res: Response): string | undefined {
  return stateOf(res).session?.csrfToken;
}

/**
 * Server-side sessions. The browser holds a random 256-bit id in an HttpOnly, SameSite=Lax cookie (Secure over
 * https); the store holds its SHA-256, the person and the session's CSRF token. A session ends after
 * `idleMs` unused or `absoluteMs` after sign-in; signing in again replaces the session (a new id, so an id
 * planted before sign-in is worth nothing).
 */
export class Sessions {
  readonly cookieName: string;

  constructor(private readonly s: SessionSettings) {
    this.cookieName = sessionCookieName(s.secure);
  }

  private cookieOptions(): CookieOptions {
    return { httpOnly: true, secure: this.s.secure, sameSite: 'lax', path: '/' };
  }

  /** Reads the session cookie; sets `res.locals.session`. */
  middleware() {
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      const id = readCookies(req).get(this.cookieName);
      if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) {
        next();
        return;
      }
      const idHash = sha256(id);
      const now = this.s.clock();
      const session = await this.s.store.get(idHash, now);
      if (!session) {
        res.clearCookie(this.cookieName, this.cookieOptions());
        next();
        return;
      }
      if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS)
        await this.s.store.touch(idHash, now, new Date(now.getTime() + this.s.idleMs));
      res.locals.session = { person: session.person, session, idHash } satisfies SessionState;
      next();
    };
  }

  /** Starts a session for a person who has just signed in, ending the one this browser had. */
  async start(res: Response, person: SignedInPerson): Promise<void> {
    const old = stateOf(res).idHash;
    if (old !== undefined) await this.s.store.delete(old);
    const now = this.s.clock();
    await this.s.store.deleteExpired(now);
    const id = randomBytes(32).toString('base64url');
    const absoluteExpiresAt = new Date(now.getTime() + this.s.absoluteMs);
    const session: WebSession = {
      person,
      csrfToken: randomBytes(32).toString('base64url'),
      lastSeenAt: now,
      expiresAt: new Date(Math.min(now.getTime() + this.s.idleMs, absoluteExpiresAt.getTime())),
      absoluteExpiresAt,
    };
    await this.s.store.create(sha256(id), session, now);
    res.cookie(this.cookieName, id, this.cookieOptions());
  }

  /** Ends this browser's session (sign-out). */
  async end(res: Response): Promise<void> {
    const idHash = stateOf(res).idHash;
    if (idHash !== undefined) await this.s.store.delete(idHash);
    res.clearCookie(this.cookieName, this.cookieOptions());
    res.locals.session = {};
  }
}

/** The synchroniser token check for a form post: the `_csrf` field must equal the session's token. */
export function csrfTokenMatches(res: Response, sent: unknown): boolean {
  const expected = csrfTokenOf(res);
  if (expected === undefined || typeof sent !== 'string') return false;
  const a = Buffer.from(sent, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Role check result for a page: signed in with one of these roles, or why not. */
export function allowed(res: Response, roles: readonly WebRole[]): 'ok' | 'signed-out' | 'forbidden' {
  const person = signedIn(res);
  if (!person) return 'signed-out';
  return roles.includes(person.role) ? 'ok' : 'forbidden';
}
