import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../../src/logger.js';
import type { DemoUser } from '../../src/config/web-app.js';

/** What the web app needs to know of a local provider it signs in with. */
export interface LocalProvider {
  issuer: string;
  clientSecret: string;
  close(): Promise<void>;
}

export interface LocalProviderOptions {
  port: number;
  clientId: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  scopes: readonly string[];
  claims: { name: string; role: string; scope: string };
  users: readonly DemoUser[];
  logger: Logger;
}

/**
 * A local OpenID provider (`oidc-provider`) on 127.0.0.1, for the quick start and the tests only: its built-in
 * development sign-in page lets anyone sign in as any demo user of `web-app.json` (any password), so it is never
 * on unless STORK_LOCAL_OIDC=on. One confidential client, the web app, with a secret made up at start-up;
 * authorization code with PKCE (S256) required; the first-party app's consent is taken as given.
 */
export async function startLocalProvider(o: LocalProviderOptions): Promise<LocalProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : o.port}`;
  const clientSecret = randomBytes(32).toString('base64url');
  const byId = (id: string): DemoUser | undefined => o.users.find((u) => u.login === id);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const configuration: Configuration = {
    clients: [
      {
        client_id: o.clientId,
        client_secret: clientSecret,
        redirect_uris: [o.redirectUri],
        post_logout_redirect_uris: [o.postLogoutRedirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html lang="en"><head><title>Sign-in error</title></head><body><h1>Sign-in error</h1><p>${escapeHtml(out.error)}</p></body></html>`;
    },
    scopes: [...o.scopes],
    claims: { openid: ['sub'], profile: [o.claims.name], stork: [o.claims.role, o.claims.scope] },
    findAccount: (_ctx, id) => {
      const user = byId(id);
      if (!user) return undefined;
      return {
        accountId: user.login,
        claims: () => ({
          sub: user.login,
          [o.claims.name]: user.name,
          [o.claims.role]: user.role,
          ...(user.scope !== undefined ? { [o.claims.scope]: user.scope } : {}),
        }),
      };
    },
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { client, session, provider } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const existing = session.grantIdFor(client.clientId);
      if (existing) return provider.Grant.find(existing);
      const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope(o.scopes.join(' '));
      await grant.save();
      return grant;
    },
    features: {
      devInteractions: { enabled: true },
      // Stork's sign-out sends the browser here having already ended its own session: the provider's session ends
      // at once (the form posts itself, `logout=yes`), with no "do you want to sign out?" question to confuse.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          const nonce = randomBytes(16).toString('base64');
          ctx.set('Content-Security-Policy', logoutPagePolicy(nonce, o.postLogoutRedirectUri));
          const withLogout = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
          ctx.type = 'html';
          ctx.body = simplePage(
            nonce,
            'Signing you out',
            `<p>The demo identity provider is signing you out.</p>${withLogout}
            <noscript><button type="submit" form="op.logoutForm">Continue signing out</button></noscript>
            <script nonce="${nonce}">document.getElementById('op.logoutForm').submit();</script>`,
          );
        },
        postLogoutSuccessSource: (ctx) => {
          const nonce = randomBytes(16).toString('base64');
          ctx.set('Content-Security-Policy', logoutPagePolicy(nonce, o.postLogoutRedirectUri));
          ctx.type = 'html';
          ctx.body = simplePage(nonce, 'You have signed out', '<p>You have signed out of the demo identity provider.</p>');
        },
      },
    },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      names: { session: 'oidc_session', interaction: 'oidc_interaction', resume: 'oidc_resume' },
    },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'local', alg: 'RS256', use: 'sig' }] },
  };
  const provider = new Provider(issuer, configuration);
  // A demo login that is not a demo user is refused by findAccount; log why, not who (no personal data anyway).
  provider.on('server_error', (_ctx: unknown, err: Error) => o.logger.warn({ err }, 'local OpenID provider error'));
  const handle = provider.callback();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    void handle(req, res);
  });
  o.logger.warn({ issuer, users: o.users.length }, 'local OpenID provider running (demo sign-in for anyone: never in production)');
  return {
    issuer,
    clientSecret,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The logout pages' policy: only their own nonce'd script and style; the form may post here and be sent on to Stork. */
function logoutPagePolicy(nonce: string, postLogoutRedirectUri: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `form-action 'self' ${new URL(postLogoutRedirectUri).origin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** A plain page of the demo provider (GOV.UK's typeface and colours, no assets from anywhere). */
function simplePage(nonce: string, title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} – demo identity provider</title>
<style nonce="${nonce}">body{font-family:Arial,sans-serif;color:#0b0c0c;margin:0 auto;max-width:640px;padding:30px 15px;line-height:1.3}h1{font-size:2rem}button{background:#00703c;color:#fff;border:0;padding:8px 10px;font-size:1.1875rem;box-shadow:0 2px 0 #002d18;cursor:pointer}</style>
</head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
