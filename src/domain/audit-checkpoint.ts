import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * A signed checkpoint of the audit chain (README, "Tamper-evident audit"): the hub's Ed25519 key vouches that event
 * `seq` of chain `chainId` had hash `hash` at time `at`. Stored in audit_checkpoints and written to the log.
 */
export interface AuditCheckpoint {
  chainId: string;
  seq: number;
  hash: string;
  /** ISO 8601, milliseconds, UTC (Date.toISOString()). */
  at: string;
  keyId: string;
  /** Ed25519 signature of checkpointPayload(...), base64. */
  signature: string;
}

/** The format tag of the signed text: a different text (another field) gets another tag. */
export const CHECKPOINT_FORMAT = 'stork-audit-checkpoint-v1';

/**
 * The bytes signed: UTF-8 of the JSON object with exactly these members, keys sorted, no whitespace (as RFC 8785 JCS
 * writes it; every value is a string but seq, a safe integer):
 * {"at":…,"chainId":…,"format":"stork-audit-checkpoint-v1","hash":…,"keyId":…,"seq":…}
 */
export function checkpointPayload(c: Omit<AuditCheckpoint, 'signature'>): Buffer {
  const text = JSON.stringify({ at: c.at, chainId: c.chainId, format: CHECKPOINT_FORMAT, hash: c.hash, keyId: c.keyId, seq: c.seq });
  return Buffer.from(text, 'utf8');
}

/** A key's id: the first 16 hex digits of SHA-256 of its public key (DER SubjectPublicKeyInfo). */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** Signs a checkpoint with an Ed25519 private key. */
export function signCheckpoint(c: Omit<AuditCheckpoint, 'signature' | 'keyId'>, privateKey: KeyObject): AuditCheckpoint {
  const unsigned = { ...c, keyId: keyIdOf(privateKey) };
  return { ...unsigned, signature: sign(null, checkpointPayload(unsigned), privateKey).toString('base64') };
}

/** Whether the checkpoint's signature verifies with the public key of its key id (false for an unknown key id). */
export function checkpointSignatureValid(c: AuditCheckpoint, publicKeys: ReadonlyMap<string, KeyObject>): boolean {
  const key = publicKeys.get(c.keyId);
  if (key === undefined) return false;
  try {
    return verify(null, checkpointPayload(c), key, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}
