import type { Cookie, Page } from 'playwright-core';

/**
 * The session cookies of each demo user already signed in through the provider, per hub (base URL), for this test
 * file (a module's state is its file's in Jest). A sign-in through the provider costs 2 to 5 seconds of browser
 * work; a test that only needs a signed-in person starts from the cookies of the first sign-in instead.
 */
const signedIn = new Map<string, Cookie[]>();

/**
 * Signs in through the local OpenID provider's development sign-in page as one of the demo users of
 * mappings/web-app.json (any password), starting from the web app's sign-in page. Unless `fresh`, a user already
 * signed in by this file's tests starts with that session's cookies in this page's own context, and goes through
 * the provider only when that session has ended (signed out, expired) and the page does not show them signed in.
 * Tests of signing in and out themselves pass `fresh`.
 */
export async function signInAs(page: Page, base: string, login: string, startAt = '/app/', o: { fresh?: boolean } = {}): Promise<void> {
  const key = `${base} ${login}`;
  const cookies = o.fresh === true ? undefined : signedIn.get(key);
  if (cookies !== undefined) {
    await page.context().addCookies(cookies);
    await page.goto(`${base}${startAt}`);
    const url = new URL(page.url());
    if (url.origin === base && (await page.getByRole('button', { name: 'Sign out' }).count()) > 0) return;
    await page.context().clearCookies();
  }
  await page.goto(`${base}${startAt}`);
  if (startAt === '/app/') await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.origin === base && url.pathname.startsWith('/app/'));
  // Stork's own cookies only (cookies ignore ports, so the provider's are here too): its session is not shared.
  signedIn.set(
    key,
    (await page.context().cookies(base)).filter((c) => !c.name.startsWith('oidc_')),
  );
}
