import { demoCipher, pseudo } from '../support/data-keys.js';
import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { SqlNotificationStore } from '../../adapters/store/sql-notification-store.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations, waitForText } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';

const HL7 = { 'content-type': 'x-application/hl7-v2+er7' };

/**
 * The IG lead's disclosure report and reports pages in Chromium (issue 14 items 4 and 5): a newborn is delivered to
 * Osmondthorpe and read there by a worker; the IG lead (Iris) asks for the mother's disclosure report by POST with a
 * reason, sees the disclosure and the read, prints it (print styles hide the buttons) and downloads the CSV; each
 * generation is audited as an export with the reason. The reports pages show charts with their tables.
 */
describe('IG lead: disclosure report and reports (Chromium)', () => {
  let t: TestHub;
  let browser: Browser;
  const baby = describeNewborn({
    seed: 1401,
    controlId: 'DISC-1',
    sendingFacility: 'RX1',
    sendingApplication: 'MATERNITY',
    messageTime: new Date(),
    postcodes: ['LS9 7AB'],
  });

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestHub({ env: { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' } }), launchBrowser()]);
    const sent = await api(t.http, 'demo-northgate-feed-key', '/v1/hl7v2', { method: 'POST', headers: HL7, body: baby.text });
    expect(sent.status).toBe(200);
    const notificationId = await pollUntil(async () => {
      const r = await t.hub.db.query<{ id: string }>(
        `SELECT n.id FROM inbox_items i JOIN notifications n ON n.id = i.notification_id WHERE n.baby_nhs_number = $1 AND i.inbox_id = 'osmondthorpe'`,
        [pseudo(baby.baby.nhsNumber)],
      );
      return r.rows[0]?.id;
    }, 'the newborn delivered to Osmondthorpe');
    await new SqlNotificationStore(t.hub.db, demoCipher).getInboxItem(
      'osmondthorpe',
      notificationId,
      { actor: 'user:olivia-sub', name: 'Olivia Demo' },
      new Date(),
    );
  });
  afterAll(async () => {
    await browser.close();
    await t.stop();
  });

  it('shows the mother’s disclosure report after a POST with a reason, prints it, downloads it as CSV; each audited', async () => {
    const mother = baby.mother?.nhsNumber ?? '';
    expect(mother).toMatch(/^\d{10}$/);
    const context = await newContext(browser, { acceptDownloads: true });
    const page = await context.newPage();
    await signInAs(page, t.http, 'iris');
    await page.getByRole('link', { name: 'Disclosure report' }).first().click();
    await waitForText(page.getByRole('heading', { level: 1 }), 'Disclosure report', { exact: true });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Disclosure report');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // Both fields are required; errors follow the GOV.UK pattern.
    await page.getByLabel('NHS number (baby or mother)').fill('123');
    await page.getByRole('button', { name: 'Show the report' }).click();
    const summary = page.locator('.govuk-error-summary');
    expect(await summary.textContent()).toContain('Enter a valid NHS number');
    expect(await summary.textContent()).toContain('Enter the reason for this report');
    expect(await page.title()).toMatch(/^Error: /);
    expect(await seriousAxeViolations(page)).toEqual([]);

    await page.getByLabel('NHS number (baby or mother)').fill(`${mother.slice(0, 3)} ${mother.slice(3, 6)} ${mother.slice(6)}`);
    await page.getByLabel('Reason for this report').fill('Subject access request ref 123');
    await page.getByRole('button', { name: 'Show the report' }).click();
    // The report is on the same address (a POST): count() does not wait, so the report is waited for first; the NHS
    // number is never in the address.
    await waitForText(page.locator('main'), 'Subject access request ref 123');
    expect(page.url()).toBe(`${t.http}/app/disclosures`);
    const main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain('Subject access request ref 123');
    expect(main).toContain('Osmondthorpe Family Hub');
    expect(main).toContain('Local authority:');
    expect(main).toContain('Lawful basis:');
    expect(main).toContain('By: Olivia Demo (user:olivia-sub)');
    expect(main).toContain('As the mother');
    expect(main).not.toContain(baby.baby.nhsNumber);
    const rows = page.locator('main table tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toContain('Disclosed');
    expect(await rows.nth(1).textContent()).toContain('Read');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-disclosure-report');

    // The print view: GOV.UK print styles; the buttons and links to other pages are not printed.
    await page.emulateMedia({ media: 'print' });
    expect(await page.getByRole('button', { name: 'Download as CSV' }).isVisible()).toBe(false);
    expect(await page.locator('main table').isVisible()).toBe(true);
    expect(await page.getByRole('link', { name: 'Search the audit' }).first().isVisible()).toBe(false);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-disclosure-report-print');
    await page.emulateMedia({ media: 'screen' });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download as CSV' }).click()]);
    const file = await download.path();
    const csv = await readFile(file, 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^time,event,notification/);
    expect(csv).toContain('Osmondthorpe Family Hub');
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(3);

    const exported = await t.hub.db.query<{
      actor: string;
      outcome: string;
      subject_nhs_number: string;
      details: { purpose: string; name: string };
    }>(`SELECT actor, outcome, subject_nhs_number, details FROM audit_events WHERE action = 'exported' ORDER BY seq`);
    expect(exported.rows.map((r) => [r.outcome, r.subject_nhs_number, r.details.purpose, r.details.name])).toEqual([
      ['html', pseudo(mother), 'Subject access request ref 123', 'Iris Demo'],
      ['csv', pseudo(mother), 'Subject access request ref 123', 'Iris Demo'],
    ]);
    expect(exported.rows[0]?.actor).toMatch(/^user:/);
    await context.close();
  });

  it('shows the reports per feed, centre and rule as charts with tables; validates the dates; IG only', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, t.http, 'iris');
    await page.getByRole('link', { name: 'Reports' }).first().click();
    await page.waitForURL(`${t.http}/app/reports/feeds`);
    // Waited for, not counted at once: under load the click can return before the page has been parsed.
    await page
      .getByRole('img', { name: /messages per day/ })
      .first()
      .waitFor();
    expect(await page.getByRole('img', { name: /messages per day/ }).count()).toBeGreaterThan(0);
    const feedTable = page.locator('main table').first();
    expect(await feedTable.locator('thead').textContent()).toContain('Quarantined');
    expect(await feedTable.locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-reports-feeds');

    await page.getByRole('link', { name: 'Centres' }).click();
    await page.waitForURL(/\/app\/reports\/centres/);
    const centreRow = page.locator('main table tbody tr').filter({ hasText: 'Osmondthorpe Family Hub' });
    expect(await centreRow.count()).toBe(1);
    // Delivered 1, reads 1, notifications read 1, taken on 0, withdrawn 0.
    expect((await centreRow.locator('td').allTextContents()).map((s) => s.trim())).toEqual(['1', '1', '1', '0', '0']);
    expect(await page.getByRole('img', { name: 'Notifications per centre' }).count()).toBe(1);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-reports-centres');

    await page.getByRole('link', { name: 'Rules' }).click();
    await page.waitForURL(/\/app\/reports\/rules/);
    expect(await page.locator('main table tbody tr').filter({ hasText: 'offer-of-support' }).count()).toBeGreaterThan(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-reports-rules');

    await page.getByLabel('Date from').fill('2026-02-30');
    await page.getByRole('button', { name: 'Show' }).click();
    await waitForText(page.locator('.govuk-error-summary'), 'Date from must be a date');
    expect(await page.locator('.govuk-error-summary').textContent()).toContain('Date from must be a date');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await context.close();

    const worker = await newContext(browser);
    const workerPage = await worker.newPage();
    await signInAs(workerPage, t.http, 'olivia');
    expect((await workerPage.goto(`${t.http}/app/reports/centres`))?.status()).toBe(403);
    expect((await workerPage.goto(`${t.http}/app/disclosures`))?.status()).toBe(403);
    await worker.close();
  });
});
