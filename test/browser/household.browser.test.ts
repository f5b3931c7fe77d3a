import type { Browser, Page } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations, waitForText } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY', observations: false } as const;

/**
 * The whole family in a real browser (issue 12 item 6): a mother's older baby went to Harehills, her new baby to
 * Osmondthorpe after she moved. Olivia (Osmondthorpe) opens the new baby, follows "See the whole family", sees the
 * older sibling, assigns herself as named worker, fixes a bad name; Harry (Harehills) sees neither the new baby nor
 * Olivia; a worker's typed URL of a family not theirs is "not found".
 */
describe('The whole family page (Chromium, local OpenID provider)', () => {
  let t: TestHub;
  let browser: Browser;
  let mllp: MllpClient;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestHub({ env: { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' } }), launchBrowser()]);
    mllp = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await mllp.close();
    await browser.close();
    await t.stop();
  });

  const waitForRow = (page: Page, babyName: string) =>
    pollUntil(async () => {
      await page.goto(`${t.http}/app/families?status=all`);
      const link = page.getByRole('link', { name: babyName });
      return (await link.count()) > 0 ? link.getAttribute('href') : undefined;
    }, `${babyName} in the worklist`);

  it('a worker sees the family, the older sibling, and names its worker; the old centre sees neither', async () => {
    const now = new Date();
    const older = describeNewborn({
      ...RX1,
      seed: 8401,
      postcodes: ['LS8 2PF'],
      messageTime: now,
      ageMinutes: 20 * 1440,
      controlId: 'HH-1',
    });
    const raw = describeNewborn({ ...RX1, seed: 8402, postcodes: ['LS9 7AB'], messageTime: now, ageMinutes: 90, controlId: 'HH-2' });
    const newer = { ...raw, text: raw.text.replaceAll(raw.mother?.nhsNumber ?? '-', older.mother?.nhsNumber ?? '') };
    for (const m of [older, newer]) expect((await mllp.send(m.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    const newName = `${newer.baby.given} ${newer.baby.family}`;
    const oldName = `${older.baby.given} ${older.baby.family}`;

    const olivia = await (await newContext(browser)).newPage();
    await signInAs(olivia, t.http, 'olivia');
    const href = await waitForRow(olivia, newName);
    // The family link appears once the birth is placed in its family (same transaction as the notification).
    await pollUntil(async () => {
      await olivia.goto(`${t.http}${href ?? ''}`);
      return (await olivia.getByRole('link', { name: 'See the whole family' }).count()) > 0 ? true : undefined;
    }, 'the family link');
    await olivia.getByRole('link', { name: 'See the whole family' }).click();
    await olivia.waitForURL(/\/app\/households\/[0-9a-f-]{36}$/);
    const familyUrl = olivia.url();
    const main = (await olivia.locator('main').textContent()) ?? '';
    expect(main).toContain(newName);
    expect(main).toContain(oldName); // the older sibling, born at the old address
    expect(main).toContain('LS9 7AB');
    expect(main).not.toContain('LS8 2PF'); // the old address is not this centre's to know
    expect(main).toContain('No named worker is assigned');
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'household');

    // A name that is too long: the error summary and the field say so, nothing is saved.
    await olivia.getByLabel('Named worker').fill('x'.repeat(101));
    await olivia.getByRole('button', { name: 'Assign named worker' }).click();
    await waitForText(olivia.locator('.govuk-error-summary'), '100 characters or fewer');
    expect(await olivia.locator('.govuk-error-summary').textContent()).toContain('100 characters or fewer');
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'household-named-worker-error');

    await olivia.getByLabel('Named worker').fill('Olivia Demo');
    await olivia.getByRole('button', { name: 'Assign named worker' }).click();
    await olivia.waitForURL(`${familyUrl}?assigned=1`);
    expect(await olivia.locator('.govuk-notification-banner--success').textContent()).toContain('Named worker assigned');
    expect(await olivia.locator('main').textContent()).toContain("Olivia Demo is this family's named worker");
    expect(await seriousAxeViolations(olivia)).toEqual([]);

    // Harry (Harehills) has the older baby: the same family, but only his centre's view of it.
    const harry = await (await newContext(browser)).newPage();
    await signInAs(harry, t.http, 'harry');
    await harry.goto(familyUrl);
    const his = (await harry.locator('main').textContent()) ?? '';
    expect(his).toContain(oldName);
    expect(his).toContain('LS8 2PF');
    expect(his).not.toContain(newName);
    expect(his).not.toContain('LS9 7AB');
    expect(his).not.toContain('Olivia Demo');
    expect(his).toContain('No named worker is assigned');

    // Olivia removes her assignment.
    await olivia.goto(familyUrl);
    await olivia.getByRole('button', { name: 'Remove named worker' }).click();
    await olivia.waitForURL(`${familyUrl}?cleared=1`);
    expect(await olivia.locator('main').textContent()).toContain('No named worker is assigned');
  });

  it('a family that is not the worker’s centre’s is "not found", whatever URL is typed', async () => {
    const page = await (await newContext(browser)).newPage();
    await signInAs(page, t.http, 'olivia');
    const res = await page.goto(`${t.http}/app/households/00000000-0000-4000-8000-000000000000`);
    expect(res?.status()).toBe(404);
    expect(await seriousAxeViolations(page)).toEqual([]);
    const bad = await page.goto(`${t.http}/app/households/..%2Fsecret`);
    expect(bad?.status()).toBe(404);
  });
});
