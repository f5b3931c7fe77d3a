/**
 * The README's quick start, for real, with the clock a year ahead: the built hub (`node dist/src/main.js`,
 * what `npm start` runs after building) on the embedded store and the sample configuration, and
 * `npm run send -- --now` with the sample fixture, both under libfaketime (`faketime` package, installed
 * by .ci/run), then the centre's inbox read over HTTP. Runs once, in the PGlite project (the quick start
 * uses the embedded store).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../src/config/env.js';
import { buildHub } from '../support/build-hub.js';
import { api, deleteKeys, REDIS_URL } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { recordChildLog } from '../support/log-sink.js';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const YEAR_AHEAD = '+365d';
const DAY = 86_400_000;
const fixture = path.join(repoRoot, 'test', 'fixtures', 'sample-newborn-a28.hl7');
const onPglite = process.env.STORK_TEST_STORE === 'pglite';

(onPglite ? describe : describe.skip)('Quick start with the clock a year ahead (faketime)', () => {
  let hub: ChildProcess | undefined;
  let dataDir: string;
  const prefix = `stork-quickstart-${process.pid}`;
  let log = '';
  let httpPort = 0;
  let mllpPort = 0;
  // libfaketime (what the `faketime` command preloads), set directly so that SIGTERM reaches the hub itself.
  const fakeEnv = { LD_PRELOAD: LIBFAKETIME, FAKETIME: YEAR_AHEAD, FAKETIME_DONT_FAKE_MONOTONIC: '1' };

  beforeAll(async () => {
    if (!existsSync(LIBFAKETIME)) throw new Error(`libfaketime is not installed (${LIBFAKETIME}): apt-get install -y faketime`);
    await buildHub();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'stork-quickstart-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...fakeEnv,
      STORK_HTTP_PORT: '0',
      STORK_MLLP_PORT: '0',
      STORK_HOST: '127.0.0.1',
      STORK_DATA_DIR: dataDir,
      STORK_QUEUE_PREFIX: prefix,
      REDIS_URL,
      LOG_LEVEL: 'info',
    };
    delete env.DATABASE_URL;
    delete env.STORK_CONFIG_DIR;
    const child = spawn(process.execPath, ['dist/src/main.js'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    hub = child;
    child.once('exit', () => recordChildLog(log)); // scanned for personal data with the whole run's logs
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    const listening = await pollUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`the hub exited (${child.exitCode}):\n${log}`);
        const line = log.split('\n').find((l) => l.includes('"intake listening"'));
        return line === undefined ? undefined : (JSON.parse(line) as { httpPort: number; mllpPort: number });
      },
      'the hub to listen',
      60_000,
    );
    httpPort = listening.httpPort;
    mllpPort = listening.mllpPort;
  }, 240_000);

  afterAll(async () => {
    const child = hub;
    if (child?.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await deleteKeys(prefix);
  }, 60_000);

  /** `npm run send -- …` under the `faketime` command, a year ahead (the build was done in beforeAll). */
  const send = (...args: string[]) =>
    spawnSync(
      'faketime',
      ['-f', YEAR_AHEAD, 'npm', 'run', '--silent', '--ignore-scripts', 'send', '--', '--port', String(mllpPort), ...args],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { ...process.env, FAKETIME_DONT_FAKE_MONOTONIC: '1' },
      },
    );
  const messageOf = async (controlId: string) => {
    const res = await api(`http://127.0.0.1:${String(httpPort)}`, 'demo-admin-key', '/v1/messages?limit=50');
    const page = (await res.json()) as { items: { id: string; controlId?: string; status: string; reason?: string; receivedAt: string }[] };
    return page.items.find((m) => m.controlId === controlId);
  };

  test('the fixture as it is, a year later, is acknowledged and answered "not relevant": it is late', async () => {
    const out = send(fixture);
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe(`${fixture} NGM-20261118-000417 AA Message accepted\n`);
    expect(out.status).toBe(0);
    const message = await pollUntil(() => messageOf('NGM-20261118-000417'), 'the stored message');
    // The hub's clock really is a year ahead: it stamped the receipt so.
    expect(Date.parse(message.receivedAt)).toBeGreaterThan(Date.now() + 364 * DAY);
    expect(message.status).toBe('not-relevant');
    expect(message.reason).toMatch(/^subject was a newborn at the message time \(MSH-7\) but is not at receipt/);
  });

  test('`npm run send -- --now` delivers the sample family to Osmondthorpe, read with its key as the README shows', async () => {
    const out = send('--now', fixture);
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(new RegExp(`^${fixture.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\S+ AA Message accepted\\n$`));
    expect(out.status).toBe(0);
    const item = await pollUntil(async () => {
      const res = await api(
        `http://127.0.0.1:${String(httpPort)}`,
        'demo-osmondthorpe-key',
        '/v1/centres/osmondthorpe/notifications?status=new',
      );
      expect(res.status).toBe(200);
      const page = (await res.json()) as {
        items: { deliveredAt?: string; record: { baby: { nhsNumber?: string; birthDate?: string } } }[];
      };
      return page.items.find((i) => i.record.baby.nhsNumber === '9990047219');
    }, 'the sample baby in the Osmondthorpe inbox');
    // Born "today" by the hub's (a year ahead) clock.
    expect(Date.parse(`${item.record.baby.birthDate ?? ''}T12:00:00Z`)).toBeGreaterThan(Date.now() + 363 * DAY);
  });
});
