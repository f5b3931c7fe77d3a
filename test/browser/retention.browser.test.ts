import type { Browser } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { SqlRetentionStore } from '../../adapters/store/sql-retention-store.js';
import { createLogger } from '../../src/logger.js';
import { runRetention } from '../../src/processing/run-retention.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';
import { defined } from '../support/defined.js';
import { pseudo } from '../support/data-keys.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;
const DAY = 86_400_000;

/**
 * Pages of rows purged under retention (issue 14 item 6), in Chromium with axe: the centre's page of a family whose
 * notification content was purged says, neutrally, that its details are no longer held; the raw page of a purged
 * message says the same to an admin.
 */
describe('Retention: purged rows in the web app (Chromium, local OpenID provider)', () => {
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

  it('a taken-on family purged after 24 months reads "no longer held" to the centre worker; the raw message to an admin', async () => {
    const baby = describeNewborn({ ...RX1, messageTime: new Date(), seed: 9201, controlId: 'RET-WEB-1', postcodes: ['LS9 7AB'] });
    expect((await mllp.send(baby.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    const id = await pollUntil(async () => {
      const r = await t.hub.db.query<{ id: string }>(
        `SELECT n.id FROM inbox_items i JOIN notifications n ON n.id = i.notification_id WHERE n.baby_nhs_number = $1`,
        [pseudo(baby.baby.nhsNumber)],
      );
      return r.rows[0]?.id;
    }, 'the newborn delivered');
    const ack = await api(t.http, 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${id}/ack`, { method: 'POST' });
    expect(ack.status).toBe(200);
    const messageId = defined(
      (await t.hub.db.query<{ id: string }>(`SELECT id FROM messages WHERE control_id = 'RET-WEB-1'`)).rows[0]?.id,
      'message',
    );
    const retention = defined(t.hub.config.retention, 'retention');
    const at = new Date(Date.now() + 25 * 31 * DAY);
    const report = await runRetention({
      store: new SqlRetentionStore(t.hub.db),
      config: retention.config,
      configSha256: retention.sha256,
      owner: 'browser-test',
      clock: () => at,
      logger: createLogger('silent'),
    });
    expect(report.kind === 'done' && report.targets.find((x) => x.target === 'notifications')?.purged).toBe(1);

    const olivia = await (await newContext(browser)).newPage();
    await signInAs(olivia, t.http, 'olivia');
    await olivia.goto(`${t.http}/app/families/${id}`);
    expect(await olivia.getByRole('heading', { level: 1 }).textContent()).toBe('Details no longer held');
    const text = (await olivia.locator('main').textContent()) ?? '';
    expect(text).toContain('The details of this notification are no longer held');
    expect(text).not.toContain(baby.baby.family);
    expect(await seriousAxeViolations(olivia)).toEqual([]);
    await screenshot(olivia, 'retention-family-no-longer-held');

    const ada = await (await newContext(browser)).newPage();
    await signInAs(ada, t.http, 'ada');
    await ada.goto(`${t.http}/app/operations/messages/${messageId}/raw`);
    expect(await ada.locator('main').textContent()).toContain('This message is no longer held');
    expect(await ada.locator('textarea').count()).toBe(0);
    expect(await seriousAxeViolations(ada)).toEqual([]);
  });
});
