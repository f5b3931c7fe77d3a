#!/usr/bin/env node
/**
 * `npm run audit:verify`: checks the audit chain and its signed checkpoints (issue 14; README, "Tamper-evident audit").
 *
 *   npm run audit:verify                                   # the chain, and every stored checkpoint
 *   npm run audit:verify -- --witness hub.log              # also the checkpoints the hub logged (its external witness)
 *   npm run audit:verify -- --max-checkpoint-age 900       # also: the latest checkpoint is at most 900 s old
 *   npm run audit:verify -- --json                         # the result as JSON (as GET /v1/audit/verify)
 *
 * Reads the store the hub uses: DATABASE_URL (PostgreSQL), else the embedded store under STORK_DATA_DIR (./data; it
 * allows one process, so stop the hub first, or use GET /v1/audit/verify). Opens it without migrating and changes
 * nothing. Public keys: the signing key's (STORK_AUDIT_SIGNING_KEY_FILE, else the sample configuration's demo key) and
 * STORK_AUDIT_PUBLIC_KEY_FILES. Exit 0 when all is well; 1 when something is wrong (the first bad event is named:
 * its seq and what is wrong); 2 when the store or a key cannot be read.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadEnvConfig } from '../../src/config/env.js';
import { loadAuditKeys } from '../../src/config/audit-keys.js';
import type { AuditCheckpoint } from '../../src/domain/audit-checkpoint.js';
import { isEntryPoint, unusableConfig, withCliStore } from './cli-common.js';
import { checkpointsFromLog, verifyAuditChain, type AuditVerifyResult } from '../store/audit-chain.js';

export interface CliOutput {
  write(text: string): unknown;
}

export const EXIT = { ok: 0, failed: 1, unusable: 2 } as const;

const USAGE = 'usage: npm run audit:verify -- [--witness <log file>] [--max-checkpoint-age <seconds>] [--json]\n';

/** The result as an operator reads it. */
export function resultText(r: AuditVerifyResult, elapsedMs: number): string {
  const lines = [
    `${r.ok ? 'OK' : 'FAILED'}: ${r.eventsChecked} chained events checked (last seq ${r.lastSeq ?? 'none'}), ${r.legacyEvents} from before the chain, ` +
      `${r.checkpointsChecked} checkpoints checked${r.lastCheckpoint ? ` (latest: seq ${r.lastCheckpoint.seq}, ${r.lastCheckpoint.at}, key ${r.lastCheckpoint.keyId})` : ''}; ` +
      `${r.eventsAfterLastCheckpoint} events after the latest checkpoint (${elapsedMs} ms)`,
  ];
  if (r.firstProblem)
    lines.push(`first bad event: ${r.firstProblem.seq !== undefined ? `seq ${r.firstProblem.seq}: ` : ''}${r.firstProblem.problem}`);
  for (const p of r.problems.slice(1, 20)) lines.push(`  also: ${p.problem}`);
  if (r.problems.length > 20) lines.push(`  … ${r.problems.length - 20} more`);
  return `${lines.join('\n')}\n`;
}

export async function main(args: readonly string[], out: CliOutput, err: CliOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { witness?: string; 'max-checkpoint-age'?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        witness: { type: 'string' },
        'max-checkpoint-age': { type: 'string' },
        json: { type: 'boolean' },
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
  const maxAge = values['max-checkpoint-age'];
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge)) {
    err.write(`--max-checkpoint-age: "${maxAge}" is not a number of seconds\n`);
    return EXIT.unusable;
  }
  try {
    const config = loadEnvConfig(env);
    const keys = loadAuditKeys({
      ...(config.auditSigningKeyFile !== undefined ? { signingKeyFile: config.auditSigningKeyFile } : {}),
      publicKeyFiles: config.auditPublicKeyFiles,
      configDir: config.configDir,
    });
    let witness: AuditCheckpoint[] | undefined;
    if (values.witness !== undefined) {
      try {
        witness = checkpointsFromLog(readFileSync(values.witness, 'utf8'));
      } catch (e) {
        err.write(`--witness: cannot read ${values.witness} (${(e as NodeJS.ErrnoException).code ?? 'error'})\n`);
        return EXIT.unusable;
      }
    }
    // The store named by the checked settings (an empty DATABASE_URL or STORK_DATA_DIR counts as unset), two connections.
    const store = { DATABASE_URL: config.databaseUrl, STORK_DATA_DIR: config.dataDir };
    return await withCliStore(store, { name: 'stork-audit-verify', connections: 2 }, err, async (db) => {
      const started = Date.now();
      const result = await verifyAuditChain(db, {
        publicKeys: keys.publicKeys,
        ...(witness !== undefined ? { witness } : {}),
        ...(maxAge !== undefined ? { maxCheckpointAgeMs: Number(maxAge) * 1000 } : {}),
      });
      const elapsedMs = Date.now() - started;
      out.write(values.json === true ? `${JSON.stringify({ ...result, elapsedMs }, null, 2)}\n` : resultText(result, elapsedMs));
      return result.ok ? EXIT.ok : EXIT.failed;
    });
  } catch (e) {
    return unusableConfig(e, err);
  }
}

if (await isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr);
}
