import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations, waitForText } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';

/**
 * The web app's foundation in a real browser: a person signs in through the local OpenID provider (authorization
 * code with PKCE), sees the pages of their role, and signs out; the session cookie is HttpOnly and SameSite; a
 * form without the session's CSRF token changes nothing; unknown pages are 404, another role's pages 403.
 */
describe('Web app sign-in (Chromium, local OpenID provider)', () => {
  let t: TestHub;
  let browser: Browser;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestHub({ env: { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' } }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser.close();
    await t.stop();
  });

  it('a centre worker signs in, is named in the header, and signs out; the session cookie is HttpOnly and SameSite=Lax', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${t.http}/app/`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Sign in to Stork');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'sign-in');

    await signInAs(page, t.http, 'olivia', '/app/', { fresh: true });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Stork');
    expect(await page.locator('main').textContent()).toContain('Olivia Demo');
    expect(await page.locator('main').textContent()).toContain('Osmondthorpe');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'home-centre-worker');

    const cookie = (await context.cookies()).find((c) => c.name === 'stork_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    const rows = await t.hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM web_sessions');
    expect(rows.rows[0]?.n).toBe(1);
    // The store holds the id's hash, never the id the browser holds.
    const stored = await t.hub.db.query<{ id_sha256: string }>('SELECT id_sha256 FROM web_sessions');
    expect(stored.rows[0]?.id_sha256).not.toBe(cookie?.value);

    const providerSession = async (): Promise<boolean> => (await context.cookies()).some((c) => c.name.startsWith('oidc_session'));
    expect(await providerSession()).toBe(true);
    const linesBefore = t.sink.lines.length;
    // Sign-out ends Stork's session, then the provider's (RP-Initiated Logout), which sends the browser back.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${t.http}/app/signed-out`);
    await waitForText(page.getByRole('heading', { level: 1 }), 'You have signed out');
    expect(await page.locator('main').textContent()).toContain('You have signed out of Stork and of your organisation');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'signed-out');
    const after = await t.hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM web_sessions');
    expect(after.rows[0]?.n).toBe(0);
    expect(await providerSession()).toBe(false);
    // The sign-out's log lines name the role and what happened: no name, no subject, no token.
    const logged = t.sink.lines.slice(linesBefore).join('\n');
    expect(logged).toContain('web sign-out');
    expect(logged).not.toMatch(/Olivia|olivia|id_token|eyJ/);

    // The next person at this computer clicks Sign in: the provider asks for a login, not signing olivia back in.
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await page.waitForURL(`${t.http}/app/`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('input[name="login"]').waitFor();
    expect(new URL(page.url()).origin).not.toBe(t.http);
    expect((await context.cookies()).some((c) => c.name === 'stork_session')).toBe(false);
    await screenshot(page, 'provider-login-after-sign-out');
    await page.locator('input[name="login"]').fill('harry');
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(`${t.http}/app/`);
    await waitForText(page.locator('main'), 'Harry');
    expect(await page.locator('main').textContent()).not.toContain('Olivia');
    await context.close();
  });

  it('sign-out’s way on to the provider is a link too (for a browser that does not run Stork’s script)', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, t.http, 'olivia', '/app/', { fresh: true });
    // Without Stork's script the page stays, and the person follows the link themselves.
    await page.route(`${t.http}/app/assets/init.mjs`, (route) => route.abort());
    await page.getByRole('button', { name: 'Sign out' }).click();
    await waitForText(page.getByRole('heading', { level: 1 }), 'Signing you out');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'signing-out');
    await page.getByRole('link', { name: 'Continue signing out' }).click();
    await page.waitForURL(`${t.http}/app/signed-out`);
    expect((await context.cookies()).some((c) => c.name.startsWith('oidc_session'))).toBe(false);
    await context.close();
  });

  it('where the provider has no sign-out, the signed-out page says plainly to close the browser', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${t.http}/app/signed-out?provider=still-signed-in`);
    await waitForText(page.getByRole('heading', { level: 1 }), 'You have signed out');
    expect(await page.locator('main').textContent()).toContain('close every window of this web browser now');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'signed-out-provider-still-signed-in');
    await context.close();
  });

  it('a form post without the session token changes nothing (403); unknown pages are 404 with the GOV.UK layout', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, t.http, 'iris', '/app/', { fresh: true });
    // Sign-out posted without the token: refused, still signed in.
    const forged = await page.request.post(`${t.http}/app/sign-out`, { form: { _csrf: 'not-the-token' } });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain('This form has expired');
    const stillIn = await page.request.get(`${t.http}/app/`);
    expect(await stillIn.text()).toContain('Iris Demo');

    const missing = await page.goto(`${t.http}/app/no-such-page`);
    expect(missing?.status()).toBe(404);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Page not found');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'not-found');
    await context.close();
  });

  it('a sign-in callback without the pending sign-in cookie (or with a forged one) is refused and signs nobody in', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const r = await page.goto(`${t.http}/app/auth/callback?code=stolen&state=whatever`);
    expect(r?.status()).toBe(400);
    await context.addCookies([{ name: 'stork_signin', value: 'A'.repeat(200), url: `${t.http}/app/auth/callback` }]);
    const forged = await page.goto(`${t.http}/app/auth/callback?code=stolen&state=whatever`);
    expect(forged?.status()).toBe(400);
    expect((await context.cookies()).some((c) => c.name === 'stork_session')).toBe(false);
    // Audited as a failed web sign-in (two in the same minute: one event, counting the first).
    const failed = await pollUntil(async () => {
      const r = await t.hub.db.query<{ actor: string; outcome: string; details: { channel?: string; failures?: number } }>(
        `SELECT actor, outcome, details FROM audit_events WHERE action = 'sign-in-failed' AND outcome = 'web-expired'`,
      );
      return r.rows.length > 0 ? r.rows : undefined;
    }, 'the sign-in-failed event');
    expect(failed.map((f) => [f.actor, f.outcome, f.details.channel, f.details.failures])).toEqual([
      ['user:unknown', 'web-expired', 'web', 1],
    ]);
    await context.close();
  });
});
