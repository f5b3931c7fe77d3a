import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/config-error.js';

/** The sample configuration's demo data key (mappings/), for the quick start only: it is public, so it protects nothing. */
export const DEMO_DATA_KEY_FILE = path.join('mappings', 'data-key.DEMO-ONLY.b64');

/** One AES-256 data key: its id (stored with every row it encrypts) and its 32 bytes. */
export interface DataKey {
  keyId: string;
  key: Buffer;
  file: string;
}

/**
 * The keys that encrypt personal data at rest (AES-256-GCM): `current` encrypts everything written from now on
 * (absent: nothing is encrypted), every key in `byId` decrypts (`current` among them).
 */
export interface DataKeys {
  current?: DataKey;
  byId: ReadonlyMap<string, DataKey>;
  /** The current key is the sample configuration's public demo key. */
  demo: boolean;
}

/** A key's id: derived from the key (a hash, which reveals nothing of it), so a renamed file keeps its id. */
export function dataKeyId(key: Buffer): string {
  return createHash('sha256').update('stork-data-key-id\u0000').update(key).digest('hex').slice(0, 16);
}

/** Reads one key file: 32 random bytes, base64 (e.g. `openssl rand -base64 32 > key`), surrounding whitespace ignored. */
function readDataKey(file: string, setting: string): DataKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const b64 = text.trim();
  const key = Buffer.from(b64, 'base64');
  // Never the file's content in the message: it is the secret.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || key.length !== 32) {
    throw new ConfigError(`${setting}: ${file} is not a data key (32 random bytes, base64: \`openssl rand -base64 32\`)`);
  }
  return { keyId: dataKeyId(key), key, file };
}

/**
 * Loads the data keys of STORK_DATA_KEY_FILES: the FIRST file listed is the current key (it encrypts), every file
 * decrypts (a rotation puts the new key first and keeps the old ones until `npm run keys:rotate` has re-encrypted
 * everything). Unset: the sample configuration's demo key when `configDir` has one, else none (nothing is encrypted).
 * A file that cannot be read or is not a 32-byte base64 key stops start-up, naming the setting and the file.
 */
export function loadDataKeys(options: { keyFiles?: readonly string[]; configDir?: string }): DataKeys {
  let files = options.keyFiles ?? [];
  let demo = false;
  if (files.length === 0 && options.configDir !== undefined) {
    const candidate = path.join(options.configDir, DEMO_DATA_KEY_FILE);
    if (existsSync(candidate)) {
      files = [candidate];
      demo = true;
    }
  }
  const byId = new Map<string, DataKey>();
  let current: DataKey | undefined;
  for (const f of files) {
    const k = readDataKey(f, 'STORK_DATA_KEY_FILES');
    current ??= k;
    byId.set(k.keyId, k);
  }
  return current !== undefined ? { current, byId, demo } : { byId, demo };
}
