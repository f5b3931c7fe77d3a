import { FaultLog } from '../../../../adapters/mllp/fault-log.js';
import { createLogger } from '../../../../src/logger.js';
import { LogSink } from '../../../support/log-sink.js';

function setup(options: { intervalMs?: number; maxLinesPerInterval?: number } = {}) {
  const sink = new LogSink();
  let now = 0;
  const log = new FaultLog(createLogger('info', sink), {
    intervalMs: options.intervalMs ?? 1000,
    maxLinesPerInterval: options.maxLinesPerInterval ?? 100,
    now: () => now,
  });
  return {
    sink,
    log,
    advance: (ms: number) => (now += ms),
    records: () =>
      sink
        .records()
        .map(({ fault, count, bytes, totalCount, final, remotePort }) => ({ fault, count, bytes, totalCount, final, remotePort })),
  };
}

describe('FaultLog', () => {
  it('logs the first fault of a kind at once, adds up the rest, and logs what is left when the connection closes', () => {
    const { log, records } = setup();
    const c = log.connection({ remotePort: 1 });
    for (let i = 0; i < 100_000; i++) c.note('abandoned-frame', 1, 2);
    expect(records()).toEqual([{ fault: 'abandoned-frame', count: 1, bytes: 2, totalCount: 1, final: undefined, remotePort: 1 }]);
    c.close();
    expect(records()).toEqual([
      { fault: 'abandoned-frame', count: 1, bytes: 2, totalCount: 1, final: undefined, remotePort: 1 },
      { fault: 'abandoned-frame', count: 99_999, bytes: 199_998, totalCount: 100_000, final: true, remotePort: 1 },
    ]);
  });

  it('logs at most one line per connection and kind per interval, each with the count since the last', () => {
    const { log, records, advance } = setup({ intervalMs: 1000 });
    const c = log.connection({ remotePort: 2 });
    c.note('bytes-outside-frames', 10);
    c.note('bytes-outside-frames', 5);
    advance(999);
    c.note('bytes-outside-frames', 5);
    advance(1);
    c.note('bytes-outside-frames', 7);
    c.note('bytes-outside-frames', 3);
    c.close();
    expect(records().map((r) => [r.count, r.totalCount])).toEqual([
      [10, 10],
      [17, 27],
      [3, 30],
    ]);
  });

  it('keeps kinds and connections apart', () => {
    const { log, records } = setup();
    const a = log.connection({ remotePort: 3 });
    const b = log.connection({ remotePort: 4 });
    a.note('abandoned-frame');
    a.note('bytes-outside-frames', 9);
    b.note('abandoned-frame');
    expect(records().map((r) => [r.remotePort, r.fault, r.count])).toEqual([
      [3, 'abandoned-frame', 1],
      [3, 'bytes-outside-frames', 9],
      [4, 'abandoned-frame', 1],
    ]);
    expect(a.count('abandoned-frame')).toBe(1);
    expect(a.count('shed')).toBe(0);
  });

  it('ignores a count of zero (nothing happened)', () => {
    const { log, sink } = setup();
    const c = log.connection({});
    c.note('abandoned-frame', 0);
    c.close();
    expect(sink.lines).toEqual([]);
  });

  it('over all connections, writes at most maxLinesPerInterval lines, then one summary of what it dropped', () => {
    const { log, sink, advance } = setup({ intervalMs: 1000, maxLinesPerInterval: 3 });
    for (let port = 0; port < 10; port++) {
      const c = log.connection({ remotePort: port });
      c.note('abandoned-frame', 2);
      c.close();
    }
    expect(sink.lines).toHaveLength(3);
    advance(1000);
    log.connection({ remotePort: 99 }).note('unfinished-frame');
    const records = sink.records();
    expect(records).toHaveLength(5);
    expect(records[3]).toMatchObject({
      msg: 'mllp fault lines dropped: over the fault log rate limit',
      suppressedLines: 7,
      counts: { 'abandoned-frame': 14 },
    });
    expect(records[4]).toMatchObject({ fault: 'unfinished-frame', remotePort: 99 });
  });

  it('writes the summary of dropped lines when the listener closes', () => {
    const { log, sink } = setup({ maxLinesPerInterval: 1 });
    log.listener.note('refused-total', 1, 0, { limit: 5 });
    log.listener.note('refused-total');
    log.connection({}).note('shed');
    log.close();
    const records = sink.records();
    expect(records.map((r) => r.fault ?? r.msg)).toEqual(['refused-total', 'mllp fault lines dropped: over the fault log rate limit']);
    expect(records[0]).toMatchObject({ count: 1, limit: 5 });
    // The second refusal waited for the interval; at close it was written, over the budget, so it went to the summary.
    expect(records[1]).toMatchObject({ suppressedLines: 2, counts: { 'refused-total': 1, shed: 1 } });
  });
});
