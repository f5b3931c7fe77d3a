import { decodeHl7v2 } from '../../../../src/pipeline/hl7v2/decode.js';

describe('decodeHl7v2', () => {
  test('a NUL byte becomes U+FFFD in the text (PostgreSQL text and jsonb cannot hold NUL); the other bytes are kept', () => {
    const bytes = Buffer.from('MSH|^~\\&|APP|RX1|||20261129||ADT^A28|ID\u00001|P|2.4\rPID|1', 'utf8');
    expect(decodeHl7v2(bytes)).toBe('MSH|^~\\&|APP|RX1|||20261129||ADT^A28|ID\uFFFD1|P|2.4\rPID|1');
    expect(decodeHl7v2(Buffer.from('MSH|^~\\&|A\u00e9', 'utf8'))).toBe('MSH|^~\\&|A\u00e9');
  });
});
