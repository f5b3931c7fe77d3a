#!/usr/bin/env node
/**
 * `npm run audit:disclosures`: a person's subject-access disclosure report (issue 14 item 4) from the command line.
 *
 *   npm run audit:disclosures -- <nhs number> [--format json|csv] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--purpose "SAR ref 123"]
 *
 * Reads the store the hub uses: DATABASE_URL (PostgreSQL), else the embedded store under STORK_DATA_DIR (./data;
 * it allows one process, so stop the hub first, or use the IG lead's page). Opens it without migrating. Dates are
 * London dates (`--until` includes that day) or ISO date-times. The report goes to standard output; its generation
 * is audited as an export by `cli:<operating-system user>`, with the purpose given.
 */
import { userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../src/config/env.js';
import { loadCatchments } from '../../src/config/catchments.js';
import { isValidNhsNumber } from '../../src/domain/nhs-number.js';
import { disclosureCsv } from '../../src/pipeline/reports/disclosure-report.js';
import { readWindowBound } from '../../src/pipeline/reports/london-days.js';
import { isEntryPoint, unusableConfig, withCliStore, cliStoreCipher } from './cli-common.js';
import { generateDisclosureReport } from '../../src/processing/disclosure-report.js';
import { SqlAuditLog } from '../store/sql-audit-log.js';
import { SqlIgReports } from '../store/sql-ig-reports.js';

export interface CliOutput {
  write(text: string): unknown;
}

export const EXIT = { ok: 0, unusable: 2 } as const;

const USAGE =
  'usage: npm run audit:disclosures -- <nhs number> [--format json|csv] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--purpose "why"]\n';

/** Runs the report; `env` gives DATABASE_URL / STORK_DATA_DIR / STORK_CONFIG_DIR. */
export async function main(
  args: readonly string[],
  out: CliOutput,
  err: CliOutput,
  env: NodeJS.ProcessEnv = process.env,
  clock: () => Date = () => new Date(),
): Promise<number> {
  let values: { format?: string; since?: string; until?: string; purpose?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        purpose: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err.write(`${(e as Error).message}\n${USAGE}`);
    return EXIT.unusable;
  }
  if (values.help === true) {
    out.write(USAGE);
    return EXIT.ok;
  }
  const nhsNumber = positionals.join('').replace(/\s+/g, '');
  if (positionals.length === 0 || !isValidNhsNumber(nhsNumber)) {
    err.write(`nhs number: give one valid 10-digit NHS number (Modulus 11 check digit)\n${USAGE}`);
    return EXIT.unusable;
  }
  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'csv') {
    err.write(`--format: must be json or csv\n${USAGE}`);
    return EXIT.unusable;
  }
  const since = values.since === undefined ? undefined : readWindowBound(values.since, 'since');
  const until = values.until === undefined ? undefined : readWindowBound(values.until, 'until');
  for (const [name, given, read] of [
    ['since', values.since, since],
    ['until', values.until, until],
  ] as const) {
    if (given !== undefined && read === undefined) {
      err.write(`--${name}: "${given}" is not a date (YYYY-MM-DD, London) or an ISO date-time with offset\n`);
      return EXIT.unusable;
    }
  }
  const configDir = env.STORK_CONFIG_DIR ?? repoRoot;
  try {
    const catchments = loadCatchments(path.join(configDir, 'mappings', 'catchments.json'));
    return await withCliStore(env, 'stork-audit-disclosures', err, async (db) => {
      // NHS numbers are stored as pseudonyms (migration 038): the report looks them up under the hub's key.
      const cipher = await cliStoreCipher(env, db);
      const report = await generateDisclosureReport(
        { source: new SqlIgReports(db, cipher), audit: new SqlAuditLog(db, cipher), catchments },
        {
          nhsNumber,
          by: `cli:${userInfo().username}`,
          ...(values.purpose !== undefined ? { purpose: values.purpose } : {}),
          ...(since ? { since } : {}),
          ...(until ? { until } : {}),
          format,
          via: 'cli',
          at: clock(),
        },
      );
      out.write(format === 'csv' ? disclosureCsv(report) : `${JSON.stringify(report, null, 2)}\n`);
      return EXIT.ok;
    });
  } catch (e) {
    return unusableConfig(e, err);
  }
}

if (await isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr);
}
