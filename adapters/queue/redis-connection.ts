import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections for BullMQ. Workers block and must retry forever (`maxRetriesPerRequest: null`);
 * producers fail fast while Redis is down (no offline queue), so intake answers AE at once instead of hanging.
 * `name` is the connection's CLIENT SETNAME, so an operator (or a test) can tell a hub's connections apart.
 */
export function redisConnection(url: string, purpose: 'worker' | 'producer', name?: string): Redis {
  const options: RedisOptions =
    purpose === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3000 };
  const redis = new Redis(url, { ...options, lazyConnect: true, ...(name !== undefined ? { connectionName: name } : {}) });
  // Connection errors surface through the commands that fail; an unhandled 'error' event would crash the process.
  redis.on('error', () => undefined);
  return redis;
}

/** `host:port` of a Redis URL, for messages that say which server could not be reached (no password). */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'the configured address';
  }
}
