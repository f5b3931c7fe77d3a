import type { Browser, Page } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { describeNewborn, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations, waitForText } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;

/**
 * The centre worklist in a real browser: a family sent over MLLP seconds before appears in its centre's worklist,
 * the worker opens it and takes it on; another centre's worker cannot see it, not even by typing its URL; a
 * death reported afterwards withdraws a family at once, its details gone. Every page read is audited as a read
 * by that person (their subject and name from the token).
 */
describe('Centre worklist (Chromium, local OpenID provider)', () => {
  let t: TestHub;
  let browser: Browser;
  let mllp: MllpClient;
  const newborn = (o: NewbornAdtOptions) => describeNewborn({ ...RX1, messageTime: new Date(), ...o });

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestHub({ env: { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' } }), launchBrowser()]);
    mllp = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await mllp.close();
    await browser.close();
    await t.stop();
  });

  /** Reloads the worklist until a row names the baby (the notification travels through the queues meanwhile). */
  const waitForRow = (page: Page, babyName: string) =>
    pollUntil(async () => {
      await page.goto(`${t.http}/app/families?status=all`);
      const link = page.getByRole('link', { name: babyName });
      return (await link.count()) > 0 ? link.getAttribute('href') : undefined;
    }, `${babyName} in the worklist`);

  const nameOf = (b: ReturnType<typeof newborn>): string => `${b.baby.given} ${b.baby.family}`;
  const taken = newborn({ seed: 1101, controlId: 'WEB-1', postcodes: ['LS9 7AB'] });
  /** The second family's seed: the first from 1202 whose baby has another name than the first family's. */
  let withdrawnSeed = 1202;
  while (nameOf(newborn({ seed: withdrawnSeed })) === nameOf(taken)) withdrawnSeed++;

  it('a centre worker sees a family sent seconds before, opens it and takes it on; another centre cannot see it', async () => {
    const baby = taken;
    const babyName = nameOf(baby);
    const olivia = await (await newContext(browser)).newPage();
    await signInAs(olivia, t.http, 'olivia');
    expect((await mllp.send(baby.text)).split('\r')[1]?.split('|')[1]).toBe('CA');

    const href = await waitForRow(olivia, babyName);
    const id = /^\/app\/families\/([0-9a-f-]{36})$/.exec(href ?? '')?.[1];
    expect(id).toBeDefined();
    await olivia.goto(`${t.http}/app/families`);
    expect(await olivia.getByRole('heading', { level: 1 }).textContent()).toBe('New families');
    expect(await olivia.locator('table').textContent()).toContain(babyName);
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'centre-worklist');

    await olivia.getByRole('link', { name: babyName }).click();
    await olivia.waitForURL(`${t.http}/app/families/${id ?? ''}`);
    const main = (await olivia.locator('main').textContent()) ?? '';
    expect(main).toContain(babyName);
    expect(main).toContain('LS9 7AB');
    expect(main).toContain(`${baby.mother?.given ?? ''} ${baby.mother?.family ?? ''}`);
    expect(main).toContain('Preferred language');
    expect(main).toContain('GP practice');
    // Only the dataset the rules allow: no birth weight, nothing clinical.
    expect(main).not.toContain(String(baby.weightGrams));
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'centre-family');

    await olivia.getByRole('button', { name: 'Take on this family' }).click();
    await olivia.waitForURL(`${t.http}/app/families/${id ?? ''}?taken=1`);
    expect(await olivia.locator('.govuk-notification-banner--success').textContent()).toContain('You have taken this family on');
    expect(await olivia.locator('main .govuk-tag').first().textContent()).toBe('Taken on');
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'centre-family-taken-on');

    // Harehills' worker: not in the worklist, and the typed URL is the same 404 as an id that does not exist.
    const harryContext = await newContext(browser);
    const harry = await harryContext.newPage();
    await signInAs(harry, t.http, 'harry');
    await harry.goto(`${t.http}/app/families?status=all`);
    expect(await harry.locator('main').textContent()).not.toContain(babyName);
    const typed = await harry.goto(`${t.http}/app/families/${id ?? ''}`);
    expect(typed?.status()).toBe(404);
    expect(await harry.locator('main').textContent()).not.toContain(babyName);
    // Nor can he take it on by posting the form with his own valid token.
    const csrf = await harry.locator('input[name="_csrf"]').first().getAttribute('value');
    const post = await harry.request.post(`${t.http}/app/families/${id ?? ''}/take-on`, { form: { _csrf: csrf ?? '' } });
    expect(post.status()).toBe(404);
    // An IG lead is not a centre worker: 403.
    const iris = await (await newContext(browser)).newPage();
    await signInAs(iris, t.http, 'iris');
    expect((await iris.goto(`${t.http}/app/families/${id ?? ''}`))?.status()).toBe(403);
    expect(await seriousAxeViolations(iris)).toEqual([]);
    await screenshot(iris, 'forbidden');

    // The audit names the person who read and took it on, from their token: never a shared key, never Harry.
    const events = await t.hub.db.query<{ actor: string; action: string; name: string | null }>(
      `SELECT actor, action, details->>'name' AS name FROM audit_events WHERE notification_id = $1 AND action IN ('read', 'acknowledged') ORDER BY seq`,
      [id],
    );
    expect(events.rows.length).toBeGreaterThanOrEqual(3);
    expect(new Set(events.rows.map((r) => `${r.actor} ${r.name ?? ''}`))).toEqual(new Set(['user:olivia Olivia Demo']));
    expect(events.rows.filter((r) => r.action === 'acknowledged')).toHaveLength(1);
  });

  it('a death reported after delivery withdraws the family at once: a banner on the worklist, the details gone', async () => {
    const baby = newborn({ seed: withdrawnSeed, controlId: 'WEB-LIVE', postcodes: ['LS9 7AB'] });
    const babyName = nameOf(baby);
    const olivia = await (await newContext(browser)).newPage();
    await signInAs(olivia, t.http, 'olivia');
    await mllp.send(baby.text);
    const href = await waitForRow(olivia, babyName);

    const death = newborn({ seed: withdrawnSeed, controlId: 'WEB-DEATH', event: 'A08', deceased: true, postcodes: ['LS9 7AB'] });
    expect((await mllp.send(death.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    await pollUntil(async () => {
      await olivia.goto(`${t.http}/app/families`);
      return (await olivia.locator('.govuk-notification-banner').count()) > 0 ? true : undefined;
    }, 'the withdrawn banner');
    const banner = (await olivia.locator('.govuk-notification-banner').textContent()) ?? '';
    expect(banner).toContain('1 notification was withdrawn');
    expect(banner).not.toContain(babyName);
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'centre-worklist-withdrawn');

    await olivia.goto(`${t.http}${href ?? ''}`);
    const main = (await olivia.locator('main').textContent()) ?? '';
    expect(main).toContain('This notification was withdrawn');
    expect(main).not.toContain(baby.baby.given);
    expect(main).not.toContain('LS9 7AB');
    expect(await olivia.getByRole('button', { name: 'Take on this family' }).count()).toBe(0);
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'centre-family-withdrawn');
  });

  it("filters by the baby's age, newest delivered first; a value typed into the URL that is not in the list gets the error summary", async () => {
    const olivia = await (await newContext(browser)).newPage();
    await signInAs(olivia, t.http, 'olivia');
    let seed = 1303;
    while ([nameOf(taken), nameOf(newborn({ seed: withdrawnSeed }))].includes(nameOf(newborn({ seed })))) seed++;
    const older = newborn({ seed, controlId: 'WEB-20-DAYS', postcodes: ['LS9 7AB'], ageMinutes: 20 * 24 * 60 });
    await mllp.send(older.text);
    await waitForRow(olivia, nameOf(older));
    // Delivered last, so first in the list.
    expect(await olivia.locator('tbody tr').first().textContent()).toContain(nameOf(older));
    await olivia.goto(`${t.http}/app/families?status=all&age=14`);
    expect(await olivia.locator('main').textContent()).not.toContain(nameOf(older));
    expect(await olivia.locator('main').textContent()).toContain(nameOf(taken));
    await olivia.goto(`${t.http}/app/families?status=all&age=28`);
    expect(await olivia.locator('main').textContent()).toContain(nameOf(older));

    const r = await olivia.goto(`${t.http}/app/families?status=everything&age=3`);
    expect(r?.status()).toBe(400);
    expect(await olivia.title()).toMatch(/^Error: /);
    const summary = olivia.locator('.govuk-error-summary');
    expect(await summary.textContent()).toContain('Select a status from the list');
    expect(await summary.getByRole('link', { name: "Select the baby's age from the list" }).getAttribute('href')).toBe('#age');
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'centre-worklist-error');
  });

  it('an IG lead finds the reads of that notification by the first worker, by name, and its trail from receipt to read with the rule and lawful basis', async () => {
    const iris = await (await newContext(browser)).newPage();
    await signInAs(iris, t.http, 'iris');
    await iris.goto(`${t.http}/app/audit`);
    expect(await seriousAxeViolations(iris)).toEqual([]);
    await iris.getByLabel('NHS number (baby or mother)').fill('123');
    await iris.getByRole('button', { name: 'Search' }).click();
    await waitForText(iris.locator('.govuk-error-summary'), 'NHS number must be 10 digits');
    expect(await iris.locator('.govuk-error-summary').textContent()).toContain('NHS number must be 10 digits');
    expect(await seriousAxeViolations(iris)).toEqual([]);
    await screenshot(iris, 'ig-audit-error');

    await iris.getByLabel('NHS number (baby or mother)').fill(taken.baby.nhsNumber);
    await iris.getByRole('button', { name: 'Search' }).click();
    // The search is a GET form: wait for its results page before counting rows (count() does not wait).
    await iris.waitForURL(new RegExp(`nhsNumber=${taken.baby.nhsNumber}`));
    const row = iris.getByRole('row').filter({ hasText: 'Osmondthorpe Family Hub' });
    expect(await row.count()).toBe(1);
    expect(await seriousAxeViolations(iris)).toEqual([]);
    await screenshot(iris, 'ig-audit-search');

    // The trail names the worker who read and took on the family through the worklist, by name; never the other centre's.
    await row.getByRole('link', { name: /View the trail/ }).click();
    const main = (await iris.locator('main').textContent()) ?? '';
    expect(main).toContain('Message received');
    expect(main).toContain('Disclosed to Osmondthorpe Family Hub');
    expect(main).toMatch(/Read by Olivia Demo \(children's centre worker, Osmondthorpe Family Hub\) on /);
    expect(main).toMatch(/Taken on by Olivia Demo \(children's centre worker, Osmondthorpe Family Hub\) on /);
    expect(main).not.toContain('Harry Demo');
    expect(main).toContain('offer-of-support@');
    expect(main).toContain('UK GDPR Art 6(1)(e)');
    expect(await seriousAxeViolations(iris)).toEqual([]);
    await screenshot(iris, 'ig-notification-trail');

    // The IG lead's own searches are audited as reads by her.
    const own = await t.hub.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE actor = 'user:iris' AND action = 'read'`,
    );
    expect(own.rows[0]?.n).toBeGreaterThanOrEqual(2);
    // A centre worker may not open the audit.
    const olivia = await (await newContext(browser)).newPage();
    await signInAs(olivia, t.http, 'olivia');
    expect((await olivia.goto(`${t.http}/app/audit`))?.status()).toBe(403);
  });

  it('on a tablet (768 × 1024, touch) the worklist and a family page fit the screen without sideways scrolling, and the worklist works by keyboard', async () => {
    const context = await newContext(browser, { viewport: { width: 768, height: 1024 }, isMobile: true, hasTouch: true });
    const olivia = await context.newPage();
    await signInAs(olivia, t.http, 'olivia');
    const babyName = nameOf(taken);
    await waitForRow(olivia, babyName);
    const fits = () => olivia.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    expect(await fits()).toBe(true);
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'tablet-centre-worklist');

    // Keyboard only: tab to the family's link and press Enter.
    const link = olivia.getByRole('link', { name: babyName });
    let focused = false;
    for (let i = 0; i < 40 && !focused; i++) {
      await olivia.keyboard.press('Tab');
      focused = await link.evaluate((el) => el === document.activeElement);
    }
    expect(focused).toBe(true);
    await olivia.keyboard.press('Enter');
    await olivia.waitForURL(/\/app\/families\/[0-9a-f-]{36}$/);
    expect(await olivia.locator('main').textContent()).toContain(babyName);
    expect(await fits()).toBe(true);
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'tablet-centre-family');
    await context.close();
  });
});
