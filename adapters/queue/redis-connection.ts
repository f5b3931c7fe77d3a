import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisSettings } from '../../src/config/env.js';

/** A connection to Stork's Redis: one server or a sentinel-managed master (`Redis`), or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Rounds over every sentinel before a first connection gives up (a few ms when none answers). */
const SENTINEL_ROUNDS_AT_START = 3;

/**
 * Redis connections for BullMQ, in any of the three modes of `RedisSettings` (a bare URL is a single server).
 * Workers block and must retry forever (`maxRetriesPerRequest: null`, which BullMQ requires of a worker's connection,
 * on a cluster in its `redisOptions`); producers fail fast while Redis is down (no offline queue), so intake answers
 * at once instead of hanging. `name` is the connection's CLIENT SETNAME (on every node of a cluster), so an operator
 * (or a test) can tell a hub's connections apart.
 */
export function redisConnection(settings: RedisSettings | string, purpose: 'worker' | 'producer', name?: string): RedisClient {
  const where: RedisSettings = typeof settings === 'string' ? { mode: 'single', url: settings } : settings;
  const options: RedisOptions =
    purpose === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3000 };
  const named = name !== undefined ? { connectionName: name } : {};
  let redis: RedisClient;
  if (where.mode === 'cluster') {
    const { enableOfflineQueue, ...nodeOptions } = options;
    const clusterOptions: ClusterOptions = {
      lazyConnect: true,
      enableReadyCheck: true,
      ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
      redisOptions: {
        ...nodeOptions,
        ...named,
        ...(where.password !== undefined ? { password: where.password() } : {}),
        ...(where.tls ? { tls: {} } : {}),
      },
    };
    redis = new Cluster(
      where.nodes.map((n) => ({ host: n.host, port: n.port })),
      clusterOptions,
    );
  } else if (where.mode === 'sentinel') {
    // Sentinels that never answered give up after a few rounds, so start-up stops saying so; once the master was
    // reached, a lost connection asks the sentinels again (for the new master after a failover) for as long as it takes.
    let reached = false;
    redis = new Redis({
      sentinelRetryStrategy: (times: number) => (!reached && times > SENTINEL_ROUNDS_AT_START ? null : Math.min(times * 10, 1000)),
      ...options,
      ...named,
      lazyConnect: true,
      sentinels: where.sentinels.map((n) => ({ host: n.host, port: n.port })),
      name: where.masterName,
      ...(where.password !== undefined ? { password: where.password() } : {}),
      ...(where.sentinelPassword !== undefined ? { sentinelPassword: where.sentinelPassword() } : {}),
      ...(where.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    });
    redis.once('ready', () => (reached = true));
  } else {
    redis = new Redis(where.url, { ...options, lazyConnect: true, ...named });
  }
  // Connection errors surface through the commands that fail; an unhandled 'error' event would crash the process.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * Where Redis is, for messages that say which server could not be reached (never a password): `host:port` of a
 * URL, a cluster's seed nodes, a master's name and its sentinels.
 */
export function redisAddress(settings: RedisSettings | string): string {
  const where: RedisSettings = typeof settings === 'string' ? { mode: 'single', url: settings } : settings;
  const list = (nodes: readonly { host: string; port: number }[]): string => nodes.map((n) => `${n.host}:${n.port}`).join(', ');
  if (where.mode === 'cluster') return `the Redis Cluster of seed nodes ${list(where.nodes)}`;
  if (where.mode === 'sentinel') return `the Redis master "${where.masterName}" of sentinels ${list(where.sentinels)}`;
  try {
    const u = new URL(where.url);
    return `Redis at ${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'Redis at the configured address';
  }
}

/**
 * Why a connection failed, short and safe to show (no address, no password): the socket error's code
 * (ECONNREFUSED, ...), or what ioredis says of a cluster or sentinel set that does not answer, else the error's name.
 */
export function redisFailure(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code;
  if (err instanceof Error && err.name === 'ClusterAllFailedError') {
    const last = redisFailure((err as Error & { lastNodeError?: unknown }).lastNodeError);
    return last === 'error' || last === 'Error' ? 'no seed node answers' : `no seed node answers: ${last}`;
  }
  const message = err instanceof Error ? err.message : '';
  const socket = /\b(E[A-Z]{3,20})\b/.exec(message)?.[1];
  const what = message.startsWith('All sentinels are unreachable')
    ? 'no sentinel answers with the master'
    : message.startsWith('None of startup nodes is available')
      ? 'no seed node answers'
      : /^no answer within \d+ s$/.test(message)
        ? message
        : undefined;
  if (what !== undefined) return socket !== undefined ? `${what}: ${socket}` : what;
  return socket ?? (err instanceof Error ? err.name : 'error');
}

/**
 * BullMQ's key prefix of one queue. Every key of a queue starts with `<prefix>:<queue>:`; its Lua scripts touch
 * several of them at once, which a Redis Cluster allows only within one hash slot. So on a cluster the prefix is a
 * hash tag of its own per queue, `{<prefix>:<queue>}`: all keys of a queue share a slot, while different queues
 * (processing, each inbox's delivery) spread over the masters. On one server or a sentinel-managed master the prefix
 * stays `<prefix>`, so the keys (and the jobs) of an existing deployment are where they always were.
 */
export function queueKeyPrefix(prefix: string, queue: string, hashTagged: boolean): string {
  return hashTagged ? `{${prefix}:${queue}}` : prefix;
}
