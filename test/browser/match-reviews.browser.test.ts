import type { Browser, Page } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations, waitForText } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { pseudo } from '../support/data-keys.js';

const LOCAL_OIDC = { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' };

/** A newborn ADT whose mother (NK1) has these fields and no NHS number or phone. */
function birthTo(
  family: string,
  given: string,
  dob: string,
  postcode: string,
  seed: number,
  controlId: string,
): { text: string; nhs: string } {
  const b = describeNewborn({ seed, controlId, sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: new Date() });
  const nk1 = ['NK1', '1', `${family}^${given}^^^MRS^^L`, 'MTH^Mother^HL70063', `1 Test Street^^WAKEFIELD^^${postcode}^GBR^H`];
  nk1[16] = dob;
  const segment = Array.from({ length: 17 }, (_, i) => nk1[i] ?? '').join('|');
  return {
    text: b.text
      .split('\r')
      .map((s) => (s.startsWith('NK1|') ? segment : s))
      .join('\r'),
    nhs: b.baby.nhsNumber,
  };
}

/**
 * The operators' review of possible family matches in a real browser: a register family is imported, a birth
 * scores in the review band against it, the operator sees the two side by side with each field's weight,
 * confirms it with the form (CSRF), and the decision is audited as that person.
 */
describe('Operators: possible family matches (Chromium)', () => {
  let browser: Browser;
  let t: TestHub;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestHub({ env: LOCAL_OIDC }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser.close();
    await t.stop();
  });

  const axeAndScreenshot = async (page: Page, name: string): Promise<void> => {
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, name);
  };

  it('an operator sees a held match field by field and confirms it; the decision is audited as them', async () => {
    const imported = await api(t.http, 'demo-admin-key', '/v1/families/import?centre=osmondthorpe', {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'familyRef,role,familyName,givenNames,birthDate,postcode\nB-1,lead,Pemberton,Jane,1990-03-12,LS9 7AB\n',
    });
    expect(await imported.json()).toMatchObject({ imported: 1, rejected: [] });
    const birth = birthTo('PEMBERTON', 'JANE', '19900312', 'WF1 2AB', 1301, 'REV-WEB-1');
    const client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    try {
      expect(await client.send(birth.text)).toMatch(/MSA\|CA\|REV-WEB-1/);
    } finally {
      await client.close();
    }
    const reviewId = await pollUntil(
      async () => (await t.hub.db.query<{ id: string }>(`SELECT id FROM match_reviews WHERE status = 'pending'`)).rows[0]?.id,
      'the review to be held',
    );

    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    await signInAs(page, t.http, 'owen');
    await page.getByRole('link', { name: 'Possible family matches' }).first().click();
    await waitForText(page.getByRole('heading', { level: 1 }), 'Possible family matches', { exact: true });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Possible family matches');
    await axeAndScreenshot(page, 'match-reviews');
    await page.locator(`a[href="/app/operations/reviews/${reviewId}"]`).click();
    await waitForText(page.getByRole('heading', { level: 1 }), 'Possible family match', { exact: true });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Possible family match');
    const row = (field: string) => page.getByRole('row').filter({ has: page.getByRole('cell', { name: field, exact: true }) });
    await expect(row('Family name').textContent()).resolves.toContain('Pemberton');
    await expect(row('Given names').textContent()).resolves.toMatch(/JANE\s+Jane/);
    await expect(row('Postcode').textContent()).resolves.toContain('Different');
    await axeAndScreenshot(page, 'match-review');

    // Saving without a choice says what is missing; then confirm.
    await page.getByRole('button', { name: 'Save decision' }).click();
    await waitForText(page.locator('.govuk-error-summary'), 'Choose whether this is the same family');
    expect(await page.locator('.govuk-error-summary').textContent()).toContain('Choose whether this is the same family');
    await axeAndScreenshot(page, 'match-review-error');
    await page.getByLabel('Yes, the same family: join them').check();
    await page.getByRole('button', { name: 'Save decision' }).click();
    await page.waitForURL(/\/app\/operations\/reviews\?decided=confirmed/);
    expect(await page.locator('.govuk-notification-banner').textContent()).toContain('The match was confirmed');
    expect(await page.getByText('No possible match is waiting for a decision.').count()).toBe(1);

    const audit = await t.hub.db.query<{ actor: string; details: { name?: string; decision?: string } }>(
      `SELECT actor, details FROM audit_events WHERE action = 'match-reviewed'`,
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]?.actor).toMatch(/^user:/);
    expect(audit.rows[0]?.details).toMatchObject({ decision: 'confirm' });
    expect(audit.rows[0]?.details.name).toBeTruthy();
    const read = await t.hub.db.query(
      `SELECT 1 FROM audit_events WHERE action = 'read' AND outcome = 'match-review' AND actor LIKE 'user:%'`,
    );
    expect(read.rowCount).toBeGreaterThan(0);
    const link = await t.hub.db.query<{ method: string }>(
      'SELECT l.method FROM family_links l JOIN notifications n ON n.id = l.notification_id WHERE n.baby_nhs_number = $1',
      [pseudo(birth.nhs)],
    );
    expect(link.rows[0]?.method).toBe('review-confirmed');

    // A centre worker cannot open the review pages.
    const other = await newContext(browser);
    const worker = await other.newPage();
    await signInAs(worker, t.http, 'olivia');
    const denied = await worker.goto(`${t.http}/app/operations/reviews/${reviewId}`);
    expect(denied?.status()).toBe(403);
    await ctx.close();
    await other.close();
  });
});
