import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { deleteKeys, startTestHub, type TestHub } from '../support/test-hub.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { copySampleConfig } from '../support/sample-config.js';
import { launchBrowser, newContext, screenshot, seriousAxeViolations, waitForText } from '../support/browser.js';
import { signInAs } from '../support/web-app.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';

const LOCAL_OIDC = { STORK_LOCAL_OIDC: 'on', STORK_LOCAL_OIDC_PORT: '0' };

/**
 * The operators' console in a real browser: a message from a trust with no feed configured arrives over MLLP
 * and is quarantined; the operator sees it on the feeds page (today's AR) and in the quarantine, without its
 * raw body (an administrator's view of it is audited); the feed is added to the configuration (as the API's
 * replay test does), Stork restarts on the same store, and the operator replays the message and sees it processed.
 */
describe('Operators: feeds, queues, quarantine and replay (Chromium)', () => {
  let browser: Browser;
  let database: TestDatabase;
  let dir: string;
  let first: TestHub | undefined;
  let second: TestHub | undefined;

  beforeAll(async () => {
    dir = copySampleConfig();
    [database, browser] = await Promise.all([createTestDatabase(), launchBrowser()]);
    first = await startTestHub({ configDir: dir, database, env: LOCAL_OIDC });
  });
  afterAll(async () => {
    await browser.close();
    if (first) {
      await first.hub.stop();
      await deleteKeys(first.prefix);
    }
    if (second) await second.stop();
    else await database.drop();
  });

  const messageStatus = async (t: TestHub, controlId: string): Promise<{ id: string; status: string } | undefined> =>
    (await t.hub.db.query<{ id: string; status: string }>('SELECT id, status FROM messages WHERE control_id = $1', [controlId])).rows[0];

  const axeAndScreenshot = async (page: Page, name: string): Promise<void> => {
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, name);
  };

  it('an operator replays a quarantined message once its feed is configured, and sees it processed', async () => {
    if (!first) throw new Error('the first hub did not start');
    const t1 = first;
    const baby = describeNewborn({
      seed: 1201,
      controlId: 'OPS-1',
      sendingFacility: 'RQ5',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
    });
    const client = await MllpClient.connect({ host: '127.0.0.1', port: t1.mllpPort, timeoutMs: 10000 });
    let ackCode = '';
    try {
      const ack = await client.send(baby.text);
      expect(ack).toMatch(/MSA\|[AC]R\|OPS-1/);
      ackCode = /MSA\|([AC]R)\|/.exec(ack)?.[1] ?? '';
    } finally {
      await client.close();
    }
    const stored = await pollUntil(() => messageStatus(t1, 'OPS-1'), 'the message to be stored');
    expect(stored.status).toBe('quarantined');

    // The operator: feeds with today's counts, queues, the quarantine, the message without its raw body.
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    await signInAs(page, t1.http, 'owen');
    await page.getByRole('link', { name: 'Feeds and queues' }).first().click();
    await waitForText(page.getByRole('heading', { level: 1 }), 'Feeds and queues', { exact: true });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Feeds and queues');
    const unknown = page.getByRole('row').filter({ hasText: 'Unknown sender' });
    // Today's count under the code the sender was answered with (AR, or CR in enhanced mode).
    const headers = await page.locator('table').first().locator('thead th').allTextContents();
    expect(headers.slice(0, 5).map((h) => h.trim())).toEqual(['Feed', 'Last message', 'AA', 'AE', 'AR']);
    expect(
      await unknown
        .getByRole('cell')
        .nth(headers.findIndex((h) => h.trim() === ackCode))
        .textContent(),
    ).toBe('1');
    expect(
      await page.getByRole('row').filter({ hasText: 'Northgate Teaching Hospitals NHS Trust (fictional): maternity ADT' }).count(),
    ).toBe(1);
    expect(
      await page
        .getByRole('row')
        .filter({ has: page.getByRole('cell', { name: 'process', exact: true }) })
        .count(),
    ).toBe(1);
    expect(await page.getByRole('row').filter({ hasText: 'deliver-osmondthorpe' }).count()).toBe(1);
    await axeAndScreenshot(page, 'operator-feeds-and-queues');

    await page.getByRole('link', { name: 'Quarantined messages' }).first().click();
    // count() does not wait: the quarantine page must have loaded first.
    await page.waitForURL(/\/app\/operations\/quarantine$/);
    const row = page.getByRole('row').filter({ hasText: 'Unknown sender' });
    expect(await row.count()).toBe(1);
    await axeAndScreenshot(page, 'operator-quarantine');
    await row.getByRole('link').click();
    await page.waitForURL(`${t1.http}/app/operations/messages/${stored.id}`);
    const main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain('Quarantined');
    expect(main).toContain('Unknown sender: no feed is configured for this MSH-4 sending facility');
    expect(await page.getByRole('link', { name: 'View the raw message' }).count()).toBe(0);
    expect(main).not.toContain(baby.baby.nhsNumber);
    await axeAndScreenshot(page, 'operator-message-quarantined');
    // An operator typing the raw message's address: 403, and nothing audited.
    expect((await page.goto(`${t1.http}/app/operations/messages/${stored.id}/raw`))?.status()).toBe(403);
    await ctx.close();

    // The administrator sees the raw message; that view is audited as a read by them, by name.
    const adminCtx = await newContext(browser);
    const admin = await adminCtx.newPage();
    await signInAs(admin, t1.http, 'ada', `/app/operations/messages/${stored.id}`);
    await admin.getByRole('link', { name: 'View the raw message' }).click();
    expect(await admin.getByLabel('The message as received (read only)').inputValue()).toContain('MSH|^~\\&|MATERNITY|RQ5');
    await axeAndScreenshot(admin, 'admin-raw-message');
    await adminCtx.close();
    const rawReads = await t1.hub.db.query<{ actor: string; details: { name?: string } }>(
      `SELECT actor, details FROM audit_events WHERE action = 'raw-read' AND message_id = $1`,
      [stored.id],
    );
    expect(rawReads.rows.map((r) => r.details.name)).toEqual(['Ada Demo']);
    expect(rawReads.rows[0]?.actor).toMatch(/^user:.+/);

    // The feed is configured (as the API's replay test does it); Stork restarts on the same store.
    await t1.hub.stop();
    await deleteKeys(t1.prefix);
    first = undefined;
    const feedsFile = path.join(dir, 'mappings', 'feeds.json');
    const feeds = JSON.parse(readFileSync(feedsFile, 'utf8')) as { feeds: object[] };
    feeds.feeds.push({
      id: 'riverside',
      name: 'Riverside (fictional)',
      sendingFacility: 'RQ5',
      messageTypes: { ADT: ['A28'] },
      versions: ['2.4'],
      processingIds: ['P'],
      mapping: 'itk-adt',
    });
    writeFileSync(feedsFile, JSON.stringify(feeds));
    second = await startTestHub({ configDir: dir, database, env: LOCAL_OIDC });
    const t2 = second;

    const ctx2 = await newContext(browser);
    const op = await ctx2.newPage();
    await signInAs(op, t2.http, 'owen', `/app/operations/messages/${stored.id}`);
    await op.getByRole('button', { name: 'Replay this message' }).click();
    await op.waitForURL(`${t2.http}/app/operations/messages/${stored.id}?replayed=1`);
    expect(await op.locator('.govuk-notification-banner').textContent()).toContain('The message was replayed');
    await pollUntil(
      async () => ((await messageStatus(t2, 'OPS-1'))?.status === 'processed' ? true : undefined),
      'the replayed message processed',
    );
    await op.reload();
    const after = (await op.locator('main').textContent()) ?? '';
    expect(after).toContain('Processed');
    expect(after).toContain('Riverside (fictional)');
    expect(await op.getByRole('button', { name: 'Replay this message' }).count()).toBe(0);
    await axeAndScreenshot(op, 'operator-message-replayed');

    // Replayed by the operator, by name; replaying it again is refused with the reason in the error summary.
    const replays = await t2.hub.db.query<{ actor: string; outcome: string; details: { name?: string } }>(
      `SELECT actor, outcome, details FROM audit_events WHERE action = 'replayed' AND message_id = $1`,
      [stored.id],
    );
    expect(replays.rows.map((r) => [r.outcome, r.details.name])).toEqual([['queued', 'Owen Demo']]);
    expect(replays.rows[0]?.actor).toMatch(/^user:.+/);
    const csrf = await op.locator('input[name="_csrf"]').first().inputValue();
    const again = await op.request.post(`${t2.http}/app/operations/messages/${stored.id}/replay`, { form: { _csrf: csrf } });
    expect(again.status()).toBe(409);
    expect(await again.text()).toContain('Only quarantined messages can be replayed');
    await ctx2.close();
  });

  it('a centre worker typing an operator’s address gets 403, a replay included', async () => {
    const t = second ?? first;
    if (!t) throw new Error('no hub is running');
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    await signInAs(page, t.http, 'olivia');
    expect((await page.goto(`${t.http}/app/operations`))?.status()).toBe(403);
    expect((await page.goto(`${t.http}/app/operations/quarantine`))?.status()).toBe(403);
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const replay = await page.request.post(`${t.http}/app/operations/messages/00000000-0000-4000-8000-000000000000/replay`, {
      form: { _csrf: csrf },
    });
    expect(replay.status()).toBe(403);
    expect(await page.getByRole('link', { name: 'Feeds and queues' }).count()).toBe(0);
    await ctx.close();
  });
});
