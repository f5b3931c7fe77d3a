import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_SIGNING_KEY_FILE, loadAuditKeys } from '../../../src/config/audit-keys.js';
import { repoRoot } from '../../../src/config/env.js';
import { keyIdOf } from '../../../src/domain/audit-checkpoint.js';
import { configError } from '../../support/sample-config.js';

describe('Audit checkpoint keys', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-audit-keys-'));
  const key = generateKeyPairSync('ed25519').privateKey;
  const old = generateKeyPairSync('ed25519').privateKey;
  const keyFile = path.join(dir, 'key.pem');
  const oldPub = path.join(dir, 'old.pub.pem');
  writeFileSync(keyFile, key.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(oldPub, createPublicKey(old).export({ type: 'spki', format: 'pem' }));

  it('loads the signing key and the earlier public keys, by key id (rotation)', () => {
    const keys = loadAuditKeys({ signingKeyFile: keyFile, publicKeyFiles: [oldPub], configDir: repoRoot });
    expect(keys.signing).toMatchObject({ keyId: keyIdOf(key), demo: false, file: keyFile });
    expect([...keys.publicKeys.keys()].sort()).toEqual([keyIdOf(key), keyIdOf(old)].sort());
  });

  it('falls back on the sample configuration’s demo key, marked as such; without one, no signing key', () => {
    const demo = loadAuditKeys({ configDir: repoRoot });
    expect(demo.signing).toMatchObject({ demo: true, file: path.join(repoRoot, DEMO_SIGNING_KEY_FILE) });
    expect(loadAuditKeys({ configDir: dir }).signing).toBeUndefined();
  });

  it('refuses a missing file, a file that is not a key, and a key that is not Ed25519, naming the setting and the file', () => {
    const rsa = path.join(dir, 'rsa.pem');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const junk = path.join(dir, 'junk.pem');
    writeFileSync(junk, 'not a key');
    expect(configError(() => loadAuditKeys({ signingKeyFile: path.join(dir, 'none.pem') })).message).toMatch(
      /^STORK_AUDIT_SIGNING_KEY_FILE: cannot read .*none\.pem \(ENOENT\)$/,
    );
    expect(configError(() => loadAuditKeys({ signingKeyFile: junk })).message).toMatch(/junk\.pem is not a PEM PKCS#8 private key/);
    expect(configError(() => loadAuditKeys({ signingKeyFile: rsa })).message).toMatch(
      /is a rsa key; audit checkpoints need an Ed25519 key/,
    );
    expect(configError(() => loadAuditKeys({ publicKeyFiles: [junk] })).message).toMatch(/^STORK_AUDIT_PUBLIC_KEY_FILES: /);
  });
});
