import { loadEnvConfig } from './config/env.js';
import { ConfigError } from './domain/config-error.js';
import { createLogger } from './logger.js';
import { startHub } from './hub.js';

/** The composition root: settings → logger → hub; SIGTERM/SIGINT stop it gracefully. */
async function main(): Promise<void> {
  const env = loadEnvConfig();
  const logger = createLogger(env.logLevel);
  const hub = await startHub({ env, logger });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    hub.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`stork: cannot start.\n${err.message}\n`);
  } else {
    process.stderr.write(`stork: cannot start: ${(err as Error).stack ?? String(err)}\n`);
  }
  process.exit(1);
});
