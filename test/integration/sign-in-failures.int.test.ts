import { SignInFailureAudit } from '../../adapters/http/sign-in-failures.js';
import { SqlAuditLog } from '../../adapters/store/sql-audit-log.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { pollUntil } from '../support/poll.js';

/**
 * Failed sign-ins are audited without letting a flood of them flood the audit: per kind, the first at once, then
 * at most one event a window, each counting the failures since the previous event.
 */
describe('Failed sign-ins in the audit, rate-limited per kind', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  test('1,000 unknown keys in a minute are one event; the next minute’s first failure writes the count of the rest', async () => {
    let now = new Date('2026-11-29T10:00:00Z');
    const audit = new SqlAuditLog(database.db);
    const failures = new SignInFailureAudit(audit, createLogger('silent'), () => now, 60_000);
    for (let i = 0; i < 1000; i++) {
      failures.record('api-unknown-key', { remoteAddress: '192.0.2.7' });
      now = new Date(now.getTime() + 50); // 1,000 in 50 s
    }
    failures.record('web-refused', { reason: 'Your account has no Stork role. Ask your administrator for access.' });
    const rows = () => audit.searchEvents({ action: 'sign-in-failed', limit: 100 });
    const first = await pollUntil(async () => ((await rows()).length === 2 ? await rows() : undefined), 'two events');
    expect(first.map((e) => [e.outcome, e.details?.failures])).toEqual([
      ['api-unknown-key', 1],
      ['web-refused', 1],
    ]);
    expect(first[0]).toMatchObject({ actor: 'client:unknown', details: { channel: 'api', remoteAddress: '192.0.2.7', windowSeconds: 60 } });
    expect(first[1]).toMatchObject({ actor: 'user:unknown', details: { channel: 'web' } });

    now = new Date('2026-11-29T10:01:00.001Z');
    failures.record('api-unknown-key', {});
    const after = await pollUntil(async () => ((await rows()).length === 3 ? await rows() : undefined), 'the third event');
    expect(after[2]).toMatchObject({
      outcome: 'api-unknown-key',
      details: { failures: 1000, since: '2026-11-29T10:00:00.000Z' },
    });
  });
});
