import { randomBytes, randomUUID } from 'node:crypto';
import { SqlFhirFetchStore } from '../../adapters/store/sql-fhir-fetch-store.js';
import type { ReceivedFhirEvent } from '../../src/ports/fhir-fetch.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Regression (issue 16, SQLSTATE 54000): a signal event's id goes into the unique btree index
 * `fhir_events_resend (sender_key, event_id)`, whose rows PostgreSQL caps at 2704 bytes after compression. The
 * intake refuses ids over 128 characters today (CloudEvents) or 64 (FHIR ids), but the store must not depend on
 * it: a 10,000-character random id is stored (as its SHA-256), a second one is the duplicate, and another sender
 * using the same id is unaffected.
 */
describe('fhir_events: a very long event id', () => {
  let database: TestDatabase;
  let store: SqlFhirFetchStore;
  beforeAll(async () => {
    database = await createTestDatabase();
    store = new SqlFhirFetchStore(database.db);
  });
  afterAll(async () => database.drop());

  const event = (senderKey: string, eventId: string): ReceivedFhirEvent => ({
    id: randomUUID(),
    receivedAt: new Date(),
    apiClient: senderKey.replace(/^\w+:/, ''),
    feedId: 'northgate-fhir',
    senderKey,
    eventId,
    form: 'cloudevents',
    raw: Buffer.from(JSON.stringify({ id: eventId })),
    subjectReference: 'Patient/1',
    status: 'pending',
    audit: [],
  });

  test('is stored, recognised when sent again, and leaves another sender’s identical id alone', async () => {
    // Random base64url: incompressible, far over the index row limit.
    const longId = randomBytes(7_500).toString('base64url');
    expect(longId).toHaveLength(10_000);
    const first = event('feed:northgate-fhir', longId);
    expect(await store.recordEvent(first)).toEqual({ kind: 'stored' });
    const again = await store.recordEvent(event('feed:northgate-fhir', longId));
    expect(again).toEqual({ kind: 'duplicate', original: expect.objectContaining({ id: first.id }) as unknown });
    const other = event('client:northgate-feed', longId);
    expect(await store.recordEvent(other)).toEqual({ kind: 'stored' });
    // A different long id from the first sender is a new event, not a hash collision with the first.
    expect(await store.recordEvent(event('feed:northgate-fhir', `${longId.slice(0, -1)}x`))).toEqual({ kind: 'stored' });
    const rows = await database.db.query<{ id: string; event_id: string; raw: Uint8Array }>(
      `SELECT id, event_id, raw FROM fhir_events WHERE id = ANY($1::uuid[]) ORDER BY received_at`,
      [[first.id, other.id]],
    );
    // The index holds the id's hash; the event's bytes keep it as sent.
    expect(rows.rows.map((r) => r.event_id)).toEqual([expect.stringMatching(/^sha256:[0-9a-f]{64}$/), expect.stringMatching(/^sha256:/)]);
    expect(Buffer.from(rows.rows[0]?.raw ?? []).toString('utf8')).toContain(longId);
    // A short id is stored as sent.
    const short = event('feed:northgate-fhir', 'ce-short');
    await store.recordEvent(short);
    expect((await store.getEvent(short.id))?.eventId).toBe('ce-short');
  });
});
