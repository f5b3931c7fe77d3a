import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, migrationsDir } from '../../adapters/store/migrate.js';
import { SqlMessageStore, storedKeyPart } from '../../adapters/store/sql-message-store.js';
import { SqlNotificationStore } from '../../adapters/store/sql-notification-store.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** The migrations up to and including `last`, copied to a folder of their own. */
function migrationsUpTo(last: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-migrations-'));
  for (const f of readdirSync(migrationsDir)) if (f.slice(0, 3) <= last) cpSync(path.join(migrationsDir, f), path.join(dir, f));
  return dir;
}

/**
 * A store that already holds messages is migrated in place: what was received, the ACK sent and the
 * canonical record must all still be there, read through the stores, after the schema moves them.
 */
describe('Migration 005: message bodies move out of messages, with the data already stored', () => {
  let t: TestDatabase;
  let older: string;
  beforeAll(async () => {
    t = await createTestDatabase(undefined, { migrated: false });
    older = migrationsUpTo('004');
  });
  afterAll(async () => {
    rmSync(older, { recursive: true, force: true });
    await t.drop();
  });

  it("keeps each message's bytes, ACK and canonical record, for the operators, re-sends and the workers", async () => {
    expect(await migrate(t.db, older)).toEqual(['001', '002', '003', '004']);
    const raw = Buffer.from('MSH|^~\\&|MATERNITY|RX1|STORK|HUB|20251115090000||ADT^A28|OLD-1|P|2.4\rPID|1\r', 'utf8');
    const ack = Buffer.from('MSH|^~\\&|STORK|HUB|MATERNITY|RX1|20251115090001||ACK^A28|A1|P|2.4\rMSA|CA|OLD-1\r', 'utf8');
    const canonical = { baby: { sex: 'female' }, source: { controlId: 'OLD-1' } };
    const id = '0b7f6c1e-3a52-4d7e-9c1a-6f1f0f2d9a01';
    await t.db.query(
      `INSERT INTO messages (id, received_at, channel, feed_id, sender_key, control_id, message_type, raw, size_bytes, sha256, status, ack_code, ack, canonical, updated_at)
       VALUES ($1, '2025-11-15T09:00:00Z', 'mllp', 'rx1-maternity', 'RX1|MATERNITY', 'OLD-1', 'ADT^A28', $2, $3, 'x', 'queued', 'CA', $4, $5, '2025-11-15T09:00:00Z')`,
      [id, raw, raw.length, ack, JSON.stringify(canonical)],
    );

    expect(await migrate(t.db, migrationsUpTo('005'))).toEqual(['005']);
    const columns = await t.db.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'messages' AND column_name IN ('raw', 'ack', 'canonical')`,
    );
    expect(columns.rows).toEqual([]);

    // Today's store reads and writes the current schema: apply the migrations after 005 (they keep the data).
    await migrate(t.db);
    const messages = new SqlMessageStore(t.db);
    const stored = await messages.get(id);
    expect(stored?.raw.equals(raw)).toBe(true);
    expect(stored?.canonical).toEqual(canonical);
    // A re-send of the old message gets the ACK it was sent then, byte for byte.
    const [resend] = await messages.recordReceipts([
      {
        id: '0b7f6c1e-3a52-4d7e-9c1a-6f1f0f2d9a02',
        receivedAt: new Date(),
        channel: 'mllp',
        senderKey: 'RX1|MATERNITY',
        controlId: 'OLD-1',
        raw,
        rawTruncated: false,
        sizeBytes: raw.length,
        sha256: 'x',
        status: 'queued',
        issues: [],
        audit: [],
      },
    ]);
    expect(resend).toEqual({ kind: 'duplicate', originalId: id, status: 'queued', ack });
    // The workers still find its canonical record.
    expect(await new SqlNotificationStore(t.db).loadQueued([id])).toEqual([{ id, canonical }]);
  });
});

/**
 * "queue" now means only a BullMQ queue: the columns holding an inbox id are renamed in place, and what was
 * delivered or routed before the upgrade is still read, delivered and listed through the store.
 */
describe('Migration 009: the inbox id columns renamed, with the notifications already stored', () => {
  let t: TestDatabase;
  let older: string;
  beforeAll(async () => {
    t = await createTestDatabase(undefined, { migrated: false });
    older = migrationsUpTo('008');
  });
  afterAll(async () => {
    rmSync(older, { recursive: true, force: true });
    await t.drop();
  });

  it('keeps each inbox item and routed notification under its inbox, and renames the route key', async () => {
    await migrate(t.db, older);
    const raw = Buffer.from('MSH|^~\\&|MATERNITY|RX1|STORK|HUB|20251115090000||ADT^A28|OLD-9|P|2.4\rPID|1\r', 'utf8');
    const messageIds = ['0b7f6c1e-3a52-4d7e-9c1a-6f1f0f2d9b01', '0b7f6c1e-3a52-4d7e-9c1a-6f1f0f2d9b02'];
    // Written as the store wrote them then (today's store also writes columns of later migrations, e.g. 028's key id).
    for (const [i, id] of messageIds.entries()) {
      await t.db.query(
        `INSERT INTO messages (id, received_at, channel, sender_key, control_id, raw_truncated, size_bytes, sha256, status, issues, updated_at)
         VALUES ($1, '2025-11-15T09:00:00Z', 'mllp', 'RX1|MATERNITY', $2, false, $3, 'x', 'processed', '[]', '2025-11-15T09:00:00Z')`,
        [id, `OLD-9-${i}`, raw.length],
      );
      await t.db.query('INSERT INTO message_bodies (message_id, raw) VALUES ($1, $2)', [id, raw]);
    }
    const delivered = '5d0f2c1e-3a52-4d7e-9c1a-6f1f0f2d9b11';
    const review = '5d0f2c1e-3a52-4d7e-9c1a-6f1f0f2d9b12';
    // Both families live where no centre covers the postcode; the second one's record is restricted, so its review
    // decision sends it to the safeguarding review inbox instead (the decision named it `queue` then).
    const route = {
      kind: 'unallocated',
      queue: 'northgate-unallocated',
      localAuthorityId: 'northgate',
      reason: 'no-centre-covers-postcode',
    };
    const permit = { effect: 'permit', ruleId: 'offer-of-support', dataset: 'offer-of-support' };
    const reviewDecision = { effect: 'review', ruleId: 'restricted-record', dataset: 'safeguarding-review', queue: 'safeguarding-review' };
    await t.db.query(
      `INSERT INTO notifications (id, message_id, subject_key, created_at, decision, route, queue, dataset, disclosed, status) VALUES
         ($1, $3, 'nhs:9434765919', '2025-11-15T09:00:01Z', $5, $7, 'northgate-unallocated', 'offer-of-support', '{"baby":{}}', 'delivered'),
         ($2, $4, 'nhs:9434765900', '2025-11-15T09:00:02Z', $6, $7, 'safeguarding-review', 'safeguarding-review', '{"baby":{}}', 'routed')`,
      [delivered, review, messageIds[0], messageIds[1], JSON.stringify(permit), JSON.stringify(reviewDecision), JSON.stringify(route)],
    );
    await t.db.query(
      `INSERT INTO inbox_items (queue, notification_id, status, delivered_at) VALUES ('northgate-unallocated', $1, 'new', '2025-11-15T09:00:03Z')`,
      [delivered],
    );

    expect(await migrate(t.db)).toEqual(expect.arrayContaining(['009']));
    const columns = await t.db.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_name IN ('notifications', 'inbox_items') AND column_name IN ('queue', 'inbox_id') ORDER BY table_name`,
    );
    expect(columns.rows).toEqual([
      { table_name: 'inbox_items', column_name: 'inbox_id' },
      { table_name: 'notifications', column_name: 'inbox_id' },
    ]);
    const stored = await t.db.query<{ route: unknown; decision: unknown }>('SELECT route, decision FROM notifications WHERE id = $1', [
      review,
    ]);
    const asJson = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);
    const { queue: unallocated, ...routeRest } = route;
    expect(asJson(stored.rows[0]?.route)).toEqual({ ...routeRest, inboxId: unallocated });
    const { queue: reviewInbox, ...decisionRest } = reviewDecision;
    expect(asJson(stored.rows[0]?.decision)).toEqual({ ...decisionRest, inbox: reviewInbox });

    const store = new SqlNotificationStore(t.db);
    const inbox = await store.listInbox('northgate-unallocated', { limit: 10 }, 'client:test', new Date());
    expect(inbox.items.map((i) => [i.notificationId, i.inbox])).toEqual([[delivered, 'northgate-unallocated']]);
    expect(await store.undelivered()).toEqual([{ inboxId: 'safeguarding-review', notificationId: review }]);
    expect(await store.deliver('safeguarding-review', [review], new Date())).toEqual([review]);
  });
});

describe('Migration 038: re-send keys over 512 bytes stored before bounded keys take the bounded form', () => {
  let t: TestDatabase;
  let older: string;
  beforeAll(async () => {
    t = await createTestDatabase(undefined, { migrated: false });
    older = migrationsUpTo('035');
  });
  afterAll(async () => {
    rmSync(older, { recursive: true, force: true });
    await t.drop();
  });

  it('re-keys a long sender key and control id, so a re-send matches; a row already holding the bounded key is left', async () => {
    await migrate(t.db, older);
    const longSender = `RX1|${'M'.repeat(900)}`;
    const longControl = 'C'.repeat(700);
    const insert = (id: string, sender: string, control: string) =>
      t.db.query(
        `INSERT INTO messages (id, received_at, channel, sender_key, control_id, raw_truncated, size_bytes, sha256, status, issues, updated_at)
         VALUES ($1, now(), 'mllp', $2, $3, false, 1, 'x', 'processed', '[]', now())`,
        [id, sender, control],
      );
    await insert('0b7f6c1e-3a52-4d7e-9c1a-6f1f0f2d9c01', longSender, 'SHORT-1');
    await insert('0b7f6c1e-3a52-4d7e-9c1a-6f1f0f2d9c02', 'RX1|MATERNITY', longControl);
    // A re-send stored since bounded keys under the bounded form: the old row keeps its key (the index is unique).
    await insert('0b7f6c1e-3a52-4d7e-9c1a-6f1f0f2d9c03', longSender, 'SHORT-2');
    await insert('0b7f6c1e-3a52-4d7e-9c1a-6f1f0f2d9c04', storedKeyPart(longSender) ?? '', 'SHORT-2');
    await migrate(t.db);
    const r = await t.db.query<{ id: string; sender_key: string; control_id: string }>(
      'SELECT id, sender_key, control_id FROM messages ORDER BY id',
    );
    expect(r.rows.map((x) => [x.sender_key, x.control_id])).toEqual([
      [storedKeyPart(longSender), 'SHORT-1'],
      ['RX1|MATERNITY', storedKeyPart(longControl)],
      [longSender, 'SHORT-2'],
      [storedKeyPart(longSender), 'SHORT-2'],
    ]);
  });
});
