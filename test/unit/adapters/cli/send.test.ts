import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { frame } from '../../../../adapters/mllp/mllp-framer.js';
import { controlId, main, readAck, shiftToNow, splitMessages } from '../../../../adapters/cli/send.js';
import { buildAck, type AckCode } from '../../../../src/pipeline/hl7v2/ack.js';
import { readEnvelope } from '../../../../src/pipeline/hl7v2/envelope.js';
import { Hl7ErrorCode, issue } from '../../../../src/domain/issue.js';
import { isValidNhsNumber } from '../../../../src/domain/nhs-number.js';
import { closedPort, startMllpPeer, type MllpPeer } from '../../../support/mllp-peer.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const sampleFile = path.join(repo, 'test', 'fixtures', 'sample-newborn-a28.hl7');

/** A test peer that answers every frame with a real Stork ACK carrying `code`. */
function startAckServer(code: () => AckCode): Promise<MllpPeer> {
  return startMllpPeer((text, socket) => {
    const env = readEnvelope(text);
    const envelope = env.ok ? env.envelope : undefined;
    const c = code();
    const issues =
      c === 'AA'
        ? []
        : [
            issue(Hl7ErrorCode.RequiredFieldMissing, 'PID-7 date of birth is missing', {
              location: { segment: 'PID', sequence: 1, field: 7 },
            }),
          ];
    socket.write(frame(buildAck(envelope, c, issues, { ackControlId: 'ACK-1', now: new Date('2026-11-18T09:35:13Z') })));
  });
}

function collector(): { write(text: string): void; text(): string } {
  let buf = '';
  return { write: (t: string) => void (buf += t), text: () => buf };
}

function msg(id: string, eol: string): string {
  return (
    [
      `MSH|^~\\&|MATERNITY|RX1|STORK|STORK|20261118093512||ADT^A28^ADT_A05|${id}|P|2.4`,
      'EVN||20261118093500',
      'PID|1||9990047219^^^NHS^NH',
    ].join(eol) + eol
  );
}

describe('stork-send', () => {
  let dir: string;
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stork-send-'));
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the sample file and exits 0 when the ACK is AA', async () => {
    const server = await startAckServer(() => 'AA');
    closers.push(() => server.close());
    const out = collector();
    const code = await main(['--port', String(server.port), sampleFile], out);
    expect(code).toBe(0);
    expect(out.text()).toBe(`${sampleFile} NGM-20261118-000417 AA Message accepted\n`);
    expect(server.received).toEqual([await readFile(sampleFile, 'utf8')]);
  });

  it('--now moves MSH-7, EVN and the birth by one amount so MSH-7 is the clock, with a fresh MSH-10', async () => {
    const server = await startAckServer(() => 'AA');
    closers.push(() => server.close());
    const out = collector();
    const clock = () => new Date('2027-11-29T06:15:30.250Z');
    expect(await main(['--port', String(server.port), '--now', sampleFile], out, out, clock)).toBe(0);
    const original = await readFile(sampleFile, 'latin1');
    const [sent] = server.received;
    const field = (text: string | undefined, seg: string, n: number): string | undefined => {
      const f = text
        ?.split('\r')
        .find((s) => s.startsWith(seg))
        ?.split('|');
      return f?.[seg === 'MSH' ? n - 1 : n];
    };
    // MSH-7 in its own zone (+0000); EVN-2, EVN-6 and PID-7 (London local, 53 minutes before) keep their gaps.
    expect(field(sent, 'MSH', 7)).toBe('20271129061530+0000');
    expect(field(sent, 'EVN', 2)).toBe('20271129061518');
    expect(field(sent, 'EVN', 6)).toBe('20271129052218');
    expect(field(sent, 'PID', 7)).toBe('20271129052218');
    const id = field(sent, 'MSH', 10) ?? '';
    expect(id.length).toBeLessThanOrEqual(20);
    expect(id).not.toBe('NGM-20261118-000417');
    expect(out.text()).toBe(`${sampleFile} ${id} AA Message accepted\n`);
    // Nothing else changes: same segments, same other fields (the mother's birth date NK1-16 included).
    const rest = (text: string | undefined) =>
      (text ?? '').split('\r').map((s) =>
        s
          .split('|')
          .filter((_, i) => !(s.startsWith('MSH') && [6, 9].includes(i)))
          .join('|'),
      );
    const changedSegments = rest(sent)
      .filter((s, i) => s !== rest(original)[i])
      .map((s) => s.slice(0, 3));
    expect(changedSegments).toEqual(['EVN', 'PID']);
    expect(field(sent, 'NK1', 16)).toBe('19960402');
  });

  it('--now keeps precision and zones, shifts every repetition, and gives each message of a file its own MSH-10', () => {
    const now = new Date('2026-07-01T12:00:00Z'); // BST: London wall clock 13:00
    const msg = 'MSH|^~\\&|A|B|C|D|202601151000||ADT^A28|X1|P|2.4\rEVN||202601150950-0500\rPID|1||1||N||20260114~20260113|F\r';
    const one = shiftToNow(msg, now, 1).split('\r');
    expect(one[0]?.split('|')[6]).toBe('202607011300'); // no zone: London local, like the hub reads it
    expect(one[1]).toBe('EVN||202607011250-0500');
    expect(one[2]).toBe('PID|1||1||N||20260630~20260629|F');
    expect(shiftToNow(msg, now, 1).split('|')[9]).not.toBe(shiftToNow(msg, now, 2).split('|')[9]);
    expect(shiftToNow('MSH|^~\\&|A|B|C|D|yesterday||ADT^A28|X1|P|2.4\r', now)).toBe('MSH|^~\\&|A|B|C|D|yesterday||ADT^A28|X1|P|2.4\r');
  });

  it('splits files on blank lines and MSH lines, sends CR segment endings, and exits 1 with ERR detail on AE', async () => {
    const twoByBlank = path.join(dir, 'two.hl7');
    const twoByMsh = path.join(dir, 'msh.hl7');
    await writeFile(twoByBlank, `${msg('BLANK-1', '\r\n')}\r\n\r\n${msg('BLANK-2', '\r\n')}`);
    await writeFile(twoByMsh, msg('MSH-1', '\n') + msg('MSH-2', '\n'));
    const codes: AckCode[] = ['AA', 'AE', 'AA', 'AA'];
    const server = await startAckServer(() => codes.shift() ?? 'AA');
    closers.push(() => server.close());
    const out = collector();
    const code = await main(['--host', '127.0.0.1', '--port', String(server.port), '--timeout', '5000', twoByBlank, twoByMsh], out);
    expect(code).toBe(1);
    expect(server.received).toEqual([msg('BLANK-1', '\r'), msg('BLANK-2', '\r'), msg('MSH-1', '\r'), msg('MSH-2', '\r')]);
    expect(out.text().split('\n')).toEqual([
      `${twoByBlank}#1 BLANK-1 AA Message accepted`,
      `${twoByBlank}#2 BLANK-2 AE PID-7 date of birth is missing`,
      '  ERR E 101 PID-7 PID-7 date of birth is missing',
      `${twoByMsh}#1 MSH-1 AA Message accepted`,
      `${twoByMsh}#2 MSH-2 AA Message accepted`,
      '',
    ]);
  });

  it('exits 2 naming the host and port, and how to start the hub, when nothing listens', async () => {
    const port = await closedPort();
    const out = collector();
    const code = await main(['--port', String(port), sampleFile], out);
    expect(code).toBe(2);
    expect(out.text()).toContain(`127.0.0.1:${port}`);
    expect(out.text()).toContain('ECONNREFUSED');
    expect(out.text()).toContain('npm start');
  });

  it('exits 2 on usage errors', async () => {
    for (const argv of [[], ['--port', 'abc', sampleFile], ['--bogus', sampleFile], [path.join(dir, 'missing.hl7')]]) {
      const out = collector();
      expect(await main(argv, out)).toBe(2);
      expect(out.text()).toMatch(/^stork-send: /);
    }
  });

  it('reads ACKs: MSA-1, unescaped MSA-3 and v2.4-only ERR-1', () => {
    const ack = readAck(
      'MSH|^~\\&|STORK|STORK|MATERNITY|RX1|20261118||ACK^A28^ACK|1|P|2.3\rMSA|AR|X|Bad \\F\\ field\rERR|PID^1^3^102&Data type error&HL70357\r',
    );
    expect(ack).toEqual({
      code: 'AR',
      text: 'Bad | field',
      errors: [{ severity: 'E', code: '102', location: 'PID-3', text: 'Data type error' }],
    });
  });

  it('ships a sample file that is one well-formed ITK A28 with valid NHS numbers', async () => {
    const bytes = await readFile(sampleFile);
    expect(bytes.includes('\n')).toBe(false);
    const [message, ...rest] = splitMessages(sampleFile, bytes);
    expect(rest).toHaveLength(0);
    expect(message?.text).toBe(bytes.toString('latin1'));
    const env = readEnvelope(bytes.toString('utf8'));
    expect(env.ok && env.envelope).toMatchObject({
      sendingApplication: 'MATERNITY',
      sendingFacility: 'RX1',
      messageType: 'ADT',
      triggerEvent: 'A28',
      version: '2.4',
      processingId: 'P',
    });
    expect(controlId(bytes.toString('utf8'))).toBe('NGM-20261118-000417');
    const nhsNumbers = bytes.toString('utf8').match(/\b999\d{7}\b/g) ?? [];
    expect(nhsNumbers.length).toBeGreaterThanOrEqual(2);
    for (const n of nhsNumbers) expect(isValidNhsNumber(n)).toBe(true);
    expect(bytes.toString('utf8')).toContain('|MTH^Mother^HL70063|');
    expect(bytes.toString('utf8')).toContain('LS9 7AB');
  });
});
