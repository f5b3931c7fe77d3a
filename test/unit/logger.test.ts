import { createLogger, serializeError } from '../../src/logger.js';
import { LogSink } from '../support/log-sink.js';

/** An error as a driver raises it: its message quotes the value it choked on. */
function driverError(): Error {
  const err = new Error('invalid input syntax for type uuid: "SMITH 9434765919"') as Error & { code: string };
  err.code = '22P02';
  return err;
}

describe('the err serializer: name, code and stack frames, never the message', () => {
  test('a logged error carries its type, code and frames, and none of its message text', () => {
    const sink = new LogSink();
    const log = createLogger('info', sink);
    log.error({ err: driverError(), messageId: 'm-1' }, 'store failed');
    expect(sink.lines).toHaveLength(1);
    expect(sink.text).not.toContain('SMITH');
    expect(sink.text).not.toContain('9434765919');
    expect(sink.text).not.toContain('invalid input syntax');
    const [line] = sink.records();
    expect(line).toMatchObject({ msg: 'store failed', messageId: 'm-1', err: { type: 'Error', code: '22P02' } });
    const stack = (line?.err as { stack?: string }).stack ?? '';
    expect(stack.split('\n').length).toBeGreaterThan(0);
    for (const frame of stack.split('\n')) expect(frame).toMatch(/^at /);
    expect(stack).toContain('driverError');
  });

  test('an error logged without a message of its own does not lend its message to the line', () => {
    const sink = new LogSink();
    const log = createLogger('info', sink);
    log.error(driverError());
    log.warn({ err: driverError() });
    expect(sink.lines).toHaveLength(2);
    expect(sink.text).not.toContain('SMITH');
    expect(sink.records().map((r) => r.msg)).toEqual(['error', 'error']);
    expect(sink.records().map((r) => (r.err as { code?: string }).code)).toEqual(['22P02', '22P02']);
  });

  test('causes are followed (a few levels), each without its message', () => {
    const wrapped = new TypeError('cannot map "JONES"', { cause: driverError() });
    const out = serializeError(wrapped);
    expect(out).toMatchObject({ type: 'TypeError', cause: { type: 'Error', code: '22P02' } });
    expect(JSON.stringify(out)).not.toMatch(/JONES|SMITH|9434765919/);
  });

  test('a thrown value that is not an Error is logged as its type only', () => {
    expect(serializeError('NHS 9434765919')).toEqual({ type: 'string' });
  });
});
