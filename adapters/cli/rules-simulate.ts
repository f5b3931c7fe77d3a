#!/usr/bin/env node
/**
 * `npm run rules:simulate`: what a proposed agreement would change, run over the stored history (issue 13 item 5).
 *
 *   npm run rules:simulate -- --rulebook proposed.json [--since 2026-01-01] [--area southmoor] [--json] [--ids]
 *
 * Reads the store the hub uses: DATABASE_URL (PostgreSQL), else the embedded store under STORK_DATA_DIR (./data;
 * it allows one process, so stop the hub first, or use the IG lead's What-if page). Opens it without migrating
 * and reads inside one read-only transaction: nothing is changed. The report gives counts per rule and per centre
 * and the changed notifications by id only (`--ids` lists them in the text; `--json` prints the whole report).
 * Without `--area` the proposal governs the notifications decided under an agreement of its id; with it, every
 * notification routed to that local authority.
 */
import path from 'node:path';
import { loadCatchments } from '../../src/config/catchments.js';
import { loadRulebook } from '../../src/config/rulebook.js';
import { reportText } from '../../src/pipeline/consent/simulate.js';
import { simulateAgreement } from '../../src/processing/simulate-agreement.js';
import { SqlDecisionHistory } from '../store/sql-decision-history.js';
import {
  configDir as configDirOf,
  cliStoreCipher,
  EXIT_UNUSABLE,
  isEntryPoint,
  readArguments,
  unusableConfig,
  type CliOutput,
  withCliStore,
} from './cli-common.js';

export type { CliOutput } from './cli-common.js';

export const EXIT = { ok: 0, unusable: EXIT_UNUSABLE } as const;

const USAGE =
  'usage: npm run rules:simulate -- --rulebook proposed.json [--since YYYY-MM-DD] [--area <local authority id>] [--json] [--ids]\n';

/** Runs the simulation; `env` gives DATABASE_URL / STORK_DATA_DIR / STORK_CONFIG_DIR. */
export async function main(args: readonly string[], out: CliOutput, err: CliOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const read = readArguments(
    args,
    {
      rulebook: { type: 'string' },
      since: { type: 'string' },
      area: { type: 'string' },
      json: { type: 'boolean' },
      ids: { type: 'boolean' },
    },
    USAGE,
    out,
    err,
  );
  if ('exit' in read) return read.exit;
  const { values } = read;
  if (values.rulebook === undefined) {
    err.write(`--rulebook is required\n${USAGE}`);
    return EXIT.unusable;
  }
  let since: Date | undefined;
  if (values.since !== undefined) {
    since = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d\d:\d\d))?$/.test(values.since) ? new Date(values.since) : undefined;
    if (since === undefined || Number.isNaN(since.getTime())) {
      err.write(`--since: "${values.since}" is not a date (YYYY-MM-DD or an ISO date-time)\n`);
      return EXIT.unusable;
    }
  }
  const configDir = configDirOf(env);
  try {
    const proposed = loadRulebook(values.rulebook);
    if (values.area !== undefined) {
      const catchments = loadCatchments(path.join(configDir, 'mappings', 'catchments.json'));
      if (!catchments.localAuthorities.some((la) => la.id === values.area)) {
        err.write(`--area: no local authority "${values.area}" (known: ${catchments.localAuthorities.map((la) => la.id).join(', ')})\n`);
        return EXIT.unusable;
      }
    }
    return await withCliStore(env, 'stork-rules-simulate', err, async (db) => {
      const { report, elapsedMs } = await simulateAgreement(
        new SqlDecisionHistory(db, await cliStoreCipher(env, db)),
        { proposed, ...(values.area !== undefined ? { area: values.area } : {}) },
        since,
      );
      out.write(
        values.json === true
          ? `${JSON.stringify({ ...report, elapsedMs }, null, 2)}\n`
          : `${reportText(report, values.ids === true)}\n(${elapsedMs} ms)\n`,
      );
      return EXIT.ok;
    });
  } catch (e) {
    return unusableConfig(e, err);
  }
}

if (await isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr);
}
