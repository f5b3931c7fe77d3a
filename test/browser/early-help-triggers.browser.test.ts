import type { Browser, Page } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations, waitForText } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { aeAttendance } from '../support/synthetic/ae-attendance.js';
import { pseudo } from '../support/data-keys.js';

const LOCAL_OIDC = { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' };

/**
 * Triggers in a real browser (issue 17 item 3): Erin (early help, Northgate) sees a fired trigger in her queue with
 * the parent, the children and the trigger's name, never the diagnosis; Iris (IG lead) sees the Triggers page with the
 * lawful basis, value set size and counts, and releases a firing held on a restricted record, which then reaches
 * Erin's queue. Erin takes a firing on and her queue lists it apart. Every page passes axe.
 */
describe('Early help queue and the IG triggers page (Chromium)', () => {
  let browser: Browser;
  let t: TestHub;
  let client: MllpClient;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestHub({ env: LOCAL_OIDC }), launchBrowser()]);
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await browser.close();
    await t.stop();
  });

  const axeAndScreenshot = async (page: Page, name: string): Promise<void> => {
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, name);
  };
  const firingOf = (controlId: string) =>
    pollUntil(
      async () =>
        (
          await t.hub.db.query<{ id: string; status: string }>(
            `SELECT f.id, f.status FROM trigger_firings f JOIN messages m ON m.id = f.message_id WHERE m.control_id = $1`,
            [controlId],
          )
        ).rows[0],
      `the firing of ${controlId}`,
    );

  it('early help works its queue; the IG lead sees counts and releases a held firing', async () => {
    const birth = describeNewborn({
      seed: 1801,
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      postcodes: ['LS9 7AB'],
      messageTime: new Date(),
      controlId: 'EH-BIRTH',
    });
    expect(await client.send(birth.text)).toMatch(/MSA\|CA\|EH-BIRTH/);
    const m = birth.mother;
    if (m === undefined) throw new Error('the synthetic birth has no mother');
    await pollUntil(
      async () => (await t.hub.db.query(`SELECT 1 FROM families WHERE lead_nhs_number = $1`, [pseudo(m.nhsNumber)])).rows[0],
      'her family',
    );
    const base = { nhsNumber: m.nhsNumber, family: m.family, given: m.given, birthDate: m.birthDate.replace(/-/g, '') };
    expect(await client.send(aeAttendance({ ...base, controlId: 'EH-AE1', diagnoses: ['F10.0^Acute alcohol intoxication^I10'] }))).toMatch(
      /MSA\|CA/,
    );
    expect(
      await client.send(aeAttendance({ ...base, controlId: 'EH-AE2', restricted: true, diagnoses: ['25702006^Alcohol intoxication^SCT'] })),
    ).toMatch(/MSA\|CA/);
    const fired = await firingOf('EH-AE1');
    const held = await firingOf('EH-AE2');
    expect([fired.status, held.status]).toEqual(['delivered', 'held']);

    // Erin, early help: her queue and the firing, with no clinical detail.
    const erinCtx = await newContext(browser);
    const erin = await erinCtx.newPage();
    await signInAs(erin, t.http, 'erin');
    await erin.getByRole('link', { name: 'Early help queue' }).first().click();
    await erin.waitForURL(/\/app\/early-help$/);
    expect(await erin.getByRole('heading', { level: 1 }).textContent()).toBe('Early help: triggers received');
    expect(await erin.locator(`a[href="/app/early-help/${fired.id}"]`).count()).toBe(1);
    expect(await erin.locator(`a[href="/app/early-help/${held.id}"]`).count()).toBe(0);
    await axeAndScreenshot(erin, 'early-help-queue');
    await erin.locator(`a[href="/app/early-help/${fired.id}"]`).click();
    await erin.waitForURL(new RegExp(`/app/early-help/${fired.id}$`));
    const body = (await erin.locator('main').textContent()) ?? '';
    expect(body).toContain('A parent attended A&E for an alcohol-related reason');
    expect(body).toContain(birth.baby.nhsNumber.slice(0, 3));
    for (const clinical of ['F10', 'intoxication', 'I10']) expect(body).not.toContain(clinical);
    await axeAndScreenshot(erin, 'early-help-firing');
    // Erin takes the family on: the firing page says so, with the date, and her queue lists it apart.
    await erin.getByRole('button', { name: 'Mark as taken on' }).click();
    await erin.waitForURL(new RegExp(`/app/early-help/${fired.id}\\?taken=1$`));
    expect(await erin.locator('.govuk-notification-banner').textContent()).toContain('You have marked this family as taken on');
    expect(await erin.locator('.govuk-summary-list__key', { hasText: 'Taken on' }).count()).toBe(1);
    expect(await erin.getByRole('button', { name: 'Mark as taken on' }).count()).toBe(0);
    await axeAndScreenshot(erin, 'early-help-firing-taken-on');
    await erin.goto(`${t.http}/app/early-help`);
    await erin.waitForURL(/\/app\/early-help$/);
    expect(await erin.locator(`table:has(caption:text("Triggers taken on")) a[href="/app/early-help/${fired.id}"]`).count()).toBe(1);
    expect(await erin.locator(`table:has(caption:text("Triggers not yet taken on")) a[href="/app/early-help/${fired.id}"]`).count()).toBe(
      0,
    );
    await axeAndScreenshot(erin, 'early-help-queue-taken-on');
    const takenOn = await t.hub.db.query<{ actor: string }>(`SELECT actor FROM audit_events WHERE action = 'firing-taken-on'`);
    expect(takenOn.rows).toEqual([{ actor: 'user:erin' }]);
    // A held firing is not Erin's to open until released, nor to take on; a forged id is 404; no CSRF token is 403.
    expect((await erin.goto(`${t.http}/app/early-help/${held.id}`))?.status()).toBe(404);
    const csrf = (await erin.locator('input[name="_csrf"]').first().getAttribute('value')) ?? '';
    const takeOn = (id: string, form: Record<string, string>) =>
      erin.request.post(`${t.http}/app/early-help/${id}/take-on`, { form, maxRedirects: 0 });
    expect((await takeOn(held.id, { _csrf: csrf })).status()).toBe(404);
    expect((await takeOn('00000000-0000-4000-8000-000000000000', { _csrf: csrf })).status()).toBe(404);
    expect((await takeOn('not-a-uuid', { _csrf: csrf })).status()).toBe(404);
    expect((await takeOn(held.id, {})).status()).toBe(403);
    // Pressing again is a no-op: back to the firing page, no second event.
    expect((await takeOn(fired.id, { _csrf: csrf })).headers().location).toBe(`/app/early-help/${fired.id}`);
    expect((await t.hub.db.query(`SELECT 1 FROM audit_events WHERE action = 'firing-taken-on'`)).rows).toHaveLength(1);
    expect((await t.hub.db.query(`SELECT 1 FROM trigger_firings WHERE id = $1 AND taken_on_at IS NULL`, [held.id])).rows).toHaveLength(1);

    // Iris, IG lead: the triggers page, then the held firing released.
    const irisCtx = await newContext(browser);
    const iris = await irisCtx.newPage();
    await signInAs(iris, t.http, 'iris');
    await iris.getByRole('link', { name: 'Triggers' }).first().click();
    await iris.waitForURL(/\/app\/triggers$/);
    const page = (await iris.locator('main').textContent()) ?? '';
    expect(page).toContain('Children Act 2004 s11');
    expect(page).toContain('(6 codes)');
    // Its counts before the review: one delivered (none released yet), that one taken on by early help, one held.
    const cells = await iris.locator('table', { hasText: 'of which taken on by early help' }).locator('tbody td').allTextContents();
    expect(cells.map((c) => c.trim())).toEqual(['1', '0', '1', '1', '0', '0']);
    await axeAndScreenshot(iris, 'ig-triggers');
    await iris.locator(`a[href="/app/triggers/parent-ae-alcohol"]`).click();
    await iris.waitForURL(/\/app\/triggers\/parent-ae-alcohol$/);
    expect(await iris.locator('a[href^="/app/triggers/firings/"]').count()).toBe(2);
    await axeAndScreenshot(iris, 'ig-trigger-firings');
    // The IG lead sees that early help took the family on, and when.
    await iris.goto(`${t.http}/app/triggers/firings/${fired.id}`);
    await waitForText(iris.locator('main'), 'Taken on by early help on');
    expect(await iris.getByRole('button', { name: 'Save decision' }).count()).toBe(0);
    await iris.goto(`${t.http}/app/triggers/firings/${held.id}`);
    await iris.getByRole('button', { name: 'Save decision' }).click();
    expect(await iris.locator('.govuk-error-summary').textContent()).toContain('Choose whether to release');
    await axeAndScreenshot(iris, 'ig-trigger-review-error');
    await iris.locator('input[name="decision"][value="release"]').check();
    await iris.getByRole('button', { name: 'Save decision' }).click();
    await iris.waitForURL(/\/app\/triggers\?reviewed=released/);
    expect(await iris.locator('.govuk-notification-banner').textContent()).toContain('The trigger was released');

    await erin.goto(`${t.http}/app/early-help`);
    expect(await erin.locator(`table:has(caption:text("Triggers not yet taken on")) a[href="/app/early-help/${held.id}"]`).count()).toBe(1);
    const reviewed = await t.hub.db.query<{ actor: string; outcome: string }>(
      `SELECT actor, outcome FROM audit_events WHERE action = 'trigger-reviewed'`,
    );
    expect(reviewed.rows).toEqual([{ actor: 'user:iris', outcome: 'released' }]);
    // Erin cannot open the IG pages; Iris cannot open Erin's queue.
    expect((await erin.goto(`${t.http}/app/triggers`))?.status()).toBe(403);
    expect((await iris.goto(`${t.http}/app/early-help`))?.status()).toBe(403);
    await erinCtx.close();
    await irisCtx.close();
  });
});
