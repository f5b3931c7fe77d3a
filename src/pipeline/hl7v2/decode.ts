/**
 * Turns received bytes into text using MSH-18: ISO 8859-1 when the sender says so, UTF-8 otherwise
 * (ITK feeds declare `UNICODE UTF-8`). The bytes themselves are stored untouched.
 *
 * A NUL byte becomes U+FFFD in the text: nothing in HL7 v2 uses it, and PostgreSQL text and jsonb cannot hold it,
 * so a control id, type, sender or reason read from the message with a NUL in it failed the whole group commit
 * (every message in it answered AE "cannot store", and the same message failed again on every resend). Found by
 * fuzzing (issue 16).
 */
export function decodeHl7v2(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head = buffer.subarray(0, Math.min(buffer.length, 2048)).toString('latin1');
  const firstSegment = head.split(/[\r\n]/, 1)[0] ?? '';
  const fs = firstSegment.charAt(3);
  const charset = fs ? (firstSegment.split(fs)[17] ?? '') : '';
  const text = /8859[/-]?1|LATIN/i.test(charset) ? buffer.toString('latin1') : buffer.toString('utf8');
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}
