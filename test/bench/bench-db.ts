/** The bench's reads of its own database and Redis: inbox counts, end-to-end figures, clean-up. */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { Database } from '../../src/ports/database.js';
import { sleep, type Dist } from './bench-stats.js';
import type { Deadline } from './load-generator-protocol.js';

// ---------------------------------------------------------------------------------------------------
// Database and Redis

/** Inbox items in the bench's database (a private, fresh one: every row is this run's). */
export async function inboxCount(db: Database): Promise<number> {
  const r = await db.query<{ n: string }>('SELECT count(*) AS n FROM inbox_items');
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * Polls every 50 ms, until the run's deadline, for `count` more inbox items than the `before` counted at the
 * start of the phase. The poll is a bare count of one table (it runs while the hub is being measured, so it
 * must cost PostgreSQL little); which messages the items came from is checked after the phase, by
 * pipelineFigures. About once a second it also fails fast on messages that will never reach an inbox
 * (quarantined, not relevant, a duplicate birth): any message in the database not queued or
 * processed, since the earlier phases already ended with all theirs in an inbox.
 */
export async function waitForInbox(
  db: Database,
  before: number,
  count: number,
  deadline: Deadline,
): Promise<{ epochMs: number; polls: number; stuckChecks: number }> {
  const STUCK_CHECK_EVERY_MS = 1000;
  let polls = 0;
  let stuckChecks = 0;
  let lastStuckCheck = performance.now();
  for (;;) {
    polls++;
    const n = (await inboxCount(db)) - before;
    if (n >= count) return { epochMs: Date.now(), polls, stuckChecks };
    if (performance.now() - lastStuckCheck >= STUCK_CHECK_EVERY_MS) {
      stuckChecks++;
      const stuck = await db.query<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM messages WHERE status NOT IN ('queued', 'processed') GROUP BY status`,
      );
      if (stuck.rows.length > 0) {
        throw new Error(`messages that will never reach an inbox: ${stuck.rows.map((s) => `${s.status}=${s.n}`).join(', ')}`);
      }
      lastStuckCheck = performance.now();
    }
    deadline.check(`waiting for inbox items (${n} of ${count})`);
    await sleep(50);
  }
}

export interface PipelineFigures {
  inboxItems: number;
  byInbox: Record<string, number>;
  e2eMs: Dist;
  firstReceivedEpochMs: number;
  lastDeliveredEpochMs: number;
}

/** End-to-end latency (messages.received_at → inbox_items.delivered_at), computed in SQL. */
export async function pipelineFigures(db: Database, prefix: string): Promise<PipelineFigures> {
  const base = `FROM inbox_items i JOIN notifications n ON n.id = i.notification_id JOIN messages m ON m.id = n.message_id WHERE m.control_id LIKE $1`;
  const r = await db.query<{
    n: string;
    p50: number;
    p90: number;
    p99: number;
    max: number;
    first_received: number;
    last_delivered: number;
  }>(
    `SELECT count(*) AS n,
            percentile_cont(0.50) WITHIN GROUP (ORDER BY ms) AS p50,
            percentile_cont(0.90) WITHIN GROUP (ORDER BY ms) AS p90,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
            max(ms) AS max,
            (extract(epoch FROM min(received_at)) * 1000)::float8 AS first_received,
            (extract(epoch FROM max(delivered_at)) * 1000)::float8 AS last_delivered
       FROM (SELECT (extract(epoch FROM (i.delivered_at - m.received_at)) * 1000)::float8 AS ms, m.received_at, i.delivered_at ${base}) t`,
    [`${prefix}%`],
  );
  const q = await db.query<{ inbox_id: string; n: string }>(
    `SELECT i.inbox_id, count(*) AS n ${base} GROUP BY i.inbox_id ORDER BY i.inbox_id`,
    [`${prefix}%`],
  );
  const row = r.rows[0];
  return {
    inboxItems: Number(row?.n ?? 0),
    byInbox: Object.fromEntries(q.rows.map((x) => [x.inbox_id, Number(x.n)])),
    e2eMs: { count: Number(row?.n ?? 0), p50: Number(row?.p50), p90: Number(row?.p90), p99: Number(row?.p99), max: Number(row?.max) },
    firstReceivedEpochMs: Number(row?.first_received),
    lastDeliveredEpochMs: Number(row?.last_delivered),
  };
}

/** Deletes every Redis key under `prefix:` (SCAN, never KEYS). */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
