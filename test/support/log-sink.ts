import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

/**
 * When `STORK_TEST_LOG_DIR` is set (jest's global setup sets it for every run), every log line a test's hub writes
 * is also appended to a file there, one per test process, so the global teardown can scan the whole run's logs
 * for personal data (test/support/log-scan.ts). Synchronous appends to one open file: a few µs a line.
 */
let runLog: number | undefined;
function runLogFd(): number | undefined {
  const dir = process.env.STORK_TEST_LOG_DIR;
  if (dir === undefined || dir === '') return undefined;
  if (runLog === undefined) {
    runLog = openSync(path.join(dir, `jest-${process.pid}.log`), 'a');
    process.once('exit', () => {
      if (runLog !== undefined) closeSync(runLog);
    });
  }
  return runLog;
}

/** Appends what a hub in a child process logged (its stdout and stderr) to the run's logs. */
export function recordChildLog(text: string): void {
  const fd = runLogFd();
  if (fd !== undefined && text !== '') writeSync(fd, text.endsWith('\n') ? text : `${text}\n`);
}

/** A stream pino writes to in tests, so what was logged can be read back and checked. */
export class LogSink extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const fd = runLogFd();
    if (fd !== undefined) writeSync(fd, chunk);
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.lines.push(line);
    done();
  }

  get text(): string {
    return this.lines.join('\n');
  }

  records(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
