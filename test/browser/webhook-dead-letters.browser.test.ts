import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { copySampleConfig } from '../support/sample-config.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations, waitForText } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;

/**
 * The operators' webhook dead letters in Chromium with axe: Richmond Hill's webhook points at a port nobody listens
 * on and the horizon is short, so its delivery becomes a dead letter; the family then objects; the operator sees the
 * dead letter with its last error, replays it, and is told it was not sent because the notification was withdrawn.
 */
describe('Operators: webhook dead letters (Chromium, local OpenID provider)', () => {
  let t: TestHub;
  let browser: Browser;
  let mllp: MllpClient;

  beforeAll(async () => {
    const dir = copySampleConfig('stork-dead-letters-');
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const file = path.join(dir, 'mappings', 'catchments.json');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('https://cms.richmond-hill.example.org/stork/notifications', `https://127.0.0.1:${port}/hook`),
    );
    [t, browser] = await Promise.all([
      startTestHub({
        configDir: dir,
        env: {
          STORK_LOCAL_OIDC: 'on',
          STORK_LOCAL_OIDC_PORT: '0',
          STORK_WEBHOOK_BACKOFF_MS: '10',
          STORK_WEBHOOK_BACKOFF_MAX_MS: '50',
          STORK_WEBHOOK_HORIZON_MS: '200',
          STORK_WEBHOOK_SWEEP_MS: '100',
        },
      }),
      launchBrowser(),
    ]);
    mllp = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await mllp.close();
    await browser.close();
    await t.stop();
  });

  it('lists a dead letter with its last error; replaying it after an objection says it was not sent, and why', async () => {
    const baby = describeNewborn({ ...RX1, messageTime: new Date(), seed: 9301, controlId: 'HOOK-WEB-1', postcodes: ['LS9 8XY'] });
    expect((await mllp.send(baby.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    await pollUntil(async () => {
      const r = await t.hub.db.query<{ status: string }>(`SELECT status FROM webhook_deliveries WHERE centre_id = 'richmond-hill'`);
      return r.rows[0]?.status === 'dead' ? true : undefined;
    }, 'the dead letter');

    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    await signInAs(page, t.http, 'owen');
    await page.getByRole('link', { name: 'Webhook dead letters' }).first().click();
    await waitForText(page.getByRole('heading', { level: 1 }), 'Webhook dead letters', { exact: true });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Webhook dead letters');
    const row = page.getByRole('row').filter({ hasText: 'ECONNREFUSED' });
    await expect(row.count()).resolves.toBe(1);
    expect(await row.textContent()).toContain('Notification');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'webhook-dead-letters');

    // The family objects; the operator replays: nothing is sent, and the page says why.
    const res = await api(t.http, 'demo-northgate-feed-key', '/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        recipient: 'any',
        source: 'midwife',
        kind: 'objection',
        scope: 'offer-of-support',
        babyNhsNumber: baby.baby.nhsNumber,
      }),
    });
    expect(res.status).toBe(201);
    await row.getByRole('button', { name: /Replay/ }).click();
    const banner = page.locator('.govuk-notification-banner');
    // count() below does not wait: the page after the replay is waited for first.
    await waitForText(banner, 'Not sent: the notification has been withdrawn since');
    expect(await banner.textContent()).toContain('Not sent: the notification has been withdrawn since');
    expect(await page.getByText('No dead letters.').count()).toBeGreaterThan(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'webhook-dead-letter-replayed');
    const audit = await t.hub.db.query<{ actor: string; outcome: string; details: { name: string; role: string; reason: string } }>(
      `SELECT actor, outcome, details FROM audit_events WHERE action = 'webhook-replayed'`,
    );
    expect(audit.rows.map((a) => [a.actor.startsWith('user:'), a.outcome, a.details.role, a.details.reason])).toEqual([
      [true, 'superseded', 'operator', 'withdrawn'],
    ]);
    await ctx.close();
  });
});
