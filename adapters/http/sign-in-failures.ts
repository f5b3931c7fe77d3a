import type { Logger } from '../../src/logger.js';
import type { AuditLog } from '../../src/ports/audit-log.js';

/** The kinds of failed sign-in the audit counts, each rate-limited on its own. */
export type SignInFailureKind = 'api-no-key' | 'api-unknown-key' | 'api-invalid-token' | 'web-expired' | 'web-refused' | 'web-failed';

/** At most one `sign-in-failed` event per kind in this window. */
export const SIGN_IN_FAILURE_WINDOW_MS = 60_000;

/**
 * Failed sign-ins (an API request with no or an unknown key, a web sign-in whose callback failed), audited as
 * `sign-in-failed` so that a flood of bad keys cannot flood the audit table: per kind, the first failure is written
 * at once, then at most one event per minute, each carrying `failures`, the number of failures of that kind since
 * the previous event (this one included), and `since`, when that count started. Nothing of the key is recorded
 * (a mistyped key may be nearly a real one); the remote address of the failure that wrote the event is.
 */
export class SignInFailureAudit {
  private readonly counts = new Map<SignInFailureKind, { failures: number; since: Date; lastWritten?: number }>();

  constructor(
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
    private readonly windowMs = SIGN_IN_FAILURE_WINDOW_MS,
  ) {}

  /** Counts one failure; writes the event when the window allows (never awaited by the request). */
  record(kind: SignInFailureKind, detail: { remoteAddress?: string; reason?: string }): void {
    const now = this.clock();
    const c = this.counts.get(kind) ?? { failures: 0, since: now };
    c.failures += 1;
    this.counts.set(kind, c);
    if (c.lastWritten !== undefined && now.getTime() - c.lastWritten < this.windowMs) return;
    const failures = c.failures;
    const since = c.since;
    this.counts.set(kind, { failures: 0, since: now, lastWritten: now.getTime() });
    const channel = kind.startsWith('api') ? 'api' : 'web';
    this.audit
      .append([
        {
          at: now,
          actor: channel === 'api' ? 'client:unknown' : 'user:unknown',
          action: 'sign-in-failed',
          outcome: kind,
          details: {
            channel,
            role: 'unknown',
            failures,
            since: since.toISOString(),
            windowSeconds: this.windowMs / 1000,
            ...(detail.remoteAddress ? { remoteAddress: detail.remoteAddress } : {}),
            ...(detail.reason ? { reason: detail.reason } : {}),
          },
        },
      ])
      .catch((err: unknown) => this.logger.error({ err, kind }, 'a failed sign-in could not be audited'));
  }
}
