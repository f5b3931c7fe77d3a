/** Who signed in to the web app, from the identity provider's token: what every page and audit event uses. */
export interface SignedInPerson {
  /** The identity provider's subject (`sub`): stable, unique at that provider. */
  sub: string;
  /** The person's name as the provider gives it, for the audit trail and the header. */
  name: string;
  role: WebRole;
  /** The inbox (centre) id for a centre worker; absent for the other roles. */
  scope?: string;
}

/** What a person may do in the web app. */
export type WebRole = 'centre-worker' | 'ig-lead' | 'operator' | 'admin' | 'early-help-worker';

export const WEB_ROLES: readonly WebRole[] = ['centre-worker', 'ig-lead', 'operator', 'admin', 'early-help-worker'];

export interface WebSession {
  person: SignedInPerson;
  csrfToken: string;
  expiresAt: Date;
  absoluteExpiresAt: Date;
  lastSeenAt: Date;
}

/**
 * Server-side sessions of the web app, keyed by the SHA-256 of the id the browser holds (the store never sees
 * the id itself). Expired sessions are never returned.
 */
export interface WebSessionStore {
  create(idSha256: string, session: WebSession, at: Date): Promise<void>;
  /** The session, if it exists and has not expired at `at`. */
  get(idSha256: string, at: Date): Promise<WebSession | undefined>;
  /** Moves the idle expiry on (never past the absolute one). */
  touch(idSha256: string, at: Date, expiresAt: Date): Promise<void>;
  delete(idSha256: string): Promise<void>;
  /** Deletes sessions expired before `at`; returns how many. */
  deleteExpired(at: Date): Promise<number>;
}
