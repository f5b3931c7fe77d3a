import type { Browser } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { bookingMessage, lossMessage, nhsNumberFrom, type ExpectingMotherFixture } from '../support/synthetic/antenatal-booking.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { pseudo } from '../support/data-keys.js';

/** An NK1 mother segment as the ITK ADT mapping reads it, for the baby's birth message. */
function nk1(m: ExpectingMotherFixture): string {
  const f: string[] = ['NK1', '1', `${m.family}^${m.given}^^^MRS^^L`, 'MTH^Mother^HL70063', `2 Booking Road^^LEEDS^^${m.postcode}^GBR^H`];
  f[16] = m.dob;
  f[33] = `${m.nhs}^^^NHS^NH`;
  return Array.from({ length: f.length }, (_, i) => f[i] ?? '').join('|');
}

/**
 * The centre's expecting families (issue 17) in a real browser: a booking with the mother's consent appears on her
 * centre's "Expecting" page, apart from the new births of the worklist; another centre's worker does not see it; a
 * booking without consent appears nowhere; a pregnancy loss withdraws it (a banner, the details gone). Checked with axe.
 */
describe('Expecting families (Chromium, local OpenID provider)', () => {
  let t: TestHub;
  let browser: Browser;
  let mllp: MllpClient;
  const consenting: ExpectingMotherFixture = {
    nhs: nhsNumberFrom(999_200_011),
    family: 'ABERNETHY',
    given: 'CLEMENTINE',
    dob: '19920704',
    postcode: 'LS9 7AB',
    language: 'PL',
  };
  const notConsenting: ExpectingMotherFixture = { ...consenting, nhs: nhsNumberFrom(999_200_099), family: 'BRACKENBURY', given: 'ODETTE' };

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestHub({ env: { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' } }), launchBrowser()]);
    mllp = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await mllp.close();
    await browser.close();
    await t.stop();
  });

  const accepted = async (text: string): Promise<void> => {
    expect((await mllp.send(text)).split('\r')[1]?.split('|')[1]).toBe('CA');
  };

  it('shows a consented booking to its centre only, never one without consent, and withdraws it on a loss', async () => {
    await accepted(bookingMessage(notConsenting, { controlId: 'WEB-ANC-NO', dueDate: '20270301', pregnancyId: 'W0' }));
    await accepted(bookingMessage(consenting, { controlId: 'WEB-ANC-YES', dueDate: '20270315', pregnancyId: 'W1', consent: 'A' }));
    const olivia = await (await newContext(browser)).newPage();
    await signInAs(olivia, t.http, 'olivia');
    await pollUntil(async () => {
      await olivia.goto(`${t.http}/app/expecting`);
      return (await olivia.locator('table.stork-expecting').count()) > 0 ? true : undefined;
    }, 'the expecting family listed');
    expect(await olivia.getByRole('heading', { level: 1 }).textContent()).toBe('Expecting families');
    const table = (await olivia.locator('table.stork-expecting').textContent()) ?? '';
    expect(table).toContain('CLEMENTINE ABERNETHY');
    expect(table).toContain('15 March 2027');
    expect(table).toContain('LS9 7AB');
    expect(table).toContain('Language: PL');
    // The one without consent was processed (withheld) and is not on the page.
    await pollUntil(async () => {
      const r = await t.hub.db.query<{ status: string }>('SELECT status FROM antenatal_notifications WHERE mother_nhs_number = $1', [
        pseudo(notConsenting.nhs),
      ]);
      return r.rows[0]?.status === 'withheld' ? true : undefined;
    }, 'the booking without consent withheld');
    await olivia.goto(`${t.http}/app/expecting`);
    expect(await olivia.locator('main').textContent()).not.toContain('BRACKENBURY');
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'expecting-families');

    // Apart from the new births: the worklist does not list her, and the nav leads to each.
    await olivia.getByRole('link', { name: 'New families' }).first().click();
    await olivia.waitForURL(`${t.http}/app/families`);
    expect(await olivia.locator('main').textContent()).not.toContain('ABERNETHY');

    // Harehills' worker does not see Osmondthorpe's expecting family.
    const harry = await (await newContext(browser)).newPage();
    await signInAs(harry, t.http, 'harry');
    await harry.goto(`${t.http}/app/expecting`);
    expect(await harry.locator('main').textContent()).not.toContain('ABERNETHY');
    expect(await seriousAxeViolations(harry)).toEqual([]);

    // A pregnancy loss withdraws it at once: a banner, her details gone.
    await accepted(lossMessage(consenting, { controlId: 'WEB-ANC-LOSS', pregnancyId: 'W1' }));
    await pollUntil(async () => {
      await olivia.goto(`${t.http}/app/expecting`);
      return (await olivia.locator('.govuk-notification-banner').count()) > 0 ? true : undefined;
    }, 'the withdrawn banner');
    const main = (await olivia.locator('main').textContent()) ?? '';
    expect(main).toContain('1 notification was withdrawn');
    expect(main).not.toContain('ABERNETHY');
    expect(await olivia.locator('table.stork-expecting').count()).toBe(0);
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'expecting-families-withdrawn');

    // Each item shown was audited as read by Olivia, from her token.
    const reads = await t.hub.db.query<{ actor: string; name: string | null }>(
      `SELECT e.actor, e.details->>'name' AS name FROM audit_events e JOIN antenatal_notifications a ON a.id = e.notification_id
        WHERE e.action = 'read' AND a.mother_nhs_number = $1`,
      [pseudo(consenting.nhs)],
    );
    expect(reads.rows.length).toBeGreaterThanOrEqual(1);
    expect(new Set(reads.rows.map((r) => `${r.actor} ${r.name ?? ''}`))).toEqual(new Set(['user:olivia Olivia Demo']));
  });

  it('closes an expecting item when the baby is born: off the active list, under "Born"', async () => {
    const mother: ExpectingMotherFixture = { ...consenting, nhs: nhsNumberFrom(999_200_177), family: 'CARRADINE', given: 'HONORIA' };
    await accepted(bookingMessage(mother, { controlId: 'WEB-ANC-BORN', dueDate: '20270110', pregnancyId: 'W2', consent: 'A' }));
    const olivia = await (await newContext(browser)).newPage();
    await signInAs(olivia, t.http, 'olivia');
    await pollUntil(async () => {
      await olivia.goto(`${t.http}/app/expecting`);
      return ((await olivia.locator('table.stork-expecting').textContent()) ?? '').includes('CARRADINE') ? true : undefined;
    }, 'the expecting family listed');
    expect(await olivia.locator('table.stork-expecting-born').count()).toBe(0);
    const birth = describeNewborn({
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
      seed: 1777,
      controlId: 'WEB-ANC-BIRTH',
    });
    await accepted(
      birth.text
        .split('\r')
        .map((x) => (x.startsWith('NK1|') ? nk1(mother) : x))
        .join('\r'),
    );
    await pollUntil(async () => {
      await olivia.goto(`${t.http}/app/expecting`);
      return (await olivia.locator('table.stork-expecting-born').count()) > 0 ? true : undefined;
    }, 'the expecting item closed as born');
    const born = (await olivia.locator('table.stork-expecting-born').textContent()) ?? '';
    expect(born).toContain('HONORIA CARRADINE');
    expect(born).toContain('Born');
    expect(await olivia.locator('table.stork-expecting').count()).toBe(0);
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'expecting-families-born');
  });
});
