import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  readEnvelope,
  splitSegments,
  triggerEventOf,
  type Envelope,
  type EnvelopeResult,
} from '../../../../src/pipeline/hl7v2/envelope.js';
import type { Issue } from '../../../../src/domain/issue.js';
import { corpusDir } from '../../../support/corpus.js';

function corpus(rel: string): string {
  return readFileSync(path.join(corpusDir(), 'hl7v2', rel), 'utf8');
}

function ok(result: EnvelopeResult): Envelope {
  if (!result.ok) throw new Error(`expected an envelope, got issues: ${JSON.stringify(result.issues)}`);
  return result.envelope;
}

function issues(result: EnvelopeResult): Issue[] {
  if (result.ok) throw new Error('expected issues, got an envelope');
  return result.issues;
}

/** An MSH segment from its fields 3..n (MSH-1 and MSH-2 are `|` and `^~\&`). */
function msh(fields: Record<number, string>, last = 12): string {
  const out: string[] = ['MSH', '^~\\&'];
  for (let n = 3; n <= last; n++) out.push(fields[n] ?? '');
  return out.join('|');
}

const ITK_FIELDS: Record<number, string> = {
  3: 'MATERNITY^1.2.826.0.1^ISO',
  4: 'RX1^Northgate^L',
  5: 'STORK',
  6: 'HUB',
  7: '20240315083000',
  9: 'ADT^A28^ADT_A05',
  10: 'CTRL0001',
  11: 'P^T',
  12: '2.4',
};

describe('splitSegments', () => {
  it('splits on CR', () => {
    expect(splitSegments('MSH|a\rPID|b\rPV1|c')).toEqual(['MSH|a', 'PID|b', 'PV1|c']);
  });

  it('splits on LF', () => {
    expect(splitSegments('MSH|a\nPID|b\nPV1|c\n')).toEqual(['MSH|a', 'PID|b', 'PV1|c']);
  });

  it('splits on CRLF without leaving empty segments', () => {
    expect(splitSegments('MSH|a\r\nPID|b\r\nPV1|c\r\n')).toEqual(['MSH|a', 'PID|b', 'PV1|c']);
  });

  it('handles mixed endings and drops blank lines', () => {
    expect(splitSegments('MSH|a\r\n\r\nPID|b\n  \rPV1|c\r')).toEqual(['MSH|a', 'PID|b', 'PV1|c']);
  });

  it('gives no segments for empty or blank text', () => {
    expect(splitSegments('')).toEqual([]);
    expect(splitSegments('\r\n\r\n')).toEqual([]);
  });
});

describe('readEnvelope', () => {
  it('extracts the ITK-style MSH fields', () => {
    const text = [
      msh({ ...ITK_FIELDS, 15: 'AL', 16: 'NE', 17: 'GBR', 18: 'UNICODE UTF-8' }, 18),
      'EVN||20240315083000',
      'PID|1||9000000009^^^NHS^NH',
    ].join('\r');
    const env = ok(readEnvelope(text));
    expect(env).toEqual({
      fieldSeparator: '|',
      encodingCharacters: '^~\\&',
      mshFields: [
        '',
        '|',
        '^~\\&',
        'MATERNITY^1.2.826.0.1^ISO',
        'RX1^Northgate^L',
        'STORK',
        'HUB',
        '20240315083000',
        '',
        'ADT^A28^ADT_A05',
        'CTRL0001',
        'P^T',
        '2.4',
        '',
        '',
        'AL',
        'NE',
        'GBR',
        'UNICODE UTF-8',
      ],
      sendingApplication: 'MATERNITY',
      sendingFacility: 'RX1',
      messageType: 'ADT',
      triggerEvent: 'A28',
      controlId: 'CTRL0001',
      processingId: 'P',
      version: '2.4',
      acceptAckType: 'AL',
      charset: 'UNICODE UTF-8',
      segmentCount: 3,
    } satisfies Envelope);
  });

  it('reads the NHS ITK A28 example from the corpus', () => {
    const env = ok(readEnvelope(corpus('nhs-itk-uk/A28_Example.hl7')));
    expect(env.sendingApplication).toBe('PAS');
    expect(env.sendingFacility).toBe('RCB');
    expect(env.messageType).toBe('ADT');
    expect(env.triggerEvent).toBe('A28');
    expect(env.controlId).toBe('13403891320453338075');
    expect(env.processingId).toBe('P');
    expect(env.version).toBe('2.4');
    expect(env.acceptAckType).toBe('');
    expect(env.charset).toBe('UNICODE');
    expect(env.mshFields[21]).toBe('iTKv1.0');
    expect(env.segmentCount).toBe(7);
  });

  it('takes the first component of MSH-12 `2.5^^`', () => {
    expect(ok(readEnvelope(msh({ ...ITK_FIELDS, 12: '2.5^^' }))).version).toBe('2.5');
  });

  it('takes the first component of MSH-12 `2.3.1^AUS&&ISO^AS4700.2&&L`', () => {
    const env = ok(readEnvelope(msh({ ...ITK_FIELDS, 12: '2.3.1^AUS&&ISO^AS4700.2&&L' })));
    expect(env.version).toBe('2.3.1');
    expect(env.mshFields[12]).toBe('2.3.1^AUS&&ISO^AS4700.2&&L');
  });

  it('accepts an ACK without a trigger event', () => {
    const env = ok(readEnvelope(msh({ ...ITK_FIELDS, 9: 'ACK' })));
    expect(env.messageType).toBe('ACK');
    expect(env.triggerEvent).toBe('');
  });

  it('reads non-standard delimiters (field separator `^`)', () => {
    const text = 'MSH^~|\\&^APP~1.2~ISO^RX1~x~L^STORK^HUB^20240101^^ADT~A28~ADT_A05^C9^P^2.5~~^^^AL^NE\rPID^1^^9000000009~~~NHS~NH';
    const env = ok(readEnvelope(text));
    expect(env.fieldSeparator).toBe('^');
    expect(env.encodingCharacters).toBe('~|\\&');
    expect(env.sendingApplication).toBe('APP');
    expect(env.sendingFacility).toBe('RX1');
    expect(env.messageType).toBe('ADT');
    expect(env.triggerEvent).toBe('A28');
    expect(env.controlId).toBe('C9');
    expect(env.version).toBe('2.5');
    expect(env.acceptAckType).toBe('AL');
    expect(env.mshFields[16]).toBe('NE');
    expect(env.segmentCount).toBe(2);
  });

  it('reads the HAPI non-pipe-delimiter corpus message', () => {
    const env = ok(readEnvelope(corpus('hapi-inline/testNonPipeDelimitor.hl7')));
    expect(env.fieldSeparator).toBe('^');
    expect(env.encodingCharacters).toBe('~|\\&');
    expect(env.sendingApplication).toBe('HDRVTLS');
    expect(env.sendingFacility).toBe('552');
    expect(env.messageType).toBe('ORU');
    expect(env.triggerEvent).toBe('R01');
    expect(env.controlId).toBe('55253408603');
    expect(env.processingId).toBe('T');
    expect(env.version).toBe('2.4');
    expect(env.acceptAckType).toBe('AL');
    expect(env.segmentCount).toBe(6);
  });

  it.each([
    ['CR', '\r'],
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('reads a message with %s segment endings', (_name, eol) => {
    const text = [msh(ITK_FIELDS), 'EVN||20240315083000', 'PID|1||9000000009^^^NHS^NH', 'PV1|1|I'].join(eol) + eol;
    const env = ok(readEnvelope(text));
    expect(env.segmentCount).toBe(4);
    expect(env.version).toBe('2.4');
    expect(env.controlId).toBe('CTRL0001');
    expect(env.mshFields).toHaveLength(13);
  });

  it('ignores a byte-order mark and leading blank lines', () => {
    const env = ok(readEnvelope('\uFEFF\r\n' + msh(ITK_FIELDS) + '\rPID|1'));
    expect(env.controlId).toBe('CTRL0001');
    expect(env.segmentCount).toBe(2);
  });

  describe('errors', () => {
    it.each([
      ['empty text', ''],
      ['blank text', ' \r\n '],
      ['text not starting with MSH', 'PID|1||9000000009\rMSH|^~\\&|A|B|C|D|20240101||ADT^A28|1|P|2.4'],
      ['`MSH|` only', 'MSH|'],
      ['garbage', 'hello world, this is not HL7'],
    ])('%s gives 100 at MSH', (_name, text) => {
      expect(issues(readEnvelope(text))).toEqual([
        {
          severity: 'error',
          code: '100',
          message: 'The message does not start with an MSH segment',
          location: { segment: 'MSH', sequence: 1 },
        },
      ]);
    });

    it.each([
      [9, 'MSH-9 message type is missing'],
      [10, 'MSH-10 message control id is missing'],
      [11, 'MSH-11 processing id is missing'],
      [12, 'MSH-12 version id is missing'],
    ])('missing MSH-%i gives 101 at that field', (n, message) => {
      const result = readEnvelope(msh({ ...ITK_FIELDS, [n]: '' }) + '\rPID|1');
      expect(issues(result)).toEqual([{ severity: 'error', code: '101', message, location: { segment: 'MSH', sequence: 1, field: n } }]);
    });

    it('a blank (spaces only) MSH-10 counts as missing', () => {
      const result = readEnvelope(msh({ ...ITK_FIELDS, 10: '   ' }));
      expect(issues(result).map((i) => [i.code, i.location?.field])).toEqual([['101', 10]]);
    });

    it('an MSH cut short after MSH-2 lists MSH-9, 10, 11 and 12 as missing', () => {
      const result = readEnvelope('MSH|^~\\&|APP|RX1');
      expect(issues(result).map((i) => [i.code, i.location?.field])).toEqual([
        ['101', 9],
        ['101', 10],
        ['101', 11],
        ['101', 12],
      ]);
      if (result.ok) throw new Error('unreachable');
      expect(result.partial?.sendingApplication).toBe('APP');
      expect(result.partial?.sendingFacility).toBe('RX1');
    });

    it('returns the partial envelope, so the ACK can still name the message', () => {
      const result = readEnvelope(corpus('cdc-trusted-intermediary/malformed__msh_present_but_missing_msh-10.hl7'));
      expect(issues(result)).toEqual([
        {
          severity: 'error',
          code: '101',
          message: 'MSH-10 message control id is missing',
          location: { segment: 'MSH', sequence: 1, field: 10 },
        },
      ]);
      if (result.ok) throw new Error('unreachable');
      expect(result.partial?.sendingApplication).toBe('Sender Application');
      expect(result.partial?.sendingFacility).toBe('Sender Facility');
      expect(result.partial?.messageType).toBe('ORM');
      expect(result.partial?.triggerEvent).toBe('O01');
      expect(result.partial?.processingId).toBe('D');
      expect(result.partial?.version).toBe('2.5.1');
      expect(result.partial?.controlId).toBe('');
    });

    it('a message type without trigger event gives 101 at MSH-9.2', () => {
      expect(issues(readEnvelope(msh({ ...ITK_FIELDS, 9: 'ADT' })))).toEqual([
        {
          severity: 'error',
          code: '101',
          message: 'MSH-9.2 trigger event is missing',
          location: { segment: 'MSH', sequence: 1, field: 9, component: 2 },
        },
      ]);
    });

    it.each([
      ['a repeated encoding character', 'MSH|^~^&|A|B|C|D|2024||ADT^A28|1|P|2.4'],
      ['the field separator among the encoding characters', 'MSH|^~|&|A|B|C|D|2024||ADT^A28|1|P|2.4'],
      ['too few encoding characters', 'MSH|^~|A|B|C|D|2024||ADT^A28|1|P|2.4'],
      ['too many encoding characters', 'MSH|^~\\&#!|A|B|C|D|2024||ADT^A28|1|P|2.4'],
      ['a letter as an encoding character', 'MSH|^~\\A|A|B|C|D|2024||ADT^A28|1|P|2.4'],
      ['a letter as field separator', 'MSHX^~\\&XAXBXCXDX2024XXADT^A28X1XPX2.4'],
      ['a space as field separator', 'MSH ^~\\& A B C D 2024  ADT^A28 1 P 2.4'],
    ])('%s gives 102 at MSH-2', (_name, text) => {
      expect(issues(readEnvelope(text))).toEqual([
        {
          severity: 'error',
          code: '102',
          message: 'MSH-1/MSH-2 do not hold a valid field separator and encoding characters',
          location: { segment: 'MSH', sequence: 1, field: 2 },
        },
      ]);
    });

    it('accepts the v2.7 truncation character as a fifth encoding character', () => {
      const env = ok(readEnvelope('MSH|^~\\&#|A|B|C|D|2024||ADT^A28|1|P|2.7'));
      expect(env.encodingCharacters).toBe('^~\\&#');
      expect(env.version).toBe('2.7');
    });

    it('a segment line like `I|||131…` gives 100 naming the segment number', () => {
      const result = readEnvelope(corpus('hapi-inline/testInvalidSegmentName.hl7'));
      const found = issues(result);
      expect(found).toHaveLength(1);
      expect(found[0]?.code).toBe('100');
      expect(found[0]?.message).toBe('Segment 2 does not start with a segment id and the field separator');
      expect(found[0]?.location?.sequence).toBe(2);
      if (result.ok) throw new Error('unreachable');
      expect(result.partial?.controlId).toBe('200608021016491003');
      expect(result.partial?.version).toBe('2.3');
    });

    it('a segment id followed by something other than the field separator gives 100', () => {
      const found = issues(readEnvelope(msh(ITK_FIELDS) + '\rEVN||2024\rPID^1'));
      expect(found.map((i) => [i.code, i.message, i.location?.segment, i.location?.sequence])).toEqual([
        ['100', 'Segment 3 does not start with a segment id and the field separator', 'PID', 3],
      ]);
    });

    it('a lower-case segment id gives 100', () => {
      const found = issues(readEnvelope(msh(ITK_FIELDS) + '\rpid|1'));
      expect(found.map((i) => i.code)).toEqual(['100']);
    });

    it('accepts Z-segments and segment ids with digits', () => {
      const env = ok(readEnvelope(msh(ITK_FIELDS) + '\rPV1|1\rZU8|U|1\rPD1|||GP'));
      expect(env.segmentCount).toBe(4);
    });

    it('a second MSH gives 100 at the second MSH', () => {
      const text = [msh(ITK_FIELDS), 'PID|1', msh({ ...ITK_FIELDS, 10: 'CTRL0002' }), 'PID|1'].join('\r');
      const result = readEnvelope(text);
      expect(issues(result)).toEqual([
        {
          severity: 'error',
          code: '100',
          message: 'More than one MSH segment: send one message per frame',
          location: { segment: 'MSH', sequence: 2 },
        },
      ]);
      if (result.ok) throw new Error('unreachable');
      expect(result.partial?.controlId).toBe('CTRL0001');
    });

    it('lists a missing field and a bad segment together', () => {
      const found = issues(readEnvelope(msh({ ...ITK_FIELDS, 11: '' }) + '\r?? bad'));
      expect(found.map((i) => i.code)).toEqual(['101', '100']);
    });
  });
});

describe('triggerEventOf', () => {
  test('reads MSH-9.2 from the first line, in the sender’s own delimiters', () => {
    expect(triggerEventOf('MSH|^~\\&|A|B|C|D|20260101||ADT^A28^ADT_A05|1|P|2.4\rPID|||1')).toBe('A28');
    expect(triggerEventOf('\uFEFF MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.4\nPID|||1')).toBe('A08');
    expect(triggerEventOf('MSH^~|\\&^A^B^C^D^20260101^^ADT~A04^1^P^2.4')).toBe('A04');
  });
  test('undefined when there is no MSH or no event', () => {
    expect(triggerEventOf('PID|||1')).toBeUndefined();
    expect(triggerEventOf('MSH|^~\\&|A|B|C|D|20260101||ADT|1|P|2.4')).toBeUndefined();
    expect(triggerEventOf('')).toBeUndefined();
  });
});
