import { createHmac, randomUUID } from 'node:crypto';

/** What signs the `Authorization: NHSMESH …` header of one mailbox: its id, its password and the environment's shared key. */
export interface MeshCredentials {
  mailbox: string;
  password: string;
  sharedKey: string;
}

/** `yyyyMMddHHmm` in UTC, the timestamp MESH signs. */
export const meshTimestamp = (at: Date): string => at.toISOString().replace(/[-T:]/g, '').slice(0, 12);

/**
 * The MESH authorisation header: `NHSMESH {mailbox}:{nonce}:{nonce_count}:{timestamp}:{hash}`, where hash is the
 * hex HMAC-SHA256, keyed with the shared key, of `{mailbox}:{nonce}:{nonce_count}:{password}:{timestamp}`. A fresh
 * nonce every call (count 0), so a header seen once cannot be replayed as a new one. The password never travels.
 */
export function meshAuthorization(c: MeshCredentials, at: Date = new Date(), nonce: string = randomUUID()): string {
  const count = '0';
  const timestamp = meshTimestamp(at);
  const hash = createHmac('sha256', c.sharedKey).update(`${c.mailbox}:${nonce}:${count}:${c.password}:${timestamp}`).digest('hex');
  return `NHSMESH ${c.mailbox}:${nonce}:${count}:${timestamp}:${hash}`;
}
