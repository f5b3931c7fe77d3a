import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadEnvConfig, repoRoot } from '../../src/config/env.js';
import { createLogger } from '../../src/logger.js';
import { startHub, type Hub } from '../../src/hub.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { LogSink } from './log-sink.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestHub {
  hub: Hub;
  database: TestDatabase;
  sink: LogSink;
  prefix: string;
  http: string;
  mllpPort: number;
  stop(): Promise<void>;
}

/**
 * Starts a real hub in this process: real Redis (a queue prefix of its own), a fresh database of the
 * project's store kind, HTTP and MLLP on free loopback ports, logs captured in a sink at debug level.
 */
export async function startTestHub(
  options: {
    configDir?: string;
    env?: Record<string, string>;
    database?: TestDatabase;
    /** PostgreSQL only: also give the hub DATABASE_URL, so it opens its intake and API pools as in production. */
    databaseUrlToo?: boolean;
  } = {},
): Promise<TestHub> {
  const database = options.database ?? (await createTestDatabase());
  const prefix = `stork-test-${randomUUID().slice(0, 8)}`;
  const env = loadEnvConfig({
    STORK_HTTP_PORT: '0',
    STORK_MLLP_PORT: '0',
    STORK_HOST: '127.0.0.1',
    REDIS_URL,
    STORK_CONFIG_DIR: options.configDir ?? repoRoot,
    STORK_QUEUE_PREFIX: prefix,
    STORK_WORKER_CONCURRENCY: '4',
    LOG_LEVEL: 'debug',
    ...(options.databaseUrlToo === true && database.url !== undefined ? { DATABASE_URL: database.url } : {}),
    ...options.env,
  });
  const sink = new LogSink();
  const hub = await startHub({ env, logger: createLogger('debug', sink), db: database.db });
  return {
    hub,
    database,
    sink,
    prefix,
    http: `http://127.0.0.1:${hub.httpPort ?? 0}`,
    mllpPort: hub.mllpPort ?? 0,
    async stop() {
      await hub.stop();
      await database.drop();
      await deleteKeys(prefix);
    },
  };
}

/** Removes a test's BullMQ keys from Redis. */
export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

/** `fetch` with a bearer key. */
export function api(base: string, key: string | undefined, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (key !== undefined) headers.set('authorization', `Bearer ${key}`);
  return fetch(`${base}${path}`, { ...init, headers });
}
