import * as oidc from 'openid-client';
import { endSessionUrl, OidcSignIn, SignInRefused } from '../../../../../adapters/http/app/oidc-sign-in.js';
import { PendingSignInSeal, safeReturnTo } from '../../../../../adapters/http/app/pending-sign-in.js';
import type { WebAppConfig } from '../../../../../src/config/web-app.js';

const oidcConfig: WebAppConfig['oidc'] = {
  issuer: 'https://login.example',
  clientId: 'stork-web',
  scopes: ['openid'],
  claims: { name: 'name', role: 'roles', scope: 'centre' },
};
const unused = (): never => {
  throw new Error('not called');
};
const signIn = (config = oidcConfig) => new OidcSignIn(config, unused, new Set(['osmondthorpe', 'harehills']));

describe('Who signs in: the role and scope claims the configuration names', () => {
  it('reads sub, name, role and the centre of a centre worker', () => {
    expect(signIn().person({ sub: 's1', name: 'A Person', roles: 'centre-worker', centre: 'osmondthorpe' })).toEqual({
      sub: 's1',
      name: 'A Person',
      role: 'centre-worker',
      scope: 'osmondthorpe',
    });
    // An IG lead has no scope, whatever the claim says.
    expect(signIn().person({ sub: 's2', name: 'B', roles: ['ig-lead'], centre: 'osmondthorpe' })).toEqual({
      sub: 's2',
      name: 'B',
      role: 'ig-lead',
    });
  });

  it('maps the provider’s role values when roleValues is given (e.g. Entra app roles), ignoring values it does not know', () => {
    const s = signIn({ ...oidcConfig, roleValues: { 'Stork.Operator': 'operator' } });
    expect(s.person({ sub: 's', roles: ['Mail.Read', 'Stork.Operator'] }).role).toBe('operator');
    expect(() => s.person({ sub: 's', roles: 'operator' })).toThrow(SignInRefused);
    expect(() => s.person({ sub: 's', roles: 'constructor' })).toThrow(SignInRefused);
  });

  it('refuses: no role, two roles, a centre worker with no centre or one Stork does not know, no subject', () => {
    expect(() => signIn().person({ sub: 's', name: 'x' })).toThrow('no Stork role');
    expect(() => signIn().person({ sub: 's', roles: ['admin', 'operator'] })).toThrow('more than one Stork role');
    expect(() => signIn().person({ sub: 's', roles: 'centre-worker' })).toThrow("not linked to a children's centre");
    expect(() => signIn().person({ sub: 's', roles: 'centre-worker', centre: 'atlantis' })).toThrow(SignInRefused);
    expect(() => signIn().person({ roles: 'admin' })).toThrow('no subject');
  });
});

describe('The pending sign-in cookie', () => {
  const now = new Date('2026-11-29T10:00:00Z');
  const pending = { codeVerifier: 'v', state: 's', nonce: 'n', returnTo: '/app/families', expires: now.getTime() + 60_000 };

  it('opens what it sealed; refuses another deployment’s, a changed byte, an expired one, garbage', () => {
    const seal = new PendingSignInSeal('secret-one-secret-one');
    const sealed = seal.seal(pending);
    expect(seal.open(sealed, now)).toEqual(pending);
    expect(new PendingSignInSeal('secret-two-secret-two').open(sealed, now)).toBeUndefined();
    const flipped = Buffer.from(sealed, 'base64url');
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    expect(seal.open(flipped.toString('base64url'), now)).toBeUndefined();
    expect(seal.open(sealed, new Date(now.getTime() + 61_000))).toBeUndefined();
    expect(seal.open('not a cookie', now)).toBeUndefined();
    expect(seal.open(undefined, now)).toBeUndefined();
  });

  it('returns only to pages of the web app', () => {
    expect(safeReturnTo('/app/families?status=new')).toBe('/app/families?status=new');
    for (const bad of ['//evil.example/app/', 'https://evil.example/app/', '/app//evil.example', '/v1/audit', '/app/\\evil', 42, undefined])
      expect(safeReturnTo(bad)).toBe('/app/');
  });
});

describe('Sign-out at the identity provider (RP-Initiated Logout 1.0)', () => {
  const back = 'https://stork.example/app/signed-out';

  it('sends the browser to the end_session_endpoint with client_id and post_logout_redirect_uri, and no token', () => {
    const config = new oidc.Configuration(
      { issuer: 'https://login.example', end_session_endpoint: 'https://login.example/oidc/logout?tenant=t1' },
      'stork-web',
      'the-client-secret',
    );
    const url = new URL(endSessionUrl(config, back) ?? '');
    expect(url.origin + url.pathname).toBe('https://login.example/oidc/logout');
    expect(Object.fromEntries(url.searchParams)).toEqual({ tenant: 't1', client_id: 'stork-web', post_logout_redirect_uri: back });
    expect(url.href).not.toContain('the-client-secret');
    expect(url.searchParams.has('id_token_hint')).toBe(false);
  });

  it('gives nothing for a provider without an end_session_endpoint (Stork’s session still ends)', () => {
    const config = new oidc.Configuration({ issuer: 'https://login.example' }, 'stork-web', 'the-client-secret');
    expect(endSessionUrl(config, back)).toBeUndefined();
  });
});
