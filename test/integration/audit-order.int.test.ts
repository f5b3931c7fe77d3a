import { createHash, randomUUID } from 'node:crypto';
import type { AuditEventInput } from '../../src/ports/audit.js';
import type { ReceivedMessage } from '../../src/ports/message-store.js';
import { SqlMessageStore } from '../../adapters/store/sql-message-store.js';
import { SqlAuditLog } from '../../adapters/store/sql-audit-log.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

/** A queued message as intake builds it: received, then mapped, then validated, in that order. */
function received(i: number, at: Date): ReceivedMessage {
  const id = randomUUID();
  const raw = Buffer.from(`MSH|^~\\&|APP|RX1|STORK|HUB|20261118090000||ADT^A28|ORDER-${i}|P|2.4\r`);
  const base = { at, actor: 'feed:test', messageId: id };
  const audit: AuditEventInput[] = [
    { ...base, action: 'received', details: { channel: 'mllp', bytes: raw.length } },
    { ...base, action: 'mapped', details: { mapping: 'itk-adt' } },
    { ...base, action: 'validated', outcome: 'valid', details: { warnings: [] } },
  ];
  return {
    id,
    receivedAt: at,
    channel: 'mllp',
    raw,
    rawTruncated: false,
    sizeBytes: raw.length,
    sha256: createHash('sha256').update(raw).digest('hex'),
    status: 'not-relevant',
    issues: [],
    senderKey: 'RX1|APP',
    controlId: `ORDER-${randomUUID()}`,
    audit,
  };
}

describe('The audit trail keeps each message’s events in the order they happened', () => {
  test('a batch of many messages: every message reads received, mapped, validated by seq', async () => {
    const at = new Date('2026-11-18T09:00:00Z');
    const batch = Array.from({ length: 60 }, (_, i) => received(i, at));
    const outcomes = await new SqlMessageStore(database.db).recordReceipts(batch);
    expect(outcomes.every((o) => o.kind === 'stored')).toBe(true);
    const log = new SqlAuditLog(database.db);
    for (const m of batch) {
      const events = await log.query({ messageId: m.id, limit: 10 });
      expect(events.map((e) => e.action)).toEqual(['received', 'mapped', 'validated']);
    }
    // Across the batch too, seq follows the order intake handed the events over.
    const all = await database.db.query<{ message_id: string; action: string }>(
      'SELECT message_id, action FROM audit_events WHERE message_id = ANY($1::uuid[]) ORDER BY seq',
      [batch.map((m) => m.id)],
    );
    expect(all.rows.map((r) => `${r.message_id}:${r.action}`)).toEqual(batch.flatMap((m) => m.audit.map((e) => `${m.id}:${e.action}`)));
  });
});
