import type { Page } from 'playwright-core';

/**
 * Signs in through the local OpenID provider's development sign-in page as one of the demo users of
 * mappings/web-app.json (any password), starting from the web app's sign-in page.
 */
export async function signInAs(page: Page, base: string, login: string, startAt = '/app/'): Promise<void> {
  await page.goto(`${base}${startAt}`);
  if (startAt === '/app/') await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.origin === base && url.pathname.startsWith('/app/'));
}
