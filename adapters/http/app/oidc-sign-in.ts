import * as oidc from 'openid-client';
import type { WebAppConfig } from '../../../src/config/web-app.js';
import type { SignedInPerson, WebRole } from '../../../src/ports/web-sessions.js';
import { WEB_ROLES } from '../../../src/ports/web-sessions.js';
import type { PendingSignIn } from './pending-sign-in.js';
import { PENDING_SIGN_IN_MS } from './pending-sign-in.js';

/** Where and how this Stork signs in, known once the listeners are bound (and the local provider, if on, started). */
export interface SignInEndpoint {
  issuer: string;
  clientSecret?: string;
  redirectUri: string;
  /** Where the provider sends the browser back after signing out (Stork's /app/signed-out): registered there. */
  postLogoutRedirectUri: string;
}

/** A sign-in refused for a reason the person can be told (no role, no centre): not a fault of Stork's. */
export class SignInRefused extends Error {}

const isLoopback = (url: URL): boolean => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

/**
 * OpenID Connect sign-in with `openid-client`: the authorization code flow with PKCE (S256), state and nonce
 * checked. The provider's metadata is discovered at the first sign-in (and again after a failure), so Stork
 * starts even while the provider is down. Plain http is allowed only for a provider on loopback (the local one).
 */
export class OidcSignIn {
  private configuration: Promise<oidc.Configuration> | undefined;

  constructor(
    private readonly config: WebAppConfig['oidc'],
    private readonly endpoint: () => Promise<SignInEndpoint>,
    private readonly inboxIds: ReadonlySet<string>,
  ) {}

  private async discover(): Promise<oidc.Configuration> {
    const ep = await this.endpoint();
    if (ep.clientSecret === undefined)
      throw new SignInRefused('Sign-in is not set up yet: the client secret (STORK_OIDC_CLIENT_SECRET) is missing.');
    const issuer = new URL(ep.issuer);
    return oidc.discovery(issuer, this.config.clientId, ep.clientSecret, undefined, {
      ...(issuer.protocol === 'http:' && isLoopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
      timeout: 10,
    });
  }

  private async configured(): Promise<oidc.Configuration> {
    this.configuration ??= this.discover();
    try {
      return await this.configuration;
    } catch (err) {
      this.configuration = undefined;
      throw err;
    }
  }

  /** The provider's authorization URL for a new sign-in, and what the browser must carry back. */
  async start(returnTo: string, now: Date): Promise<{ url: string; pending: PendingSignIn }> {
    const config = await this.configured();
    const { redirectUri } = await this.endpoint();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const pending: PendingSignIn = {
      codeVerifier,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      returnTo,
      expires: now.getTime() + PENDING_SIGN_IN_MS,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.config.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      // Always ask for the password again: on a shared computer, a provider session left behind (a person who
      // closed the tab instead of signing out) must not sign the next person in as them.
      prompt: 'login',
    });
    return { url: url.href, pending };
  }

  /**
   * Where to send the browser to end the provider's session too (RP-Initiated Logout 1.0), or undefined if the
   * provider has no `end_session_endpoint`. Throws if the provider cannot be reached.
   */
  async signOutUrl(): Promise<string | undefined> {
    const config = await this.configured();
    return endSessionUrl(config, (await this.endpoint()).postLogoutRedirectUri);
  }

  /** Completes a sign-in at the callback: exchanges the code, checks the ID token, reads who the person is. */
  async finish(callbackUrl: URL, pending: PendingSignIn): Promise<SignedInPerson> {
    const config = await this.configured();
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (!idClaims) throw new SignInRefused('The identity provider sent no ID token.');
    const userInfo = config.serverMetadata().userinfo_endpoint ? await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub) : {};
    return this.person({ ...userInfo, ...idClaims });
  }

  /** The person from the token's claims: the role and scope claims the configuration names. */
  person(claims: Record<string, unknown>): SignedInPerson {
    const c = this.config.claims;
    const sub = claims.sub;
    if (typeof sub !== 'string' || sub === '') throw new SignInRefused('The identity provider gave no subject.');
    const nameClaim = claims[c.name];
    const name = typeof nameClaim === 'string' && nameClaim.trim() !== '' ? nameClaim.trim().slice(0, 200) : sub;
    const roleClaim = claims[c.role];
    const values = (Array.isArray(roleClaim) ? roleClaim : [roleClaim]).filter((v): v is string => typeof v === 'string');
    const roles = [...new Set(values.map((v) => this.roleOf(v)).filter((r): r is WebRole => r !== undefined))];
    if (roles.length !== 1 || roles[0] === undefined)
      throw new SignInRefused(
        roles.length === 0
          ? 'Your account has no Stork role. Ask your administrator for access.'
          : 'Your account has more than one Stork role. Ask your administrator to give it one.',
      );
    const role = roles[0];
    if (role !== 'centre-worker' && role !== 'early-help-worker') return { sub, name, role };
    const scope = claims[c.scope];
    if (typeof scope !== 'string' || !this.inboxIds.has(scope))
      throw new SignInRefused("Your account is not linked to a children's centre that Stork knows. Ask your administrator.");
    return { sub, name, role, scope };
  }

  private roleOf(value: string): WebRole | undefined {
    if (this.config.roleValues) return Object.hasOwn(this.config.roleValues, value) ? this.config.roleValues[value] : undefined;
    return (WEB_ROLES as readonly string[]).includes(value) ? (value as WebRole) : undefined;
  }
}

/**
 * The provider's end-session URL with `client_id` and `post_logout_redirect_uri`, or undefined if its discovery
 * document names no `end_session_endpoint`. No `id_token_hint`: Stork does not keep the ID token (it would put the
 * person's claims in the session store a second time, for no gain: `client_id` names the client).
 */
export function endSessionUrl(config: oidc.Configuration, postLogoutRedirectUri: string): string | undefined {
  if (config.serverMetadata().end_session_endpoint === undefined) return undefined;
  return oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: postLogoutRedirectUri }).href;
}
