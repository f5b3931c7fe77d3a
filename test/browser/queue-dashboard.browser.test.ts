import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';

const LOCAL_OIDC = { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' };

/**
 * The BullMQ dashboard (bull-board) at /app/admin/queues: an administrator sees Stork's queues, read-only, under a
 * CSP of its own; a centre worker and an IG lead are refused, and someone signed out is sent to sign in. axe is run
 * on Stork's refusal page only: bull-board's UI is third-party.
 */
describe('Queue dashboard for administrators (Chromium)', () => {
  let browser: Browser;
  let t: TestHub;
  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestHub({ env: LOCAL_OIDC }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser.close();
    await t.stop();
  });

  it('ada (admin) sees the queues; olivia (centre worker) and iris (IG lead) are refused', async () => {
    const ada = await (await newContext(browser)).newPage();
    await signInAs(ada, t.http, 'ada');
    const answer = await ada.goto(`${t.http}/app/admin/queues`);
    expect(answer?.status()).toBe(200);
    const csp = (await answer?.allHeaders())?.['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("script-src 'self' 'unsafe-inline'");
    await ada.getByText('deliver-osmondthorpe').first().waitFor({ timeout: 15000 });
    const text = (await ada.locator('body').textContent()) ?? '';
    for (const q of ['process', 'match-review', 'deliver-harehills']) expect(text).toContain(q);
    await screenshot(ada, 'queue-dashboard');
    // Read-only: an action through bull-board's API is refused.
    const retry = await ada.request.put(`${t.http}/app/admin/queues/api/queues/process/retry/failed`);
    expect(retry.status()).toBeGreaterThanOrEqual(400);
    // The GOV.UK pages keep their own CSP.
    const home = await ada.goto(`${t.http}/app/`);
    expect((await home?.allHeaders())?.['content-security-policy']).toMatch(/style-src 'self';/);

    for (const login of ['olivia', 'iris']) {
      const page = await (await newContext(browser)).newPage();
      await signInAs(page, t.http, login);
      expect((await page.goto(`${t.http}/app/admin/queues`))?.status()).toBe(403);
      expect((await page.request.get(`${t.http}/app/admin/queues/api/queues`)).status()).toBe(403);
      expect(await seriousAxeViolations(page)).toEqual([]);
    }
    const anonymous = await (await newContext(browser)).newPage();
    await anonymous.goto(`${t.http}/app/admin/queues`);
    expect(new URL(anonymous.url()).pathname).not.toBe('/app/admin/queues');
  });
});
