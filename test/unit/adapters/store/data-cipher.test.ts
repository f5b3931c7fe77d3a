import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataCipher, DataDecryptionError, NO_DATA_KEYS } from '../../../../adapters/store/data-cipher.js';
import { dataKeyId, DEMO_DATA_KEY_FILE, loadDataKeys, type DataKeys } from '../../../../src/config/data-keys.js';
import { repoRoot } from '../../../../src/config/env.js';
import { configError } from '../../../support/sample-config.js';

function keysOf(...keys: Buffer[]): DataKeys {
  const entries = keys.map((key) => ({ keyId: dataKeyId(key), key, file: 'memory' }));
  const [current] = entries;
  return { ...(current ? { current } : {}), byId: new Map(entries.map((e) => [e.keyId, e])), demo: false };
}

describe('The data envelope (AES-256-GCM at rest)', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const place = { table: 'message_bodies', column: 'raw', row: '0b7f6c1e-3a52-4d7e-9c1a-6f1f0f2d9a01' };
  const plain = Buffer.from('PID|1||9434765919^^^NHS^NH||SMITH^JANE', 'utf8');

  it('round-trips, with a fresh random IV per value, and hides the plaintext', () => {
    const cipher = new DataCipher(keysOf(k1));
    const a = cipher.encrypt(plain, place);
    const b = cipher.encrypt(plain, place);
    expect(a.keyId).toBe(dataKeyId(k1));
    expect(a.stored.equals(b.stored)).toBe(false);
    expect(a.stored.includes(Buffer.from('9434765919'))).toBe(false);
    expect(a.stored.length).toBe(plain.length + 29);
    expect(cipher.decrypt(a.keyId, a.stored, place).equals(plain)).toBe(true);
  });

  it('refuses a tampered ciphertext, IV or tag with a clear error', () => {
    const cipher = new DataCipher(keysOf(k1));
    const { keyId, stored } = cipher.encrypt(plain, place);
    for (const at of [1, 13, 29, stored.length - 1]) {
      const bad = Buffer.from(stored);
      bad[at] = (bad[at] ?? 0) ^ 1;
      expect(() => cipher.decrypt(keyId, bad, place)).toThrow(DataDecryptionError);
      expect(() => cipher.decrypt(keyId, bad, place)).toThrow(/message_bodies\.raw of 0b7f6c1e-.* fails authentication/);
    }
    expect(() => cipher.decrypt(keyId, stored.subarray(0, 10), place)).toThrow(/is not an encrypted value/);
  });

  it('refuses a ciphertext moved to another row or column (associated data)', () => {
    const cipher = new DataCipher(keysOf(k1));
    const { keyId, stored } = cipher.encrypt(plain, place);
    expect(() => cipher.decrypt(keyId, stored, { ...place, row: '0b7f6c1e-3a52-4d7e-9c1a-6f1f0f2d9a02' })).toThrow(/fails authentication/);
    expect(() => cipher.decrypt(keyId, stored, { ...place, column: 'ack' })).toThrow(/fails authentication/);
  });

  it('names an unknown key id, and never the key or the value', () => {
    const { keyId, stored } = new DataCipher(keysOf(k1)).encrypt(plain, place);
    const other = new DataCipher(keysOf(k2));
    let message = '';
    try {
      other.decrypt(keyId, stored, place);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(
      `message_bodies.raw of ${place.row} is encrypted under data key ${dataKeyId(k1)}, which is not among STORK_DATA_KEY_FILES`,
    );
    expect(message).not.toContain(k1.toString('base64'));
    expect(() => NO_DATA_KEYS.decrypt(keyId, stored, place)).toThrow(/not among STORK_DATA_KEY_FILES/);
  });

  it('decrypts under any configured key and encrypts under the first (rotation); no key writes in clear', () => {
    const old = new DataCipher(keysOf(k1)).encrypt(plain, place);
    const both = new DataCipher(keysOf(k2, k1));
    expect(both.decrypt(old.keyId, old.stored, place).equals(plain)).toBe(true);
    expect(both.encrypt(plain, place).keyId).toBe(dataKeyId(k2));
    expect(NO_DATA_KEYS.encrypt(plain, place)).toEqual({ keyId: null, stored: plain });
    expect(NO_DATA_KEYS.decrypt(null, plain, place).equals(plain)).toBe(true);
  });
});

describe('Data key files (STORK_DATA_KEY_FILES)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-data-keys-'));
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const f1 = path.join(dir, 'one.key');
  const f2 = path.join(dir, 'two.key');
  writeFileSync(f1, `${k1.toString('base64')}\n`);
  writeFileSync(f2, k2.toString('base64'));

  it('the first file encrypts, every file decrypts, by a key id derived from the key', () => {
    const keys = loadDataKeys({ keyFiles: [f2, f1], configDir: repoRoot });
    expect(keys.current?.keyId).toBe(dataKeyId(k2));
    expect(keys.demo).toBe(false);
    expect([...keys.byId.keys()].sort()).toEqual([dataKeyId(k1), dataKeyId(k2)].sort());
    expect(dataKeyId(k1)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('falls back on the demo key of the sample configuration, marked as such; without one, no key', () => {
    const demo = loadDataKeys({ configDir: repoRoot });
    expect(demo).toMatchObject({ demo: true, current: { file: path.join(repoRoot, DEMO_DATA_KEY_FILE) } });
    expect(loadDataKeys({ configDir: dir }).current).toBeUndefined();
  });

  it('refuses a missing file and one that is not a 32-byte base64 key, naming the setting and file but not the content', () => {
    const short = path.join(dir, 'short.key');
    writeFileSync(short, randomBytes(16).toString('base64'));
    const junk = path.join(dir, 'junk.key');
    writeFileSync(junk, 'secret-looking text that is not base64!');
    expect(configError(() => loadDataKeys({ keyFiles: [path.join(dir, 'none.key')] })).message).toMatch(
      /^STORK_DATA_KEY_FILES: cannot read .*none\.key \(ENOENT\)$/,
    );
    expect(configError(() => loadDataKeys({ keyFiles: [short] })).message).toMatch(/short\.key is not a data key/);
    const message = configError(() => loadDataKeys({ keyFiles: [junk] })).message;
    expect(message).toMatch(/junk\.key is not a data key/);
    expect(message).not.toContain('secret-looking');
  });
});
