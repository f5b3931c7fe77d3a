import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { DataKeys } from '../../src/config/data-keys.js';

/** A value that could not be decrypted: its key id is not configured, or the ciphertext was altered or moved. */
export class DataDecryptionError extends Error {
  override readonly name = 'DataDecryptionError';
}

/** Where a value lives: the associated data binds its ciphertext there, so one copied to another row or column fails. */
export interface DataPlace {
  table: string;
  column: string;
  /** The row's key (a message id). */
  row: string;
}

/** Envelope version byte, then a random 96-bit IV and the 128-bit GCM tag, then the ciphertext. */
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEAD = 1 + IV_BYTES + TAG_BYTES;

function aad(place: DataPlace, keyId: string): Buffer {
  return Buffer.from(`stork:v${VERSION}:${place.table}.${place.column}:${place.row}:${keyId}`, 'utf8');
}

/**
 * AES-256-GCM at rest. A stored value is `[version][iv][tag][ciphertext]` in its bytea column; its row stores the
 * key id beside it (NULL: plaintext, written before encryption was on). Errors name the place and the key id, never
 * a key or a value.
 */
export class DataCipher {
  /** The data key the pseudonyms derive from, once fixed (migration 038); until then, the current key. */
  private fixedPseudonymKeyId: string | undefined;

  constructor(private readonly keys: DataKeys) {}

  /**
   * Fixes the data key the pseudonyms of identifying lookup keys (NHS numbers, subject, demographic and blocking keys)
   * derive from: the key id held in `pseudonym_key` (migration 038). It never changes, as a rotation would otherwise
   * lose every lookup; a key that is not configured is a DataDecryptionError naming its id.
   */
  usePseudonymKey(keyId: string): void {
    if (!this.keys.byId.has(keyId)) {
      throw new DataDecryptionError(
        `the pseudonyms of NHS numbers and lookup keys derive from data key ${keyId}, which is not among STORK_DATA_KEY_FILES: ` +
          'keep that key file listed (after the current key) for as long as the database is used',
      );
    }
    this.fixedPseudonymKeyId = keyId;
  }

  /** The data key id pseudonyms derive from; undefined in clear mode (no key: lookup keys are stored in clear). */
  get pseudonymKeyId(): string | undefined {
    return this.fixedPseudonymKeyId ?? this.keys.current?.keyId;
  }

  /**
   * The stored form of an identifying lookup value (an NHS number, a subject, demographic or blocking key):
   * `p1:` and the base64url of its HMAC-SHA256 under the pseudonymisation key (HKDF from the fixed data key), the
   * same in every table so joins still work. A value already in that form is returned as it is; in clear mode (no
   * data key) the value itself.
   */
  pseudonym(value: string): string {
    if (value.startsWith(PSEUDONYM_PREFIX)) return value;
    const keyId = this.pseudonymKeyId;
    const dataKey = keyId === undefined ? undefined : this.keys.byId.get(keyId);
    if (dataKey === undefined) return value;
    return PSEUDONYM_PREFIX + createHmac('sha256', pseudonymKey(dataKey.key)).update(value, 'utf8').digest('base64url');
  }

  /** `pseudonym`, null and undefined kept as null. */
  pseudonymOrNull(value: string | null | undefined): string | null {
    return value === null || value === undefined ? null : this.pseudonym(value);
  }

  /** The forms a lookup matches: each value and its pseudonym (rows written before a key, or not yet converted, are in clear). */
  pseudonymForms(values: readonly string[]): string[] {
    return [...new Set(values.flatMap((v) => [v, this.pseudonym(v)]))];
  }

  /**
   * A stored lookup value as the domain knows it: a clear value as it is; a pseudonym as the first candidate it is
   * the pseudonym of (the values looked up, or read from the decrypted record), else the pseudonym itself (equal
   * to itself, and stored again as it is).
   */
  reveal(stored: string, candidates: readonly (string | null | undefined)[]): string {
    if (!stored.startsWith(PSEUDONYM_PREFIX)) return stored;
    for (const c of candidates) if (c !== null && c !== undefined && this.pseudonym(c) === stored) return c;
    return stored;
  }

  /** The key id new values are written under; undefined when no key is configured (values are then stored in clear). */
  get currentKeyId(): string | undefined {
    return this.keys.current?.keyId;
  }

  /** Whether `keyId` is configured (it can decrypt). */
  knows(keyId: string): boolean {
    return this.keys.byId.has(keyId);
  }

  /** Encrypts under the current key; without one, returns the plaintext and no key id. */
  encrypt(plain: Buffer, place: DataPlace): { keyId: string | null; stored: Buffer } {
    const current = this.keys.current;
    if (current === undefined) return { keyId: null, stored: plain };
    return { keyId: current.keyId, stored: this.encryptWith(current.keyId, current.key, plain, place) };
  }

  private encryptWith(keyId: string, key: Buffer, plain: Buffer, place: DataPlace): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(place, keyId));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
  }

  /**
   * A JSON value as its column stores it: an envelope under the current key, or the value itself when no key is
   * configured (null stays null, so "no value" is still visible to SQL, as retention and COALESCE need).
   */
  sealJson<T>(value: T, place: DataPlace): T | JsonEnvelope | null {
    if (value === null || value === undefined) return null;
    const current = this.keys.current;
    if (current === undefined) return value;
    const stored = this.encryptWith(current.keyId, current.key, Buffer.from(JSON.stringify(value), 'utf8'), place);
    return { enc: 1, kid: current.keyId, v: stored.toString('base64') };
  }

  /** A JSON column's value in clear: an envelope decrypted (bound to `place`), a value in clear as it is; null stays null. */
  openJson(stored: unknown, place: DataPlace): unknown {
    const value = typeof stored === 'string' ? (JSON.parse(stored) as unknown) : stored;
    if (!isEnvelope(value)) return value ?? null;
    const plain = this.decrypt(value.kid, Buffer.from(value.v, 'base64'), place);
    return JSON.parse(plain.toString('utf8')) as unknown;
  }

  /**
   * The blind index of `text` under the current key (HMAC-SHA256 with a key derived from the data key, so nothing
   * of the text can be learnt or guessed from it without the key), or a plain SHA-256 when no key is configured.
   */
  blindIndex(text: string): { keyId: string; hash: string } {
    const current = this.keys.current;
    return current === undefined
      ? { keyId: CLEAR_INDEX_KEY_ID, hash: clearIndex(text) }
      : { keyId: current.keyId, hash: keyedIndex(current.key, text) };
  }

  /** The blind indexes `text` may be stored under: one per configured key, and the clear one (rows before a key). */
  blindIndexes(text: string): string[] {
    return [clearIndex(text), ...[...this.keys.byId.values()].map((k) => keyedIndex(k.key, text))];
  }

  /** The plaintext of a stored value; `keyId` null means it was stored in clear. */
  decrypt(keyId: string | null, stored: Buffer, place: DataPlace): Buffer {
    if (keyId === null) return stored;
    const where = `${place.table}.${place.column} of ${place.row}`;
    const key = this.keys.byId.get(keyId);
    if (key === undefined) {
      throw new DataDecryptionError(`${where} is encrypted under data key ${keyId}, which is not among STORK_DATA_KEY_FILES`);
    }
    if (stored.length < HEAD || stored[0] !== VERSION) {
      throw new DataDecryptionError(`${where} is not an encrypted value (envelope version ${stored[0] ?? 'missing'})`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key.key, stored.subarray(1, 1 + IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(place, keyId));
    decipher.setAuthTag(stored.subarray(1 + IV_BYTES, HEAD));
    try {
      return Buffer.concat([decipher.update(stored.subarray(HEAD)), decipher.final()]);
    } catch {
      throw new DataDecryptionError(`${where} fails authentication under data key ${keyId}: it was altered, or belongs to another row`);
    }
  }
}

/**
 * How a JSON column holds an encrypted value (migration 029): the key id travels with the value, so one row's columns
 * may be under different keys while a rotation runs. `v` is the base64 of `[version][iv][tag][ciphertext]` of the
 * value's JSON text. Anything else in the column is a value stored in clear.
 */
export interface JsonEnvelope {
  enc: 1;
  kid: string;
  v: string;
}

/** Whether a stored JSON value is an envelope (encrypted) rather than a value in clear. */
export function isEnvelope(stored: unknown): stored is JsonEnvelope {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return false;
  const e = stored as Record<string, unknown>;
  return e.enc === 1 && typeof e.kid === 'string' && typeof e.v === 'string' && Object.keys(e).length === 3;
}

/** The key id of a stored JSON value (null: in clear). */
export function envelopeKeyId(stored: unknown): string | null {
  const value = typeof stored === 'string' ? (JSON.parse(stored) as unknown) : stored;
  return isEnvelope(value) ? value.kid : null;
}

/** The blind index of values stored in clear (no key): a plain hash, as guessable as the clear value beside it. */
export const CLEAR_INDEX_KEY_ID = 'clear';

function clearIndex(text: string): string {
  return createHash('sha256').update('stork-blind-index-clear:').update(text, 'utf8').digest('hex');
}

const indexKeys = new WeakMap<Buffer, Buffer>();
function keyedIndex(dataKey: Buffer, text: string): string {
  let k = indexKeys.get(dataKey);
  if (k === undefined) {
    // A key of its own for the index, derived from the data key: the data key itself never does two jobs.
    k = createHmac('sha256', dataKey).update('stork-blind-index-key-v1').digest();
    indexKeys.set(dataKey, k);
  }
  return createHmac('sha256', k).update(text, 'utf8').digest('hex');
}

/** How a pseudonym starts (migration 038): no clear NHS number or lookup key does. */
export const PSEUDONYM_PREFIX = 'p1:';

/** Whether a stored lookup value is a pseudonym (not in clear). */
export function isPseudonym(value: string): boolean {
  return value.startsWith(PSEUDONYM_PREFIX);
}

const pseudonymKeys = new WeakMap<Buffer, Buffer>();
function pseudonymKey(dataKey: Buffer): Buffer {
  let k = pseudonymKeys.get(dataKey);
  if (k === undefined) {
    // Its own key, derived with its own `info`: neither the data key nor the blind index key does this job.
    k = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'stork-pseudonym-key-v1', 32));
    pseudonymKeys.set(dataKey, k);
  }
  return k;
}

/** A cipher with no key: writes in clear, reads plaintext rows only (stores built without a cipher, e.g. by tests). */
export const NO_DATA_KEYS = new DataCipher({ byId: new Map(), demo: false });
