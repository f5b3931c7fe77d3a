import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { checkpointPayload, checkpointSignatureValid, keyIdOf, signCheckpoint } from '../../../src/domain/audit-checkpoint.js';

describe('Signed audit checkpoints', () => {
  const key = generateKeyPairSync('ed25519').privateKey;
  const publicKeys = new Map([[keyIdOf(key), createPublicKey(key)]]);
  const base = { chainId: 'c0ffee00-0000-4000-8000-000000000000', seq: 1234, hash: 'ab'.repeat(32), at: '2026-11-29T12:00:00.000Z' };

  it('signs exactly the documented bytes: sorted keys, no whitespace, a format tag', () => {
    const c = signCheckpoint(base, key);
    expect(checkpointPayload(c).toString('utf8')).toBe(
      `{"at":"2026-11-29T12:00:00.000Z","chainId":"c0ffee00-0000-4000-8000-000000000000","format":"stork-audit-checkpoint-v1","hash":"${'ab'.repeat(32)}","keyId":"${keyIdOf(key)}","seq":1234}`,
    );
    expect(c.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(createPublicKey(key))).toBe(c.keyId);
  });

  it('verifies with the key of its key id, and not once any signed field changes or the key is unknown', () => {
    const c = signCheckpoint(base, key);
    expect(checkpointSignatureValid(c, publicKeys)).toBe(true);
    for (const altered of [{ seq: 1235 }, { hash: 'cd'.repeat(32) }, { at: '2026-11-29T12:00:00.001Z' }, { chainId: 'other' }]) {
      expect({ altered, valid: checkpointSignatureValid({ ...c, ...altered }, publicKeys) }).toEqual({ altered, valid: false });
    }
    const other = generateKeyPairSync('ed25519').privateKey;
    const forged = { ...signCheckpoint(base, other), keyId: c.keyId };
    expect(checkpointSignatureValid(forged, publicKeys)).toBe(false);
    expect(checkpointSignatureValid(signCheckpoint(base, other), publicKeys)).toBe(false);
    expect(checkpointSignatureValid({ ...c, signature: 'not base64 at all' }, publicKeys)).toBe(false);
  });
});
