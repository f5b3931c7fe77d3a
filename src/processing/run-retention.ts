import type { Logger } from '../logger.js';
import type { AuditEventInput } from '../ports/audit.js';
import type { RetentionStore } from '../ports/retention-store.js';
import { cutoffs, RETENTION_TARGETS, targetPeriod, type RetentionConfig, type RetentionTarget } from '../domain/retention-policy.js';

export interface RetentionDeps {
  store: RetentionStore;
  config: RetentionConfig;
  /** SHA-256 of the retention file's canonical content, named in each purge's audit event. */
  configSha256: string;
  /** Who runs it (the lease owner): a process and run id, never personal data. */
  owner: string;
  clock: () => Date;
  logger: Logger;
  /** How long a run's lease lasts without renewal (renewed after every batch). Default 10 minutes. */
  leaseMs?: number;
}

export interface TargetReport {
  target: RetentionTarget;
  /** Rows older than this were purged (or, in a dry run, would be). */
  cutoff: string;
  /** Rows purged by this run (a dry run: rows a run would purge now). */
  purged: number;
  /** Rows old enough but held back by a live obligation (awaiting a centre, under review, still queued or pending). */
  heldBack: number;
  batches: number;
}

export type RetentionReport =
  | { kind: 'done'; dryRun: boolean; at: string; configSha256: string; targets: TargetReport[] }
  /** Another process holds the retention lease: it is running the purge now. */
  | { kind: 'skipped'; at: string };

export const RETENTION_LEASE = 'retention';
const RETENTION_ACTOR = 'system:retention';

/**
 * One retention run (issue 14 item 6): for each target, every row older than its cut-off and held by no live
 * obligation is purged, in batches of `batchSize` rows (one transaction each, keyset over the key), so a table of a
 * million rows is never locked as a whole. Idempotent: purged rows are not taken again, so a second run purges
 * nothing more. One run at a time across hubs: a run takes the retention lease, renewed between batches, or is
 * skipped. Each target's purge is audited once per run (action `purged`: counts, cut-off, the file's hash; no
 * personal data and no ids). A dry run counts and changes nothing (and audits nothing).
 */
export async function runRetention(deps: RetentionDeps, options: { dryRun?: boolean } = {}): Promise<RetentionReport> {
  const { store, config, clock, logger } = deps;
  const dryRun = options.dryRun === true;
  const leaseMs = deps.leaseMs ?? 600_000;
  const startedAt = clock();
  const cut = cutoffs(startedAt, config.periods);
  if (dryRun) {
    const targets: TargetReport[] = [];
    for (const target of RETENTION_TARGETS) {
      const c = await store.count(target, cut[target]);
      targets.push({ target, cutoff: cut[target].toISOString(), purged: c.due, heldBack: c.heldBack, batches: 0 });
    }
    return { kind: 'done', dryRun, at: startedAt.toISOString(), configSha256: deps.configSha256, targets };
  }
  const renew = async (): Promise<boolean> => {
    const now = clock();
    return store.acquireLease(RETENTION_LEASE, deps.owner, now, new Date(now.getTime() + leaseMs));
  };
  if (!(await renew())) {
    logger.info('retention: another process is running the purge; this run is skipped');
    return { kind: 'skipped', at: startedAt.toISOString() };
  }
  const targets: TargetReport[] = [];
  try {
    for (const target of RETENTION_TARGETS) {
      let purged = 0;
      let batches = 0;
      let after: string | undefined;
      try {
        for (;;) {
          const b = await store.purgeBatch(target, cut[target], startedAt, after, config.batchSize);
          purged += b.purged;
          if (b.purged > 0) batches += 1;
          if (b.purged < config.batchSize || b.lastKey === undefined) break;
          after = b.lastKey;
          if (!(await renew())) throw new Error('retention: the lease was lost to another process mid-run');
        }
      } catch (err) {
        // What the committed batches purged is audited even when a later batch fails (the job is then retried).
        const partial: TargetReport = { target, cutoff: cut[target].toISOString(), purged, heldBack: 0, batches };
        await store.appendAudit([{ ...purgeAudit(partial, deps.configSha256, config, clock()), outcome: 'failed' }]).catch(() => undefined);
        throw err;
      }
      const { heldBack } = await store.count(target, cut[target]);
      const report: TargetReport = { target, cutoff: cut[target].toISOString(), purged, heldBack, batches };
      targets.push(report);
      await store.appendAudit([purgeAudit(report, deps.configSha256, config, clock())]);
      logger.info({ target, purged, heldBack, batches }, 'retention: purged');
    }
  } finally {
    await store.releaseLease(RETENTION_LEASE, deps.owner, startedAt, clock());
  }
  return { kind: 'done', dryRun, at: startedAt.toISOString(), configSha256: deps.configSha256, targets };
}

function purgeAudit(r: TargetReport, configSha256: string, config: RetentionConfig, at: Date): AuditEventInput {
  const { name, period } = targetPeriod(config.periods, r.target);
  return {
    at,
    actor: RETENTION_ACTOR,
    action: 'purged',
    outcome: r.purged > 0 ? 'purged' : 'nothing-due',
    details: {
      target: r.target,
      purged: r.purged,
      heldBack: r.heldBack,
      batches: r.batches,
      cutoff: r.cutoff,
      period: { name, ...period },
      configSha256,
    },
  };
}
