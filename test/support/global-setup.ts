import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Jest's global setup: a folder for the whole run's logs (every test hub appends its log lines there, see
 * log-sink.ts), unless STORK_TEST_LOG_DIR names one already. The global teardown scans it for personal data.
 */
export default function globalSetup(): void {
  if (process.env.STORK_TEST_LOG_DIR !== undefined && process.env.STORK_TEST_LOG_DIR !== '') return;
  process.env.STORK_TEST_LOG_DIR = mkdtempSync(path.join(os.tmpdir(), 'stork-test-logs-'));
  process.env.STORK_TEST_LOG_DIR_OWNED = '1';
}
