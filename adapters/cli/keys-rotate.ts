#!/usr/bin/env node
/**
 * `npm run keys:rotate`: re-encrypts the stored message bytes and ACKs, and the identifiable JSON records of
 * migration 029 (canonical records, notifications' records and disclosed records, families' leads, addresses and
 * GPs, children's records), that are not under the current data key (issue 16 item 3): values under an older key,
 * and values stored in clear; and rebuilds the mothers' blind index rows under it.
 *
 *   npm run keys:rotate -- [--batch-size N] [--json]
 *
 * Reads the data keys as the hub does: STORK_DATA_KEY_FILES (the first file is the current key; list the old ones
 * after it), else the sample configuration's demo key under STORK_CONFIG_DIR. Opens the store the hub uses, without
 * migrating: DATABASE_URL (PostgreSQL, safe while the hub runs), else the embedded store under STORK_DATA_DIR (it
 * allows one process, so stop the hub first). Works in batches and may be stopped and run again at any time; appends
 * one `keys-rotated` audit event with the counts. The report ends with the rows left under each key: an old key
 * with none left may be removed from STORK_DATA_KEY_FILES. Exit 0 done, 1 some rows could not be decrypted (their
 * key is not configured, or they fail authentication), 2 could not run.
 */
import { fileList } from '../../src/config/env.js';
import { loadDataKeys } from '../../src/config/data-keys.js';
import { configDir, EXIT_UNUSABLE, isEntryPoint, readArguments, unusableConfig, type CliOutput, withCliStore } from './cli-common.js';
import { DataCipher } from '../store/data-cipher.js';
import { SqlDataKeyRotation, type KeyRotationReport } from '../store/sql-data-key-rotation.js';

const USAGE = 'usage: npm run keys:rotate -- [--batch-size N] [--json]\n';

/** The report as a few lines: counts and key ids only. */
export function reportText(r: KeyRotationReport): string {
  const left = Object.entries(r.remainingByKey).map(([k, n]) => `    ${k.padEnd(18)} ${n}${k === r.currentKeyId ? ' (current)' : ''}`);
  return [
    `Key rotation at ${r.at}: current data key ${r.currentKeyId}.`,
    `  re-encrypted from an older key: ${r.reencrypted}`,
    `  encrypted (were in clear):      ${r.encrypted}`,
    `  changed meanwhile (next run):   ${r.changedMeanwhile}`,
    `  could not be decrypted:         ${r.undecryptable}`,
    `  mothers' identifiers reindexed: ${r.reindexed}`,
    '  values held, by key (message bodies, identifiable records, blind index):',
    ...(left.length > 0 ? left : ['    none']),
  ].join('\n');
}

/** Runs one rotation; `env` gives STORK_DATA_KEY_FILES, DATABASE_URL / STORK_DATA_DIR and STORK_CONFIG_DIR. */
export async function main(args: readonly string[], out: CliOutput, err: CliOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = readArguments(args, { 'batch-size': { type: 'string' }, json: { type: 'boolean' } }, USAGE, out, err);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  const batchSize = values['batch-size'] === undefined ? 500 : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    err.write(`--batch-size: a whole number from 1 to 10000\n${USAGE}`);
    return EXIT_UNUSABLE;
  }
  try {
    const keys = loadDataKeys({ keyFiles: fileList(env.STORK_DATA_KEY_FILES), configDir: configDir(env) });
    if (keys.current === undefined) {
      err.write('STORK_DATA_KEY_FILES: no data key configured (and no demo key in the configuration folder): nothing to encrypt under\n');
      return EXIT_UNUSABLE;
    }
    if (keys.demo) err.write("warning: the current data key is the sample configuration's public DEMO key\n");
    return await withCliStore(env, 'stork-keys-rotate', err, async (db) => {
      const report = await new SqlDataKeyRotation(db, new DataCipher(keys)).rotate({
        batchSize,
        actor: 'system:keys-rotate',
        at: new Date(),
      });
      out.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${reportText(report)}\n`);
      return report.undecryptable > 0 ? 1 : 0;
    });
  } catch (e) {
    return unusableConfig(e, err);
  }
}

if (await isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr);
}
