import type { Browser } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations, waitForText } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { pseudo } from '../support/data-keys.js';

/**
 * The IG lead's agreement pages in a real browser (issue 13 items 4 and 5): from a notification's audit trail,
 * "Why was this shared?" explains the decision in words; the what-if page runs a proposed agreement over the stored
 * history and shows what would change, per rule and per centre. Both pass axe and are audited as reads.
 */
describe('IG lead: why was this shared, and what if the agreement changed (Chromium)', () => {
  let t: TestHub;
  let browser: Browser;
  const babies = [
    describeNewborn({
      seed: 1401,
      controlId: 'WHY-1',
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
      postcodes: ['LS9 7AB'],
    }),
    describeNewborn({
      seed: 1402,
      controlId: 'WHY-2',
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
      postcodes: ['LS10 3AA'],
    }),
    describeNewborn({
      seed: 1403,
      controlId: 'WHY-3',
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
      postcodes: ['LS10 4AB'],
    }),
  ];
  const ids: string[] = [];

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestHub({ env: { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' } }), launchBrowser()]);
    const client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    try {
      for (const b of babies) expect(await client.send(b.text)).toMatch(/MSA\|[AC]A\|/);
    } finally {
      await client.close();
    }
    for (const b of babies) {
      ids.push(
        await pollUntil(async () => {
          const r = await t.hub.db.query<{ id: string }>(
            `SELECT id FROM notifications WHERE baby_nhs_number = $1 AND status = 'delivered'`,
            [pseudo(b.baby.nhsNumber)],
          );
          return r.rows[0]?.id;
        }, 'the newborn delivered'),
      );
    }
  });
  afterAll(async () => {
    await browser.close();
    await t.stop();
  });

  it('“Why was this shared?” from the audit trail explains the decision in words, and the read is audited', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, t.http, 'iris');
    const [north] = ids;
    await page.goto(`${t.http}/app/audit/notifications/${north ?? ''}`);
    await page.getByRole('link', { name: 'Why was this shared?' }).click();
    await page.waitForURL(`${t.http}/app/audit/notifications/${north ?? ''}/decision`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Why was this shared?');
    const main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain('This notification was shared with the children’s centre that covers the family.');
    expect(main).toContain('offer-of-support');
    expect(main).toContain(t.hub.config.rulebook.hash);
    expect(main).toContain('UK GDPR Art 6(1)(e)');
    expect(main).toContain('the record is not marked restricted (its confidentiality is normal)');
    expect(main).toContain('No consent or objection was recorded for this family when the decision was made.');
    const leftOut = (await page.getByRole('list', { name: 'Fields left out' }).textContent()) ?? '';
    expect(leftOut).toContain("the mother's NHS number");
    expect(leftOut).toContain('clinical birth details (birth weight, gestation)');
    for (const v of [babies[0]?.baby.nhsNumber ?? 'x', 'LS9 7AB']) expect(main).not.toContain(v);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-why-shared');
    const reads = await t.hub.db.query<{ details: { name: string; query: string } }>(
      `SELECT details FROM audit_events WHERE action = 'read' AND notification_id = $1 AND details->>'query' = 'decision-explanation'`,
      [north],
    );
    expect(reads.rows.map((r) => r.details.name)).toEqual(['Iris Demo']);
    await context.close();
  });

  it('the what-if page runs a proposed agreement over the history: Southmoor moving to the Northgate agreement', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, t.http, 'iris');
    await page.getByRole('link', { name: 'What if the agreement changed?' }).first().click();
    await waitForText(page.getByRole('heading', { level: 1 }), 'What if the agreement changed?', { exact: true });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('What if the agreement changed?');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // A proposal that is not JSON: the GOV.UK error pattern, naming the field.
    await page.getByLabel('Proposed agreement (JSON)').fill('{ not json');
    await page.getByRole('button', { name: 'Run the proposed agreement' }).click();
    await waitForText(page.locator('.govuk-error-summary'), 'The proposed agreement is not valid JSON');
    expect(await page.locator('.govuk-error-summary').textContent()).toContain('The proposed agreement is not valid JSON');
    expect(await page.title()).toMatch(/^Error: /);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-what-if-error');

    // An unsafe proposal (permit before the deceased rule) is refused by the same safety checks as at start-up.
    const northgate = t.hub.config.rulebook;
    const { hash: _h, ...content } = northgate;
    const last = content.rules[content.rules.length - 1];
    await page.getByLabel('Proposed agreement (JSON)').fill(JSON.stringify({ ...content, rules: [last, ...content.rules] }));
    await page.getByRole('button', { name: 'Run the proposed agreement' }).click();
    await waitForText(page.locator('.govuk-error-summary'), 'duplicate rule id');
    expect(await page.locator('.govuk-error-summary').textContent()).toContain('duplicate rule id');

    // The Northgate agreement in force, for every birth in Southmoor: both Southmoor births would change (phone added).
    await page.goto(`${t.http}/app/agreements/what-if?start=offer-of-support`);
    await page.getByLabel('Which notifications').selectOption({ label: 'Every birth in Southmoor Borough Council (sample)' });
    await page.getByRole('button', { name: 'Run the proposed agreement' }).click();
    await waitForText(page.locator('#changed-count'), '2 of 2 decisions would change.', { exact: true });
    expect(await page.locator('#changed-count').textContent()).toBe('2 of 2 decisions would change.');
    const perRule = page.getByRole('table', { name: 'Per rule' });
    expect(await perRule.getByRole('row').filter({ hasText: 'offer-of-support-by-letter' }).textContent()).toMatch(
      /offer-of-support-by-letter\s*2\s*0\s*2\s*0/,
    );
    const perCentre = page.getByRole('table', { name: 'Per centre' });
    expect(await perCentre.getByRole('row').filter({ hasText: 'Belle Isle Family Hub' }).textContent()).toMatch(
      /Belle Isle Family Hub\s*2\s*2/,
    );
    await page.locator('summary', { hasText: 'Which notifications' }).first().click();
    for (const id of ids.slice(1)) expect(await page.getByRole('link', { name: id }).count()).toBe(1);
    const main = (await page.locator('main').textContent()) ?? '';
    for (const b of babies) expect(main).not.toContain(b.baby.nhsNumber);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-what-if-result');
    const runs = await t.hub.db.query<{ details: { name: string; changed: number; area: string } }>(
      `SELECT details FROM audit_events WHERE action = 'read' AND details->>'query' = 'what-if'`,
    );
    expect(runs.rows.map((r) => [r.details.name, r.details.area, r.details.changed])).toEqual([['Iris Demo', 'southmoor', 2]]);
    await context.close();
  });

  it('the agreements pages list every agreement in force (births, antenatal, triggers), each in full', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, t.http, 'iris');
    await page.getByRole('link', { name: 'Agreements', exact: true }).first().click();
    await waitForText(page.getByRole('heading', { level: 1 }), 'Agreements in force', { exact: true });
    const { config } = t.hub;
    const antenatal = config.antenatal;
    const trigger = config.triggers.agreements.get('northgate-early-help-triggers');
    for (const [name, heading] of [
      ['offer-of-support', 'Births'],
      ['southmoor-early-help', 'Births'],
      ['antenatal-with-consent', 'Antenatal bookings'],
      ['northgate-early-help-triggers', 'Triggers'],
    ] as const) {
      expect(await page.getByRole('link', { name, exact: true }).count()).toBe(1);
      expect(await page.getByRole('heading', { name: heading, level: 2 }).count()).toBe(1);
    }
    const births = (await page.getByRole('table', { name: 'Births agreements in force' }).textContent()) ?? '';
    expect(births).toContain('Southmoor Borough Council (sample)');
    expect(births).toContain('the default: births no listed local authority covers');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-agreements');

    // The antenatal agreement: its hash, lawful basis, dataset and recipient.
    await page.getByRole('link', { name: 'antenatal-with-consent', exact: true }).click();
    await page.waitForURL(`${t.http}/app/agreements/antenatal/antenatal-with-consent`);
    await waitForText(page.getByRole('heading', { level: 1 }), `antenatal-with-consent version ${antenatal?.version ?? ''}`);
    let main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain(antenatal?.hash ?? 'no antenatal agreement');
    expect(main).toContain('UK GDPR Art 6(1)(e) and Art 9(2)(h)');
    expect(main).toContain('antenatal: mother.nhsNumber, mother.name');
    expect(main).toContain("the children's centre that covers the mother's home");
    expect(main).toContain('antenatal-consent-recorded');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ig-agreement-antenatal');

    // The trigger agreement: the value set's size, recipient and lawful basis.
    await page.getByRole('link', { name: 'Agreements in force' }).click();
    await waitForText(page.getByRole('heading', { level: 1 }), 'Agreements in force', { exact: true });
    await page.getByRole('link', { name: 'northgate-early-help-triggers', exact: true }).click();
    await page.waitForURL(`${t.http}/app/agreements/trigger/northgate-early-help-triggers`);
    await waitForText(page.getByRole('heading', { level: 1 }), 'northgate-early-help-triggers version');
    main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain(trigger?.hash ?? 'no trigger agreement');
    expect(main).toContain(`Alcohol-related A&E reasons (small sample) (${trigger?.triggers[0]?.valueSet.codes.length ?? 0} codes)`);
    expect(main).toContain('Northgate Early Help Front Door (sample)');
    expect(main).toContain('Children Act 2004 s11');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // A birth agreement: its rules with their datasets; an unknown agreement is not found.
    await page.goto(`${t.http}/app/agreements/birth/southmoor-early-help`);
    await waitForText(page.getByRole('heading', { level: 1 }), 'southmoor-early-help version');
    main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain('offer-of-support-by-letter');
    expect(main).toContain('Southmoor Borough Council (sample)');
    expect((await page.goto(`${t.http}/app/agreements/trigger/offer-of-support`))?.status()).toBe(404);
    await context.close();
  });

  it('a centre worker cannot open the what-if page or an explanation', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signInAs(page, t.http, 'olivia');
    expect((await page.goto(`${t.http}/app/agreements/what-if`))?.status()).toBe(403);
    expect((await page.goto(`${t.http}/app/agreements`))?.status()).toBe(403);
    expect((await page.goto(`${t.http}/app/agreements/antenatal/antenatal-with-consent`))?.status()).toBe(403);
    expect((await page.goto(`${t.http}/app/audit/notifications/${ids[0] ?? ''}/decision`))?.status()).toBe(403);
    await context.close();
  });
});
