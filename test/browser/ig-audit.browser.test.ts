import { demoCipher, pseudo } from '../support/data-keys.js';
import type { Browser } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { SqlNotificationStore } from '../../adapters/store/sql-notification-store.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations, waitForText } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';

/**
 * The IG lead's pages in a real browser: a newborn is sent over MLLP and delivered to Osmondthorpe; a centre
 * worker reads it as a person (through the NotificationStore with the person's AuditActor, as the worklist
 * pages do: those pages are built on another branch); the IG lead signs in through the local OpenID provider,
 * searches the audit and finds that read by the worker's name, with the rule and lawful basis in words.
 */
describe('IG lead: search the audit and read a notification’s trail (Chromium)', () => {
  let t: TestHub;
  let browser: Browser;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestHub({ env: { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' } }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser.close();
    await t.stop();
  });

  it('finds the read of a notification by a centre worker, by name; the search and the trail viewed are audited', async () => {
    const baby = describeNewborn({
      seed: 1101,
      controlId: 'IG-1',
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
      postcodes: ['LS9 7AB'],
    });
    const client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    try {
      expect(await client.send(baby.text)).toMatch(/MSA\|[AC]A\|IG-1/);
    } finally {
      await client.close();
    }
    const notificationId = await pollUntil(async () => {
      const r = await t.hub.db.query<{ id: string }>(
        `SELECT n.id FROM inbox_items i JOIN notifications n ON n.id = i.notification_id WHERE n.baby_nhs_number = $1 AND i.inbox_id = 'osmondthorpe'`,
        [pseudo(baby.baby.nhsNumber)],
      );
      return r.rows[0]?.id;
    }, 'the newborn delivered to Osmondthorpe');
    // The centre worker's read, as a person (their identity from the token): what the worklist's family page does.
    const store = new SqlNotificationStore(t.hub.db, demoCipher);
    const read = await store.getInboxItem('osmondthorpe', notificationId, { actor: 'user:olivia-sub', name: 'Olivia Demo' }, new Date());
    expect(read?.notificationId).toBe(notificationId);

    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, t.http, 'iris');
    await page.getByRole('link', { name: 'Search the audit' }).first().click();
    await waitForText(page.getByRole('heading', { level: 1 }), 'Search the audit', { exact: true });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Search the audit');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-search');

    // Errors follow the GOV.UK pattern: a summary linking to each field, the field marked.
    await page.getByLabel('NHS number (baby or mother)').fill('123');
    await page.getByRole('group', { name: 'Date from' }).getByLabel('Day').fill('31');
    await page.getByRole('group', { name: 'Date from' }).getByLabel('Month').fill('2');
    await page.getByRole('group', { name: 'Date from' }).getByLabel('Year').fill('2026');
    await page.getByRole('button', { name: 'Search' }).click();
    const summary = page.locator('.govuk-error-summary');
    expect(await summary.textContent()).toContain('NHS number must be 10 digits');
    expect(await summary.textContent()).toContain('Date from must be a real date');
    expect(await page.title()).toMatch(/^Error: /);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-search-errors');
    await summary.getByRole('link', { name: /NHS number/ }).click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('nhsNumber');

    // By the mother's NHS number, Osmondthorpe and today: the notification is found, with one read.
    const today = new Date().toLocaleDateString('en-GB', { timeZone: 'Europe/London' }).split('/');
    await page.getByLabel('NHS number (baby or mother)').fill(baby.mother?.nhsNumber ?? '');
    await page.getByLabel('Centre').selectOption({ label: 'Osmondthorpe Family Hub' });
    const from = page.getByRole('group', { name: 'Date from' });
    await from.getByLabel('Day').fill(today[0] ?? '');
    await from.getByLabel('Month').fill(today[1] ?? '');
    await from.getByLabel('Year').fill(today[2] ?? '');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/centre=osmondthorpe/);
    expect(await page.locator('.govuk-error-summary').count()).toBe(0);
    const row = page.getByRole('row').filter({ hasText: 'Osmondthorpe Family Hub' });
    expect(await row.count()).toBe(1);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-search-results');

    await row.getByRole('link', { name: /View the trail/ }).click();
    await page.waitForURL(`${t.http}/app/audit/notifications/${notificationId}`);
    const trail = (await page.locator('main').textContent()) ?? '';
    expect(trail).toContain('Disclosed to Osmondthorpe Family Hub by Stork (processing)');
    expect(trail).toContain('offer-of-support');
    expect(trail).toContain(`offer-of-support@${t.hub.config.rulebook.version}#sha256:${t.hub.config.rulebook.hash}`);
    expect(trail).toContain('UK GDPR Art 6(1)(e)');
    expect(trail).toMatch(
      /Read by Olivia Demo \(children's centre worker, Osmondthorpe Family Hub\) on \d{1,2} \w+ \d{4} at \d\d:\d\d:\d\d\./,
    );
    expect(trail).toContain('Message received');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-trail');

    // The IG lead's search and the trail viewed are reads by Iris, by name, in the audit.
    const own = await t.hub.db.query<{ actor: string; notification_id: string | null; details: { name?: string; query?: string } }>(
      `SELECT actor, notification_id, details FROM audit_events WHERE action = 'read' AND details->>'name' = 'Iris Demo' ORDER BY seq`,
    );
    expect(own.rows.map((r) => r.details.query)).toEqual(['audit-search', 'audit-trail']);
    expect(own.rows[1]?.notification_id).toBe(notificationId);
    expect(own.rows[1]?.actor).toMatch(/^user:.+/);

    // Seen again, the trail shows the IG lead's own read of it, by name.
    await page.reload();
    expect(await page.locator('main').textContent()).toContain('Audit trail read by Iris Demo (information governance lead)');
    await context.close();
  });

  it('a centre worker or an operator typing the IG lead’s address gets 403; a trail that does not exist is 404', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, t.http, 'olivia');
    const asWorker = await page.goto(`${t.http}/app/audit?search=1&nhsNumber=9434765919`);
    expect(asWorker?.status()).toBe(403);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('You cannot open this page');
    expect(await page.getByRole('link', { name: 'Search the audit' }).count()).toBe(0);
    await context.close();

    const operator = await newContext(browser);
    const opPage = await operator.newPage();
    await signInAs(opPage, t.http, 'owen');
    expect((await opPage.goto(`${t.http}/app/audit/notifications/00000000-0000-4000-8000-000000000000`))?.status()).toBe(403);
    await operator.close();

    const ig = await newContext(browser);
    const igPage = await ig.newPage();
    await signInAs(igPage, t.http, 'iris');
    expect((await igPage.goto(`${t.http}/app/audit/notifications/00000000-0000-4000-8000-000000000000`))?.status()).toBe(404);
    expect((await igPage.goto(`${t.http}/app/audit/notifications/not-a-uuid`))?.status()).toBe(404);
    await ig.close();
  });

  it('filters by feed, rule and event type: the events themselves, paged, each linking to its trail; the search is audited', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, t.http, 'iris');
    await page.goto(`${t.http}/app/audit`);
    await page.getByLabel('Feed').selectOption({ label: 'Northgate Teaching Hospitals NHS Trust (fictional): maternity ADT' });
    await page.getByLabel('Rule').selectOption('offer-of-support');
    await page.getByLabel('Event type').selectOption({ label: 'Disclosed' });
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/eventType=delivered/);
    expect(await page.getByRole('heading', { name: 'Events found' }).count()).toBe(1);
    const rows = page.getByRole('row').filter({ hasText: 'Disclosed to Osmondthorpe Family Hub' });
    expect(await rows.count()).toBeGreaterThanOrEqual(1);
    expect(await rows.first().textContent()).toContain('offer-of-support');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-search-events');
    await rows
      .first()
      .getByRole('link', { name: /View the trail/ })
      .click();
    await page.waitForURL(/\/app\/audit\/notifications\//);
    expect(await page.locator('main').textContent()).toContain('Message received');

    // Another event type finds nothing of this feed's disclosures; the selected values stay in the form.
    await page.goto(`${t.http}/app/audit?search=1&feed=northvale-adt&eventType=delivered`);
    expect(await page.locator('main').textContent()).toContain('No event in the audit matches this search.');
    expect(await page.getByLabel('Event type').inputValue()).toBe('delivered');
    // A value not in a list (typed into the address) is a GOV.UK error linked to its field.
    const bad = await page.goto(`${t.http}/app/audit?search=1&feed=atlantis&eventType=eaten`);
    expect(bad?.status()).toBe(400);
    const summary = page.locator('.govuk-error-summary');
    expect(await summary.textContent()).toContain('Select a feed from the list');
    expect(await summary.textContent()).toContain('Select an event type from the list');
    expect(await seriousAxeViolations(page)).toEqual([]);

    const own = await t.hub.db.query<{ details: { query?: string; purpose?: string; filters?: Record<string, string> } }>(
      `SELECT details FROM audit_events WHERE action = 'read' AND details->>'query' = 'audit-events' AND details->>'name' = 'Iris Demo' ORDER BY seq`,
    );
    expect(own.rows[0]?.details).toMatchObject({
      purpose: 'compliance',
      filters: { feed: 'northgate-maternity', rule: 'offer-of-support', action: 'delivered' },
    });
    await context.close();
  });
});
