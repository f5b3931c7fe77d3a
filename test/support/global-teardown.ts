import { rmSync } from 'node:fs';
import Module from 'node:module';

type Resolve = (request: string, ...rest: unknown[]) => string;

/**
 * Jest loads this hook outside its module system (no moduleNameMapper), so the `.js` specifiers of the TypeScript
 * sources it imports would not resolve: they are tried as `.ts` (which jest transforms) when the `.js` is absent.
 */
function resolveTypeScript(): () => void {
  const loader = Module as unknown as { _resolveFilename: Resolve };
  const original = loader._resolveFilename;
  loader._resolveFilename = (request: string, ...rest: unknown[]): string => {
    try {
      return original.call(Module, request, ...rest);
    } catch (err) {
      if (request.startsWith('.') && request.endsWith('.js')) return original.call(Module, `${request.slice(0, -3)}.ts`, ...rest);
      throw err;
    }
  };
  return () => {
    loader._resolveFilename = original;
  };
}

/**
 * Jest's global teardown: every log line written during the run is scanned for the personal data the tests used
 * (log-scan.ts). Any hit fails the run, naming the file, line, kind and value; the logs are then kept for reading.
 */
export default async function globalTeardown(): Promise<void> {
  const dir = process.env.STORK_TEST_LOG_DIR;
  if (dir === undefined || dir === '') return;
  const started = performance.now();
  const restore = resolveTypeScript();
  const { scanLogs, testPersonalData } = await import('./log-scan.js').finally(restore);
  const result = scanLogs(dir, testPersonalData());
  const ms = Math.round(performance.now() - started);
  if (result.hits.length > 0) {
    const list = result.hits.map((h) => `  ${h.file}:${h.line} ${h.kind} ${h.value}`).join('\n');
    throw new Error(`personal data in the test run's logs (${dir}, kept):\n${list}`);
  }
  process.stderr.write(`log scan: ${result.lines} lines in ${result.files} files, no personal data (${ms} ms)\n`);
  if (process.env.STORK_TEST_LOG_DIR_OWNED === '1') rmSync(dir, { recursive: true, force: true });
}
