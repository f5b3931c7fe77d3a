import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { newbornAdt } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { createTestDatabase } from '../support/test-database.js';
import { copySampleConfig } from '../support/sample-config.js';

const HL7 = { 'content-type': 'x-application/hl7-v2+er7' };
const adt = (seed: number, controlId: string, sendingFacility = 'RX1') =>
  newbornAdt({ seed, controlId, sendingFacility, sendingApplication: 'MATERNITY', messageTime: new Date() }).replace('|AL|NE|', '|||');
const msa = (ack: string) => ack.split('\r')[1]?.split('|') ?? [];

describe('HTTP: HL7 v2 intake, identity rules and the operators’ API', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => t.stop());

  test('health needs no key; /v1 needs a known bearer key (401), and the right role and scope (403)', async () => {
    expect((await fetch(`${t.http}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.http}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { store: 'ok', redis: 'ok' } });
    const none = await api(t.http, undefined, '/v1/messages');
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect((await api(t.http, 'not-a-key', '/v1/messages')).status).toBe(401);
    expect((await api(t.http, 'demo-east-end-park-key', '/v1/messages')).status).toBe(403);
    expect((await api(t.http, 'demo-east-end-park-key', '/v1/hl7v2', { method: 'POST', headers: HL7, body: adt(1, 'H-0') })).status).toBe(
      403,
    );
    expect((await api(t.http, 'demo-admin-key', '/v1/audit?subject=9000000009')).status).toBe(403);
    expect((await api(t.http, 'demo-ig-key', '/v1/audit?subject=9000000009')).status).toBe(200);
    const bad = await api(t.http, 'demo-ig-key', '/v1/audit?subject=123');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('subject');
  });

  test('POST /v1/hl7v2 answers with the ACK; a feed key sending for another trust gets 403 and the message is quarantined', async () => {
    const sent = adt(2, 'H-1');
    const ok = await api(t.http, 'demo-northgate-feed-key', '/v1/hl7v2', { method: 'POST', headers: HL7, body: sent });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('x-application/hl7-v2+er7');
    expect(msa(await ok.text()).slice(1, 3)).toEqual(['AA', 'H-1']);
    const id = ok.headers.get('x-stork-message-id');

    const plain = await api(t.http, 'demo-northgate-feed-key', '/v1/hl7v2', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: adt(3, 'H-2'),
    });
    expect(msa(await plain.text())[1]).toBe('AA');
    expect(
      (
        await api(t.http, 'demo-northgate-feed-key', '/v1/hl7v2', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).status,
    ).toBe(415);

    const other = await api(t.http, 'demo-northgate-feed-key', '/v1/hl7v2', { method: 'POST', headers: HL7, body: adt(4, 'H-3', 'RX9') });
    expect(other.status).toBe(403);
    expect(msa(await other.text())[1]).toBe('AR');
    const q = await api(t.http, 'demo-admin-key', '/v1/messages?status=quarantined');
    const items = ((await q.json()) as { items: { controlId?: string; reason?: string }[] }).items;
    expect(items.find((i) => i.controlId === 'H-3')?.reason).toBe('This API client may not send for this sending facility');

    // Metadata for the feed itself; the raw body only for admin.
    const asFeed = await api(t.http, 'demo-northgate-feed-key', `/v1/messages/${id ?? ''}`);
    expect(asFeed.status).toBe(200);
    expect(Object.keys((await asFeed.json()) as object)).not.toContain('raw');
    const asAdmin = (await (await api(t.http, 'demo-admin-key', `/v1/messages/${id ?? ''}`)).json()) as { raw: string; status: string };
    expect(asAdmin.raw).toBe(sent);
    expect((await api(t.http, 'demo-northvale-feed-key', `/v1/messages/${id ?? ''}`)).status).toBe(404);
    expect((await api(t.http, 'demo-admin-key', '/v1/messages?status=bogus')).status).toBe(400);
  });
});

describe('Replay: a quarantined message is run again once its feed is configured', () => {
  test('unknown sender → quarantined → feed added → replay → accepted and processed', async () => {
    const database = await createTestDatabase();
    const dir = copySampleConfig();
    const first = await startTestHub({ configDir: dir, database });
    const res = await api(first.http, 'demo-admin-key', '/v1/hl7v2', { method: 'POST', headers: HL7, body: adt(5, 'R-1', 'RQ5') });
    expect(msa(await res.text())[1]).toBe('AR');
    const id = res.headers.get('x-stork-message-id') ?? '';
    await first.hub.stop();

    const feeds = JSON.parse(readFileSync(path.join(dir, 'mappings', 'feeds.json'), 'utf8')) as { feeds: object[] };
    feeds.feeds.push({
      id: 'riverside',
      name: 'Riverside (fictional)',
      sendingFacility: 'RQ5',
      messageTypes: { ADT: ['A28'] },
      versions: ['2.4'],
      processingIds: ['P'],
      mapping: 'itk-adt',
    });
    writeFileSync(path.join(dir, 'mappings', 'feeds.json'), JSON.stringify(feeds));
    const second = await startTestHub({ configDir: dir, database });
    try {
      const replay = await api(second.http, 'demo-admin-key', `/v1/messages/${id}/replay`, { method: 'POST' });
      expect(replay.status).toBe(200);
      expect(await replay.json()).toEqual({ id, status: 'queued' });
      const again = await api(second.http, 'demo-admin-key', `/v1/messages/${id}/replay`, { method: 'POST' });
      expect(again.status).toBe(409);
      expect((await api(second.http, 'demo-northgate-feed-key', `/v1/messages/${id}/replay`, { method: 'POST' })).status).toBe(403);
    } finally {
      await second.stop();
    }
  });
});
