import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/config-error.js';
import { keyIdOf } from '../domain/audit-checkpoint.js';

/** The sample configuration's demo signing key (mappings/), for the quick start only: its private half is public. */
export const DEMO_SIGNING_KEY_FILE = path.join('mappings', 'audit-signing-key.DEMO-ONLY.pem');

/** The audit checkpoints' keys: the one that signs (absent: no checkpoints), and every public key that verifies, by key id. */
export interface AuditKeys {
  signing?: { keyId: string; privateKey: KeyObject; file: string; demo: boolean };
  publicKeys: Map<string, KeyObject>;
}

function readKey(file: string, setting: string, kind: 'private' | 'public'): KeyObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let key: KeyObject;
  try {
    key = kind === 'private' ? createPrivateKey(text) : createPublicKey(text);
  } catch {
    throw new ConfigError(`${setting}: ${file} is not a PEM ${kind === 'private' ? 'PKCS#8 private' : 'SubjectPublicKeyInfo public'} key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(`${setting}: ${file} is a ${key.asymmetricKeyType ?? 'unknown'} key; audit checkpoints need an Ed25519 key`);
  }
  return key;
}

/**
 * Loads the signing key (`signingKeyFile`, else the sample configuration's demo key when `configDir` has one) and
 * the public keys of earlier signing keys (key rotation); the signing key's own public key is always among them.
 * A file that cannot be read or is not an Ed25519 key stops start-up, naming the setting and the file.
 */
export function loadAuditKeys(options: { signingKeyFile?: string; publicKeyFiles?: readonly string[]; configDir?: string }): AuditKeys {
  const publicKeys = new Map<string, KeyObject>();
  const keys: AuditKeys = { publicKeys };
  let file = options.signingKeyFile;
  let demo = false;
  if (file === undefined && options.configDir !== undefined) {
    const candidate = path.join(options.configDir, DEMO_SIGNING_KEY_FILE);
    if (existsSync(candidate)) {
      file = candidate;
      demo = true;
    }
  }
  if (file !== undefined) {
    const privateKey = readKey(file, 'STORK_AUDIT_SIGNING_KEY_FILE', 'private');
    const keyId = keyIdOf(privateKey);
    keys.signing = { keyId, privateKey, file, demo };
    publicKeys.set(keyId, createPublicKey(privateKey));
  }
  for (const f of options.publicKeyFiles ?? []) {
    const key = readKey(f, 'STORK_AUDIT_PUBLIC_KEY_FILES', 'public');
    publicKeys.set(keyIdOf(key), key);
  }
  return keys;
}
