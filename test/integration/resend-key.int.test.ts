import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { migrate, migrationsDir } from '../../adapters/store/migrate.js';
import { SqlMessageStore } from '../../adapters/store/sql-message-store.js';
import type { ReceivedMessage } from '../../src/ports/message-store.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { frame } from '../../adapters/mllp/mllp-framer.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { copySampleConfig } from '../support/sample-config.js';
import { pollUntil } from '../support/poll.js';

const HL7 = { 'content-type': 'x-application/hl7-v2+er7' };
const RX1_KEY = 'demo-northgate-feed-key';
const RX9_KEY = 'demo-northvale-feed-key';

/** A Northvale (RX9) newborn in original acknowledgement mode, so the answer is AA / AR. */
function rx9(seed: number, controlId: string): { text: string; nhsNumber: string } {
  const m = describeNewborn({
    seed,
    controlId,
    northvale: true,
    sendingFacility: 'RX9',
    sendingApplication: 'PAS',
    messageTime: new Date(),
  });
  return { text: m.text.replace('|AL|NE|', '|||'), nhsNumber: m.baby.nhsNumber };
}

/** MSA-1 and MSA-2 of an ACK. */
function msa(ack: string): [string, string] {
  const fields =
    ack
      .split('\r')
      .find((s) => s.startsWith('MSA'))
      ?.split('|') ?? [];
  return [fields[1] ?? '', fields[2] ?? ''];
}

/** Sends one framed message from a given local address (a second loopback address stands for another host). */
async function sendFrom(localAddress: string, port: number, message: string): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  let buffer = Buffer.alloc(0);
  const ack = new Promise<string>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      buffer = Buffer.concat([buffer, d]);
      const end = buffer.indexOf(Buffer.from([0x1c, 0x0d]));
      if (end !== -1) resolve(buffer.subarray(1, end).toString('utf8'));
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the ACK')));
  });
  socket.write(frame(message));
  try {
    return await ack;
  } finally {
    socket.destroy();
  }
}

/**
 * Issue 8, defect 1: the re-send key belongs to the sender that is authenticated. A message refused because
 * its sender was not verified (another trust's feed key, an MLLP peer the feed does not list, an unknown
 * sender) must never take the key a genuine sender's message needs, and genuine re-sends are still
 * recognised. The sample configuration, with Northvale (RX9) allowed to connect over MLLP from 127.0.0.1 only.
 */
describe('Re-send key: a forged or refused message never blocks a genuine one', () => {
  let t: TestHub;
  let dir: string;
  let mllp: MllpClient;

  beforeAll(async () => {
    dir = copySampleConfig();
    const file = path.join(dir, 'mappings', 'feeds.json');
    const feeds = JSON.parse(readFileSync(file, 'utf8')) as { feeds: { id: string; sourceAddresses?: string[] }[] };
    const northvale = feeds.feeds.find((f) => f.id === 'northvale-adt');
    if (!northvale) throw new Error('the sample configuration has no northvale-adt feed');
    northvale.sourceAddresses = ['127.0.0.1'];
    writeFileSync(file, JSON.stringify(feeds));
    t = await startTestHub({ configDir: dir });
    mllp = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await mllp.close();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (key: string, body: string) => api(t.http, key, '/v1/hl7v2', { method: 'POST', headers: HL7, body });
  const rows = async (controlId: string) =>
    (
      await t.database.db.query<{ id: string; status: string; sender_key: string | null }>(
        `SELECT id, status, sender_key FROM messages WHERE control_id = $1 ORDER BY received_at, id`,
        [controlId],
      )
    ).rows;
  const accepted = async (controlId: string) => (await rows(controlId)).filter((r) => r.status !== 'quarantined');
  const notificationFor = (messageId: string) =>
    pollUntil(
      async () =>
        (await t.database.db.query<{ id: string }>(`SELECT id FROM notifications WHERE message_id = $1`, [messageId])).rows[0]?.id,
      `a notification for message ${messageId}`,
    );
  /** The RX1 feed key posts a message naming RX9: refused, 403 and AR. */
  const forge = async (seed: number, controlId: string) => {
    const res = await post(RX1_KEY, rx9(seed, controlId).text);
    expect(res.status).toBe(403);
    expect(msa(await res.text())).toEqual(['AR', controlId]);
    return res.headers.get('x-stork-message-id') ?? '';
  };

  test('RX1’s key forges an RX9 message; RX9’s genuine message with that MSH-10 over MLLP is still AA, stored and notified', async () => {
    const forgedId = await forge(101, 'FORGE-M');
    const genuine = rx9(102, 'FORGE-M');
    expect(msa(await mllp.send(genuine.text))).toEqual(['AA', 'FORGE-M']);
    const stored = await accepted('FORGE-M');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.sender_key).toBe('RX9|PAS');
    await notificationFor(stored[0]?.id ?? '');
    // The forged message is kept, in quarantine, under RX1's client's key, and the audit names that client.
    const all = await rows('FORGE-M');
    expect(all.find((r) => r.id === forgedId)).toMatchObject({ status: 'quarantined', sender_key: '|client:northgate-feed|RX9|PAS' });
    const actors = await t.database.db.query<{ actor: string }>(`SELECT DISTINCT actor FROM audit_events WHERE message_id = $1`, [
      forgedId,
    ]);
    expect(actors.rows).toEqual([{ actor: 'client:northgate-feed' }]);
  });

  test('RX1’s key forges an RX9 message; RX9’s genuine message with that MSH-10 over HTTP is still AA, stored and notified', async () => {
    await forge(103, 'FORGE-H');
    const res = await post(RX9_KEY, rx9(104, 'FORGE-H').text);
    expect(res.status).toBe(200);
    expect(msa(await res.text())).toEqual(['AA', 'FORGE-H']);
    const id = res.headers.get('x-stork-message-id') ?? '';
    expect((await accepted('FORGE-H')).map((r) => r.id)).toEqual([id]);
    await notificationFor(id);
  });

  test('an operator replaying the forged message gets it checked against its API client again: it stays refused', async () => {
    const forgedId = await forge(115, 'FORGE-REPLAY');
    const replay = await api(t.http, 'demo-admin-key', `/v1/messages/${forgedId}/replay`, { method: 'POST' });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({
      id: forgedId,
      status: 'quarantined',
      reason: 'This API client may not send for this sending facility',
    });
    expect(await rows('FORGE-REPLAY')).toEqual([{ id: forgedId, status: 'quarantined', sender_key: '|client:northgate-feed|RX9|PAS' }]);
    const made = await t.database.db.query(`SELECT id FROM notifications WHERE message_id = $1`, [forgedId]);
    expect(made.rows).toEqual([]);
  });

  test('a forged message sent after the genuine one is refused and does not get the genuine ACK', async () => {
    const genuine = await post(RX9_KEY, rx9(105, 'FORGE-AFTER').text);
    const genuineAck = await genuine.text();
    expect(msa(genuineAck)).toEqual(['AA', 'FORGE-AFTER']);
    const res = await post(RX1_KEY, rx9(106, 'FORGE-AFTER').text);
    expect(res.status).toBe(403);
    const forgedAck = await res.text();
    expect(msa(forgedAck)).toEqual(['AR', 'FORGE-AFTER']);
    expect(forgedAck).not.toBe(genuineAck);
    const all = await rows('FORGE-AFTER');
    expect(all.map((r) => r.sender_key).sort()).toEqual(['RX9|PAS', '|client:northgate-feed|RX9|PAS'].sort());
    expect(all.find((r) => r.sender_key === 'RX9|PAS')?.id).toBe(genuine.headers.get('x-stork-message-id'));
    expect(all.find((r) => r.sender_key !== 'RX9|PAS')?.status).toBe('quarantined');
  });

  test('an MLLP peer the RX9 feed does not list cannot block RX9’s message from its own address', async () => {
    const refused = await sendFrom('127.0.0.2', t.mllpPort, rx9(107, 'ADDR-1').text);
    expect(msa(refused)).toEqual(['AR', 'ADDR-1']);
    expect(refused).toContain('The feed may not send from this network address');
    expect(msa(await mllp.send(rx9(108, 'ADDR-1').text))).toEqual(['AA', 'ADDR-1']);
    const stored = await accepted('ADDR-1');
    expect(stored.map((r) => r.sender_key)).toEqual(['RX9|PAS']);
    await notificationFor(stored[0]?.id ?? '');
  });

  test('a genuine re-send is still recognised over MLLP, over HTTP, and across the two: the original ACK, nothing new', async () => {
    const overMllp = rx9(109, 'RESEND-M').text;
    const first = await mllp.send(overMllp);
    expect(msa(first)).toEqual(['AA', 'RESEND-M']);
    expect(await mllp.send(overMllp)).toBe(first);
    // The same sender over the other channel: the key is the sender's, not the channel's.
    const viaHttp = await post(RX9_KEY, overMllp);
    expect(viaHttp.status).toBe(200);
    expect(await viaHttp.text()).toBe(first);
    expect(await rows('RESEND-M')).toHaveLength(1);

    const overHttp = rx9(110, 'RESEND-H').text;
    const a = await post(RX9_KEY, overHttp);
    const ackA = await a.text();
    expect(msa(ackA)).toEqual(['AA', 'RESEND-H']);
    const b = await post(RX9_KEY, overHttp);
    expect(b.status).toBe(200);
    expect(await b.text()).toBe(ackA);
    expect(b.headers.get('x-stork-message-id')).toBe(a.headers.get('x-stork-message-id'));
    expect(await mllp.send(overHttp)).toBe(ackA);
    expect(await rows('RESEND-H')).toHaveLength(1);
  });

  test('a refused message sent again is refused again, crashes nothing and blocks no one', async () => {
    const forged = rx9(111, 'REFUSED-1').text;
    const first = await post(RX1_KEY, forged);
    const firstAck = await first.text();
    const again = await post(RX1_KEY, forged);
    expect(again.status).toBe(403);
    expect(await again.text()).toBe(firstAck);
    expect(msa(firstAck)).toEqual(['AR', 'REFUSED-1']);
    expect(await rows('REFUSED-1')).toHaveLength(1);

    const fromElsewhere = rx9(112, 'REFUSED-1').text;
    expect(msa(await sendFrom('127.0.0.2', t.mllpPort, fromElsewhere))).toEqual(['AR', 'REFUSED-1']);
    expect(msa(await sendFrom('127.0.0.2', t.mllpPort, fromElsewhere))).toEqual(['AR', 'REFUSED-1']);

    const unknown = rx9(113, 'REFUSED-1').text.replace('|PAS|RX9|', '|PAS|RQ7|');
    expect(msa(await mllp.send(unknown))).toEqual(['AR', 'REFUSED-1']);
    expect(msa(await mllp.send(unknown))).toEqual(['AR', 'REFUSED-1']);

    // The genuine sender, on the same connection the unknown sender used, is unaffected by any of it.
    expect(msa(await mllp.send(rx9(114, 'REFUSED-1').text))).toEqual(['AA', 'REFUSED-1']);
    const stored = await accepted('REFUSED-1');
    expect(stored.map((r) => r.sender_key)).toEqual(['RX9|PAS']);
    await notificationFor(stored[0]?.id ?? '');
    const refusedKeys = (await rows('REFUSED-1')).filter((r) => r.status === 'quarantined').map((r) => r.sender_key);
    expect(refusedKeys.sort()).toEqual(['|address:127.0.0.1|RQ7|PAS', '|address:127.0.0.2|RX9|PAS', '|client:northgate-feed|RX9|PAS']);
  });
});

/**
 * A store upgraded from before the rule: rows refused because their sender was not verified move out of the
 * genuine sender's key space, and re-sends of genuine messages stored before the upgrade are still recognised.
 */
describe('Migration 007: refused messages stored under a genuine sender’s key give it back', () => {
  let db: TestDatabase;
  let older: string;
  beforeAll(async () => {
    db = await createTestDatabase(undefined, { migrated: false });
    older = mkdtempSync(path.join(os.tmpdir(), 'stork-migrations-'));
    for (const f of readdirSync(migrationsDir)) if (f.slice(0, 3) <= '005') cpSync(path.join(migrationsDir, f), path.join(older, f));
  });
  afterAll(async () => {
    rmSync(older, { recursive: true, force: true });
    await db.drop();
  });

  it('moves forged, wrong-address and unknown-sender rows to the key of who sent them; genuine rows keep theirs', async () => {
    expect(await migrate(db.db, older)).toEqual(['001', '002', '003', '004', '005']);
    const legacy: [string, string, string | null, string | null, string | null, string, string, string | null][] = [
      // id, channel, api_client, remote_address, feed_id, sender_key, control_id, reason
      [
        '00000000-0000-4000-8000-000000000001',
        'http',
        'northgate-feed',
        '127.0.0.1',
        'northvale-adt',
        'RX9|PAS',
        'OLD-FORGED',
        'This API client may not send for this sending facility',
      ],
      [
        '00000000-0000-4000-8000-000000000002',
        'mllp',
        null,
        '10.1.2.3',
        'northvale-adt',
        'RX9|PAS',
        'OLD-ADDR',
        'The feed may not send from this network address',
      ],
      [
        '00000000-0000-4000-8000-000000000003',
        'mllp',
        null,
        '10.1.2.3',
        null,
        'RQ7|PAS',
        'OLD-UNKNOWN',
        'Unknown sender: no feed is configured for this MSH-4 sending facility and MSH-3 application',
      ],
      ['00000000-0000-4000-8000-000000000004', 'mllp', null, '127.0.0.1', 'northvale-adt', 'RX9|PAS', 'OLD-GENUINE', null],
      [
        '00000000-0000-4000-8000-000000000005',
        'http',
        'northvale-feed',
        '127.0.0.1',
        'northvale-adt',
        'RX9|PAS',
        'OLD-GENUINE-AR',
        'Event A13 is not accepted for ADT on this feed',
      ],
    ];
    for (const [id, channel, client, address, feed, key, control, reason] of legacy) {
      await db.db.query(
        `INSERT INTO messages (id, received_at, channel, api_client, remote_address, feed_id, sender_key, control_id, size_bytes, sha256, status, reason, updated_at)
         VALUES ($1, now(), $2, $3, $4, $5, $6, $7, 1, 'x', $8, $9, now())`,
        [id, channel, client, address, feed, key, control, reason === null ? 'processed' : 'quarantined', reason],
      );
      await db.db.query(`INSERT INTO message_bodies (message_id, raw, ack) VALUES ($1, $2, $3)`, [
        id,
        Buffer.from('MSH'),
        Buffer.from(`ACK ${control}`),
      ]);
    }

    // 006 and 007, then the later migrations (008 adds messages.format, 009 renames inbox columns, and those after;
    // none touches these keys).
    expect((await migrate(db.db)).slice(0, 4)).toEqual(['006', '007', '008', '009']);
    const keys = await db.db.query<{ control_id: string; sender_key: string }>(`SELECT control_id, sender_key FROM messages ORDER BY id`);
    expect(keys.rows).toEqual([
      { control_id: 'OLD-FORGED', sender_key: '|client:northgate-feed|RX9|PAS' },
      { control_id: 'OLD-ADDR', sender_key: '|address:10.1.2.3|RX9|PAS' },
      { control_id: 'OLD-UNKNOWN', sender_key: '|address:10.1.2.3|RQ7|PAS' },
      { control_id: 'OLD-GENUINE', sender_key: 'RX9|PAS' },
      { control_id: 'OLD-GENUINE-AR', sender_key: 'RX9|PAS' },
    ]);

    const store = new SqlMessageStore(db.db);
    const receipt = (n: number, controlId: string): ReceivedMessage => ({
      id: `00000000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`,
      receivedAt: new Date(),
      channel: 'mllp',
      senderKey: 'RX9|PAS',
      controlId,
      raw: Buffer.from('MSH'),
      rawTruncated: false,
      sizeBytes: 3,
      sha256: 'x',
      status: 'queued',
      issues: [],
      audit: [],
    });
    const outcomes = await store.recordReceipts([
      receipt(1, 'OLD-FORGED'),
      receipt(2, 'OLD-ADDR'),
      receipt(3, 'OLD-GENUINE'),
      receipt(4, 'OLD-GENUINE-AR'),
    ]);
    expect(outcomes).toEqual([
      { kind: 'stored' },
      { kind: 'stored' },
      { kind: 'duplicate', originalId: '00000000-0000-4000-8000-000000000004', status: 'processed', ack: Buffer.from('ACK OLD-GENUINE') },
      {
        kind: 'duplicate',
        originalId: '00000000-0000-4000-8000-000000000005',
        status: 'quarantined',
        ack: Buffer.from('ACK OLD-GENUINE-AR'),
      },
    ]);
  });
});
