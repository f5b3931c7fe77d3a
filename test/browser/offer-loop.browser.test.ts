import type { Browser, Page } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY', observations: false } as const;

/**
 * The offer-of-support loop in a real browser (issue 15 item 3): two births reach Osmondthorpe, one of them 20 days
 * ago (past the 14-day target). Olivia sees it tagged "Overdue" and filters the worklist to it, records that she
 * contacted the family on its household page (after a form error), and it is overdue no more; the reach page shows
 * her centre's figure, and the IG lead's shows every centre.
 */
describe('The offer-of-support loop pages (Chromium, local OpenID provider)', () => {
  let t: TestHub;
  let browser: Browser;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestHub({ env: { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' } }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser.close();
    await t.stop();
  });

  const rowOf = (page: Page, name: string) => page.locator('tr', { has: page.getByRole('link', { name }) });

  it('overdue families are tagged and filtered; an outcome recorded on the household page ends it', async () => {
    const mllp = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    const now = new Date();
    const late = describeNewborn({ ...RX1, seed: 9501, postcodes: ['LS9 7AB'], messageTime: now, ageMinutes: 600, controlId: 'OL-1' });
    const fresh = describeNewborn({ ...RX1, seed: 9502, postcodes: ['LS9 7AD'], messageTime: now, ageMinutes: 90, controlId: 'OL-2' });
    for (const m of [late, fresh]) expect((await mllp.send(m.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    await mllp.close();
    const lateName = `${late.baby.given} ${late.baby.family}`;
    const freshName = `${fresh.baby.given} ${fresh.baby.family}`;

    const olivia = await (await newContext(browser)).newPage();
    await signInAs(olivia, t.http, 'olivia');
    const href = await pollUntil(async () => {
      await olivia.goto(`${t.http}/app/families?status=all`);
      const links = [olivia.getByRole('link', { name: lateName }), olivia.getByRole('link', { name: freshName })];
      return (await links[0]?.count()) && (await links[1]?.count()) ? links[0]?.getAttribute('href') : undefined;
    }, 'both babies in the worklist');
    const notificationId = (href ?? '').split('/').pop() ?? '';
    // The first reached the centre 20 days ago.
    await t.database.db.query(`UPDATE inbox_items SET delivered_at = now() - interval '20 days' WHERE notification_id = $1`, [
      notificationId,
    ]);

    await olivia.goto(`${t.http}/app/families?status=all`);
    expect(await rowOf(olivia, lateName).locator('.stork-overdue').textContent()).toBe('Overdue');
    expect(await rowOf(olivia, freshName).locator('.stork-overdue').count()).toBe(0);
    expect(await rowOf(olivia, freshName).textContent()).toContain('Due by');
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'worklist-overdue');

    await olivia.getByLabel('First contact').selectOption('overdue');
    await olivia.getByRole('button', { name: 'Apply filters' }).click();
    await olivia.waitForURL(/contact=overdue/);
    expect(await olivia.getByRole('link', { name: lateName }).count()).toBe(1);
    expect(await olivia.getByRole('link', { name: freshName }).count()).toBe(0);
    expect(await seriousAxeViolations(olivia)).toEqual([]);

    // The household page: the overdue tag, the form, an error first (no outcome chosen, a date in the future).
    await pollUntil(async () => {
      await olivia.goto(`${t.http}${href ?? ''}`);
      return (await olivia.getByRole('link', { name: 'See the whole family' }).count()) > 0 ? true : undefined;
    }, 'the family link');
    await olivia.getByRole('link', { name: 'See the whole family' }).click();
    await olivia.waitForURL(/\/app\/households\/[0-9a-f-]{36}$/);
    const familyUrl = olivia.url();
    expect(await olivia.locator('#offer-of-support ~ p .stork-overdue').count()).toBe(1);
    expect(await olivia.locator('main').textContent()).toContain('Nothing recorded yet');
    await olivia.locator('#outcome-date-year').fill(String(now.getUTCFullYear() + 1));
    await olivia.getByRole('button', { name: 'Record outcome' }).click();
    const summary = (await olivia.locator('.govuk-error-summary').textContent()) ?? '';
    expect(summary).toContain('Select what happened');
    expect(summary).toContain('today or in the past');
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'household-outcome-error');

    await olivia.locator('input[name="outcome"][value="contacted"]').check();
    await olivia.locator('#outcome-date-year').fill(String(now.getUTCFullYear()));
    await olivia
      .locator('#outcome-date-month')
      .fill(String(Number(now.toLocaleDateString('en-CA', { timeZone: 'Europe/London' }).slice(5, 7))));
    await olivia
      .locator('#outcome-date-day')
      .fill(String(Number(now.toLocaleDateString('en-CA', { timeZone: 'Europe/London' }).slice(8, 10))));
    await olivia.getByRole('button', { name: 'Record outcome' }).click();
    await olivia.waitForURL(`${familyUrl}?recorded=1#offer-of-support`);
    expect(await olivia.locator('.govuk-notification-banner--success').textContent()).toContain('Outcome recorded');
    const history = (await olivia.locator('main').textContent()) ?? '';
    expect(history).toContain('Contacted');
    expect(history).toContain('Olivia');
    expect(await olivia.locator('#offer-of-support ~ p .stork-overdue').count()).toBe(0);
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'household-outcome-recorded');

    await olivia.goto(`${t.http}/app/families?status=all&contact=overdue`);
    expect(await olivia.getByRole('link', { name: lateName }).count()).toBe(0);
  });

  it('the reach page: a centre worker sees her own centre, the IG lead every centre', async () => {
    const olivia = await (await newContext(browser)).newPage();
    await signInAs(olivia, t.http, 'olivia');
    // Olivia's own centre: both births, the late one contacted after its 14 days.
    await olivia.goto(`${t.http}/app/reach`);
    const reach = (await olivia.locator('main').textContent()) ?? '';
    expect(reach).toContain('Osmondthorpe Family Hub');
    expect(reach).not.toContain('Harehills');
    expect(await olivia.locator('.stork-reach-figure').textContent()).toMatch(/0% of 2 births notified were contacted within 14 days/);
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'reach-centre');
    await olivia.goto(`${t.http}/app/reach?month=2026-13`);
    expect(await olivia.locator('.govuk-error-summary').textContent()).toContain('Month must be a month');
    expect(await seriousAxeViolations(olivia)).toEqual([]);

    const iris = await (await newContext(browser)).newPage();
    await signInAs(iris, t.http, 'iris');
    await iris.goto(`${t.http}/app/reach`);
    const all = (await iris.locator('main').textContent()) ?? '';
    expect(all).toContain('Osmondthorpe Family Hub');
    expect(all).toContain("Harehills Children's Centre");
    expect(all).toContain('within 10 days');
    expect(await seriousAxeViolations(iris)).toEqual([]);
  });
});
