#!/usr/bin/env node
/**
 * `npm run replay`: webhook dead letters (issue 15 item 2), for operators.
 *
 *   npm run replay -- --list [--centre <id>] [--json]     list dead letters (oldest first)
 *   npm run replay -- --id <dead-letter-id>                replay one
 *   npm run replay -- --centre <id> --all                  replay every dead letter of a centre
 *
 * Reads `mappings/catchments.json` of STORK_CONFIG_DIR (the repository's by default) and the store the hub uses:
 * DATABASE_URL (PostgreSQL), else the embedded store under STORK_DATA_DIR (./data; it allows one process, so stop the
 * hub first). A replay re-applies the current consent decision (a notification withdrawn since is not sent: the
 * line says so), is audited as `webhook-replayed` by `cli:<your login>` linked to the dead letter, and is sent by a
 * running hub's workers at their next sweep (STORK_WEBHOOK_SWEEP_MS).
 */
import os from 'node:os';
import { configFiles } from '../../src/config/hub-config.js';
import { loadCatchments } from '../../src/config/catchments.js';
import { webhookOf } from '../../src/pipeline/catchments.js';
import type { ReplayOutcome, WebhookDelivery } from '../../src/ports/webhooks.js';
import { replayDeadLetters, replaySentence } from '../../src/processing/webhooks.js';
import {
  cliStoreCipher,
  configDir,
  EXIT_UNUSABLE,
  isEntryPoint,
  readArguments,
  unusableConfig,
  type CliOutput,
  withCliStore,
} from './cli-common.js';
import { SqlWebhookStore } from '../store/sql-webhook-store.js';

const USAGE =
  'usage: npm run replay -- --list [--centre <id>] [--json]\n' +
  '       npm run replay -- --id <dead-letter-id>\n' +
  '       npm run replay -- --centre <id> --all\n';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const OPTIONS = {
  list: { type: 'boolean' },
  id: { type: 'string' },
  centre: { type: 'string' },
  all: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

function line(d: WebhookDelivery): string {
  return `${d.id}  ${d.centreId}  ${d.event.padEnd(9)}  notification ${d.notificationId}  dead since ${d.deadAt ?? '?'}  after ${d.attempts} tries: ${d.lastError ?? ''}`;
}

function outcomeLine(id: string, o: ReplayOutcome): string {
  return `${id}: ${replaySentence(o)}`;
}

/** Runs the command; `env` gives DATABASE_URL / STORK_DATA_DIR / STORK_CONFIG_DIR. Exit 0 done, 1 nothing replayed, 2 unusable. */
export async function main(args: readonly string[], out: CliOutput, err: CliOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = readArguments(args, OPTIONS, USAGE, out, err);
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  const modes = [v.list === true, v.id !== undefined, v.all === true].filter(Boolean).length;
  if (modes !== 1 || (v.all === true && v.centre === undefined) || (v.id !== undefined && !UUID.test(v.id))) {
    err.write(USAGE);
    return EXIT_UNUSABLE;
  }
  try {
    const catchments = loadCatchments(configFiles(configDir(env)).catchments);
    const hooks = [...catchments.centres].filter(([, c]) => webhookOf(c.delivery) !== undefined).map(([id]) => id);
    if (v.centre !== undefined && !hooks.includes(v.centre)) {
      err.write(`--centre: "${v.centre}" is not a centre with a webhook (${hooks.join(', ') || 'none'})\n`);
      return EXIT_UNUSABLE;
    }
    return await withCliStore(env, 'stork-replay', err, async (db) => {
      const store = new SqlWebhookStore(db, await cliStoreCipher(env, db));
      if (v.list === true) {
        const page = await store.deadLetters({ limit: 500, ...(v.centre !== undefined ? { centreId: v.centre } : {}) });
        if (v.json === true) out.write(`${JSON.stringify(page, null, 2)}\n`);
        else out.write(page.items.length === 0 ? 'No dead letters.\n' : `${page.items.map(line).join('\n')}\n`);
        return 0;
      }
      const who = `cli:${safeLogin()}`;
      const outcomes =
        v.id !== undefined
          ? await replayDeadLetters({ store, clock: () => new Date() }, { id: v.id }, who, 'operator')
          : await replayDeadLetters({ store, clock: () => new Date() }, { centreId: v.centre ?? '' }, who, 'operator');
      if (outcomes.length === 0) out.write('No dead letters to replay.\n');
      const ids = v.id !== undefined ? [v.id] : outcomes.map((o) => ('delivery' in o ? o.delivery.id : ''));
      outcomes.forEach((o, i) => out.write(`${outcomeLine(ids[i] ?? '', o)}\n`));
      return outcomes.some((o) => o.kind === 'requeued' || o.kind === 'superseded') ? 0 : 1;
    });
  } catch (e) {
    return unusableConfig(e, err);
  }
}

/** The operator's login name, as the audit's actor (letters, digits and . _ - only). */
function safeLogin(): string {
  try {
    return (
      os
        .userInfo()
        .username.replace(/[^A-Za-z0-9._-]/g, '_')
        .slice(0, 64) || 'unknown'
    );
  } catch {
    return 'unknown';
  }
}

if (await isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr);
}
