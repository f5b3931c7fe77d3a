/**
 * Turns received bytes into text using MSH-18: ISO 8859-1 when the sender says so, UTF-8 otherwise
 * (ITK feeds declare `UNICODE UTF-8`). The bytes themselves are stored untouched.
 */
export function decodeHl7v2(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head = buffer.subarray(0, Math.min(buffer.length, 2048)).toString('latin1');
  const firstSegment = head.split(/[\r\n]/, 1)[0] ?? '';
  const fs = firstSegment.charAt(3);
  const charset = fs ? (firstSegment.split(fs)[17] ?? '') : '';
  return /8859[/-]?1|LATIN/i.test(charset) ? buffer.toString('latin1') : buffer.toString('utf8');
}
