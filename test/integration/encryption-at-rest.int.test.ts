import { randomBytes, randomUUID } from 'node:crypto';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { fixPseudonymKey } from '../../adapters/store/pseudonym-key.js';
import { SqlAuditLog } from '../../adapters/store/sql-audit-log.js';
import { SqlConsentRegister } from '../../adapters/store/sql-consent-register.js';
import { SqlFamilyStore } from '../../adapters/store/sql-family-store.js';
import { SqlFhirFetchStore } from '../../adapters/store/sql-fhir-fetch-store.js';
import { SqlIgReports } from '../../adapters/store/sql-ig-reports.js';
import { aeAttendance } from '../support/synthetic/ae-attendance.js';
import { bookingMessage, nhsNumberFrom, type ExpectingMotherFixture } from '../support/synthetic/antenatal-booking.js';
import { sendAccepted } from '../support/consent-helpers.js';
import { pseudo } from '../support/data-keys.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main as keysRotate } from '../../adapters/cli/keys-rotate.js';
import { readFileSync } from 'node:fs';
import { DataCipher, isEnvelope, NO_DATA_KEYS } from '../../adapters/store/data-cipher.js';
import { SEALED_COLUMNS, motherIndexRows } from '../../adapters/store/sealed-columns.js';
import { SqlIdentityStore } from '../../adapters/store/sql-identity-store.js';
import { migrationsDir } from '../../adapters/store/migrate.js';
import type { BirthNotification } from '../../src/domain/birth-notification.js';
import { pollUntil } from '../support/poll.js';
import { SqlDataKeyRotation, type KeyRotationReport } from '../../adapters/store/sql-data-key-rotation.js';
import { SqlMessageStore } from '../../adapters/store/sql-message-store.js';
import { dataKeyId, loadDataKeys } from '../../src/config/data-keys.js';
import { repoRoot } from '../../src/config/env.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';

/** Collects what a CLI writes. */
function output(): { text: string; write(s: string): boolean } {
  return {
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

describe('Encryption at rest: message bytes and ACKs, and the identifiable records (issue 16 item 3)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-data-keys-'));
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const f1 = path.join(dir, 'k1.key');
  const f2 = path.join(dir, 'k2.key');
  writeFileSync(f1, k1.toString('base64'));
  writeFileSync(f2, k2.toString('base64'));
  const MOTHER_MRN = 'MUMRN7161616';
  const described = describeNewborn({
    seed: 1616,
    sendingFacility: 'RX1',
    sendingApplication: 'MATERNITY',
    controlId: 'ENC-1',
    postcodes: ['LS9 7AB'],
    messageTime: new Date(),
  });
  // The mother's hospital number beside her NHS number (NK1-33), for the A40/A24 search by local identifier.
  const motherNhs = described.mother?.nhsNumber ?? '';
  const baby = {
    ...described,
    text: described.text.replace(`|${motherNhs}^^^NHS^NH\r`, `|${motherNhs}^^^NHS^NH~${MOTHER_MRN}^^^RX1^MR\r`),
  };
  const field = (segment: string, n: number): string =>
    baby.text
      .split('\r')
      .find((l) => l.startsWith(`${segment}|`))
      ?.split('|')[n] ?? '';
  /** What identifies the baby and mother: names, dates of birth, postcode, address line, phones, the mother's MRN. */
  const identifying = (): string[] => [
    baby.baby.family,
    baby.baby.given,
    baby.baby.birthDate,
    baby.baby.postcode,
    baby.baby.addressLines[0] ?? '',
    baby.mother?.family ?? '',
    baby.mother?.given ?? '',
    baby.mother?.birthDate ?? '',
    field('PID', 13),
    field('NK1', 5),
    MOTHER_MRN,
  ];
  const legacyId = '0b7f6c1e-3a52-4d7e-9c1a-6f1f0f2d9a16';
  const legacyRaw = Buffer.from(
    'MSH|^~\\&|MATERNITY|RX1|STORK|HUB|20251115090000||ADT^A28|OLD-ENC|P|2.4\rPID|1||9434765919^^^NHS^NH||PLAINTEXT^OLDROW\r',
  );
  let t: TestHub;
  let messageId = '';
  let firstAck = '';

  beforeAll(async () => {
    t = await startTestHub({ env: { STORK_DATA_KEY_FILES: f1 } });
  });
  afterAll(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (): Promise<{ id: string; ack: string }> => {
    const res = await api(t.http, 'demo-northgate-feed-key', '/v1/hl7v2', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: baby.text,
    });
    expect(res.status).toBe(200);
    return { id: res.headers.get('x-stork-message-id') ?? '', ack: await res.text() };
  };
  const body = async (id: string): Promise<{ raw: Buffer; ack: Buffer | null; key_id: string | null }> => {
    const r = await t.database.db.query<{ raw: Uint8Array; ack: Uint8Array | null; key_id: string | null }>(
      'SELECT raw, ack, key_id FROM message_bodies WHERE message_id = $1',
      [id],
    );
    const row = r.rows[0];
    if (!row) throw new Error(`no body for ${id}`);
    return { raw: Buffer.from(row.raw), ack: row.ack ? Buffer.from(row.ack) : null, key_id: row.key_id };
  };
  const personal = (): string[] => [
    baby.baby.nhsNumber,
    baby.baby.family,
    baby.baby.given,
    baby.baby.postcode,
    baby.mother?.nhsNumber ?? '',
  ];

  test('the bytes and ACK in the table are ciphertext under the key; the API returns the message; a re-send gets its ACK', async () => {
    ({ id: messageId, ack: firstAck } = await post());
    const stored = await body(messageId);
    expect(stored.key_id).toBe(dataKeyId(k1));
    for (const value of [...personal(), 'MSH|', 'PID|']) expect(stored.raw.includes(Buffer.from(value))).toBe(false);
    expect(stored.ack?.includes(Buffer.from('MSA|'))).toBe(false);

    const read = await api(t.http, 'demo-admin-key', `/v1/messages/${messageId}`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { raw: string }).raw).toBe(baby.text);
    // A re-send (same sender, same MSH-10) is answered with the ACK stored for the original, decrypted.
    const again = await post();
    expect(again).toEqual({ id: messageId, ack: firstAck });

    // Neither key, nor the personal data of the message, in any log line.
    for (const secret of [k1.toString('base64'), k2.toString('base64'), k1.toString('hex'), ...personal()]) {
      expect(t.sink.text).not.toContain(secret);
    }
    expect(t.sink.text).toContain(dataKeyId(k1));
  });

  /** Every value of every identifiable JSON column (migration 029), with its place. */
  const sealedValues = async (): Promise<{ where: string; row: string; stored: unknown }[]> => {
    const out: { where: string; row: string; stored: unknown }[] = [];
    for (const c of SEALED_COLUMNS) {
      const r = await t.database.db.query<{ k: string; v: unknown }>(
        `SELECT ${c.key} AS k, ${c.column} AS v FROM ${c.table} WHERE ${c.column} IS NOT NULL`,
      );
      for (const x of r.rows)
        out.push({ where: `${c.table}.${c.column}`, row: x.k, stored: typeof x.v === 'string' ? JSON.parse(x.v) : x.v });
    }
    return out;
  };
  let notificationId = '';
  let familyId = '';
  const centreItem = async (): Promise<{ record?: { baby: { name?: { family?: string }; birthDate?: string } } }> => {
    const res = await api(t.http, 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/notifications/${notificationId}`);
    expect(res.status).toBe(200);
    return (await res.json()) as { record?: { baby: { name?: { family?: string }; birthDate?: string } } };
  };
  const familyView = async (): Promise<string> => {
    const res = await api(t.http, 'demo-osmondthorpe-key', `/v1/centres/osmondthorpe/families/${familyId}`);
    expect(res.status).toBe(200);
    return res.text();
  };
  const mothersNotifications = async (cipher: DataCipher): Promise<string[]> =>
    new SqlIdentityStore(t.database.db, cipher).identityTransaction((tx) =>
      tx.notificationsOfMother(undefined, [{ value: MOTHER_MRN, assigner: 'RX1' }]),
    );

  test('the identifiable records are ciphertext in every column, bound to their row; the API and the A40/A24 search still find them', async () => {
    notificationId = await pollUntil(async () => {
      const r = await t.database.db.query<{ id: string }>(`SELECT id FROM notifications WHERE message_id = $1 AND status = 'delivered'`, [
        messageId,
      ]);
      return r.rows[0]?.id;
    }, 'the notification delivered');
    familyId = await pollUntil(async () => {
      const r = await t.database.db.query<{ family_id: string }>('SELECT family_id FROM family_links WHERE notification_id = $1', [
        notificationId,
      ]);
      return r.rows[0]?.family_id;
    }, 'the family');
    const values = await sealedValues();
    // Every place of the inventory holds a value of this birth, each an envelope under the key, none in clear.
    expect(new Set(values.map((v) => v.where))).toEqual(
      new Set([
        'message_bodies.canonical',
        'notifications.disclosed',
        'families.lead',
        'families.address',
        'families.gp',
        'family_children.record',
      ]),
    );
    for (const v of values)
      expect({ where: v.where, kid: isEnvelope(v.stored) ? v.stored.kid : 'clear' }).toEqual({ where: v.where, kid: dataKeyId(k1) });
    const rawRows = JSON.stringify(values);
    for (const value of identifying()) {
      expect(value.length).toBeGreaterThan(3);
      expect(rawRows).not.toContain(value);
    }
    // The blind index holds HMACs, not the identifier.
    const index = await t.database.db.query<{ hash: string; key_id: string }>(
      'SELECT hash, key_id FROM mother_identifier_index WHERE notification_id = $1',
      [notificationId],
    );
    expect(index.rows.map((r) => r.key_id)).toEqual([dataKeyId(k1), dataKeyId(k1)]);
    expect(JSON.stringify(index.rows)).not.toContain(MOTHER_MRN);

    // The centre's item, its family view and the IG lead's explanation still show the record, decrypted.
    const item = await centreItem();
    expect(item.record?.baby.birthDate).toBe(baby.baby.birthDate);
    expect(JSON.stringify(item)).toContain(baby.baby.postcode);
    const family = await familyView();
    expect(family).toContain(baby.baby.postcode);
    expect(family).toContain(baby.baby.birthDate);
    const why = await api(t.http, 'demo-ig-key', `/v1/notifications/${notificationId}/decision`);
    expect(why.status).toBe(200);
    // The A40/A24 search by the mother's local identifier finds the notification through the blind index.
    expect(await mothersNotifications(new DataCipher(loadDataKeys({ keyFiles: [f1] })))).toEqual([notificationId]);
    const k1Only = new SqlIdentityStore(t.database.db, new DataCipher(loadDataKeys({ keyFiles: [f1] })));
    // Without the assigner the value alone matches (as `@>` did); another value matches nothing.
    expect(await k1Only.identityTransaction((tx) => tx.notificationsOfMother(undefined, [{ value: MOTHER_MRN }]))).toEqual([
      notificationId,
    ]);
    expect(await k1Only.identityTransaction((tx) => tx.notificationsOfMother(undefined, [{ value: 'MUMRN0000000' }]))).toEqual([]);
    // (Dates of birth aside: the baby's is today's, as every log line's time is; the teardown's scan covers them.)
    for (const value of identifying().filter((v) => !/^\d{4}-\d\d-\d\d$/.test(v))) expect(t.sink.text).not.toContain(value);

    // A value copied onto another row (or another column) does not decrypt there: its row is in its associated data.
    const lead = values.find((v) => v.where === 'families.lead');
    const other = '00000000-0000-4000-8000-0000000000aa';
    const cipher = new DataCipher(loadDataKeys({ keyFiles: [f1] }));
    expect(() => cipher.openJson(lead?.stored, { table: 'families', column: 'lead', row: other })).toThrow(
      /fails authentication under data key/,
    );
    expect(() => cipher.openJson(lead?.stored, { table: 'families', column: 'address', row: familyId })).toThrow(/fails authentication/);
    expect(cipher.openJson(lead?.stored, { table: 'families', column: 'lead', row: familyId })).toMatchObject({
      name: { family: expect.any(String) as unknown },
    });
  });

  test('records written in clear (before a key, or before migration 029) still read, and are found by the identifier search', async () => {
    // As a hub without a key, or before migration 029, wrote them: this birth's values decrypted back into the columns.
    const cipher = new DataCipher(loadDataKeys({ keyFiles: [f1] }));
    for (const v of (await sealedValues()).filter(
      (x) => x.row.includes(notificationId) || x.row.includes(messageId) || x.row.includes(familyId),
    )) {
      const c = SEALED_COLUMNS.find((x) => `${x.table}.${x.column}` === v.where);
      if (c === undefined) throw new Error(v.where);
      await t.database.db.query(`UPDATE ${c.table} SET ${c.column} = $2::jsonb WHERE ${c.key} = $1`, [
        v.row,
        JSON.stringify(cipher.openJson(v.stored, c.place(v.row))),
      ]);
    }
    expect(JSON.stringify(await sealedValues())).toContain(baby.baby.postcode);
    // Migration 029's own backfill computes the clear index rows in SQL: the same hashes the hub computes.
    const migration = readFileSync(path.join(migrationsDir, '029_encrypted_records.sql'), 'utf8');
    const backfill = /WITH ids AS[\s\S]*?FROM texts;/.exec(migration)?.[0];
    expect(backfill).toBeDefined();
    await t.database.db.query('DELETE FROM mother_identifier_index');
    await t.database.db.query(backfill ?? '');
    const record = (
      await t.database.db.query<{ canonical: BirthNotification }>('SELECT canonical FROM message_bodies WHERE message_id = $1', [messageId])
    ).rows[0]?.canonical;
    const expected = motherIndexRows(NO_DATA_KEYS, [
      { notificationId, record: typeof record === 'string' ? (JSON.parse(record) as BirthNotification) : record },
    ]);
    const backfilled = await t.database.db.query<{ hash: string; notification_id: string; key_id: string }>(
      'SELECT hash, notification_id, key_id FROM mother_identifier_index ORDER BY hash',
    );
    expect(backfilled.rows).toEqual([...expected].sort((a, b) => a.hash.localeCompare(b.hash)));
    expect(backfilled.rows).toHaveLength(2);
    expect(await mothersNotifications(cipher)).toEqual([notificationId]);
    expect((await centreItem()).record?.baby.birthDate).toBe(baby.baby.birthDate);
    expect(await familyView()).toContain(baby.baby.postcode);
  });

  test('a row stored in clear still reads; rotation encrypts it and re-encrypts the rest under the new key, which alone then reads them', async () => {
    await t.database.db.query(
      `INSERT INTO messages (id, received_at, channel, feed_id, sender_key, control_id, size_bytes, sha256, status, updated_at)
       VALUES ($1, now(), 'mllp', 'northgate-maternity', 'RX1|MATERNITY', 'OLD-ENC', $2, 'x', 'processed', now())`,
      [legacyId, legacyRaw.length],
    );
    await t.database.db.query('INSERT INTO message_bodies (message_id, raw, ack) VALUES ($1, $2, $3)', [
      legacyId,
      legacyRaw,
      Buffer.from('MSA|AA|OLD-ENC'),
    ]);
    const read = await api(t.http, 'demo-admin-key', `/v1/messages/${legacyId}`);
    expect(((await read.json()) as { raw: string }).raw).toBe(legacyRaw.toString('utf8'));

    // New key first, old key kept: the hub would be restarted so, then the rotation run.
    const rotate = async (): Promise<KeyRotationReport> => {
      if (t.database.url === undefined) {
        const cipher = new DataCipher(loadDataKeys({ keyFiles: [f2, f1] }));
        return new SqlDataKeyRotation(t.database.db, cipher).rotate({ batchSize: 1, actor: 'system:keys-rotate', at: new Date() });
      }
      const out = output();
      const err = output();
      const env = { DATABASE_URL: t.database.url, STORK_DATA_KEY_FILES: `${f2},${f1}`, STORK_CONFIG_DIR: repoRoot };
      expect(await keysRotate(['--batch-size', '1', '--json'], out, err, env)).toBe(0);
      for (const secret of [k1.toString('base64'), k2.toString('base64')]) expect(out.text + err.text).not.toContain(secret);
      return JSON.parse(out.text) as KeyRotationReport;
    };
    const bodies = Number((await t.database.db.query<{ n: string }>('SELECT count(*) AS n FROM message_bodies')).rows[0]?.n);
    const before = await sealedValues();
    const clear = before.filter((v) => !isEnvelope(v.stored)).length;
    // The job counts rows (a family's lead, address and GP are one row).
    const rowsOf = (vs: typeof before): number => new Set(vs.map((v) => `${v.where.split('.')[0]}:${v.row}`)).size;
    const clearRows = rowsOf(before.filter((v) => !isEnvelope(v.stored)));
    const indexRows = Number((await t.database.db.query<{ n: string }>('SELECT count(*) AS n FROM mother_identifier_index')).rows[0]?.n);
    expect(clear).toBe(6);
    const held = bodies + before.length + indexRows;
    const first = await rotate();
    expect(first).toMatchObject({
      currentKeyId: dataKeyId(k2),
      encrypted: 1 + clearRows,
      reencrypted: bodies - 1 + rowsOf(before) - clearRows,
      changedMeanwhile: 0,
      undecryptable: 0,
      reindexed: 1,
    });
    // Nothing is left in clear or under the old key, anywhere.
    expect(first.remainingByKey).toEqual({ [dataKeyId(k2)]: held });
    expect(first.remainingByColumn['families.lead']).toEqual({ [dataKeyId(k2)]: 1 });
    expect(first.remainingByColumn.mother_identifier_index).toEqual({ [dataKeyId(k2)]: 2 });
    const after = await sealedValues();
    for (const value of identifying()) expect(JSON.stringify(after)).not.toContain(value);
    // Resumable and idempotent: a second run finds nothing left to do.
    expect(await rotate()).toMatchObject({ encrypted: 0, reencrypted: 0, reindexed: 0, remainingByKey: { [dataKeyId(k2)]: held } });
    const legacy = await body(legacyId);
    expect(legacy.key_id).toBe(dataKeyId(k2));
    expect(legacy.raw.includes(Buffer.from('PLAINTEXT'))).toBe(false);

    // The old key may now be removed: the new key alone reads everything; the old alone reads nothing.
    const onlyNew = new SqlMessageStore(t.database.db, new DataCipher(loadDataKeys({ keyFiles: [f2] })));
    expect((await onlyNew.get(messageId))?.raw.toString('utf8')).toBe(baby.text);
    expect((await onlyNew.get(legacyId))?.raw.equals(legacyRaw)).toBe(true);
    const onlyOld = new SqlMessageStore(t.database.db, new DataCipher(loadDataKeys({ keyFiles: [f1] })));
    await expect(onlyOld.get(messageId)).rejects.toThrow(
      `is encrypted under data key ${dataKeyId(k2)}, which is not among STORK_DATA_KEY_FILES`,
    );
    // The records too: every value opens with the new key alone, and the identifier search works with it alone.
    const k2Only = new DataCipher(loadDataKeys({ keyFiles: [f2] }));
    for (const v of after) {
      const c = SEALED_COLUMNS.find((x) => `${x.table}.${x.column}` === v.where);
      expect(() => k2Only.openJson(v.stored, c?.place(v.row) ?? { table: '', column: '', row: '' })).not.toThrow();
    }
    expect(await mothersNotifications(k2Only)).toEqual([notificationId]);
    expect(await mothersNotifications(new DataCipher(loadDataKeys({ keyFiles: [f1] })))).toEqual([]);

    // One audit event per run, counts and key ids only.
    const audited = await t.database.db.query<{ actor: string; outcome: string; details: Record<string, unknown> }>(
      "SELECT actor, outcome, details FROM audit_events WHERE action = 'keys-rotated' ORDER BY seq",
    );
    expect(audited.rows.map((r) => [r.actor, r.outcome, r.details.encrypted, r.details.reencrypted])).toEqual([
      ['system:keys-rotate', 'done', first.encrypted, first.reencrypted],
      ['system:keys-rotate', 'done', 0, 0],
    ]);
    expect(JSON.stringify(audited.rows)).not.toContain(k2.toString('base64'));

    // A ciphertext copied onto another row does not decrypt there (the row is in its associated data).
    await t.database.db.query(
      'UPDATE message_bodies SET raw = (SELECT raw FROM message_bodies WHERE message_id = $1) WHERE message_id = $2',
      [messageId, legacyId],
    );
    await expect(onlyNew.get(legacyId)).rejects.toThrow(/fails authentication under data key/);
  });
});

/**
 * Pseudonymised lookup keys (migration 038): after a realistic flow (a birth placing the mother in a family, her
 * consent, her antenatal booking, an A&E attendance firing a trigger, a FHIR event), a dump of every table holding
 * NHS numbers and identifying lookup keys holds none of the test's NHS numbers, dates of birth or phones, while the
 * lookups still work. Rows written in clear before a key still match, and `keys:rotate` converts them.
 */
describe('Pseudonymised NHS numbers and lookup keys (migration 038)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-pseudonyms-'));
  const k3 = randomBytes(32);
  const f3 = path.join(dir, 'k3.key');
  writeFileSync(f3, k3.toString('base64'));
  const cipher = new DataCipher(loadDataKeys({ keyFiles: [f3] }));
  let t: TestHub;
  let client: MllpClient;
  const born = describeNewborn({
    seed: 3838,
    sendingFacility: 'RX1',
    sendingApplication: 'MATERNITY',
    controlId: 'PSEUDO-1',
    postcodes: ['LS9 7AB'],
    messageTime: new Date(),
  });
  const mother = born.mother;
  if (mother === undefined) throw new Error('the synthetic birth has no mother');
  const phone = born.text
    .split('\r')
    .find((l) => l.startsWith('NK1|'))
    ?.split('|')[5];
  const eventNhs = nhsNumberFrom(999_300_111);
  const legacyNhs = nhsNumberFrom(999_300_222);
  const legacyBabyNhs = nhsNumberFrom(999_300_333);
  const secrets = (): string[] => [
    born.baby.nhsNumber,
    mother.nhsNumber,
    eventNhs,
    mother.birthDate,
    mother.birthDate.replaceAll('-', ''),
    ...(phone !== undefined && phone !== '' ? [phone.split('^')[0] ?? phone] : []),
  ];
  const legacySecrets = [legacyNhs, legacyBabyNhs, '19770707'];

  beforeAll(async () => {
    t = await startTestHub({ env: { STORK_DATA_KEY_FILES: f3 } });
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    await fixPseudonymKey(t.database.db, cipher);
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every row of the tables that hold NHS numbers and lookup keys, as text (bytea as its escaped bytes). */
  const dump = async (): Promise<string> => {
    const tables = [
      'notifications',
      'identity_keys',
      'consents',
      'families',
      'family_block_keys',
      'family_children',
      'antenatal_notifications',
      'trigger_firings',
      'fhir_events',
    ];
    const parts: string[] = [];
    for (const table of tables) {
      const r = await t.database.db.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM ${table} t`);
      parts.push(...r.rows.map((x) => x.row));
    }
    const raw = await t.database.db.query<{ raw: string }>(`SELECT encode(raw, 'escape') AS raw FROM fhir_events WHERE raw IS NOT NULL`);
    parts.push(...raw.rows.map((x) => x.raw));
    const audit = await t.database.db.query<{ s: string }>(
      'SELECT subject_nhs_number AS s FROM audit_events WHERE subject_nhs_number IS NOT NULL',
    );
    parts.push(...audit.rows.map((x) => x.s));
    return parts.join('\n');
  };

  test('after a birth, a consent, a family, a booking, a trigger and a FHIR event, no NHS number, DOB or phone is held in clear', async () => {
    expect((await t.database.db.query<{ key_id: string }>('SELECT key_id FROM pseudonym_key')).rows).toEqual([{ key_id: dataKeyId(k3) }]);
    await sendAccepted(client, born.text);
    // The birth reaches its centre and places the mother, as lead of a family, by her NHS number.
    await pollUntil(async () => {
      const r = await t.database.db.query(
        `SELECT 1 FROM families f JOIN family_children c ON c.family_id = f.id WHERE f.lead_nhs_number = $1`,
        [pseudo(mother.nhsNumber, cipher)],
      );
      return r.rows.length > 0 ? true : undefined;
    }, 'her family with its child');
    // Her consent to antenatal contact, then her booking: delivered, found by her (pseudonymised) number.
    const consent = await api(t.http, 'demo-northgate-feed-key', '/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'consent',
        scope: 'antenatal',
        recipient: 'any',
        source: 'antenatal-booking',
        motherNhsNumber: mother.nhsNumber,
      }),
    });
    expect(consent.status).toBe(201);
    const expecting: ExpectingMotherFixture = {
      nhs: mother.nhsNumber,
      family: mother.family,
      given: mother.given,
      dob: mother.birthDate.replaceAll('-', ''),
      postcode: 'LS9 7AB',
    };
    await sendAccepted(client, bookingMessage(expecting, { controlId: 'PSEUDO-ANC', dueDate: '20270410', pregnancyId: 'PX' }));
    await pollUntil(async () => {
      const r = await t.database.db.query<{ status: string }>('SELECT status FROM antenatal_notifications WHERE mother_nhs_number = $1', [
        pseudo(mother.nhsNumber, cipher),
      ]);
      return r.rows[0]?.status === 'delivered' ? true : undefined;
    }, 'the booking delivered');
    // An A&E attendance of the mother fires the early-help trigger for her family.
    await sendAccepted(
      client,
      aeAttendance({
        controlId: 'PSEUDO-AE',
        nhsNumber: mother.nhsNumber,
        family: mother.family,
        given: mother.given,
        birthDate: mother.birthDate.replaceAll('-', ''),
        diagnoses: ['F10.0^Acute alcohol intoxication^I10'],
      }),
    );
    await pollUntil(async () => {
      const r = await t.database.db.query('SELECT 1 FROM trigger_firings WHERE subject_nhs_number = $1', [
        pseudo(mother.nhsNumber, cipher),
      ]);
      return r.rows.length > 0 ? true : undefined;
    }, 'the trigger fired');
    // A FHIR signal event as intake stores it: its body encrypted, its subject sealed.
    const fetches = new SqlFhirFetchStore(t.database.db, cipher);
    const eventId = randomUUID();
    const body = Buffer.from(JSON.stringify({ specversion: '1.0', id: 'ev-pseudo', data: { nhsNumber: eventNhs, patient: 'Patient/77' } }));
    expect(
      await fetches.recordEvent({
        id: eventId,
        receivedAt: new Date(),
        apiClient: 'northgate-fhir',
        feedId: 'northgate-fhir',
        senderKey: 'feed:northgate-fhir',
        eventId: 'ev-pseudo',
        form: 'cloudevents',
        raw: body,
        subjectReference: 'Patient/77',
        subjectNhsNumber: eventNhs,
        status: 'pending',
        audit: [],
      }),
    ).toEqual({ kind: 'stored' });
    const claimed = await fetches.claimDueEvents(new Date(Date.now() + 1000), 60_000, 10);
    expect(claimed.find((c) => c.id === eventId)).toMatchObject({ subjectNhsNumber: eventNhs, subjectReference: 'Patient/77' });

    const text = await dump();
    for (const secret of secrets()) expect(text).not.toContain(secret);
    expect(text).toContain(pseudo(mother.nhsNumber, cipher));

    // The lookups still work through the stores: the consent register, the audit search, the IG report.
    const register = new SqlConsentRegister(t.database.db, cipher);
    const records = await register.transaction((tx) => tx.recordsAbout([mother.nhsNumber]));
    expect(records.map((r) => r.motherNhsNumber)).toEqual([mother.nhsNumber]);
    const audit = await new SqlAuditLog(t.database.db, cipher).searchEvents({ subject: born.baby.nhsNumber, limit: 500 });
    expect(audit.some((e) => e.action === 'delivered' && e.subjectNhsNumber === born.baby.nhsNumber)).toBe(true);
    const report = await new SqlIgReports(t.database.db, cipher).subjectEvents(mother.nhsNumber, {});
    expect(report.notifications).toBe(1);
  });

  test('rows written in clear before a key still match; keys:rotate converts them, and never rewrites the audit trail', async () => {
    const db = t.database.db;
    const familyId = randomUUID();
    const consentId = randomUUID();
    const auditBefore = (await db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_events WHERE subject_nhs_number = $1`, [legacyNhs]))
      .rows[0]?.n;
    // As a hub with no data key wrote them: the numbers and keys in clear.
    await db.query(
      `INSERT INTO families (id, created_at, updated_at, lead, lead_nhs_number, origin) VALUES ($1, now(), now(), $2::jsonb, $3, 'register-import')`,
      [familyId, JSON.stringify({ nhsNumber: legacyNhs, birthDate: '1977-07-07' }), legacyNhs],
    );
    await db.query(`INSERT INTO family_block_keys (key, family_id) VALUES ('dob:19770707', $1), ('open:dob:19770707', $1)`, [familyId]);
    await db.query(`INSERT INTO family_children (family_id, child_key, record, added_at) VALUES ($1, $2, $3::jsonb, now())`, [
      familyId,
      `nhs:${legacyBabyNhs}`,
      JSON.stringify({ nhsNumber: legacyBabyNhs }),
    ]);
    await db.query(
      `INSERT INTO consents (id, recorded_at, recorded_by, kind, scope, recipient, source, mother_nhs_number)
       VALUES ($1, now(), 'user:legacy', 'objection', 'antenatal', 'any', 'midwife', $2)`,
      [consentId, legacyNhs],
    );
    await db.query(
      `INSERT INTO identity_keys (key, subject_key, message_id, created_at)
      SELECT $1, $2, id, now() FROM messages LIMIT 1`,
      [`nhs:${legacyNhs}`, `nhs:${legacyNhs}x`],
    );
    await db.query(
      `INSERT INTO audit_events (at, actor, action, subject_nhs_number, details) VALUES (now(), 'system:legacy', 'read', $1, '{}'::jsonb)`,
      [legacyNhs],
    );
    // Found in clear through both forms.
    const families = new SqlFamilyStore(db, cipher);
    expect((await families.transaction((tx) => tx.familiesByLeadNhsNumber([legacyNhs]))).map((f) => [f.id, f.leadNhsNumber])).toEqual([
      [familyId, legacyNhs],
    ]);
    const register = new SqlConsentRegister(db, cipher);
    expect((await register.transaction((tx) => tx.recordsAbout([legacyNhs]))).map((r) => r.id)).toEqual([consentId]);

    const rotation = new SqlDataKeyRotation(db, cipher);
    const report = await rotation.rotate({ batchSize: 2, actor: 'system:keys-rotate', at: new Date() });
    expect(report.pseudonymised).toBeGreaterThanOrEqual(5);
    expect(report.pseudonymConflicts).toBe(0);
    const text = await dump();
    // The audit trail is append-only: the old event keeps what it held; every other table is converted.
    for (const secret of legacySecrets) expect(text.replace(new RegExp(`^${legacyNhs}$`, 'gm'), '')).not.toContain(secret);
    expect(
      Number(
        (await db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_events WHERE subject_nhs_number = $1`, [legacyNhs])).rows[0]?.n,
      ),
    ).toBe(Number(auditBefore) + 1);
    // Still found, and the consent shows its number from its sealed subjects.
    expect((await families.transaction((tx) => tx.familiesByLeadNhsNumber([legacyNhs]))).map((f) => [f.id, f.leadNhsNumber])).toEqual([
      [familyId, legacyNhs],
    ]);
    const again = await register.transaction((tx) => tx.get(consentId));
    expect(again?.motherNhsNumber).toBe(legacyNhs);
    expect(await new SqlAuditLog(db, cipher).query({ subject: legacyNhs, limit: 10 })).toEqual([
      expect.objectContaining({ actor: 'system:legacy', subjectNhsNumber: legacyNhs }),
    ]);
    // Resumable and idempotent: a second run has nothing left to convert.
    expect(await rotation.rotate({ batchSize: 2, actor: 'system:keys-rotate', at: new Date() })).toMatchObject({ pseudonymised: 0 });
  });

  test('start-up stops, naming the key id, when the key the pseudonyms derive from is no longer configured', async () => {
    const other = new DataCipher(loadDataKeys({ keyFiles: [path.join(dir, 'k3.key')] }));
    await expect(fixPseudonymKey(t.database.db, other)).resolves.toBe(dataKeyId(k3));
    writeFileSync(path.join(dir, 'k4.key'), randomBytes(32).toString('base64'));
    const without = new DataCipher(loadDataKeys({ keyFiles: [path.join(dir, 'k4.key')] }));
    await expect(fixPseudonymKey(t.database.db, without)).rejects.toThrow(
      `pseudonymised under data key ${dataKeyId(k3)}, which is not among STORK_DATA_KEY_FILES`,
    );
  });
});
