import { randomBytes, randomUUID } from 'node:crypto';
import { SqlMessageStore } from '../../adapters/store/sql-message-store.js';
import { createLogger } from '../../src/logger.js';
import { ReceiptCommitter } from '../../src/intake/receipt-committer.js';
import type { ReceivedMessage } from '../../src/ports/message-store.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * One sender's message never harms another's: a message whose data fails the group commit it is in (here a NUL
 * in its reason, which PostgreSQL text refuses: SQLSTATE 22P05) fails alone; the messages committed with it are
 * stored and get their own outcome. The real store (PGlite or PostgreSQL) and the intake's own committer.
 */
describe('Group commit with a poison message', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const receipt = (controlId: string, reason: string, senderKey = 'RX9|PAS'): ReceivedMessage => ({
    id: randomUUID(),
    receivedAt: new Date(),
    channel: 'http',
    senderKey,
    controlId,
    raw: Buffer.from(`MSH|^~\\&|PAS|RX9|||||ADT^A28|${controlId}|P|2.4`),
    rawTruncated: false,
    sizeBytes: 40,
    sha256: 'x',
    status: 'quarantined',
    reason,
    issues: [],
    audit: [],
  });

  test('the poison alone is refused by the store; its neighbours in the batch are stored', async () => {
    const committer = new ReceiptCommitter({
      store: new SqlMessageStore(db.db),
      // Every message here is quarantined, so nothing is queued.
      processingJobs: { enqueue: () => Promise.reject(new Error('nothing should be queued')) },
      logger: createLogger('silent'),
    });
    const good = Array.from({ length: 6 }, (_, i) => receipt(`POISON-N${i}`, 'unknown sender'));
    const poison = receipt('POISON-P', 'a reason with a NUL \u0000 in it');
    // A long, incompressible MSH-10 is no poison any more (its hash is indexed): it is stored with the rest.
    const longId = receipt(`POISON-L${randomBytes(3000).toString('base64url')}`, 'unknown sender');
    const batch = [...good.slice(0, 3), poison, longId, ...good.slice(3)];
    // Submitted in one turn, so they make one batch.
    const results = await Promise.allSettled(batch.map((m) => committer.submit(m)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.kind : (r.reason as { code?: string }).code))).toEqual([
      'stored',
      'stored',
      'stored',
      '22P05',
      'stored',
      'stored',
      'stored',
      'stored',
    ]);
    await committer.drained();
    const stored = await db.db.query<{ id: string }>('SELECT id FROM messages WHERE id = ANY($1::uuid[])', [batch.map((m) => m.id)]);
    expect(stored.rows.map((r) => r.id).sort()).toEqual(
      batch
        .filter((m) => m !== poison)
        .map((m) => m.id)
        .sort(),
    );
  });
});
