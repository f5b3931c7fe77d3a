import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { repoRoot } from '../../src/config/env.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { auditBundleProblems } from '../support/fhir-audit-event.js';

interface Event {
  seq: number;
  at: string;
  actor: string;
  action: string;
  messageId?: string;
  notificationId?: string;
  subjectNhsNumber?: string;
  recipient?: string;
  ruleId?: string;
  outcome?: string;
  details: Record<string, unknown>;
}
interface Page {
  items: Event[];
  next?: string;
}
interface Bundle {
  resourceType: string;
  type: string;
  link: { relation: string; url: string }[];
  entry?: {
    resource: { id: string; subtype: { code: string }[]; entity?: { what?: { identifier?: { system: string; value: string } } }[] };
  }[];
}

const IG = 'demo-ig-key';
const CENTRE = 'demo-osmondthorpe-key';

/**
 * Issue 14 item 2: one birth walked from MLLP receipt to a centre's read, and every step found in the audit by the
 * IG lead's query (JSON and FHIR AuditEvent): receipt, ACK with its code, mapping, validation, decision, routing,
 * delivery, the centre's reads (listing and record) and take-on; the query itself audited; start-up's configuration
 * files with their hashes; failed API sign-ins counted without flooding the table.
 */
describe('Everything audited: one birth from MLLP receipt to the centre’s read, as the IG lead queries it', () => {
  let t: TestHub;
  let client: MllpClient;
  const baby = describeNewborn({
    sendingFacility: 'RX1',
    sendingApplication: 'MATERNITY',
    messageTime: new Date(),
    seed: 1414,
    controlId: 'AUDIT-14',
    postcodes: ['LS9 7AB'],
  });
  let notificationId = '';

  const events = async (query: string, key = IG): Promise<Page> => {
    const res = await api(t.http, key, `/v1/audit/events?${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Page;
  };

  beforeAll(async () => {
    t = await startTestHub();
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    expect((await client.send(baby.text)).split('\r')[1]?.split('|')[1]).toBe('CA');
    const item = await pollUntil(async () => {
      const res = await api(t.http, CENTRE, '/v1/centres/osmondthorpe/notifications?status=new');
      const page = (await res.json()) as { items: { notificationId: string; record: { baby: { nhsNumber?: string } } }[] };
      return page.items.find((i) => i.record.baby.nhsNumber === baby.baby.nhsNumber);
    }, 'the baby in the centre inbox');
    notificationId = item.notificationId;
    expect((await api(t.http, CENTRE, `/v1/centres/osmondthorpe/notifications/${notificationId}`)).status).toBe(200);
    expect((await api(t.http, CENTRE, `/v1/centres/osmondthorpe/notifications/${notificationId}/ack`, { method: 'POST' })).status).toBe(
      200,
    );
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  test('every step of the birth is in the audit, found by the baby’s NHS number (and the mother’s)', async () => {
    const page = await events(`subject=${baby.baby.nhsNumber}&limit=500`);
    const actions = new Set(page.items.map((e) => e.action));
    for (const expected of ['received', 'acked', 'mapped', 'validated', 'decided', 'routed', 'delivered', 'read', 'acknowledged'])
      expect([expected, actions.has(expected)]).toEqual([expected, true]);
    const acked = page.items.find((e) => e.action === 'acked');
    expect(acked).toMatchObject({ outcome: 'CA', details: { code: 'CA' } });
    expect(page.items.find((e) => e.action === 'received')?.actor).toBe('feed:northgate-maternity');
    // The centre's reads: who (the API client), their role and purpose, which inbox.
    const reads = page.items.filter((e) => e.action === 'read' && e.notificationId === notificationId);
    expect(reads.length).toBeGreaterThanOrEqual(2);
    for (const r of reads)
      expect(r).toMatchObject({ actor: 'client:osmondthorpe', recipient: 'osmondthorpe', details: { role: 'centre', purpose: 'care' } });
    expect(page.items.find((e) => e.action === 'delivered')).toMatchObject({ recipient: 'osmondthorpe', ruleId: 'offer-of-support' });
    // Nothing about another birth.
    expect(page.items.every((e) => e.subjectNhsNumber === undefined || e.subjectNhsNumber === baby.baby.nhsNumber)).toBe(true);
    if (baby.mother) {
      const byMother = await events(`subject=${baby.mother.nhsNumber}&limit=500`);
      expect(byMother.items.map((e) => e.seq)).toEqual(
        expect.arrayContaining(page.items.filter((e) => e.action !== 'read' || !e.details.query).map((e) => e.seq)),
      );
    }
  });

  test('the filters: centre, feed, rule, event type, time range; each event matches', async () => {
    const byCentre = await events('centre=osmondthorpe');
    expect(byCentre.items.length).toBeGreaterThan(0);
    expect(byCentre.items.every((e) => e.recipient === 'osmondthorpe')).toBe(true);
    const byFeed = await events('feed=northgate-maternity&limit=500');
    expect(byFeed.items.map((e) => e.action)).toEqual(expect.arrayContaining(['received', 'acked', 'mapped', 'delivered']));
    expect((await events('feed=northvale-adt')).items).toEqual([]);
    const byRule = await events('rule=offer-of-support');
    expect(byRule.items.every((e) => e.ruleId === 'offer-of-support')).toBe(true);
    expect(byRule.items.map((e) => e.action)).toEqual(expect.arrayContaining(['decided', 'delivered']));
    const acks = await events('action=acknowledged');
    expect(acks.items.map((e) => e.notificationId)).toContain(notificationId);
    const future = await events(`from=${new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}`);
    expect(future.items).toEqual([]);
  });

  test('every bad filter is a JSON problem naming the field; a centre may not query the audit', async () => {
    const res = await api(t.http, IG, '/v1/audit/events?subject=123&action=nope&from=soon&limit=9999&centr=x');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const body = (await res.json()) as { errors?: { field: string }[]; invalidParams?: { name: string }[] };
    const fields = JSON.stringify(body);
    for (const f of ['subject', 'action', 'from', 'limit', 'centr']) expect(fields).toContain(`"${f}"`);
    expect((await api(t.http, CENTRE, '/v1/audit/events?centre=osmondthorpe')).status).toBe(403);
  });

  test('as FHIR: a valid searchset Bundle of AuditEvents, paged by `next` links, the baby by NHS number', async () => {
    const first = await api(t.http, IG, `/v1/audit/events?subject=${baby.baby.nhsNumber}&limit=4`, {
      headers: { accept: 'application/fhir+json' },
    });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    const ids: string[] = [];
    let bundle = (await first.json()) as Bundle;
    for (let pages = 0; ; pages++) {
      expect(auditBundleProblems(bundle)).toEqual([]);
      ids.push(...(bundle.entry ?? []).map((e) => e.resource.id));
      const next = bundle.link.find((l) => l.relation === 'next')?.url;
      if (!next || pages > 50) break;
      const u = new URL(next);
      const res = await api(t.http, IG, `${u.pathname}${u.search}`);
      expect(res.headers.get('content-type')).toMatch(/application\/fhir\+json/);
      bundle = (await res.json()) as Bundle;
    }
    // The same events as the JSON query, in the same order (the audit reads in between are newer, not about them).
    const json = await events(`subject=${baby.baby.nhsNumber}&limit=500`);
    const before = json.items.filter((e) => ids.includes(`audit-${e.seq}`)).map((e) => `audit-${e.seq}`);
    expect(ids.slice(0, before.length)).toEqual(before);
    expect(ids.length).toBeGreaterThanOrEqual(9);
    const viaFormat = (await (
      await api(t.http, IG, `/v1/audit/events?subject=${baby.baby.nhsNumber}&limit=500&_format=fhir`)
    ).json()) as Bundle;
    expect(auditBundleProblems(viaFormat)).toEqual([]);
    expect(JSON.stringify(viaFormat)).toContain(`{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"${baby.baby.nhsNumber}"}`);
  });

  test('the IG lead’s queries are themselves audited (who, role, purpose, filters, the subject)', async () => {
    await events(`subject=${baby.baby.nhsNumber}&action=delivered`);
    const ofDelivered = (items: Page['items']) =>
      items.filter(
        (e) => e.details.query === 'audit-events' && (e.details.filters as { action?: string } | undefined)?.action === 'delivered',
      );
    // Searched by the subject, the event shows the number searched for.
    const reads = await events(`subject=${baby.baby.nhsNumber}&action=read&limit=500`);
    expect(ofDelivered(reads.items).at(-1)).toMatchObject({
      actor: 'client:ig-lead',
      subjectNhsNumber: baby.baby.nhsNumber,
      details: { role: 'ig', purpose: 'compliance', filters: { action: 'delivered' } },
    });
    // Listed without it, the subject is a pseudonym (migration 038) about no notification: neither it nor a number is shown.
    const all = ofDelivered((await events('action=read&limit=500')).items).at(-1);
    expect(all).toMatchObject({ actor: 'client:ig-lead' });
    expect(all?.subjectNhsNumber).toBeUndefined();
  });

  test('each configuration file loaded at start-up is audited with its SHA-256', async () => {
    const loaded = await events('action=config-loaded&limit=500');
    const feeds = loaded.items.find((e) => e.details.file === 'mappings/feeds.json');
    const sha = createHash('sha256')
      .update(readFileSync(path.join(repoRoot, 'mappings', 'feeds.json')))
      .digest('hex');
    expect(feeds?.details).toMatchObject({ sha256: sha });
    expect(loaded.items.map((e) => e.details.file)).toEqual(
      expect.arrayContaining(['mappings/catchments.json', 'consent-rules/offer-of-support.json']),
    );
  });

  test('a flood of unknown API keys is one sign-in-failed event a minute, counting them; no key is recorded', async () => {
    const before = (await events('action=sign-in-failed&limit=500')).items.length;
    for (let i = 0; i < 40; i++) expect((await api(t.http, `not-a-key-${i}`, '/v1/messages')).status).toBe(401);
    const after = await pollUntil(async () => {
      const p = await events('action=sign-in-failed&limit=500');
      return p.items.length > before ? p : undefined;
    }, 'the sign-in-failed event');
    const mine = after.items.filter((e) => e.outcome === 'api-unknown-key');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ actor: 'client:unknown', details: { channel: 'api', failures: 1, windowSeconds: 60 } });
    expect(JSON.stringify(after.items)).not.toContain('not-a-key');
  });
});
