import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { copySampleConfig } from '../support/sample-config.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';

interface AuditPage {
  items: { action: string; actor: string; outcome?: string; details?: Record<string, unknown> }[];
}

const DAY = 86_400_000;
const REASON = 'INC-4711: replaying the PAS archive after the 2026 outage';

/**
 * A birth message two years late is "not relevant" on an ordinary feed, and delivered, with the back-fill
 * recorded in its audit, on a feed the operator put in back-fill mode (feeds.json `backfill`).
 */
describe('Back-fill mode: late births are delivered only on a feed in back-fill mode, and the audit says so', () => {
  let t: TestHub;
  const until = new Date(Date.now() + 7 * DAY).toISOString();

  beforeAll(async () => {
    const dir = copySampleConfig('stork-backfill-');
    const file = path.join(dir, 'mappings', 'feeds.json');
    const feeds = JSON.parse(readFileSync(file, 'utf8')) as { feeds: { id: string; backfill?: unknown }[] };
    for (const feed of feeds.feeds) if (feed.id === 'northgate-maternity') feed.backfill = { until, reason: REASON };
    writeFileSync(file, JSON.stringify(feeds));
    t = await startTestHub({ configDir: dir });
  });
  afterAll(async () => {
    await t.stop();
  });

  const post = async (key: string, text: string): Promise<string> => {
    const res = await api(t.http, key, '/v1/hl7v2', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text });
    expect(res.status).toBe(200);
    expect((await res.text()).split('\r')[1]?.split('|')[1]).toMatch(/^[AC]A$/); // the synthetic messages ask for enhanced-mode ACKs
    return res.headers.get('x-stork-message-id') ?? '';
  };
  const auditOf = async (messageId: string): Promise<AuditPage['items']> => {
    const res = await api(t.http, 'demo-ig-key', `/v1/audit?message=${messageId}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as AuditPage).items;
  };
  const twoYearsAgo = new Date(Date.now() - 730 * DAY);

  test('a two-year-old birth message on the feed in back-fill mode reaches the centre; its mapped event records the back-fill', async () => {
    const baby = describeNewborn({
      seed: 901,
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      controlId: 'BACKFILL-1',
      messageTime: twoYearsAgo,
      ageMinutes: 2 * 24 * 60,
      postcodes: ['LS9 7AB'],
    });
    const id = await post('demo-northgate-feed-key', baby.text);
    const item = await pollUntil(async () => {
      const res = await api(t.http, 'demo-osmondthorpe-key', '/v1/centres/osmondthorpe/notifications?status=new');
      const page = (await res.json()) as { items: { record: { baby: { nhsNumber?: string } } }[] };
      return page.items.find((i) => i.record.baby.nhsNumber === baby.baby.nhsNumber);
    }, 'the back-filled baby in the inbox');
    expect(item).toBeDefined();
    const events = await auditOf(id);
    const mapped = events.find((e) => e.action === 'mapped');
    const recorded = mapped?.details?.backfill as { reason: string; until: string; lateDays: number } | undefined;
    expect(recorded && { reason: recorded.reason, until: recorded.until }).toEqual({ reason: REASON, until });
    expect(recorded?.lateDays).toBeGreaterThanOrEqual(729);
    expect(recorded?.lateDays).toBeLessThanOrEqual(731);
  });

  test('a timely birth on the same feed is not marked as back-filled', async () => {
    const baby = describeNewborn({
      seed: 902,
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      controlId: 'BACKFILL-2',
      messageTime: new Date(),
    });
    const id = await post('demo-northgate-feed-key', baby.text);
    const mapped = (await auditOf(id)).find((e) => e.action === 'mapped');
    expect(mapped?.details).toEqual({ mapping: 'itk-adt' });
  });

  test('the same late message on a feed not in back-fill mode is acknowledged and recorded as not relevant, saying why', async () => {
    const baby = describeNewborn({
      seed: 903,
      northvale: true,
      sendingFacility: 'RX9',
      sendingApplication: 'PAS',
      controlId: 'BACKFILL-3',
      messageTime: twoYearsAgo,
      ageMinutes: 2 * 24 * 60,
    });
    const id = await post('demo-northvale-feed-key', baby.text);
    const message = (await (await api(t.http, 'demo-admin-key', `/v1/messages/${id}`)).json()) as { status: string; reason?: string };
    expect(message.status).toBe('not-relevant');
    expect(message.reason).toMatch(/^subject was a newborn at the message time \(MSH-7\) but is not at receipt, 7\d\d days later/);
    const events = await auditOf(id);
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['received', 'not-relevant']));
    expect(events.some((e) => e.action === 'mapped')).toBe(false);
  });
});
