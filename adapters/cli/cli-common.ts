/**
 * What the rules commands (`rules:test`, `rules:simulate`) share: where they write, how they read their arguments
 * (a usage line on a mistake, `--help`), the configuration folder, a bad data file as exit 2 naming file and field,
 * and whether the module is the script Node was started with.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { repoRoot } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/config-error.js';

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
