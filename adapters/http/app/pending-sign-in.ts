import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** What the browser carries between leaving for the identity provider and coming back: PKCE verifier, state, nonce. */
export interface PendingSignIn {
  codeVerifier: string;
  state: string;
  nonce: string;
  /** The page to open after sign-in (a path under /app/). */
  returnTo: string;
  /** Epoch ms after which the pending sign-in is refused. */
  expires: number;
}

/** How long a person may take at the identity provider. */
export const PENDING_SIGN_IN_MS = 10 * 60_000;

/**
 * The pending sign-in is sealed (AES-256-GCM) into a short-lived cookie rather than stored: a visitor who has not
 * signed in costs the store nothing, so a flood of sign-in starts cannot fill it. The key is derived from the
 * client secret (HKDF), so every Stork process of one deployment can open what another sealed.
 */
export class PendingSignInSeal {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'stork', 'web app pending sign-in', 32));
  }

  seal(p: PendingSignIn): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(p), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The pending sign-in, or undefined if the value was not sealed by this deployment, is damaged or has expired. */
  open(value: string | undefined, now: Date): PendingSignIn | undefined {
    if (value === undefined || value.length > 4096) return undefined;
    const raw = Buffer.from(value, 'base64url');
    if (raw.length < 29) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      const p = JSON.parse(text) as PendingSignIn;
      return p.expires > now.getTime() ? p : undefined;
    } catch {
      return undefined;
    }
  }
}

/** A return path is only ever a page of the web app: never another site (`//evil`, `https:`), never a backslash trick. */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/app\/[A-Za-z0-9/_?=&%.-]*$/.test(value) && !value.includes('//') ? value : '/app/';
}
