import os from 'node:os';
import type { Logger } from '../logger.js';
import { overdueReviews, type Agreements } from '../pipeline/consent/agreements.js';
import type { AgreementVersionLog } from '../ports/decision-history.js';

/** Who is loading: the operating-system user and host running this process (no personal data about families). */
export function processIdentity(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no user name in some containers: the host and pid still say which process
  }
  return `${user}@${os.hostname()} pid ${process.pid}`;
}

/** An agreement of another kind as loaded (the antenatal agreement, a trigger agreement): its content and hash. */
export interface OtherAgreement {
  id: string;
  version: string;
  reviewDate?: string;
  hash: string;
}

/**
 * At start-up: records each agreement version (content hash) not loaded before, audited as `rulebook-loaded`
 * (who, when, id, version, hash), and warns about agreements past their review date (a warning, not a failure:
 * an overdue review must not stop notifications, but the IG lead must see it). `others`: the antenatal and trigger
 * agreements (issue 17), recorded and warned about the same way.
 */
export async function recordAgreementVersions(
  log: AgreementVersionLog,
  agreements: Agreements,
  logger: Logger,
  at: Date,
  others: readonly OtherAgreement[] = [],
): Promise<void> {
  const all = [...agreements.byId.values(), ...others];
  const fresh = await log.recordLoaded(
    all.map(({ hash, ...content }) => ({
      id: content.id,
      version: content.version,
      hash,
      content,
    })),
    `system:startup (${processIdentity()})`,
    at,
  );
  for (const a of all) {
    logger.info({ agreement: a.id, version: a.version, sha256: a.hash, newVersion: fresh.includes(a.hash) }, 'agreement loaded');
  }
  for (const a of overdueReviews(all, at.toISOString().slice(0, 10))) {
    logger.warn(
      { agreement: a.id, version: a.version, reviewDate: a.reviewDate },
      'agreement review date has passed: the IG lead should review it (notifications continue under it)',
    );
  }
}
