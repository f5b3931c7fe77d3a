import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadApiClients } from '../../../src/config/api-clients.js';
import { configError, copySampleConfig } from '../../support/sample-config.js';

describe('api-clients.json issuers (OAuth 2.0 bearer JWTs)', () => {
  let dir: string;
  let file: string;
  let clients: Record<string, unknown>;
  beforeAll(() => {
    dir = copySampleConfig();
    file = path.join(dir, 'mappings', 'api-clients.json');
    clients = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(path.join(dir, 'mappings', 'idp.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(path.join(dir, 'mappings', 'idp-private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const claims = { role: 'stork_role', scope: 'stork_scope' };
  const withIssuers = (issuers: unknown[]) => {
    writeFileSync(file, JSON.stringify({ ...clients, issuers }));
    return () => loadApiClients(file, {});
  };

  test('an issuer with a static public key file loads', () => {
    const d = withIssuers([
      { id: 'idp', issuer: 'https://idp.example', audience: 'stork', publicKeyFiles: ['mappings/idp.pem'], claims },
    ])();
    expect(d.issuers[0]?.publicKeys).toHaveLength(1);
  });

  test.each([
    [{ jwksUrl: 'http://idp.example/jwks' }, '/issuers/0/jwksUrl: must be https'],
    [{ publicKeyFiles: ['mappings/idp-private.pem'] }, 'holds a private key'],
    [{ publicKeyFiles: ['mappings/none.pem'] }, 'cannot read mappings/none.pem'],
    [{}, 'give either jwksUrl or publicKeyFiles'],
    [{ jwksUrl: 'https://idp.example/jwks', algorithms: ['HS256'] }, '/issuers/0/algorithms/0'],
    [{ jwksUrl: 'https://idp.example/jwks', algorithms: ['none'] }, '/issuers/0/algorithms/0'],
    [{ jwksUrl: 'https://idp.example/jwks', claims: { role: 'r', roles: { x: 'root' } } }, '/issuers/0/claims/roles/x'],
  ])('%j is refused naming the field', (extra, message) => {
    const e = configError(withIssuers([{ id: 'idp', issuer: 'https://idp.example', audience: 'stork', claims, ...extra }]));
    expect(e.message).toContain(message);
  });
});
