import { HL7Message } from 'hl7v2';
import { ackWanted, buildAck, escapeText, hl7Timestamp, sentCode, type AckCode } from '../../../../src/pipeline/hl7v2/ack.js';
import { readEnvelope, type Envelope } from '../../../../src/pipeline/hl7v2/envelope.js';
import { issue, type Issue } from '../../../../src/domain/issue.js';

const NOW = new Date('2026-11-25T03:14:16.789Z');
const OPTS = { ackControlId: 'STK-000123', now: NOW };

const A28 = [
  'MSH|^~\\&|MATERNITY^1.2.826^ISO|RX1^Northgate^L|STORK^hub^L|HUB^x|20240315083000||ADT^A28^ADT_A05|CTRL0001|P|2.4',
  'EVN||20240315083000',
  'PID|1||9000000009^^^NHS^NH',
].join('\r');

function envelopeOf(text: string): Envelope {
  const r = readEnvelope(text);
  if (!r.ok) throw new Error(`test message does not parse: ${JSON.stringify(r.issues)}`);
  return r.envelope;
}

/** Segments of an ACK split into fields; for MSH, index n is MSH-n (index 1 = the field separator). */
function segments(ack: string, fs = '|'): string[][] {
  expect(ack.endsWith('\r')).toBe(true);
  return ack
    .slice(0, -1)
    .split('\r')
    .map((line) => {
      const parts = line.split(fs);
      return parts[0] === 'MSH' ? ['MSH', fs, ...parts.slice(1)] : parts;
    });
}

function segment(ack: string, id: string, fs = '|', occurrence = 0): string[] {
  const found = segments(ack, fs).filter((s) => s[0] === id)[occurrence];
  if (!found) throw new Error(`no ${id} segment #${occurrence + 1} in ${JSON.stringify(ack)}`);
  return found;
}

function withMsh15(value: string): Envelope {
  return envelopeOf(A28.replace('|P|2.4', `|P|2.4|||${value}`));
}

describe('hl7Timestamp', () => {
  it('formats UTC with an explicit +0000 offset to the second', () => {
    expect(hl7Timestamp(NOW)).toBe('20261125031416+0000');
    expect(hl7Timestamp(new Date('2024-01-02T00:00:00.000Z'))).toBe('20240102000000+0000');
  });

  it('uses UTC, not the local time zone', () => {
    expect(hl7Timestamp(new Date('2024-07-01T23:59:59+01:00'))).toBe('20240701225959+0000');
  });
});

describe('escapeText', () => {
  it.each([
    ['|', '\\F\\'],
    ['^', '\\S\\'],
    ['&', '\\T\\'],
    ['\\', '\\E\\'],
    ['~', '\\R\\'],
    ['plain text', 'plain text'],
    ['a|b^c&d\\e~f', 'a\\F\\b\\S\\c\\T\\d\\E\\e\\R\\f'],
  ])('escapes %j as %j with the standard delimiters', (input, expected) => {
    expect(escapeText(input, '|', '^~\\&')).toBe(expected);
  });

  it('replaces CR and LF by spaces, so free text cannot end a segment', () => {
    expect(escapeText('line1\r\nline2\rline3\n', '|', '^~\\&')).toBe('line1  line2 line3 ');
  });

  it("uses the sender's own delimiters", () => {
    // Field separator ^, component ~, repetition |, escape \, subcomponent &.
    expect(escapeText('a^b~c|d&e\\f', '^', '~|\\&')).toBe('a\\F\\b\\S\\c\\R\\d\\T\\e\\E\\f');
  });

  it("uses the sender's own escape character", () => {
    expect(escapeText('a|b#c', '|', '^~#&')).toBe('a#F#b#E#c');
  });

  it('leaves non-ASCII text alone', () => {
    expect(escapeText('Zoë Łódź', '|', '^~\\&')).toBe('Zoë Łódź');
  });
});

describe('ackWanted', () => {
  const codes: AckCode[] = ['AA', 'AE', 'AR'];
  it.each([
    ['', [true, true, true]],
    ['AL', [true, true, true]],
    ['al', [true, true, true]],
    ['NE', [false, false, false]],
    ['ER', [false, true, true]],
    ['SU', [true, false, false]],
    ['XX', [true, true, true]],
  ])('MSH-15 %j wants %j for AA/AE/AR', (mode, expected) => {
    const env = mode === '' ? envelopeOf(A28) : withMsh15(mode);
    expect(env.acceptAckType).toBe(mode);
    expect(codes.map((c) => ackWanted(env, c))).toEqual(expected);
  });

  it('always wants an ACK when there is no envelope', () => {
    expect(codes.map((c) => ackWanted(undefined, c))).toEqual([true, true, true]);
  });
});

describe('sentCode', () => {
  it('sends the original-mode codes when MSH-15 is empty', () => {
    const env = envelopeOf(A28);
    expect((['AA', 'AE', 'AR'] as const).map((c) => sentCode(env, c))).toEqual(['AA', 'AE', 'AR']);
    expect(sentCode(undefined, 'AR')).toBe('AR');
  });

  it('maps AA→CA, AE→CE, AR→CR when MSH-15 is set', () => {
    const env = withMsh15('AL');
    expect((['AA', 'AE', 'AR'] as const).map((c) => sentCode(env, c))).toEqual(['CA', 'CE', 'CR']);
  });

  it('treats an MSH-15 of spaces as empty', () => {
    const env: Envelope = { ...envelopeOf(A28), acceptAckType: '  ' };
    expect(sentCode(env, 'AE')).toBe('AE');
  });
});

describe('buildAck', () => {
  it('builds an AA with sender and receiver swapped and the original identifiers echoed', () => {
    const ack = buildAck(envelopeOf(A28), 'AA', [], OPTS);
    expect(ack).toBe(
      'MSH|^~\\&|STORK^hub^L|HUB^x|MATERNITY^1.2.826^ISO|RX1^Northgate^L|20261125031416+0000||ACK^A28^ACK|STK-000123|P|2.4\r' +
        'MSA|AA|CTRL0001|Message accepted\r',
    );
  });

  it('puts each field where HL7 expects it', () => {
    const msh = segment(buildAck(envelopeOf(A28), 'AA', [], OPTS), 'MSH');
    expect(msh[2]).toBe('^~\\&');
    expect(msh[3]).toBe('STORK^hub^L'); // original MSH-5
    expect(msh[4]).toBe('HUB^x'); // original MSH-6
    expect(msh[5]).toBe('MATERNITY^1.2.826^ISO'); // original MSH-3, all components
    expect(msh[6]).toBe('RX1^Northgate^L'); // original MSH-4, all components
    expect(msh[7]).toBe('20261125031416+0000');
    expect(msh[9]).toBe('ACK^A28^ACK');
    expect(msh[10]).toBe('STK-000123');
    expect(msh[11]).toBe('P');
    expect(msh[12]).toBe('2.4');
  });

  it('echoes MSH-11 and the whole MSH-12', () => {
    const env = envelopeOf(A28.replace('|P|2.4', '|T|2.5^^'));
    const msh = segment(buildAck(env, 'AA', [], OPTS), 'MSH');
    expect(msh[11]).toBe('T');
    expect(msh[12]).toBe('2.5^^');
  });

  it('names Stork as the sending application when the original left MSH-5 empty', () => {
    const env = envelopeOf('MSH|^~\\&|PAS|RX1|||2024||ADT^A01^ADT_A01|X1|P|2.3');
    const msh = segment(buildAck(env, 'AA', [], OPTS), 'MSH');
    expect(msh.slice(3, 7)).toEqual(['STORK', '', 'PAS', 'RX1']);
    expect(msh[9]).toBe('ACK^A01^ACK');
    expect(msh[12]).toBe('2.3');
  });

  it('puts the code in MSA-1 and the original MSH-10 in MSA-2', () => {
    for (const code of ['AA', 'AE', 'AR'] as const) {
      const msa = segment(buildAck(envelopeOf(A28), code, [], OPTS), 'MSA');
      expect(msa.slice(0, 3)).toEqual(['MSA', code, 'CTRL0001']);
    }
  });

  it("MSA-3 gives the first error's text, escaped", () => {
    const issues: Issue[] = [{ severity: 'warning', code: '207', message: 'just a warning' }, issue('101', 'PID-3 | missing')];
    const msa = segment(buildAck(envelopeOf(A28), 'AE', issues, OPTS), 'MSA');
    expect(msa).toEqual(['MSA', 'AE', 'CTRL0001', 'PID-3 \\F\\ missing']);
  });

  it('MSA-3 is a generic text for a rejection with no issues', () => {
    expect(segment(buildAck(envelopeOf(A28), 'AR', [], OPTS), 'MSA')[3]).toBe('Message not accepted');
  });

  it('writes an ERR segment with ERR-1 (v2.4), ERR-2/3/4 (v2.5+) and the escaped text in ERR-8', () => {
    const problem = issue('102', 'NHS number | ^ & \\ ~ failed its check', {
      location: { segment: 'PID', sequence: 1, field: 3, component: 1 },
    });
    const ack = buildAck(envelopeOf(A28), 'AE', [problem], OPTS);
    const err = segment(ack, 'ERR');
    expect(err).toEqual([
      'ERR',
      'PID^1^3^102&Data type error&HL70357',
      'PID^1^3^1^1',
      '102^Data type error^HL70357',
      'E',
      '',
      '',
      '',
      'NHS number \\F\\ \\S\\ \\T\\ \\E\\ \\R\\ failed its check',
    ]);
    expect(ack.split('\r')[2]).toBe(
      'ERR|PID^1^3^102&Data type error&HL70357|PID^1^3^1^1|102^Data type error^HL70357|E||||NHS number \\F\\ \\S\\ \\T\\ \\E\\ \\R\\ failed its check',
    );
  });

  it('ERR-2 drops empty trailing components and names the repetition only with a field', () => {
    const issues: Issue[] = [
      issue('100', 'segment out of place', { location: { segment: 'PV1', sequence: 2 } }),
      issue('101', 'PID-5 missing', { location: { segment: 'PID', sequence: 1, field: 5 } }),
      issue('102', 'second identifier bad', { location: { segment: 'PID', field: 3, repetition: 2, component: 4 } }),
    ];
    const ack = buildAck(envelopeOf(A28), 'AE', issues, OPTS);
    expect([0, 1, 2].map((i) => segment(ack, 'ERR', '|', i).slice(1, 3))).toEqual([
      ['PV1^2^^100&Segment sequence error&HL70357', 'PV1^2'],
      ['PID^1^5^101&Required field missing&HL70357', 'PID^1^5^1'],
      ['PID^1^3^102&Data type error&HL70357', 'PID^1^3^2^4'],
    ]);
  });

  it('writes one ERR per issue, W for warnings, and empty locations when there is none', () => {
    const issues: Issue[] = [
      { severity: 'warning', code: '103', message: 'unknown ethnic code' },
      issue('207', 'store unavailable'),
      { severity: 'error', code: '999' as Issue['code'], message: 'odd' },
    ];
    const ack = buildAck(envelopeOf(A28), 'AE', issues, OPTS);
    expect(ack.split('\r').slice(2)).toEqual([
      'ERR|||103^Table value not found^HL70357|W||||unknown ethnic code',
      'ERR|||207^Application internal error^HL70357|E||||store unavailable',
      'ERR|||999^Error^HL70357|E||||odd',
      '',
    ]);
  });

  it.each([
    ['100', 'Segment sequence error'],
    ['101', 'Required field missing'],
    ['102', 'Data type error'],
    ['103', 'Table value not found'],
    ['200', 'Unsupported message type'],
    ['201', 'Unsupported event code'],
    ['202', 'Unsupported processing id'],
    ['203', 'Unsupported version id'],
    ['204', 'Unknown key identifier'],
    ['205', 'Duplicate key identifier'],
    ['207', 'Application internal error'],
  ] as const)('ERR-3 names table 0357 code %s as %j', (code, text) => {
    const err = segment(buildAck(envelopeOf(A28), 'AR', [issue(code, 'x')], OPTS), 'ERR');
    expect(err[3]).toBe(`${code}^${text}^HL70357`);
  });

  it('ends every segment with CR and uses no LF', () => {
    const ack = buildAck(envelopeOf(A28), 'AE', [issue('101', 'a'), issue('102', 'b\nc')], OPTS);
    expect(ack.endsWith('\r')).toBe(true);
    expect(ack.includes('\n')).toBe(false);
    expect(ack.split('\r').map((s) => s.slice(0, 3))).toEqual(['MSH', 'MSA', 'ERR', 'ERR', '']);
  });

  it('uses CA/CE/CR in enhanced mode', () => {
    const env = withMsh15('AL');
    expect(segment(buildAck(env, 'AA', [], OPTS), 'MSA')[1]).toBe('CA');
    expect(segment(buildAck(env, 'AE', [issue('101', 'x')], OPTS), 'MSA')[1]).toBe('CE');
    expect(segment(buildAck(env, 'AR', [issue('200', 'x')], OPTS), 'MSA')[1]).toBe('CR');
  });

  it("answers in the sender's own encoding characters (field separator ^)", () => {
    const text = 'MSH^~|\\&^APP~1.2~ISO^RX1~x~L^STORK^HUB^20240101^^ADT~A28~ADT_A05^C9^P^2.5\rPID^1';
    const env = envelopeOf(text);
    const problem = issue('102', 'bad ^ value | here ~ & \\', { location: { segment: 'PID', sequence: 1, field: 3, component: 1 } });
    const ack = buildAck(env, 'AE', [problem], OPTS);
    expect(ack).toBe(
      'MSH^~|\\&^STORK^HUB^APP~1.2~ISO^RX1~x~L^20261125031416+0000^^ACK~A28~ACK^STK-000123^P^2.5\r' +
        'MSA^AE^C9^bad \\F\\ value \\R\\ here \\S\\ \\T\\ \\E\\\r' +
        'ERR^PID~1~3~102&Data type error&HL70357^PID~1~3~1~1^102~Data type error~HL70357^E^^^^bad \\F\\ value \\R\\ here \\S\\ \\T\\ \\E\\\r',
    );
    expect(segment(ack, 'MSA', '^').slice(0, 3)).toEqual(['MSA', 'AE', 'C9']);
  });

  it('escapes the ack control id', () => {
    const msh = segment(buildAck(envelopeOf(A28), 'AA', [], { ackControlId: 'a|b', now: NOW }), 'MSH');
    expect(msh[10]).toBe('a\\F\\b');
  });

  it('still builds a valid ACK for garbage (no envelope)', () => {
    const ack = buildAck(
      undefined,
      'AR',
      [issue('100', 'The message does not start with an MSH segment', { location: { segment: 'MSH', sequence: 1 } })],
      OPTS,
    );
    expect(ack.startsWith('MSH|^~\\&|STORK')).toBe(true);
    expect(ack).toBe(
      'MSH|^~\\&|STORK||||20261125031416+0000||ACK^^ACK|STK-000123|P|2.4\r' +
        'MSA|AR||The message does not start with an MSH segment\r' +
        'ERR|MSH^1^^100&Segment sequence error&HL70357|MSH^1|100^Segment sequence error^HL70357|E||||The message does not start with an MSH segment\r',
    );
    expect(segment(ack, 'MSA')[2]).toBe('');
  });

  describe('read back with the hl7v2 parser', () => {
    it('MSA-1 and MSA-2 read correctly from an AA', () => {
      const parsed = HL7Message.parse(buildAck(envelopeOf(A28), 'AA', [], OPTS));
      expect(parsed.getSegment('MSA')?.field(1).getValue()).toBe('AA');
      expect(parsed.getSegment('MSA')?.field(2).getValue()).toBe('CTRL0001');
      expect(parsed.header.field(10).getValue()).toBe('STK-000123');
      expect(parsed.header.field(9).getValue(1)).toBe('ACK');
      expect(parsed.header.field(9).getValue(2)).toBe('A28');
      expect(parsed.header.field(3).getValue(1)).toBe('STORK');
      expect(parsed.header.field(5).getValue(1)).toBe('MATERNITY');
      expect(parsed.header.field(6).getValue(1)).toBe('RX1');
      expect(parsed.segments.map((s) => s.segmentType)).toEqual(['MSH', 'MSA']);
    });

    it('an AE with an ERR parses, and the escaped texts decode to the originals', () => {
      const message = 'value | with ^ delimiters & such \\ ~';
      const ack = buildAck(
        envelopeOf(A28),
        'AE',
        [issue('102', message, { location: { segment: 'PID', sequence: 1, field: 3, component: 1 } })],
        OPTS,
      );
      const parsed = HL7Message.parse(ack);
      expect(parsed.getSegment('MSA')?.field(1).getValue()).toBe('AE');
      expect(parsed.getSegment('MSA')?.field(2).getValue()).toBe('CTRL0001');
      expect(parsed.getSegment('MSA')?.field(3).getValue()).toBe(message);
      expect(parsed.getSegment('ERR')?.field(8).getValue()).toBe(message);
      expect(parsed.getSegment('ERR')?.field(4).getValue()).toBe('E');
    });

    it('a garbage ACK parses with an empty MSA-2', () => {
      const parsed = HL7Message.parse(buildAck(undefined, 'AR', [issue('100', 'x')], OPTS));
      expect(parsed.getSegment('MSA')?.field(1).getValue()).toBe('AR');
      expect(parsed.getSegment('MSA')?.field(2).isEmpty()).toBe(true);
    });

    it('MSA-2 echoes MSH-10 as sent: a control id holding an escape sequence is not escaped twice', () => {
      // MSH-10 raw text `CTRL\T\42` means "CTRL&42". The ACK must carry the same value in MSA-2.
      const original = A28.replace('|CTRL0001|', '|CTRL\\T\\42|');
      const sentId: unknown = HL7Message.parse(original).header.field(10).getValue();
      expect(sentId).toBe('CTRL&42');
      const ack = buildAck(envelopeOf(original), 'AA', [], OPTS);
      expect(segment(ack, 'MSA')[2]).toBe('CTRL\\T\\42');
      expect(HL7Message.parse(ack).getSegment('MSA')?.field(2).getValue()).toBe(sentId);
    });
  });
});
