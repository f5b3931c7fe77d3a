import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { pseudo } from '../support/data-keys.js';

/** The sum of the samples `name{…}` that have these label pairs among their labels; 0 when none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Every label value in the exposition. */
function labelValues(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .flatMap((l) => [...l.matchAll(/[a-zA-Z_]+="((?:[^"\\]|\\.)*)"/g)].map((x) => x[1] ?? ''));
}

describe('Prometheus metrics at /metrics', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => t.stop());

  const scrape = async (): Promise<string> => {
    const res = await api(t.http, 'demo-admin-key', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  };

  test('is refused without an API key and to roles other than admin', async () => {
    const none = await api(t.http, undefined, '/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.text()).not.toContain('stork_');
    for (const key of ['demo-ig-key', 'demo-osmondthorpe-key', 'demo-northgate-feed-key']) {
      const r = await api(t.http, key, '/metrics');
      expect(r.status).toBe(403);
    }
  });

  test('a birth moves the counters and histograms by exactly one, with queue depths and no personal data in labels', async () => {
    const before = await scrape();
    const birth = describeNewborn({ seed: 4711, controlId: 'METRICS-1', sendingFacility: 'RX1', messageTime: new Date() });
    const client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    await client.send(birth.text);
    await client.close();
    const delivered = await pollUntil(async () => {
      const r = await t.database.db.query<{ status: string; decision: unknown }>(
        `SELECT status, decision FROM notifications WHERE baby_nhs_number = $1`,
        [pseudo(birth.baby.nhsNumber)],
      );
      return r.rows[0]?.status === 'delivered' ? r.rows[0] : undefined;
    }, 'the birth delivered');
    const decision = (typeof delivered.decision === 'string' ? JSON.parse(delivered.decision) : delivered.decision) as {
      ruleId: string;
      effect: string;
    };
    // The delivery job's metrics are recorded after its commit: poll the scrape, not the store.
    const after = await pollUntil(async () => {
      const text = await scrape();
      return sample(text, 'stork_end_to_end_seconds_count') > sample(before, 'stork_end_to_end_seconds_count') ? text : undefined;
    }, 'end-to-end latency recorded');
    const delta = (name: string, labels: Record<string, string> = {}): number => sample(after, name, labels) - sample(before, name, labels);

    expect(delta('stork_messages_received_total', { feed: 'northgate-maternity', message_type: 'ADT^A28', ack_code: 'CA' })).toBe(1);
    expect(delta('stork_messages_received_total')).toBe(1); // the sample sends enhanced-mode acknowledgements
    expect(delta('stork_decisions_total', { rule_id: decision.ruleId, effect: decision.effect })).toBe(1);
    expect(delta('stork_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(delta('stork_deliveries_total', { outcome: 'withheld' })).toBe(0);
    expect(delta('stork_end_to_end_seconds_count')).toBe(1);
    for (const stage of ['receipt_to_ack', 'parse_map_validate', 'decide', 'match', 'route', 'deliver'])
      expect([stage, delta('stork_stage_duration_seconds_count', { stage })]).toEqual([stage, 1]);
    // Queue depths, read at the scrape.
    expect(sample(after, 'stork_queue_depth_up')).toBe(1);
    expect(after).toMatch(/^stork_queue_jobs\{queue="process",state="waiting"\} \d+$/m);
    expect(after).toMatch(/^stork_queue_jobs\{queue="deliver-[a-z-]+",state="failed"\} \d+$/m);
    // Process default metrics.
    expect(after).toContain('stork_process_cpu_seconds_total');

    // No label value is any personal data of the birth.
    const { baby, mother } = birth;
    const personal = [baby.nhsNumber, baby.mrn, baby.family, baby.given, baby.birthDate, baby.postcode, ...baby.addressLines];
    if (mother) personal.push(mother.nhsNumber, mother.family, mother.given, mother.birthDate);
    const values = labelValues(after);
    expect(values.length).toBeGreaterThan(20);
    const leaks = personal.filter((p) => p.length >= 4 && values.some((v) => v === p || v.includes(p)));
    expect(leaks).toEqual([]);
    expect(personal.filter((p) => p.length >= 4 && after.includes(p))).toEqual([]);
  });

  test('an unknown sender is counted under feed "unknown", never its own words', async () => {
    const before = await scrape();
    const stranger = describeNewborn({ seed: 4712, controlId: 'METRICS-2', sendingFacility: 'ZZZ', messageTime: new Date() });
    const client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    await client.send(stranger.text);
    await client.close();
    const after = await scrape();
    expect(
      sample(after, 'stork_messages_received_total', { feed: 'unknown' }) -
        sample(before, 'stork_messages_received_total', { feed: 'unknown' }),
    ).toBe(1);
    expect(labelValues(after)).not.toContain('ZZZ');
  });
});
