import { createHash } from 'node:crypto';

/**
 * The most bytes of a key made from a sender's text that is stored as it is. Keys go into unique btree indexes
 * (messages' re-send key, fhir_events' event id, notifications' subject, birth and demographic keys, identity keys,
 * family children), whose rows PostgreSQL caps at 2704 bytes after compression: one long, incompressible value
 * (a 10,000-character local identifier or family name) failed its whole transaction with SQLSTATE 54000.
 */
export const KEY_MAX_BYTES = 512;

/**
 * A key as stored and compared: itself up to KEY_MAX_BYTES (UTF-8), else `sha256:<hex>` of it. Equal keys stay
 * equal and different keys different, so de-duplication and matching work as before; the sender's bytes are kept
 * elsewhere untouched. Pure: node:crypto only.
 */
export function boundedKey(key: string): string {
  if (Buffer.byteLength(key, 'utf8') <= KEY_MAX_BYTES) return key;
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}
