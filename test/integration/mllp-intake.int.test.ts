import net from 'node:net';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { frame } from '../../adapters/mllp/mllp-framer.js';
import { newbornAdt, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';

/** MSA-1 and the ERR segments of an ACK. */
function parseAck(ack: string): { code: string; controlId: string; errs: string[]; msh: string[] } {
  const segments = ack.split('\r').filter(Boolean);
  const msh = segments[0]?.split('|') ?? [];
  const msa = segments.find((s) => s.startsWith('MSA'))?.split('|') ?? [];
  return { code: msa[1] ?? '', controlId: msa[2] ?? '', errs: segments.filter((s) => s.startsWith('ERR')), msh };
}

const now = () => new Date();
/** A synthetic newborn in original acknowledgement mode (ITK messages set MSH-15 AL: enhanced mode). */
const adt = (o: NewbornAdtOptions, msh15 = ''): string => withMsh15(newbornAdt(o), msh15);

describe('MLLP intake: a trust sends HL7 v2 and gets standard ACKs, with nothing lost', () => {
  let t: TestHub;
  let client: MllpClient;

  beforeAll(async () => {
    t = await startTestHub({ env: { STORK_MLLP_MAX_BYTES: '8192' } });
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  const rowsFor = async (controlId: string) =>
    (
      await t.database.db.query<{ id: string; status: string; ack_code: string }>(
        `SELECT id, status, ack_code FROM messages WHERE control_id = $1`,
        [controlId],
      )
    ).rows;

  test('the ACK of a newborn comes only after its row is committed, and the job is queued', async () => {
    const msg = adt({ seed: 1, controlId: 'INT-0001', sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: now() });
    const ack = parseAck(await client.send(msg));
    expect(ack.code).toBe('AA');
    expect(ack.controlId).toBe('INT-0001');
    // Read on another connection the moment the ACK arrives: the row must already be committed.
    const rows = await rowsFor('INT-0001');
    expect(rows).toHaveLength(1);
    expect(['queued', 'processed']).toContain(rows[0]?.status);
    expect(ack.msh[2]).toBe('STORK');
    expect(ack.msh[4]).toBe('MATERNITY');
    expect(ack.msh[5]).toBe('RX1');
  });

  test('a re-sent message gets the original ACK byte for byte and adds no row', async () => {
    const msg = adt({ seed: 2, controlId: 'INT-0002', sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: now() });
    const first = await client.send(msg);
    const again = await client.send(msg);
    expect(again).toBe(first);
    expect(await rowsFor('INT-0002')).toHaveLength(1);
  });

  test('frames split into single bytes and frames packed into one write are both acknowledged in order', async () => {
    const a = adt({ seed: 3, controlId: 'INT-SPLIT', sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: now() });
    const b = adt({ seed: 4, controlId: 'INT-PACK-1', sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: now() });
    const c = adt({ seed: 5, controlId: 'INT-PACK-2', sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: now() });
    const acks = await rawExchange(
      t.mllpPort,
      (socket) => {
        const bytes = frame(a);
        for (const byte of bytes) socket.write(Buffer.from([byte]));
        socket.write(Buffer.concat([frame(b), frame(c)]));
      },
      3,
    );
    expect(acks.map((x) => [parseAck(x).code, parseAck(x).controlId])).toEqual([
      ['AA', 'INT-SPLIT'],
      ['AA', 'INT-PACK-1'],
      ['AA', 'INT-PACK-2'],
    ]);
  });

  test('an oversize frame gets AR and the messages around it on the same connection are still accepted', async () => {
    const big =
      adt({ seed: 6, controlId: 'INT-BIG', sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: now() }) +
      `NTE|1||${'x'.repeat(20000)}\r`;
    const before = client.send(
      adt({ seed: 7, controlId: 'INT-BEFORE', sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: now() }),
    );
    const oversize = client.send(big);
    const after = client.send(
      adt({ seed: 8, controlId: 'INT-AFTER', sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: now() }),
    );
    expect(parseAck(await before).code).toBe('AA');
    const ar = parseAck(await oversize);
    expect(ar.code).toBe('AR');
    expect(ar.controlId).toBe('INT-BIG');
    expect(ar.errs[0]).toContain('over the limit of 8192 bytes');
    expect(parseAck(await after).code).toBe('AA');
    const stored = await t.database.db.query<{ status: string; raw_truncated: boolean; size_bytes: number }>(
      `SELECT status, raw_truncated, size_bytes FROM messages WHERE control_id IS NULL AND raw_truncated`,
    );
    expect(stored.rows).toEqual([{ status: 'quarantined', raw_truncated: true, size_bytes: Buffer.byteLength(big) }]);
  });

  test('garbage gets AR with an ERR naming the problem, and is stored in quarantine', async () => {
    const ack = parseAck(await client.send('this is not HL7 at all'));
    expect(ack.code).toBe('AR');
    expect(ack.errs[0]).toMatch(/^ERR\|MSH\^1\^\^100&Segment sequence error&HL70357\|MSH\^1\|100\^Segment sequence error\^HL70357\|E/);
    const rows = await t.database.db.query<{ status: string; reason: string }>(
      `SELECT status, reason FROM messages WHERE sender_key IS NULL`,
    );
    expect(rows.rows.some((r) => r.status === 'quarantined' && r.reason.startsWith('Unparseable'))).toBe(true);
  });

  test('an unknown sender, an unsupported event, version or processing id get AR with the HL7 error code and location', async () => {
    const base = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: now() };
    const unknown = parseAck(await client.send(adt({ ...base, seed: 9, controlId: 'INT-UNK', sendingFacility: 'ZZZ' })));
    expect([unknown.code, unknown.errs[0]?.split('|')[3]]).toEqual(['AR', '103^Table value not found^HL70357']);
    expect(unknown.errs[0]?.split('|')[2]).toBe('MSH^1^4^1');
    const event = parseAck(await client.send(adt({ ...base, seed: 10, controlId: 'INT-EVT', event: 'A13' })));
    expect([event.code, event.errs[0]?.split('|')[3]]).toEqual(['AR', '201^Unsupported event code^HL70357']);
    const version = adt({ ...base, seed: 11, controlId: 'INT-VER' }).replace('|2.4|', '|2.9|');
    expect(parseAck(await client.send(version)).errs[0]?.split('|')[3]).toBe('203^Unsupported version id^HL70357');
    const processing = adt({ ...base, seed: 12, controlId: 'INT-PID' }).replace('|P|2.4|', '|D|2.4|');
    expect(parseAck(await client.send(processing)).errs[0]?.split('|')[3]).toBe('202^Unsupported processing id^HL70357');
    for (const id of ['INT-UNK', 'INT-EVT', 'INT-VER', 'INT-PID']) expect((await rowsFor(id))[0]?.status).toBe('quarantined');
  });

  test('enhanced mode (MSH-15 AL) gets a commit ACK CA; NE gets no ACK but the message is stored', async () => {
    const base = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: now() };
    const al = adt({ ...base, seed: 13, controlId: 'INT-CA' }, 'AL');
    expect(parseAck(await client.send(al)).code).toBe('CA');
    const ne = adt({ ...base, seed: 14, controlId: 'INT-NE' }, 'NE');
    const acks = await rawExchange(
      t.mllpPort,
      (s) => {
        s.write(frame(ne));
      },
      0,
    );
    expect(acks).toEqual([]);
    await pollUntil(async () => ((await rowsFor('INT-NE')).length === 1 ? true : undefined), 'the NE message to be stored');
  });
});

/** MSH-15 set on a generated message. */
function withMsh15(message: string, value: string): string {
  const [msh, ...rest] = message.split('\r');
  const fields = (msh ?? '').split('|');
  while (fields.length < 16) fields.push('');
  fields[14] = value;
  return [fields.join('|'), ...rest].join('\r');
}

/**
 * Talks raw TCP to the listener: runs `write`, then collects `expected` ACK frames (or, with 0, waits
 * until the hub has had time to answer by sending a marker message and reading only its ACK).
 */
async function rawExchange(port: number, write: (s: net.Socket) => void | Promise<void>, expected: number): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const acks: string[] = [];
  let buffer = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buffer = Buffer.concat([buffer, d]);
    for (;;) {
      const end = buffer.indexOf(Buffer.from([0x1c, 0x0d]));
      if (end === -1) break;
      acks.push(buffer.subarray(1, end).toString('utf8'));
      buffer = buffer.subarray(end + 2);
    }
  });
  await write(socket);
  if (expected === 0) {
    // A marker on the same connection: its ACK comes after any ACK for what was written before.
    socket.write(
      frame(
        adt({
          seed: 99,
          controlId: `MARK-${Date.now()}`,
          sendingFacility: 'RX1',
          sendingApplication: 'MATERNITY',
          messageTime: new Date(),
        }),
      ),
    );
    await pollUntil(() => (acks.length >= 1 ? true : undefined), 'marker ACK');
    socket.destroy();
    return acks.slice(0, -1);
  }
  await pollUntil(() => (acks.length >= expected ? true : undefined), `${expected} ACKs`);
  socket.destroy();
  return acks;
}
