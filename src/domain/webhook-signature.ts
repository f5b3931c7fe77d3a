/**
 * Webhook signatures (issue 15 item 1): HMAC-SHA256 over `<unix seconds>.<body>` with the centre's secret, sent as
 *
 *   Stork-Signature: t=1767225600,v1=<hex>[,v1=<hex>]
 *
 * one `v1` per configured secret, newest first, so during a rotation a receiver holding either secret verifies.
 * The receiver recomputes the HMAC over the raw body bytes it received, compares in constant time, and refuses a
 * timestamp outside its tolerance (a replayed capture). Pure: node:crypto only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Stork-Signature';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const EVENT_HEADER = 'Stork-Event';

/** Hex HMAC-SHA256 of `timestamp + "." + body`. */
export function signPayload(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The header value: the timestamp and one `v1` signature per secret (newest first). */
export function signatureHeader(secrets: readonly string[], timestamp: number, body: string | Buffer): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${signPayload(s, timestamp, body)}`)].join(',');
}

export type VerifyResult = { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

/**
 * Checks a Stork-Signature header against the raw body with any of the receiver's secrets: well formed, timestamp
 * within `toleranceSeconds` of `now`, and one of its `v1` signatures equal (constant time) to one computed here.
 */
export function verifySignature(
  header: string | undefined,
  body: string | Buffer,
  secrets: readonly string[],
  now: Date = new Date(),
  toleranceSeconds = 300,
): VerifyResult {
  if (header === undefined || header.length > 2000) return { ok: false, reason: 'malformed' };
  let timestamp: number | undefined;
  const given: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) given.push(value);
  }
  if (timestamp === undefined || given.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(Math.floor(now.getTime() / 1000) - timestamp) > toleranceSeconds) return { ok: false, reason: 'stale' };
  for (const secret of secrets) {
    const expected = Buffer.from(signPayload(secret, timestamp, body), 'hex');
    if (given.some((g) => timingSafeEqual(Buffer.from(g, 'hex'), expected))) return { ok: true, timestamp };
  }
  return { ok: false, reason: 'mismatch' };
}

/** Exponential backoff settings: the first retry waits about `baseMs`, each next about twice as long, never past `maxMs`. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** The longest wait before retry `attempt` (1 = the first retry): `min(maxMs, baseMs · 2^(attempt−1))`. */
export function backoffCeiling(attempt: number, b: Backoff): number {
  const exp = Math.min(Math.max(attempt - 1, 0), 40);
  return Math.min(b.maxMs, b.baseMs * 2 ** exp);
}

/**
 * The wait before retry `attempt`, with "equal jitter": between half the ceiling and the ceiling, so retries of
 * many deliveries that failed together spread out instead of hitting the recovering receiver at once.
 */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, b);
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(Math.max(random(), 0), 1));
}

/**
 * Whether a delivery that failed its `attempt`th try (first try = 1) should become a dead letter: the next retry
 * could only start after the horizon, counted from its first try.
 */
export function pastHorizon(firstTriedAt: Date, now: Date, attempt: number, b: Backoff, horizonMs: number): boolean {
  return now.getTime() - firstTriedAt.getTime() + backoffCeiling(attempt, b) > horizonMs;
}
