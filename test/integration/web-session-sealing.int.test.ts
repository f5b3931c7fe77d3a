import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataCipher, isEnvelope, NO_DATA_KEYS } from '../../adapters/store/data-cipher.js';
import { SqlDataKeyRotation } from '../../adapters/store/sql-data-key-rotation.js';
import { SqlWebSessionStore } from '../../adapters/store/sql-web-session-store.js';
import { dataKeyId, loadDataKeys } from '../../src/config/data-keys.js';
import type { WebSession } from '../../src/ports/web-sessions.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * A web session names the member of staff signed in (name, role, centre): staff data, personal data all the same. It
 * is sealed under the current data key like the families' data, read back through the key, re-keyed by the rotation,
 * and a session sealed under a key no longer configured is simply ended (the person signs in again).
 */
describe('Web sessions: the signed-in person is sealed at rest', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-session-keys-'));
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const f1 = path.join(dir, 'k1.key');
  const f2 = path.join(dir, 'k2.key');
  writeFileSync(f1, k1.toString('base64'));
  writeFileSync(f2, k2.toString('base64'));
  const underK1 = new DataCipher(loadDataKeys({ keyFiles: [f1] }));
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const now = new Date();
  const later = new Date(now.getTime() + 3_600_000);
  const session = (name: string): WebSession => ({
    person: { sub: `sub-${name}`, name, role: 'centre-worker', scope: 'osmondthorpe' },
    csrfToken: randomBytes(32).toString('base64url'),
    lastSeenAt: now,
    expiresAt: later,
    absoluteExpiresAt: later,
  });
  const newId = (): string => createHash('sha256').update(randomBytes(32)).digest('hex');
  const stored = async (id: string): Promise<unknown> => {
    const r = await database.db.query<{ person: unknown }>('SELECT person FROM web_sessions WHERE id_sha256 = $1', [id]);
    const v = r.rows[0]?.person;
    return typeof v === 'string' ? JSON.parse(v) : v;
  };

  test('stored as an envelope under the key, without the name; read back whole; not readable as another row', async () => {
    const store = new SqlWebSessionStore(database.db, underK1);
    const id = newId();
    const s = session('Olivia Sealed-Staffmember');
    await store.create(id, s, now);
    const raw = await stored(id);
    expect(isEnvelope(raw)).toBe(true);
    expect(JSON.stringify(raw)).not.toContain('Sealed-Staffmember');
    expect(JSON.stringify(raw)).not.toContain('osmondthorpe');
    expect((raw as { kid: string }).kid).toBe(dataKeyId(k1));
    expect((await store.get(id, now))?.person).toEqual(s.person);

    // Its envelope copied into another session's row does not open there: that session has ended.
    const other = newId();
    await store.create(other, session('Harry Other'), now);
    await database.db.query('UPDATE web_sessions SET person = $2 WHERE id_sha256 = $1', [other, JSON.stringify(raw)]);
    expect(await store.get(other, now)).toBeUndefined();
    // (The rotation below would count it undecryptable, rightly: it goes, as signing out would remove it.)
    await store.delete(other);
  });

  test('a session written in clear (before a key, or without one) is still read', async () => {
    const id = newId();
    const s = session('Iris Clear');
    await new SqlWebSessionStore(database.db, NO_DATA_KEYS).create(id, s, now);
    expect(isEnvelope(await stored(id))).toBe(false);
    expect((await new SqlWebSessionStore(database.db, underK1).get(id, now))?.person).toEqual(s.person);
  });

  test('the key rotation re-keys sessions; one under a key no longer configured is ended, not an error', async () => {
    const id = newId();
    const s = session('Owen Rotated');
    await new SqlWebSessionStore(database.db, underK1).create(id, s, now);
    const both = new DataCipher(loadDataKeys({ keyFiles: [f2, f1] }));
    const report = await new SqlDataKeyRotation(database.db, both).rotate({ batchSize: 2, actor: 'system:keys-rotate', at: now });
    expect(report.undecryptable).toBe(0);
    expect(((await stored(id)) as { kid: string }).kid).toBe(dataKeyId(k2));
    // After the rotation the old key can go: the session opens under the new key alone.
    const k2Only = new DataCipher(loadDataKeys({ keyFiles: [f2] }));
    expect((await new SqlWebSessionStore(database.db, k2Only).get(id, now))?.person).toEqual(s.person);
    // A hub holding only the old key cannot open it: the person signs in again.
    expect(await new SqlWebSessionStore(database.db, underK1).get(id, now)).toBeUndefined();
  });
});
