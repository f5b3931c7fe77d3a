/**
 * What the command-line tools share: where they write, how they read their arguments
 * (a usage line on a mistake, `--help`), the configuration folder, a bad data file as exit 2 naming file and field,
 * and whether the module is the script Node was started with.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fileList, repoRoot } from '../../src/config/env.js';
import { loadDataKeys } from '../../src/config/data-keys.js';
import { DataCipher } from '../store/data-cipher.js';
import { fixPseudonymKey } from '../store/pseudonym-key.js';
import { ConfigError } from '../../src/domain/config-error.js';
import type { Database, SqlClient } from '../../src/ports/database.js';
import { openPostgres } from '../store/postgres-database.js';
import { openPglite } from '../store/pglite-database.js';
import { postgresAddress } from '../store/open-store.js';

export interface CliOutput {
  write(text: string): unknown;
}

/** The exit code of a command that could not be run as asked (an argument, a file, the store). */
export const EXIT_UNUSABLE = 2;

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof HELP }>>['values'];

/**
 * The command's options (`--help`/`-h` added), or the exit code when there is nothing more to do: a mistake is
 * written to `err` with the usage (exit 2), `--help` writes the usage to `out` (exit 0).
 */
export function readArguments<O extends Options>(
  args: readonly string[],
  options: O,
  usage: string,
  out: CliOutput,
  err: CliOutput,
): { values: Values<O> } | { exit: number } {
  let values: Values<O>;
  try {
    ({ values } = parseArgs({ args: [...args], options: { ...options, ...HELP } }));
  } catch (e) {
    err.write(`${(e as Error).message}\n${usage}`);
    return { exit: EXIT_UNUSABLE };
  }
  if ((values as { help?: boolean }).help === true) {
    out.write(usage);
    return { exit: 0 };
  }
  return { values };
}

/** The configuration folder: STORK_CONFIG_DIR, else the repository's. */
export function configDir(env: NodeJS.ProcessEnv): string {
  return env.STORK_CONFIG_DIR ?? repoRoot;
}

/**
 * The data keys the hub reads records with (STORK_DATA_KEY_FILES, else the configuration's demo key): a tool reading
 * encrypted columns needs the same ones. A bad key file throws a ConfigError naming the setting and file.
 */
export function cliCipher(env: NodeJS.ProcessEnv): DataCipher {
  return new DataCipher(loadDataKeys({ keyFiles: fileList(env.STORK_DATA_KEY_FILES), configDir: configDir(env) }));
}

/**
 * cliCipher with the pseudonymisation key the store holds fixed (migration 038): a tool that looks up or writes NHS
 * numbers and lookup keys needs it. A held key that is not configured throws a ConfigError naming its id.
 */
export async function cliStoreCipher(env: NodeJS.ProcessEnv, db: SqlClient): Promise<DataCipher> {
  const cipher = cliCipher(env);
  await fixPseudonymKey(db, cipher);
  return cipher;
}

/** A data file that cannot be loaded: its message (naming file and field) to `err`, exit 2; anything else is thrown. */
export function unusableConfig(e: unknown, err: CliOutput): number {
  if (e instanceof ConfigError) {
    err.write(`${e.message}\n`);
    return EXIT_UNUSABLE;
  }
  throw e;
}

/** Whether the module at `moduleUrl` is the script Node was started with (not imported by a test). */
export async function isEntryPoint(moduleUrl: string): Promise<boolean> {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return moduleUrl === pathToFileURL(await realpath(path.resolve(script))).href;
  } catch {
    return false;
  }
}

/** How a command names its PostgreSQL connections (application_name) and how many it opens (1 unless given). */
export type CliStoreName = string | { name: string; connections: number };

/**
 * The store the hub uses, opened without migrating (the hub migrates): DATABASE_URL (PostgreSQL, one connection named
 * `name`, or as many as given), else the embedded store under STORK_DATA_DIR (./data). On failure, writes why to
 * `err` and returns undefined.
 */
export async function openCliStore(env: NodeJS.ProcessEnv, name: CliStoreName, err: CliOutput): Promise<Database | undefined> {
  const url = env.DATABASE_URL;
  const { name: applicationName, connections } = typeof name === 'string' ? { name, connections: 1 } : name;
  try {
    return url !== undefined
      ? await openPostgres({ connectionString: url, maxConnections: connections, applicationName })
      : await openPglite(path.join(env.STORK_DATA_DIR ?? './data', 'pglite'));
  } catch (e) {
    err.write(`cannot open the store${url !== undefined ? ` at ${postgresAddress(url)}` : ''}: ${(e as Error).message}\n`);
    return undefined;
  }
}

/**
 * Opens the hub's store as openCliStore does, runs `use` with it and closes it whatever happens. The store cannot be
 * opened: why is written to `err`, exit 2. What `use` throws is thrown on, after the store is closed.
 */
export async function withCliStore(
  env: NodeJS.ProcessEnv,
  name: CliStoreName,
  err: CliOutput,
  use: (db: Database) => Promise<number>,
): Promise<number> {
  const db = await openCliStore(env, name, err);
  if (db === undefined) return EXIT_UNUSABLE;
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}
