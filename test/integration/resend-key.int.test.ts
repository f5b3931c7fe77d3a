import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
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
import { plainRaw, pseudo } from '../support/data-keys.js';

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

  test('regression (fuzzing, SQLSTATE 54000): a long, incompressible MSH-10 or MSH-4 is stored, answered and re-sends recognised; it fails no other message', async () => {
    // Random text over the btree index row limit (2704 bytes, after compression) once in (sender_key, control_id).
    const noise = (n: number) => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x');
    const longId = `LONG-${noise(3000)}`;
    const long = rx9(111, longId).text;
    const other = rx9(112, 'LONG-NEIGHBOUR').text;
    // Sent together, so that they share a group commit.
    const [a, b] = await Promise.all([post(RX9_KEY, long), post(RX9_KEY, other)]);
    const ackA = await a.text();
    expect([a.status, msa(ackA)]).toEqual([200, ['AA', longId]]);
    expect([b.status, msa(await b.text())]).toEqual([200, ['AA', 'LONG-NEIGHBOUR']]);
    const id = a.headers.get('x-stork-message-id') ?? '';
    const stored = await t.database.db.query<{ control_id: string; sender_key: string; raw: Uint8Array | null; key_id: string | null }>(
      `SELECT m.control_id, m.sender_key, b.raw, b.key_id FROM messages m JOIN message_bodies b ON b.message_id = m.id WHERE m.id = $1`,
      [id],
    );
    const row = stored.rows[0];
    // The index holds the MSH-10's hash; the bytes are stored exactly.
    expect(row?.control_id).toBe(`sha256:${createHash('sha256').update(longId).digest('hex')}`);
    expect(row?.sender_key).toBe('RX9|PAS');
    expect(plainRaw(id, row).toString('utf8')).toBe(long);
    // A re-send gets the original ACK and stores nothing new.
    const again = await post(RX9_KEY, long);
    expect([again.status, await again.text()]).toEqual([200, ackA]);
    expect(again.headers.get('x-stork-message-id')).toBe(id);
    await notificationFor(id);

    // An unverified sender naming a long facility (the key `|client:…|<MSH-4.1>|<MSH-3.1>` is hashed): refused and stored.
    const facility = noise(3000);
    const forged = describeNewborn({
      seed: 113,
      controlId: 'LONG-FAC',
      sendingFacility: facility,
      sendingApplication: 'PAS',
      messageTime: new Date(),
    });
    const res = await post(RX1_KEY, forged.text);
    // Refused: AR, or CR when the message asks for enhanced acknowledgements.
    expect([res.status, msa(await res.text())[0]]).toEqual([200, expect.stringMatching(/^[AC]R$/) as unknown]);
    expect(await rows('LONG-FAC')).toEqual([
      {
        id: res.headers.get('x-stork-message-id'),
        status: 'quarantined',
        sender_key: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown,
      },
    ]);
  });

  test('regression (SQLSTATE 54000): a 10,000-character local identifier and mother’s family name are processed; their keys are bounded', async () => {
    const letters = (n: number) =>
      randomBytes(n * 2)
        .toString('base64')
        .replace(/[^A-Za-z]/g, '')
        .slice(0, n)
        .toUpperCase();
    const localId = `L${letters(9_999)}`;
    const family = letters(10_000);
    const fields = (segment: string) => segment.split('|');
    // No NHS number for the baby (the subject key is then `local:<feed>:<assigner>:<PID-3>`), a long mother's family name.
    const text = rx9(121, 'LONG-LOCAL')
      .text.split('\r')
      .map((segment) => {
        const f = fields(segment);
        if (f[0] === 'PID') {
          f[2] = '';
          f[3] = `${localId}^^^RX9^MR`;
          f[32] = '';
        }
        if (f[0] === 'NK1') f[2] = `${family}^MARY^^^MRS^^L`;
        return f.join('|');
      })
      .join('\r');
    const res = await post(RX9_KEY, text);
    const ack = await res.text();
    expect([res.status, msa(ack)]).toEqual([200, ['AA', 'LONG-LOCAL']]);
    const id = res.headers.get('x-stork-message-id') ?? '';
    await notificationFor(id);
    const keys = await t.database.db.query<{ subject_key: string; demographic_key: string | null }>(
      `SELECT subject_key, demographic_key FROM notifications WHERE message_id = $1`,
      [id],
    );
    const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
    // Bounded, then stored as pseudonyms (migration 038).
    expect(keys.rows).toEqual([
      {
        subject_key: pseudo(sha(`local:northvale-adt:RX9:${localId}`)),
        demographic_key: expect.stringMatching(/^p1:[A-Za-z0-9_-]{43}$/) as unknown,
      },
    ]);
    // The same baby again under another MSH-10 reaches the same notification.
    const update = text.replace('LONG-LOCAL', 'LONG-LOCAL-2');
    const second = await post(RX9_KEY, update);
    expect([second.status, msa(await second.text())]).toEqual([200, ['AA', 'LONG-LOCAL-2']]);
    const secondId = second.headers.get('x-stork-message-id') ?? '';
    const status = await pollUntil(async () => {
      const r = await t.database.db.query<{ status: string }>(`SELECT status FROM messages WHERE id = $1`, [secondId]);
      return r.rows[0]?.status === 'queued' ? undefined : r.rows[0]?.status;
    }, 'the second message handled');
    // Recognised as the same baby by its (hashed) subject key: nothing new to say, no second notification.
    expect(status).toBe('duplicate');
    const n = await t.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM notifications WHERE subject_key = $1`, [
      pseudo(sha(`local:northvale-adt:RX9:${localId}`)),
    ]);
    expect(Number(n.rows[0]?.n)).toBe(1);
  });

  test('MLLP, a feed identified by its source address alone: it may not send as another feed; an unlisted address may not send as it', async () => {
    // 127.0.0.1 is on Northvale's allow-list (and no certificate is used): the connection is Northvale's. A message
    // naming Northgate (RX1, a feed with no allow-list of its own) from there is feed X sending as feed Y.
    const asNorthgate = describeNewborn({ seed: 131, controlId: 'SRC-AS-RX1', sendingFacility: 'RX1', sendingApplication: 'MATERNITY' });
    const ack1 = await sendFrom('127.0.0.1', t.mllpPort, asNorthgate.text.replace('|AL|NE|', '|||'));
    expect(msa(ack1)).toEqual(['AR', 'SRC-AS-RX1']);
    expect(ack1).toContain('ERR|');
    // Enhanced acknowledgement mode asks for a commit ACK: the same refusal is CR.
    const enhanced = describeNewborn({ seed: 132, controlId: 'SRC-AS-RX1-CR', sendingFacility: 'RX1', sendingApplication: 'MATERNITY' });
    expect(msa(await sendFrom('127.0.0.1', t.mllpPort, enhanced.text))).toEqual(['CR', 'SRC-AS-RX1-CR']);
    // From an address on no allow-list (127.0.0.3), a message naming Northvale, whose list does not have it.
    const ack3 = await sendFrom('127.0.0.3', t.mllpPort, rx9(133, 'SRC-UNLISTED').text);
    expect(msa(ack3)).toEqual(['AR', 'SRC-UNLISTED']);
    // Each is stored, quarantined with its reason, under the key of the address that sent it (never the feed's).
    const stored = await t.database.db.query<{
      control_id: string;
      status: string;
      reason: string;
      remote_address: string;
      sender_key: string;
    }>(`SELECT control_id, status, reason, remote_address, sender_key FROM messages WHERE control_id LIKE 'SRC-%' ORDER BY control_id`);
    expect(stored.rows).toEqual([
      {
        control_id: 'SRC-AS-RX1',
        status: 'quarantined',
        reason: "The message's sender (MSH-4/MSH-3) is not the feed this connection is identified as",
        remote_address: expect.stringMatching(/127\.0\.0\.1$/) as unknown,
        sender_key: '|address:127.0.0.1|RX1|MATERNITY',
      },
      {
        control_id: 'SRC-AS-RX1-CR',
        status: 'quarantined',
        reason: "The message's sender (MSH-4/MSH-3) is not the feed this connection is identified as",
        remote_address: expect.stringMatching(/127\.0\.0\.1$/) as unknown,
        sender_key: '|address:127.0.0.1|RX1|MATERNITY',
      },
      {
        control_id: 'SRC-UNLISTED',
        status: 'quarantined',
        reason: 'The feed may not send from this network address',
        remote_address: expect.stringMatching(/127\.0\.0\.3$/) as unknown,
        sender_key: '|address:127.0.0.3|RX9|PAS',
      },
    ]);
    // Northgate's own messages over HTTP (its API key) are unaffected, and so is Northvale from its address.
    expect(
      (
        await post(
          RX1_KEY,
          describeNewborn({ seed: 134, controlId: 'SRC-RX1-HTTP', sendingFacility: 'RX1', sendingApplication: 'MATERNITY' }).text,
        )
      ).status,
    ).toBe(200);
    expect(msa(await sendFrom('127.0.0.1', t.mllpPort, rx9(135, 'SRC-RX9-OWN').text))).toEqual(['AA', 'SRC-RX9-OWN']);
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

    // 006 and 007, then whatever later migrations exist (none touches these keys).
    expect((await migrate(db.db)).slice(0, 2)).toEqual(['006', '007']);
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
