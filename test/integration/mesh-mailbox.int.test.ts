import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import pg from 'pg';
import { meshAuthorization } from '../../adapters/mesh/mesh-auth.js';
import { corpusPath } from '../support/corpus.js';
import { MeshServer } from '../support/mesh-server.js';
import { pollUntil } from '../support/poll.js';
import { copySampleConfig } from '../support/sample-config.js';
import { nemsAsXml, nemsBirthBundle } from '../support/synthetic/nems-birth.js';
import { ADMIN_URL } from '../support/test-database.js';
import { loadEnvConfig } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/config-error.js';
import { createLogger } from '../../src/logger.js';
import { startHub } from '../../src/hub.js';
import { LogSink } from '../support/log-sink.js';
import { api, deleteKeys, startTestHub, type TestHub } from '../support/test-hub.js';
import { plainRaw } from '../support/data-keys.js';

const SHARED_KEY = 'mesh-test-shared-key';
const MAILBOX = 'X26NEMS01';
const PASSWORD = 'nems-mailbox-password';
const SENDER = 'X26NHSE01';
const SENDER_PASSWORD = 'national-sender-password';
const BIRTH = 'BIRTHNOTIFICATION_1';
const UPDATE = 'CHILDHEALTH_BIRTHNOTIFICATION_UPDATE';
const SECRETS = { NEMS_MESH_PASSWORD: PASSWORD, MESH_SHARED_KEY: SHARED_KEY };
/** The largest message kept whole (STORK_MLLP_MAX_BYTES, for FHIR and MESH too): small, so the hostile cases stay quick. */
const LIMIT = 131072;

interface Item {
  status: string;
  record?: { baby: { nhsNumber?: string }; mother?: { nhsNumber?: string; name?: unknown } };
}

/** The sample configuration with the NEMS feed's mailbox on the test's MESH server, polled every 100 ms. */
function meshConfig(url: string): string {
  const dir = copySampleConfig('stork-mesh-');
  const file = path.join(dir, 'mappings', 'feeds.json');
  const data = JSON.parse(readFileSync(file, 'utf8')) as { feeds: { id: string; mesh?: unknown }[] };
  const nems = data.feeds.find((f) => f.id === 'nems-births');
  if (!nems) throw new Error('the sample configuration has a NEMS feed');
  nems.mesh = {
    url,
    mailbox: MAILBOX,
    passwordEnv: 'NEMS_MESH_PASSWORD',
    sharedKeyEnv: 'MESH_SHARED_KEY',
    workflowIds: [BIRTH, UPDATE],
    pollIntervalMs: 100,
    requestTimeoutMs: 5000,
  };
  writeFileSync(file, JSON.stringify(data, null, 2));
  return dir;
}

const newServer = () => new MeshServer({ sharedKey: SHARED_KEY, mailboxes: { [MAILBOX]: PASSWORD, [SENDER]: SENDER_PASSWORD } }).start();

/** Sends as the national service's mailbox would, through the server's API. */
const send = (
  server: MeshServer,
  body: Buffer | string,
  o: { workflowId?: string; chunks?: number; gzip?: 'whole' | 'per-chunk' | 'already' } = {},
) =>
  server.send({ from: SENDER, to: MAILBOX, workflowId: o.workflowId ?? BIRTH, body, ...o }, (mailbox) =>
    meshAuthorization({ mailbox, password: SENDER_PASSWORD, sharedKey: SHARED_KEY }),
  );

/** A synthetic NEMS birth of today (XML), its mother with or without an NHS number. */
const birth = (bundleId: string, babyNhsNumber: string, motherNhsNumber?: string): string => {
  const now = new Date();
  return nemsAsXml(
    nemsBirthBundle({
      bundleId,
      timestamp: now.toISOString(),
      birthDate: now.toISOString().slice(0, 10),
      babyNhsNumber,
      ...(motherNhsNumber !== undefined ? { motherNhsNumber } : {}),
    }),
  );
};

/** A published NEMS example (read from the corpus) moved to today and to Osmondthorpe (LS9 7AB). */
function todaysCorpusBirth(file: string, dates: { birth: string; day: string; stamps: string[] }, postcode: string): string {
  const now = new Date();
  const born = new Date(now.getTime() - 60 * 60 * 1000);
  const birthTime = `${born.toISOString().slice(0, 19)}+00:00`;
  let xml = readFileSync(corpusPath('fhir', 'nems-stu3', file), 'utf8').replaceAll(dates.birth, birthTime);
  for (const s of dates.stamps) xml = xml.replaceAll(s, `${now.toISOString().slice(0, 19)}+00:00`);
  return xml.replaceAll(dates.day, birthTime.slice(0, 10)).replaceAll(postcode, 'LS9 7AB');
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  await c.query(sql);
  await c.end();
}

const inboxOf = async (t: TestHub): Promise<Item[]> => {
  const res = await api(t.http, 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?status=new');
  return ((await res.json()) as { items: Item[] }).items;
};
const babyIn = (t: TestHub, nhsNumber: string) =>
  pollUntil(async () => (await inboxOf(t)).find((i) => i.record?.baby.nhsNumber === nhsNumber), `baby ${nhsNumber} in the inbox`);
const rowsFor = async (t: TestHub, meshId: string) =>
  (
    await t.database.db.query<{
      id: string;
      status: string;
      channel: string;
      format: string;
      sender_key: string;
      raw_truncated: boolean;
      size_bytes: number;
      raw: Uint8Array | null;
      key_id: string | null;
    }>(
      `SELECT m.id, m.status, m.channel, m.format, m.sender_key, m.raw_truncated, m.size_bytes, b.raw, b.key_id FROM messages m LEFT JOIN message_bodies b ON b.message_id = m.id WHERE m.control_id = $1`,
      [meshId],
    )
  ).rows.map(({ key_id, ...r }) => ({ ...r, raw: plainRaw(r.id, { raw: r.raw, key_id }) })); // encrypted at rest with the demo key
const acked = (server: MeshServer, id: string) =>
  pollUntil(() => (server.status(id) === 'acknowledged' ? true : undefined), `${id} acknowledged`);

/**
 * NHS national birth notifications through the NEMS feed's MESH mailbox: a real hub polls a MESH server on loopback
 * (handshake, listing per workflow, chunked and gzip downloads, acknowledgement, the NHSMESH HMAC checked on every
 * call), stores each message with channel mesh, and acknowledges it only once stored.
 */
describe('MESH mailbox of a NEMS feed', () => {
  let server: MeshServer;
  let t: TestHub;
  /** For each acknowledgement the server received: was the message already in the store at that moment? */
  const storedAtAck = new Map<string, boolean>();
  beforeAll(async () => {
    server = await newServer();
    server.beforeAck = async (id) => {
      storedAtAck.set(id, (await rowsFor(t, id)).length === 1);
      return undefined;
    };
    t = await startTestHub({ configDir: meshConfig(server.url), env: { ...SECRETS, STORK_MLLP_MAX_BYTES: String(LIMIT) } });
  });
  afterAll(async () => {
    await t.stop();
    await server.stop();
  });

  test('the published example with its mother reaches the centre; stored with channel mesh, acknowledged after it was stored', async () => {
    const xml = todaysCorpusBirth(
      'BirthNotificationWithMother.xml',
      { birth: '2017-10-02T20:12:00+00:00', day: '2017-10-02', stamps: ['2017-10-02T20:20:00+00:00'] },
      'LS17 7DF',
    );
    const id = await send(server, xml);
    const item = await babyIn(t, '9912003888');
    expect(item.record?.mother?.name).toBeDefined();
    await acked(server, id);
    expect(storedAtAck.get(id)).toBe(true);
    const [row, ...others] = await rowsFor(t, id);
    expect(others).toEqual([]);
    expect(row).toMatchObject({ channel: 'mesh', format: 'fhir-stu3+xml', sender_key: '|mesh|feed:nems-births', raw_truncated: false });
    // The server checked every call's NHSMESH header: the hub's were all good, the handshake came first.
    expect(t.sink.text).toContain('MESH mailbox polling');
    const hubCalls = server.calls.filter((c) => c.mailbox === MAILBOX);
    expect(hubCalls[0]).toMatchObject({ method: 'POST', path: `/messageexchange/${MAILBOX}`, status: 200 });
    expect(hubCalls.every((c) => c.status !== 400 && c.status !== 403)).toBe(true);
  });

  test('the published example whose mother has no NHS number (its baby recorded deceased: processed, never offered), and a synthetic one', async () => {
    const without = todaysCorpusBirth(
      'BirthNotificationWithoutMother.xml',
      { birth: '2020-01-13T14:30:00+00:00', day: '2020-01-13', stamps: ['2020-01-13T14:30:55+00:00', '2020-01-13T14:30:56+00:00'] },
      'EX2 5SE',
    );
    const a = await send(server, without);
    const b = await send(server, birth('mesh-no-mother-nhs', '9990001618'));
    const item = await babyIn(t, '9990001618');
    expect(item.record?.mother?.nhsNumber).toBeUndefined();
    expect(item.record?.mother?.name).toBeDefined();
    await acked(server, a);
    await acked(server, b);
    expect([storedAtAck.get(a), storedAtAck.get(b)]).toEqual([true, true]);
    await pollUntil(async () => ((await rowsFor(t, a))[0]?.status === 'processed' ? true : undefined), 'the deceased baby processed');
    expect((await inboxOf(t)).some((i) => i.record?.baby.nhsNumber === '5900005879')).toBe(false);
  });

  test('a chunked message (4 chunks of one gzip stream) and an update in 3 gzip chunks of their own are joined and unpacked', async () => {
    const whole = await send(server, birth('mesh-chunked-1', '9990001626', '9990001634'), { chunks: 4, gzip: 'whole' });
    const perChunk = await send(server, birth('mesh-chunked-2', '9990001642'), { chunks: 3, gzip: 'per-chunk', workflowId: UPDATE });
    await babyIn(t, '9990001626');
    await babyIn(t, '9990001642');
    await acked(server, whole);
    await acked(server, perChunk);
    for (const id of [whole, perChunk]) {
      const [row] = await rowsFor(t, id);
      expect(row?.raw_truncated).toBe(false);
      expect(Buffer.from(row?.raw ?? []).toString('utf8')).toContain('<Bundle');
    }
    // Every chunk was fetched: 206 for the first ones, 200 for the last.
    const chunkCalls = server.calls.filter((c) => c.path.startsWith(`/messageexchange/${MAILBOX}/inbox/${whole}`) && c.method === 'GET');
    expect(chunkCalls.map((c) => c.status)).toEqual([206, 206, 206, 200]);
  });

  test('messages of other workflows are left in the mailbox, never downloaded', async () => {
    const other = await send(server, 'not a birth', { workflowId: 'PATHOLOGY_RESULT' });
    const later = await send(server, birth('mesh-after-other', '9990001650'));
    await acked(server, later);
    // A later poll took the birth sent after it: the other workflow's message was listed by none.
    expect(server.status(other)).toBe('accepted');
    expect(server.downloads(other)).toBe(0);
    expect(await rowsFor(t, other)).toEqual([]);
    expect(server.inbox(MAILBOX)).toEqual([other]);
  });

  test('a refused password is reported in the logs (no secret, no personal data); polling resumes once it is right again', async () => {
    server.setPassword(MAILBOX, 'a-password-the-hub-does-not-have');
    const from = t.sink.lines.length;
    const id = await send(server, birth('mesh-bad-auth', '9990001669', '9990001677'));
    await pollUntil(
      () => (server.calls.filter((c) => c.mailbox === MAILBOX && c.status === 403).length >= 2 ? true : undefined),
      'two refused polls',
    );
    expect(server.status(id)).toBe('accepted');
    expect(await rowsFor(t, id)).toEqual([]);
    server.setPassword(MAILBOX, PASSWORD);
    await babyIn(t, '9990001669');
    await acked(server, id);
    const lines = t.sink.lines.slice(from);
    const refused = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === 'MESH poll failed; retrying later');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]).toMatchObject({ feed: 'nems-births', kind: 'auth', httpStatus: 403 });
    const text = lines.join('\n');
    for (const secret of [PASSWORD, SHARED_KEY, 'NHSMESH', '9990001669', '9990001677', 'OKONKWO', 'CHIDI', 'ADAEZE', 'LS9 7AB'])
      expect(text).not.toContain(secret);
    expect(text).toContain('MESH mailbox reachable again');
  });

  test('a MESH server failing for a while (503) is retried with back-off; nothing is lost once it recovers', async () => {
    const id = await send(server, birth('mesh-outage', '9990001685'));
    const from = server.calls.length;
    server.failNext(3, 503);
    await babyIn(t, '9990001685');
    await acked(server, id);
    expect(server.calls.slice(from, from + 3).map((c) => c.status)).toEqual([503, 503, 503]);
    expect((await rowsFor(t, id)).length).toBe(1);
  });

  test('hostile messages (a body that never ends, endless chunks, too many bytes in chunks, a gzip bomb) are kept truncated, quarantined and acknowledged', async () => {
    const limit = LIMIT;
    const endless = server.putHostile(MAILBOX, BIRTH, 'endless-body');
    const endlessChunks = server.putHostile(MAILBOX, BIRTH, 'many-chunks', 1_000_000, 1024);
    const manyBytes = server.putHostile(MAILBOX, BIRTH, 'many-chunks', 12, 16 * 1024);
    // 32 gzip members of 1 MiB of spaces each: 32 KiB that unpack to 32 MiB.
    const member = zlib.gzipSync(Buffer.alloc(1024 * 1024, ' '));
    const bomb = await send(server, Buffer.concat(Array.from({ length: 32 }, () => member)), { chunks: 3, gzip: 'already' });
    for (const id of [endless, endlessChunks, manyBytes, bomb]) {
      await acked(server, id);
      const [row, ...others] = await rowsFor(t, id);
      expect(others).toEqual([]);
      expect(row).toMatchObject({ status: 'quarantined', raw_truncated: true, channel: 'mesh' });
      expect(Buffer.from(row?.raw ?? []).length).toBeLessThanOrEqual(limit);
      expect(Number(row?.size_bytes)).toBeGreaterThan(id === endlessChunks ? 0 : limit);
    }
    const reason = await t.database.db.query<{ reason: string }>(`SELECT reason FROM messages WHERE control_id = $1`, [endlessChunks]);
    expect(reason.rows[0]?.reason).toBe('The message has 1000000 chunks, over the limit of 20 chunks');
    // Endless chunks: only the first was read (more than the 20 allowed); 12 chunks of 16 KiB: stopped at the limit.
    const chunkGets = (id: string) =>
      server.calls.filter((c) => c.method === 'GET' && c.path.startsWith(`/messageexchange/${MAILBOX}/inbox/${id}/`)).length;
    expect(chunkGets(endlessChunks)).toBe(0);
    expect(chunkGets(manyBytes)).toBeLessThan(11);
    // And the mailbox still flows.
    const after = await send(server, birth('mesh-after-hostile', '9990001693'));
    await babyIn(t, '9990001693');
    await acked(server, after);
  });
});

/**
 * A restart between storing and acknowledging: the hub stops while MESH fails the acknowledgement; the next hub (same
 * store) downloads the message again, recognises the MESH message id, acknowledges it, and processes nothing twice.
 */
describe('MESH: a restart neither misses nor repeats a message', () => {
  let server: MeshServer;
  beforeAll(async () => {
    server = await newServer();
  });
  afterAll(async () => server.stop());

  test('stored, not acknowledged, restarted: one message, one notification, acknowledged', async () => {
    const configDir = meshConfig(server.url);
    const first = await startTestHub({ configDir, env: SECRETS });
    let stopping: Promise<void> | undefined;
    let storedBeforeAck = false;
    let ackAttempted = false;
    server.beforeAck = async (id) => {
      if (ackAttempted) return undefined;
      ackAttempted = true;
      storedBeforeAck = (await rowsFor(first, id)).length === 1;
      stopping = first.hub.stop(); // the hub goes down with the acknowledgement unanswered
      return 500;
    };
    const id = await send(server, birth('mesh-restart', '9990001618', '9990001626'));
    await pollUntil(() => (ackAttempted ? true : undefined), 'the first acknowledgement attempt');
    await pollUntil(() => stopping && true, 'the first hub stopping');
    await stopping;
    await deleteKeys(first.prefix);
    expect(storedBeforeAck).toBe(true);
    expect(server.status(id)).toBe('accepted');

    const second = await startTestHub({ configDir, env: SECRETS, database: first.database });
    try {
      await acked(server, id);
      await babyIn(second, '9990001618');
      const rows = await rowsFor(second, id);
      expect(rows.length).toBe(1);
      const notes = await second.database.db.query<{ n: string | number }>(
        `SELECT count(*) AS n FROM notifications WHERE message_id = $1`,
        [rows[0]?.id],
      );
      expect(Number(notes.rows[0]?.n)).toBe(1);
      expect(server.downloads(id)).toBe(2);
      expect(second.sink.text).toContain('MESH message downloaded again, recognised as stored; acknowledged');
    } finally {
      await second.stop();
    }
  });
});

/** The store down: nothing is acknowledged, the message stays in the mailbox (and, on PostgreSQL, is taken once it is back). */
describe('MESH: no acknowledgement while the store is down', () => {
  let server: MeshServer;
  let t: TestHub;
  beforeAll(async () => {
    server = await newServer();
    t = await startTestHub({ configDir: meshConfig(server.url), env: SECRETS });
  });
  afterAll(async () => {
    await t.stop().catch(() => undefined);
    await server.stop();
  });

  test('store unavailable → downloaded, never acknowledged; still in the mailbox', async () => {
    if (t.database.kind === 'postgres') {
      const name = t.database.name ?? '';
      await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    } else {
      await t.database.db.close();
    }
    const id = await send(server, birth('mesh-store-down', '9990001634'));
    await pollUntil(() => (server.downloads(id) >= 2 ? true : undefined), 'two downloads while the store is down');
    expect(server.status(id)).toBe('accepted');
    expect(server.acknowledged()).toEqual([]);
    expect(t.sink.text).toContain('MESH poll failed; retrying later');
    if (t.database.kind === 'postgres') {
      await admin(`ALTER DATABASE ${t.database.name ?? ''} ALLOW_CONNECTIONS true`);
      await acked(server, id);
      expect((await rowsFor(t, id)).length).toBe(1);
    }
  });
});

describe('MESH: start-up', () => {
  test('a mailbox whose secrets are not in the environment stops start-up before anything opens, naming the field and variable', async () => {
    const dir = meshConfig('http://127.0.0.1:9');
    const env = loadEnvConfig({ STORK_CONFIG_DIR: dir, REDIS_URL: 'redis://127.0.0.1:1', NEMS_MESH_PASSWORD: PASSWORD });
    const started = startHub({ env, logger: createLogger('silent', new LogSink()) });
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    // Refused before Redis (unreachable here) was tried: the MESH problem is the one reported.
    await expect(started).rejects.toThrow(
      `NEMS feed "nems-births" field mesh.sharedKeyEnv: environment variable MESH_SHARED_KEY is not set`,
    );
  });

  test('a worker-only process polls no mailbox (and needs none of its secrets)', async () => {
    const server = await newServer();
    const t = await startTestHub({ configDir: meshConfig(server.url), env: { STORK_ROLES: 'worker' } });
    try {
      // The worker is up (its health endpoint answers); no poller was started (an intake hub logs this as it starts
      // one, before start-up returns), and nothing reached the MESH server.
      expect((await fetch(`${t.http}/healthz`)).status).toBe(200);
      expect(t.sink.text).toContain('stork started');
      expect(t.sink.text).not.toContain('MESH mailbox polling');
      expect(server.calls).toEqual([]);
    } finally {
      await t.stop();
      await server.stop();
    }
  });
});
