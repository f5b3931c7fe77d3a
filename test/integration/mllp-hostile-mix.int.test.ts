import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { storeKind } from '../support/test-database.js';
import { genuineNewborn, parseAck, repeatedFieldNewborn, runHostileLoad } from '../support/hostile-mllp.js';

/**
 * Issue 8, "Done when": hostile connections (partial frames, stray start bytes, huge frames, many idle
 * connections) mixed with genuine senders for a bounded time, against the hub with its DEFAULT limits.
 * Every genuine message must be AA within a latency ceiling, the RSS of this process (which hosts the
 * hub) must not grow past a ceiling, and the log must stay under a size.
 *
 * The hostile side runs in a child process (hostile-load.ts), from its own loopback addresses
 * (127.0.0.0/8 all reach the hub on 127.0.0.1):
 * - 600 connections (12 addresses × 50, the per-address cap) each sending 1,000,000 bytes of a frame
 *   that never ends: 600 MB held by the hub before the fix; now the 64 MiB budget closes the oldest;
 * - 4 connections writing 0x0B bytes as fast as the hub reads them;
 * - 8 connections sending 500 KB frames with one field repeated 500,000 times, and 2 sending 2 MiB
 *   frames (over STORK_MLLP_MAX_BYTES), each one after another;
 * - 200 idle connections (4 addresses × 50), and 20 more from a full address, which are refused.
 * The genuine side: two connections from 127.0.0.1 in this process, one newborn at a time each.
 *
 * On PostgreSQL only: the embedded PGlite (for development) runs the database inside this process, on the
 * hub's event loop and in its memory (about 900 MB before the test starts), so latency and RSS measured
 * with it say nothing about the hub.
 */
const MIX_MS = 6000;
/**
 * Safety ceilings, stated for a busy shared 2-core machine; the measured figures are printed (speed is the
 * benchmark's business, not this test's). The property is that no genuine sender is starved into its ACK timeout:
 * the ceiling is half of the 20 s the genuine senders here wait before giving up. Measured: p50 40 ms, max
 * 0.45 s alone, and 3.8 s once in CI with another jest worker busy beside it (3 s was the ceiling then).
 */
const SENDER_ACK_TIMEOUT_MS = 20000;
const ACK_LATENCY_CEILING_MS = SENDER_ACK_TIMEOUT_MS / 2;
/**
 * Measured +50 to +250 MB of RSS and +140 to +150 MB of Buffers at peak (64 MiB of partial frames, up to 64 MiB of
 * large frames awaiting their ACK, and their garbage); before the fix the 600 partial frames alone held 600 MB.
 */
const RSS_GROWTH_CEILING_MB = 400;
const BUFFERS_GROWTH_CEILING_MB = 300;
const LOG_CEILING_BYTES = 1024 * 1024;

(storeKind() === 'postgres' ? describe : describe.skip)('Hostile mix: no sender can harm another (issue 8)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  test(`for ${MIX_MS / 1000} s of hostile traffic, every genuine message is AA within ${ACK_LATENCY_CEILING_MS} ms, RSS grows under ${RSS_GROWTH_CEILING_MB} MB and the log stays under 1 MiB`, async () => {
    // Warm up (first statements prepared, first job queued) before taking the baseline.
    const warm = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: SENDER_ACK_TIMEOUT_MS });
    expect(parseAck(await warm.send(genuineNewborn('MIX-WARM', 1))).code).toBe('AA');
    await warm.close();
    const huge = [
      ...Array.from({ length: 8 }, (_, i) => repeatedFieldNewborn(`MIX-HUGE-${i}`, 500_000, 60 + i)),
      ...Array.from({ length: 2 }, (_, i) => genuineNewborn(`MIX-OVER-${i}`, 90 + i) + 'NTE|1||' + 'B'.repeat(2 * 1024 * 1024) + '\r'),
    ];

    // RSS, and the memory held by Buffers (which does not depend on what the allocator kept from earlier test files).
    const before = process.memoryUsage();
    const rssBefore = before.rss;
    let rssPeak = rssBefore;
    let buffersPeak = before.arrayBuffers;
    const sample = (): void => {
      const m = process.memoryUsage();
      rssPeak = Math.max(rssPeak, m.rss);
      buffersPeak = Math.max(buffersPeak, m.arrayBuffers);
    };
    const sampler = setInterval(sample, 25);

    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const logBefore = t.sink.text.length;
    const hostile = runHostileLoad({
      port: t.mllpPort,
      durationMs: MIX_MS,
      settleMs: 15000,
      partial: { addresses: Array.from({ length: 12 }, (_, a) => `127.0.2.${a + 1}`), perAddress: 50, bytes: 1_000_000 },
      stray: { address: '127.0.3.1', connections: 4, bytes: 4 * 1024 * 1024 },
      huge: { address: '127.0.4.1', messages: huge },
      idle: { addresses: ['127.0.5.1', '127.0.5.2', '127.0.5.3', '127.0.5.4'], perAddress: 50, extraFromFirst: 20 },
    });

    // The genuine senders run for as long as the hostile load does (its connections are held to the end).
    let hostileDone = false;
    void hostile.then(
      () => (hostileDone = true),
      () => (hostileDone = true),
    );
    const latencies: number[] = [];
    // A genuine answer other than AA keeps its ERR segments, so a failure says why (codes and the hub's text only).
    const answers: { controlId: string; code: string; errs?: string[] }[] = [];
    const genuineSender = async (g: number): Promise<void> => {
      const client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: SENDER_ACK_TIMEOUT_MS });
      try {
        for (let n = 0; !hostileDone; n++) {
          const controlId = `MIX-G${g}-${n}`;
          const started = performance.now();
          const ack = parseAck(await client.send(genuineNewborn(controlId, 1000 * g + n)));
          latencies.push(performance.now() - started);
          answers.push({ controlId, code: ack.code, ...(ack.code === 'AA' ? {} : { errs: ack.errs }) });
        }
      } finally {
        await client.close();
      }
    };
    let report;
    try {
      await Promise.all([genuineSender(1), genuineSender(2)]);
      report = await hostile;
    } finally {
      clearInterval(sampler);

      loop.disable();
    }
    sample();
    const buffersGrowthMb = (buffersPeak - before.arrayBuffers) / 1024 / 1024;
    const logBytes = t.sink.text.length - logBefore;
    const rssGrowthMb = (rssPeak - rssBefore) / 1024 / 1024;
    const sorted = [...latencies].sort((a, b) => a - b);
    const maxLatency = sorted.at(-1) ?? Number.POSITIVE_INFINITY;
    const p50 = sorted[Math.floor(sorted.length / 2)] ?? 0;
    process.stdout.write(
      `[mllp-hostile-mix] ${t.database.kind}: ${answers.length} genuine messages, ACK latency p50 ${p50.toFixed(0)} ms, max ${maxLatency.toFixed(0)} ms; ` +
        `event loop delay max ${(loop.max / 1e6).toFixed(0)} ms; ` +
        `RSS ${(rssBefore / 1048576).toFixed(0)} MB before, peak ${(rssPeak / 1048576).toFixed(0)} MB (+${rssGrowthMb.toFixed(0)} MB), Buffers +${buffersGrowthMb.toFixed(0)} MB at peak; ` +
        `log ${logBytes} bytes; hostile: ${JSON.stringify(report)}\n`,
    );

    // Every genuine message was accepted, promptly, and there were enough of them to mean something.
    expect(answers.length).toBeGreaterThanOrEqual(20);
    expect(answers.filter((a) => a.code !== 'AA')).toEqual([]);
    expect(maxLatency).toBeLessThan(ACK_LATENCY_CEILING_MS);
    const stored = await t.database.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM messages WHERE control_id LIKE 'MIX-G%' AND ack_code = 'AA'`,
    );
    expect(Number(stored.rows[0]?.n)).toBe(answers.length);
    expect(rssGrowthMb).toBeLessThan(RSS_GROWTH_CEILING_MB);
    expect(buffersGrowthMb).toBeLessThan(BUFFERS_GROWTH_CEILING_MB);
    expect(logBytes).toBeLessThan(LOG_CEILING_BYTES);
    // The hostile traffic did happen, and the hub answered it as it should.
    expect(report.partialBytesSent).toBeGreaterThan(200_000_000);
    expect(report.partialClosedByHub).toBeGreaterThan(0);
    expect(report.idleClosedByHub).toBe(20);
    expect(report.strayBytesSent).toBeGreaterThan(1024 * 1024);
    expect(Object.keys(report.hugeAcks)).toEqual(['AR']);
    expect(report.hugeAcks.AR).toBeGreaterThanOrEqual(10);
  });
});
