import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { describeNewborn, distinctSeeds } from '../support/synthetic/newborn-adt.js';
import { OwnRedis } from '../support/own-redis.js';
import { pollUntil } from '../support/poll.js';
import { inboxItemsPerBaby } from '../support/inbox-arrivals.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { pseudo } from '../support/data-keys.js';

/** Births in the stream: small in CI; `STORK_RESILIENCE_MESSAGES=2000` for the larger run (README, "Resilience"). */
const MESSAGES = Number(process.env.STORK_RESILIENCE_MESSAGES ?? '60');
const CONNECTIONS = 3;

const birth = (seed: number) => {
  const b = describeNewborn({
    seed,
    controlId: `RR-${seed}`,
    sendingFacility: 'RX1',
    sendingApplication: 'MATERNITY',
    messageTime: new Date(),
    postcodes: ['LS9 7AB'],
  });
  // Original acknowledgment mode: AA is the positive answer.
  return { ...b, text: b.text.replace('|AL|NE|', '|||') };
};
const msa1 = (ack: string): string | undefined => ack.split('\r')[1]?.split('|')[1];

interface Answer {
  seed: number;
  code: string;
  /** When the answer came, relative to the outage. */
  phase: 'before' | 'during' | 'after';
  ms: number;
}

/**
 * Redis (the queue) is killed in the middle of a stream of births over MLLP and started again, empty, on the same
 * port. README's ACK semantics: AA only once the message is committed in PostgreSQL; Redis being down does not stop
 * intake. So while Redis is away intake keeps answering AA (the message is durably stored as `queued`, never AA
 * for anything not stored), answers stay bounded in time, and once Redis is back every acknowledged birth reaches
 * its centre inbox exactly once: jobs lost with Redis's memory, or never added, are queued again by the recovery sweep.
 */
describe('Resilience: Redis restarted during a stream', () => {
  let redis: OwnRedis | undefined;
  let t: TestHub | undefined;
  afterAll(async () => {
    // Bounded, so the test's redis-server is killed even if the hub's stop hangs.
    const hubStopped = t?.stop().catch(() => undefined);
    await Promise.race([hubStopped, new Promise((r) => setTimeout(r, 20000).unref())]);
    await redis?.stop();
  }, 30000);

  test(`${MESSAGES} births over ${CONNECTIONS} MLLP connections; Redis killed and restarted mid-stream; all delivered once`, async () => {
    redis = await OwnRedis.start();
    t = await startTestHub({ env: { REDIS_URL: redis.url, STORK_RECOVERY_SWEEP_MS: '500', STORK_JOB_LOCK_MS: '2000' } });
    const hub = t;
    const births = distinctSeeds(MESSAGES, 9000).map(birth);
    const answers: Answer[] = [];
    let phase: Answer['phase'] = 'before';
    const third = Math.max(1, Math.floor(MESSAGES / 3));
    // Once a third is answered the senders wait for Redis to be stopped, so that a third is left to send while it is
    // away however fast the machine answers (alone on a quiet one, a stream can finish while the stop runs).
    let markStopped!: () => void;
    const stopped = new Promise<void>((resolve) => (markStopped = resolve));

    // Each connection sends its share one message at a time, as a sender does; a message without an answer (the
    // connection closed or timed out) is sent again on a new connection, with the same MSH-10.
    const sender = async (share: typeof births): Promise<void> => {
      let client = await MllpClient.connect({ host: '127.0.0.1', port: hub.mllpPort, timeoutMs: 10000 });
      try {
        for (const b of share) {
          if (phase === 'before' && answers.length >= third) await stopped;
          for (let attempt = 0; ; attempt++) {
            const started = Date.now();
            const at = phase;
            try {
              const ack = await client.send(b.text);
              answers.push({
                seed: Number(b.controlId.slice(3)),
                code: msa1(ack) ?? '?',
                phase: at === phase ? at : 'during',
                ms: Date.now() - started,
              });
              break;
            } catch (err) {
              if (attempt >= 3) throw err;
              await client.destroy();
              client = await MllpClient.connect({ host: '127.0.0.1', port: hub.mllpPort, timeoutMs: 10000 });
            }
          }
        }
      } finally {
        await client.close().catch(() => client.destroy());
      }
    };
    const shares = Array.from({ length: CONNECTIONS }, (_, c) => births.filter((_, i) => i % CONNECTIONS === c));
    const streaming = Promise.all(shares.map(sender));

    await pollUntil(() => (answers.length >= third ? true : undefined), 'the first third of the answers', 60000);
    await redis.stop();
    phase = 'during';
    markStopped();
    const atStop = answers.length;
    await pollUntil(() => (answers.length >= atStop + third ? true : undefined), 'answers while Redis is away', 60000);
    await redis.restart();
    phase = 'after';
    await streaming;

    expect(answers).toHaveLength(MESSAGES);
    expect(answers.filter((a) => a.phase === 'during').length).toBeGreaterThanOrEqual(third);
    // What README says: Redis being down does not stop intake; every answer is AA, during the outage too.
    expect(answers.filter((a) => a.code !== 'AA')).toEqual([]);
    // Bounded answers while Redis is away (the ACK waits for the commit only, never for Redis).
    expect(Math.max(...answers.filter((a) => a.phase === 'during').map((a) => a.ms))).toBeLessThan(5000);

    // Every acknowledged message is stored (AA only after commit) and reaches its centre inbox exactly once.
    const nhsNumbers = births.map((b) => b.baby.nhsNumber);
    const delivered = await inboxItemsPerBaby(hub.database.db, nhsNumbers, 'every acknowledged birth in its centre inbox', 60000);
    expect(delivered.filter((r) => Number(r.n) !== 1)).toEqual([]);
    const notifications = await hub.database.db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM notifications WHERE baby_nhs_number = ANY($1)`,
      [nhsNumbers.map((x) => pseudo(x))],
    );
    expect(Number(notifications.rows[0]?.n)).toBe(new Set(nhsNumbers).size);
    const statuses = await hub.database.db.query<{ status: string; n: string | number }>(
      `SELECT status, count(*) AS n FROM messages WHERE control_id LIKE 'RR-%' GROUP BY status`,
    );
    expect(statuses.rows.map((r) => [r.status, Number(r.n)])).toEqual([['processed', MESSAGES]]);
  }, 120000);
});
