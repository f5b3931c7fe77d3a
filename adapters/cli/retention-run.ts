#!/usr/bin/env node
/**
 * `npm run retention:run`: one retention run now (issue 14 item 6), as the daily job does it.
 *
 *   npm run retention:run -- [--dry-run] [--json]
 *
 * Reads `mappings/retention.json` of STORK_CONFIG_DIR (the repository's by default) and the store the hub uses:
 * DATABASE_URL (PostgreSQL), else the embedded store under STORK_DATA_DIR (./data; it allows one process, so stop the
 * hub first). Opens it without migrating (the hub migrates). `--dry-run` counts what a run would purge now and what
 * is held back, and changes nothing. A real run takes the retention lease (one run at a time, whichever hub or
 * operator starts it), purges in batches and audits each table's purge. The report gives counts only.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../src/config/env.js';
import { configFiles } from '../../src/config/hub-config.js';
import { loadRetention } from '../../src/config/retention.js';
import { createLogger } from '../../src/logger.js';
import { isEntryPoint, unusableConfig, withCliStore } from './cli-common.js';
import { runRetention, type RetentionReport } from '../../src/processing/run-retention.js';
import { SqlRetentionStore } from '../store/sql-retention-store.js';

export interface CliOutput {
  write(text: string): unknown;
}

export const EXIT = { ok: 0, failed: 1, unusable: 2 } as const;

const USAGE = 'usage: npm run retention:run -- [--dry-run] [--json]\n';

/** The report as a few lines: per table, how many rows were (or would be) purged, held back, and the cut-off. */
export function reportText(r: RetentionReport): string {
  if (r.kind === 'skipped') return 'Another retention run is in progress (the lease is held): nothing was done.';
  const head = r.dryRun ? `Dry run at ${r.at}: nothing was changed.` : `Retention run at ${r.at}.`;
  const lines = r.targets.map(
    (t) =>
      `  ${t.target.padEnd(22)} ${String(t.purged).padStart(9)} ${r.dryRun ? 'due' : 'purged'}, ${t.heldBack} held back (older than ${t.cutoff})`,
  );
  return [head, ...lines, `  retention.json sha256:${r.configSha256}`].join('\n');
}

/** Runs retention once; `env` gives DATABASE_URL / STORK_DATA_DIR / STORK_CONFIG_DIR. */
export async function main(args: readonly string[], out: CliOutput, err: CliOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { 'dry-run'?: boolean; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    err.write(`${(e as Error).message}\n${USAGE}`);
    return EXIT.unusable;
  }
  if (values.help === true) {
    out.write(USAGE);
    return EXIT.ok;
  }
  const configDir = env.STORK_CONFIG_DIR ?? repoRoot;
  try {
    const file = configFiles(configDir).retention;
    const retention = loadRetention(file);
    if (retention === undefined) {
      err.write(`${file}: not found; without it nothing is purged\n`);
      return EXIT.unusable;
    }
    return await withCliStore(env, 'stork-retention-run', err, async (db) => {
      const report = await runRetention(
        {
          store: new SqlRetentionStore(db),
          config: retention.config,
          configSha256: retention.sha256,
          owner: `cli:${process.pid}:${randomUUID()}`,
          clock: () => new Date(),
          logger: createLogger('silent'),
        },
        { dryRun: values['dry-run'] === true },
      );
      out.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${reportText(report)}\n`);
      return report.kind === 'skipped' ? EXIT.failed : EXIT.ok;
    });
  } catch (e) {
    return unusableConfig(e, err);
  }
}

if (await isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr);
}
