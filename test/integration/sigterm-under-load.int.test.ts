import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { repoRoot } from '../../src/config/env.js';
import { buildHub } from '../support/build-hub.js';
import { describeNewborn, distinctSeeds } from '../support/synthetic/newborn-adt.js';
import { freePort } from '../support/own-redis.js';
import { pollUntil } from '../support/poll.js';
import { inboxItemsPerBaby } from '../support/inbox-arrivals.js';
import { createTestDatabase, storeKind, type TestDatabase } from '../support/test-database.js';
import { deleteKeys, REDIS_URL } from '../support/test-hub.js';
import { recordChildLog } from '../support/log-sink.js';

/** Births in the stream: small in CI; `STORK_RESILIENCE_MESSAGES=2000` for the larger run (README, "Resilience"). */
const MESSAGES = Number(process.env.STORK_RESILIENCE_MESSAGES ?? '60');
const CONNECTIONS = 4;
/** How long a hub may take to stop after SIGTERM. */
const STOP_BOUND_MS = 20000;

const birth = (seed: number) => {
  const b = describeNewborn({
    seed,
    controlId: `ST-${seed}`,
    sendingFacility: 'RX1',
    sendingApplication: 'MATERNITY',
    messageTime: new Date(),
    postcodes: ['LS9 7AB'],
  });
  return { ...b, text: b.text.replace('|AL|NE|', '|||') };
};
const msa1 = (ack: string): string | undefined => ack.split('\r')[1]?.split('|')[1];

/** The built hub (`node dist/src/main.js`, what `npm start` runs) as a child in its own process group. */
function startHubProcess(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      recordChildLog(out); // scanned for personal data with the whole run's logs
      resolve(code);
    }),
  );
  return { child, output: () => out, exited };
}

function killGroup(child: ChildProcess | undefined): void {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * A hub process receiving a stream over several MLLP connections gets SIGTERM. It stops accepting, answers or drops
 * the frames in flight (a dropped one is sent again by its sender), drains its workers and exits 0 within a bound. A
 * new hub on the same PostgreSQL and Redis takes over: every message answered AA, before or after, is delivered
 * exactly once, and every stored message is processed.
 */
(storeKind() === 'postgres' ? describe : describe.skip)('Resilience: SIGTERM under load', () => {
  let database: TestDatabase | undefined;
  const children: ChildProcess[] = [];
  const prefix = `stork-test-${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    await buildHub();
  }, 300000);
  afterAll(async () => {
    for (const c of children) killGroup(c);
    await database?.drop().catch(() => undefined);
    await deleteKeys(prefix).catch(() => undefined);
  });

  test(`${MESSAGES} births over ${CONNECTIONS} connections; SIGTERM mid-stream; exit 0 in bound; a new hub delivers each once`, async () => {
    database = await createTestDatabase();
    const mllpPort = await freePort();
    const env = {
      DATABASE_URL: database.url ?? '',
      REDIS_URL,
      STORK_HOST: '127.0.0.1',
      STORK_HTTP_PORT: String(await freePort()),
      STORK_MLLP_PORT: String(mllpPort),
      STORK_CONFIG_DIR: repoRoot,
      STORK_QUEUE_PREFIX: prefix,
      STORK_RECOVERY_SWEEP_MS: '500',
      LOG_LEVEL: 'info',
    };
    const connect = () =>
      pollUntil(
        async () => await MllpClient.connect({ host: '127.0.0.1', port: mllpPort, timeoutMs: 10000 }).catch(() => undefined),
        'a hub accepting MLLP connections',
        60000,
      );
    const first = startHubProcess(env);
    children.push(first.child);
    (await connect()).destroy().catch(() => undefined);

    const births = distinctSeeds(MESSAGES, 7000).map(birth);
    const answers = new Map<string, string>();
    let resent = 0;
    // A sender waits for each answer; without one (the connection closed) it reconnects and sends the same message again.
    const sender = async (share: typeof births): Promise<void> => {
      let client = await connect();
      for (const b of share) {
        for (;;) {
          try {
            const code = msa1(await client.send(b.text)) ?? '?';
            answers.set(b.controlId, code);
            break;
          } catch {
            resent++;
            await client.destroy();
            client = await connect();
          }
        }
      }
      await client.close().catch(() => client.destroy());
    };
    const shares = Array.from({ length: CONNECTIONS }, (_, c) => births.filter((_, i) => i % CONNECTIONS === c));
    const streaming = Promise.all(shares.map(sender));

    await pollUntil(() => (answers.size >= MESSAGES / 3 ? true : undefined), 'the first third of the answers', 60000);
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    const code = await Promise.race([first.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), STOP_BOUND_MS))]);
    const stopMs = Date.now() - signalled;
    expect({ code, output: code === 0 ? '' : first.output().slice(-2000) }).toEqual({ code: 0, output: '' });
    expect(stopMs).toBeLessThan(STOP_BOUND_MS);
    const answeredBeforeStop = answers.size;

    const second = startHubProcess(env);
    children.push(second.child);
    await streaming;

    expect(answeredBeforeStop).toBeLessThan(MESSAGES);
    expect([...answers.values()].filter((c) => c !== 'AA')).toEqual([]);
    expect(answers.size).toBe(MESSAGES);
    const nhsNumbers = births.map((b) => b.baby.nhsNumber);
    const db = database.db;
    const delivered = await inboxItemsPerBaby(db, nhsNumbers, 'every acknowledged birth in its centre inbox', 60000);
    expect(delivered.filter((r) => Number(r.n) !== 1)).toEqual([]);
    // One stored message per MSH-10 (a re-sent frame got the original ACK, nothing new), every one processed.
    const statuses = await db.query<{ status: string; n: string | number }>(
      `SELECT status, count(*) AS n FROM messages WHERE control_id LIKE 'ST-%' GROUP BY status`,
    );
    expect(statuses.rows.map((r) => [r.status, Number(r.n)])).toEqual([['processed', MESSAGES]]);
    process.stderr.write(`sigterm-under-load: stopped in ${stopMs} ms, ${resent} frames re-sent\n`);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180000);
});
