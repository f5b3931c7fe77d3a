import type { Browser, Page } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations, waitForText } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY', observations: false } as const;

interface AuditItem {
  action: string;
  actor: string;
  recipient?: string;
  outcome?: string;
  details?: Record<string, unknown>;
}

/**
 * The consent register's pages in a real browser (issue 13): Olivia (Osmondthorpe) records a parent's consent and
 * then objection by phone on the family's page; the objection withdraws the notification from her inbox at once,
 * as the API does; she withdraws the objection after a confirmation step. Harry (Harehills) cannot open the family
 * or its consent pages. Iris (IG lead) looks up the history by NHS number (a POST form), sees both records and
 * the withdrawal, is told when a number's check digit is wrong, and withdraws a record herself. axe on every state.
 */
describe('Consent register pages (Chromium, local OpenID provider)', () => {
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

  const auditOf = async (nhs: string): Promise<AuditItem[]> => {
    const res = await api(t.http, 'demo-ig-key', `/v1/audit?subject=${nhs}&limit=500`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: AuditItem[] }).items;
  };
  const axeClean = async (page: Page, name: string): Promise<void> => {
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, name);
  };
  const mainText = async (page: Page): Promise<string> => (await page.locator('main').textContent()) ?? '';

  // Shared by the steps below, in order: the family Olivia's centre was sent, and the two workers' pages.
  let motherNhs = '';
  let babyNhs = '';
  let babyName = '';
  let familyUrl = '';
  let consentsUrl = '';
  let olivia: Page;
  let harry: Page;

  it('a worker records a parent’s consent by phone on the family’s page, after the form names what is missing', async () => {
    const born = describeNewborn({
      ...RX1,
      seed: 9313,
      postcodes: ['LS9 7AB'],
      messageTime: new Date(),
      ageMinutes: 60,
      controlId: 'CP-1',
    });
    expect((await mllp.send(born.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    babyName = `${born.baby.given} ${born.baby.family}`;
    babyNhs = born.baby.nhsNumber;
    motherNhs = born.mother?.nhsNumber ?? '';
    expect(motherNhs).toMatch(/^\d{10}$/);

    // Olivia opens the new baby, then the whole family.
    olivia = await (await newContext(browser)).newPage();
    await signInAs(olivia, t.http, 'olivia');
    const href = await pollUntil(async () => {
      await olivia.goto(`${t.http}/app/families?status=all`);
      const link = olivia.getByRole('link', { name: babyName });
      return (await link.count()) > 0 ? link.getAttribute('href') : undefined;
    }, 'the baby in the worklist');
    await pollUntil(async () => {
      await olivia.goto(`${t.http}${href ?? ''}`);
      return (await olivia.getByRole('link', { name: 'See the whole family' }).count()) > 0 ? true : undefined;
    }, 'the family link');
    await olivia.getByRole('link', { name: 'See the whole family' }).click();
    await olivia.waitForURL(/\/app\/households\/[0-9a-f-]{36}$/);
    familyUrl = olivia.url();
    consentsUrl = `${familyUrl}/consents`;
    expect(await mainText(olivia)).toContain('No consent or objection has been recorded for this family');
    await axeClean(olivia, 'household-consents-none');

    // Nothing chosen: the error summary and each field say what is missing; nothing is recorded.
    await olivia.getByRole('button', { name: 'Record what the parent said' }).click();
    await olivia.waitForURL(consentsUrl);
    const summary = (await olivia.locator('.govuk-error-summary').textContent()) ?? '';
    expect(summary).toContain('Select whether the parent gave consent or objected');
    expect(summary).toContain('Select what the consent or objection is about');
    expect(await olivia.title()).toMatch(/^Error: /);
    await axeClean(olivia, 'household-consents-errors');
    // A half-typed date is named too, and what was chosen is kept.
    await olivia.getByLabel('They agree').check();
    await olivia.getByLabel('Sharing clinical details').check();
    await olivia.locator('#from-day').fill('3');
    await olivia.getByRole('button', { name: 'Record what the parent said' }).click();
    await waitForText(olivia.locator('.govuk-error-summary'), 'Start date must include a month and year');
    expect(await olivia.locator('.govuk-error-summary').textContent()).toContain('Start date must include a month and year');
    expect(await olivia.getByLabel('They agree').isChecked()).toBe(true);
    await olivia.locator('#from-day').fill('');

    // A post without the form's CSRF token changes nothing.
    const forged = await olivia.request.post(consentsUrl, { form: { kind: 'objection', scope: 'offer-of-support' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);

    // A consent to clinical details: recorded; the family stays in the inbox.
    await olivia.getByRole('button', { name: 'Record what the parent said' }).click();
    await olivia.waitForURL(/\/consents\?recorded=consent&removed=0$/);
    expect(await olivia.locator('.govuk-notification-banner--success').textContent()).toContain('Consent recorded');
    expect(await mainText(olivia)).toMatch(
      /Consent to sharing clinical details \(birth weight and gestation\), recorded by phone on \d+ \w+ \d{4} by Olivia Demo\./,
    );
    expect((await olivia.goto(familyUrl))?.status()).toBe(200);
  });

  it('an objection by phone, from the family’s page, withdraws the notification at once', async () => {
    await olivia.goto(familyUrl);
    expect(await mainText(olivia)).toContain('Consent to sharing clinical details');
    await olivia.getByLabel('They object').check();
    await olivia.getByLabel('Being offered support by this centre').check();
    const year = new Date().getUTCFullYear() + 1;
    await olivia.locator('#to-day').fill('31');
    await olivia.locator('#to-month').fill('3');
    await olivia.locator('#to-year').fill(String(year));
    await olivia.getByLabel('Note (optional)').fill('Asked not to be contacted for now');
    await olivia.getByRole('button', { name: 'Record what the parent said' }).click();
    await olivia.waitForURL(/\/consents\?recorded=objection&removed=1$/);
    const banner = (await olivia.locator('.govuk-notification-banner--success').textContent()) ?? '';
    expect(banner).toContain('Objection recorded');
    expect(banner).toContain('withdrawn from your inbox');
    const afterObjection = await mainText(olivia);
    expect(afterObjection).toMatch(
      /Objection to being offered support by the children’s centre, recorded by phone on \d+ \w+ \d{4} by Olivia Demo\./,
    );
    expect(afterObjection).toContain(`Until 31 March ${year}`);
    expect(afterObjection).toContain('Asked not to be contacted for now');
    expect(afterObjection).toContain('no notification in effect in your inbox');
    expect(afterObjection).not.toContain(babyName);
    // Newest first.
    expect(afterObjection.indexOf('Objection to being offered')).toBeLessThan(afterObjection.indexOf('Consent to sharing'));
    await axeClean(olivia, 'household-consents-objection-recorded');

    // The notification is withdrawn from her inbox at once: the family page is gone, the worklist shows no name.
    expect((await olivia.goto(familyUrl))?.status()).toBe(404);
    await olivia.goto(`${t.http}/app/families?status=all`);
    expect(await olivia.getByRole('link', { name: babyName }).count()).toBe(0);
    const events = [...(await auditOf(motherNhs)), ...(await auditOf(babyNhs))];
    const recorded = events.find((e) => e.action === 'consent-recorded' && e.outcome === 'objection');
    expect(recorded?.actor).toMatch(/^user:/);
    expect(recorded?.details).toMatchObject({ name: 'Olivia Demo', source: 'parent-by-phone', recipient: 'centre:osmondthorpe' });
    expect(events.find((e) => e.action === 'withdrawn')).toMatchObject({ recipient: 'osmondthorpe', ruleId: 'parent-objected' });
  });

  it('another centre’s worker gets "not found" for the family, its consent page and a post to it', async () => {
    harry = await (await newContext(browser)).newPage();
    await signInAs(harry, t.http, 'harry');
    expect((await harry.goto(familyUrl))?.status()).toBe(404);
    expect((await harry.goto(consentsUrl))?.status()).toBe(404);
    expect(await harry.locator('main').textContent()).not.toContain('Objection');
    await axeClean(harry, 'household-consents-not-found');
    // Nor can he record on it with a valid token of his own session: "not found", nothing recorded.
    await harry.goto(`${t.http}/app/families`);
    const harryToken = await harry.locator('input[name="_csrf"]').first().inputValue();
    const probe = await harry.request.post(consentsUrl, {
      form: { _csrf: harryToken, kind: 'consent', scope: 'offer-of-support' },
      maxRedirects: 0,
    });
    expect(probe.status()).toBe(404);
  });

  it('the worker withdraws the objection she recorded, after a confirmation step', async () => {
    await olivia.goto(consentsUrl);
    await olivia.getByRole('link', { name: /Withdraw this record: Objection/ }).click();
    await olivia.waitForURL(/\/consents\/[0-9a-f-]{36}\/withdraw$/);
    expect(await olivia.locator('h1').textContent()).toContain('Are you sure you want to withdraw this record?');
    await axeClean(olivia, 'household-consents-withdraw-confirm');
    // Harry cannot reach the confirmation either.
    expect((await harry.goto(olivia.url()))?.status()).toBe(404);
    await olivia.getByRole('button', { name: 'Yes, withdraw this record' }).click();
    await olivia.waitForURL(`${consentsUrl}?withdrawn=1`);
    expect(await olivia.locator('.govuk-notification-banner--success').textContent()).toContain('Record withdrawn');
    expect(await mainText(olivia)).toMatch(/Withdrawn on \d+ \w+ \d{4} at \d\d:\d\d by Olivia Demo\./);
    expect(await olivia.getByRole('link', { name: /Withdraw this record: Objection/ }).count()).toBe(0);
    await axeClean(olivia, 'household-consents-withdrawn');
    expect((await auditOf(motherNhs)).some((e) => e.action === 'consent-withdrawn' && e.details?.name === 'Olivia Demo')).toBe(true);
  });

  it('the IG lead looks up the history by NHS number, is told of a wrong check digit, and withdraws a record', async () => {
    const iris = await (await newContext(browser)).newPage();
    await signInAs(iris, t.http, 'iris');
    await iris.getByRole('link', { name: 'Consent history' }).first().click();
    await iris.waitForURL(`${t.http}/app/consents`);
    await axeClean(iris, 'ig-consent-history');

    // A number whose check digit is wrong: the GOV.UK error summary and message; the URL holds no number.
    const wrong = `${motherNhs.slice(0, 9)}${(Number(motherNhs[9]) + 1) % 10}`;
    await iris.getByLabel('NHS number (mother or baby)').fill(wrong);
    await iris.getByRole('button', { name: 'Show consent history' }).click();
    await waitForText(iris.locator('.govuk-error-summary'), 'check digit is wrong');
    expect(await iris.locator('.govuk-error-summary').textContent()).toContain('check digit is wrong');
    expect(await iris.locator('#nhsNumber-error').textContent()).toContain('check digit is wrong');
    expect(iris.url()).toBe(`${t.http}/app/consents`);
    await axeClean(iris, 'ig-consent-history-error');

    await iris.getByLabel('NHS number (mother or baby)').fill(`${motherNhs.slice(0, 3)} ${motherNhs.slice(3, 6)} ${motherNhs.slice(6)}`);
    await iris.getByRole('button', { name: 'Show consent history' }).click();
    // The answer is on the same address (a POST): its content is waited for, then the address checked.
    await waitForText(iris.locator('main'), '2 records, newest first');
    expect(iris.url()).toBe(`${t.http}/app/consents`);
    const history = await mainText(iris);
    expect(history).toContain('2 records, newest first'); // neither the forged post nor Harry's recorded anything
    expect(history).toContain('Objection to being offered support');
    expect(history).toContain('Consent to sharing clinical details');
    expect(history).toMatch(/Withdrawn on \d+ \w+ \d{4} at \d\d:\d\d by Olivia Demo\./);
    expect(history).toContain('The parent, by phone');
    expect(history).toContain('Being offered support by the children’s centre');
    expect(history).toContain('Osmondthorpe');
    await axeClean(iris, 'ig-consent-history-results');
    const reads = (await auditOf(motherNhs)).filter((e) => e.action === 'read' && e.details?.query === 'consent-history');
    expect(reads).toHaveLength(1);
    expect(reads[0]?.actor).toMatch(/^user:/);
    expect(reads[0]?.details).toMatchObject({ name: 'Iris Demo', results: 2 });

    // Iris withdraws the consent, after confirming.
    await iris.getByRole('link', { name: /Open this record: Consent to sharing/ }).click();
    await iris.waitForURL(/\/app\/consents\/records\/[0-9a-f-]{36}$/);
    await axeClean(iris, 'ig-consent-record');
    await iris.getByRole('button', { name: 'Withdraw this record' }).click();
    await waitForText(iris.locator('h1'), 'Are you sure');
    expect(await iris.locator('h1').textContent()).toContain('Are you sure');
    await axeClean(iris, 'ig-consent-withdraw-confirm');
    await iris.getByRole('button', { name: 'Yes, withdraw this record' }).click();
    await iris.waitForURL(/\/app\/consents\/records\/[0-9a-f-]{36}\?withdrawn=1$/);
    expect(await iris.locator('.govuk-notification-banner--success').textContent()).toContain('Record withdrawn');
    expect(await mainText(iris)).toMatch(/Withdrawn on \d+ \w+ \d{4} at \d\d:\d\d by Iris Demo\./);
    await axeClean(iris, 'ig-consent-record-withdrawn');

    // A centre worker cannot open the IG lead's pages; nor the IG lead the centre's.
    expect((await olivia.goto(`${t.http}/app/consents`))?.status()).toBe(403);
    expect((await iris.goto(consentsUrl))?.status()).toBe(403);
    // No NHS number in the logs.
    expect(t.sink.text).not.toContain(motherNhs);
  });
});
