/**
 * An OAuth 2.0 issuer for the role matrix: an ES256 key pair made here, its public key written as a static key file
 * into a copy of the sample configuration (`issuers` in mappings/api-clients.json), and the tokens it signs. The
 * sample configuration in the repository is left unchanged.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { copySampleConfig } from '../../support/sample-config.js';

export const MATRIX_ISSUER = 'https://idp.matrix.test.example';
export const MATRIX_AUDIENCE = 'stork-api';
/** The issuer's role values and the Stork roles they map to. */
export const MATRIX_ROLES = { 'children-centre': 'centre', auditor: 'ig', operator: 'admin' } as const;

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

export interface TestIssuer {
  /** The configuration folder holding the issuer (give it to the hub); removed by `remove`. */
  configDir: string;
  /** The issuer's public key as PEM (what an attacker can know). */
  publicKeyPem: string;
  /**
   * A token of this issuer (or, with `key`, signed by another key): claims and registered claims as given, the rest
   * a valid five-minute token for `sub`.
   */
  sign(
    claims: JWTPayload,
    o?: { iss?: string; aud?: string; exp?: number | string; nbf?: number | string; key?: KeyPair['privateKey'] },
  ): Promise<string>;
  remove(): void;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const publicKeyPem = await exportSPKI(pair.publicKey);
  const configDir = copySampleConfig('stork-matrix-config-');
  writeFileSync(path.join(configDir, 'mappings', 'matrix-idp.pem'), publicKeyPem);
  const clientsFile = path.join(configDir, 'mappings', 'api-clients.json');
  const clients = JSON.parse(readFileSync(clientsFile, 'utf8')) as Record<string, unknown>;
  clients.issuers = [
    {
      id: 'matrix-idp',
      issuer: MATRIX_ISSUER,
      audience: MATRIX_AUDIENCE,
      publicKeyFiles: ['mappings/matrix-idp.pem'],
      claims: { role: 'stork_role', roles: MATRIX_ROLES, scope: 'stork_scope' },
    },
  ];
  writeFileSync(clientsFile, JSON.stringify(clients));
  return {
    configDir,
    publicKeyPem,
    sign: (claims, o = {}) => {
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(o.iss ?? MATRIX_ISSUER)
        .setAudience(o.aud ?? MATRIX_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(o.exp ?? '5m');
      if (o.nbf !== undefined) jwt.setNotBefore(o.nbf);
      return jwt.sign(o.key ?? pair.privateKey);
    },
    remove: () => rmSync(configDir, { recursive: true, force: true }),
  };
}
