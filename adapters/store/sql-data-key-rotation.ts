import { createHash } from 'node:crypto';
import type { Database } from '../../src/ports/database.js';
import { insertAuditEvents } from './sql-helpers.js';
import { DataDecryptionError, envelopeKeyId, isPseudonym, type DataCipher } from './data-cipher.js';
import { fhirEventPlace } from './sql-fhir-fetch-store.js';
import { storedBlockKey } from './sql-family-store.js';
import { fixPseudonymKey } from './pseudonym-key.js';
import type { BirthNotification } from '../../src/domain/birth-notification.js';
import { bodyPlace } from './sql-message-store.js';
import { sealedPlace, motherIndexRows } from './sealed-columns.js';
import { currentRecord } from './sql-notification-rows.js';
import type { DataPlace } from './data-cipher.js';

/** What one `keys:rotate` run did (counts and key ids only: never a value or a key). */
export interface KeyRotationReport {
  at: string;
  /** The key everything is now written under. */
  currentKeyId: string;
  /** Rows re-encrypted from an older key to the current one. */
  reencrypted: number;
  /** Rows stored in clear (before encryption, or by a hub without a key) now encrypted. */
  encrypted: number;
  /** Rows changed while the run read them (purged by retention, or rotated by another run): left for the next run. */
  changedMeanwhile: number;
  /** Notifications whose mother's blind index rows were rebuilt under the current key. */
  reindexed: number;
  /** Rows whose key is not configured or whose ciphertext fails authentication: left as they are. */
  undecryptable: number;
  /**
   * Rows whose NHS numbers and lookup keys were stored in clear, now stored as pseudonyms (migration 038), and FHIR
   * event bodies and consents' and events' subjects sealed; audit events are never rewritten.
   */
  pseudonymised: number;
  /** Rows left in clear because their pseudonym is already held by another row (a unique key): counted, not changed. */
  pseudonymConflicts: number;
  /**
   * Values still held after the run, by key id (`clear`: not encrypted): message bodies (bytes and ACK), every
   * identifiable JSON value and every blind index row. None left under a key means that key may be removed.
   */
  remainingByKey: Record<string, number>;
  /** The same, per place: `message_bodies.raw+ack`, each `table.column` of migration 029, `mother_identifier_index`. */
  remainingByColumn: Record<string, Record<string, number>>;
}

/** A table whose identifiable JSON columns (migration 029) the rotation walks, in primary key order. */
interface SealedTable {
  table: string;
  /** The primary key's columns and their SQL types. */
  key: readonly (readonly [string, string])[];
  columns: readonly string[];
  place: (key: readonly string[], column: string) => DataPlace;
}

const SEALED_TABLES: readonly SealedTable[] = [
  { table: 'message_bodies', key: [['message_id', 'uuid']], columns: ['canonical'], place: ([id]) => sealedPlace.canonical(id ?? '') },
  {
    table: 'notifications',
    key: [['id', 'uuid']],
    columns: ['record', 'disclosed'],
    place: ([id], column) => (column === 'record' ? sealedPlace.record(id ?? '') : sealedPlace.disclosed(id ?? '')),
  },
  {
    table: 'antenatal_notifications',
    key: [['id', 'uuid']],
    columns: ['record', 'disclosed'],
    place: ([id], column) => sealedPlace.antenatal(column === 'record' ? 'record' : 'disclosed', id ?? ''),
  },
  {
    table: 'families',
    key: [['id', 'uuid']],
    columns: ['lead', 'address', 'gp'],
    place: ([id], column) => sealedPlace.family(column as 'lead' | 'address' | 'gp', id ?? ''),
  },
  {
    table: 'family_children',
    key: [
      ['family_id', 'uuid'],
      ['child_key', 'text'],
    ],
    columns: ['record'],
    place: ([family, child]) => sealedPlace.child(family ?? '', child ?? ''),
  },
  { table: 'trigger_firings', key: [['id', 'uuid']], columns: ['dataset'], place: ([id]) => sealedPlace.firing(id ?? '') },
  { table: 'consents', key: [['id', 'uuid']], columns: ['subjects'], place: ([id]) => sealedPlace.consent(id ?? '') },
  { table: 'fhir_events', key: [['id', 'uuid']], columns: ['subject'], place: ([id]) => fhirEventPlace(id ?? '', 'subject') },
  { table: 'web_sessions', key: [['id_sha256', 'text']], columns: ['person'], place: ([id]) => sealedPlace.session(id ?? '') },
];

/**
 * The columns of identifying lookup keys stored as pseudonyms (migration 038), by table, with the key of the row.
 * `unique`: a pseudonym another row already holds is not written (the row is counted as a conflict). `block`: a
 * family blocking key (pseudonymised after its `open:` prefix). Values from retention (`purged:`) stay as they are.
 */
interface PseudonymTable {
  table: string;
  key: string;
  columns: readonly { name: string; unique?: boolean; block?: boolean }[];
}

const PSEUDONYM_TABLES: readonly PseudonymTable[] = [
  {
    table: 'notifications',
    key: 'id',
    columns: [
      { name: 'subject_key', unique: true },
      { name: 'birth_key', unique: true },
      { name: 'demographic_key', unique: true },
      { name: 'baby_nhs_number' },
      { name: 'mother_nhs_number' },
    ],
  },
  { table: 'families', key: 'id', columns: [{ name: 'lead_nhs_number', unique: true }] },
  { table: 'antenatal_notifications', key: 'id', columns: [{ name: 'pregnancy_key', unique: true }, { name: 'mother_nhs_number' }] },
  { table: 'trigger_firings', key: 'id', columns: [{ name: 'subject_nhs_number' }] },
];

/** SQL: a stored lookup value still in clear. */
const clearValue = (c: string): string =>
  `(${c} IS NOT NULL AND ${c} NOT LIKE 'p1:%' AND ${c} NOT LIKE 'open:p1:%' AND ${c} NOT LIKE 'purged:%')`;

/** SQL: the key id a stored JSON value is under (`clear` when it is not an envelope). */
const kidOf = (column: string): string =>
  `CASE WHEN jsonb_typeof(${column}) = 'object' AND ${column} ->> 'enc' = '1' THEN ${column} ->> 'kid' ELSE 'clear' END`;

interface BodyRow {
  message_id: string;
  key_id: string | null;
  raw: Uint8Array | null;
  ack: Uint8Array | null;
}

const sha = (b: Uint8Array | null): string | null => (b === null ? null : createHash('sha256').update(b).digest('hex'));

/**
 * Runs `rekey` on each row of a batch and keeps what it returns (the row's update). A row the configured keys cannot
 * decrypt is counted undecryptable and left as it is; any other error is thrown.
 */
function rekeyEach<R, U>(rows: readonly R[], report: KeyRotationReport, rekey: (row: R) => U): U[] {
  const out: U[] = [];
  for (const r of rows) {
    try {
      out.push(rekey(r));
    } catch (e) {
      if (!(e instanceof DataDecryptionError)) throw e;
      report.undecryptable++;
    }
  }
  return out;
}

/**
 * Counts a batch of conditional writes (each returning the key its row had): a row written had no key (encrypted now)
 * or an older one (re-encrypted); a row tried but not written changed meanwhile.
 */
function countWritten(written: readonly { old_key: string | null }[], tried: number, report: KeyRotationReport): void {
  for (const d of written) {
    if (d.old_key === null) report.encrypted++;
    else report.reencrypted++;
  }
  report.changedMeanwhile += tried - written.length;
}

/**
 * Re-encrypts message bodies (bytes and ACK, table message_bodies) not under the current data key, in batches in
 * message id order. Safe beside a running hub: nothing is locked while a batch is decrypted, and each row is written
 * only if it still holds exactly what was read (same key id, same bytes by SHA-256), so a purge or another run in
 * between wins and the row is counted as changed meanwhile. Resumable: a row done is no longer picked, so a run
 * stopped part-way is simply run again. One audit event per run (action `keys-rotated`, counts only).
 */
export class SqlDataKeyRotation {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher,
  ) {}

  async rotate(options: { batchSize: number; actor: string; at: Date }): Promise<KeyRotationReport> {
    const current = this.cipher.currentKeyId;
    if (current === undefined) throw new Error('no current data key: set STORK_DATA_KEY_FILES');
    // Pseudonyms are made under the key the store holds fixed (migration 038), never the new current key.
    await fixPseudonymKey(this.db, this.cipher, options.at);
    const report: KeyRotationReport = {
      at: options.at.toISOString(),
      currentKeyId: current,
      reencrypted: 0,
      encrypted: 0,
      changedMeanwhile: 0,
      undecryptable: 0,
      pseudonymised: 0,
      pseudonymConflicts: 0,
      reindexed: 0,
      remainingByKey: {},
      remainingByColumn: {},
    };
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const batch = await this.db.query<BodyRow>(
        `SELECT message_id, key_id, raw, ack FROM message_bodies
         WHERE message_id > $1 AND key_id IS DISTINCT FROM $2 AND (raw IS NOT NULL OR ack IS NOT NULL)
         ORDER BY message_id LIMIT $3`,
        [after, current, options.batchSize],
      );
      const last = batch.rows[batch.rows.length - 1];
      if (last === undefined) break;
      after = last.message_id;
      const updates = rekeyEach(batch.rows, report, (r): Record<string, string | null> => {
        const again = (column: 'raw' | 'ack', value: Uint8Array | null): string | null => {
          if (value === null) return null;
          const plain = this.cipher.decrypt(r.key_id, Buffer.from(value), bodyPlace(r.message_id, column));
          return this.cipher.encrypt(plain, bodyPlace(r.message_id, column)).stored.toString('base64');
        };
        return {
          message_id: r.message_id,
          old_key: r.key_id,
          old_raw: sha(r.raw),
          old_ack: sha(r.ack),
          raw: again('raw', r.raw),
          ack: again('ack', r.ack),
        };
      });
      if (updates.length === 0) continue;
      const done = await this.db.query<{ old_key: string | null }>(
        `WITH v AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(message_id uuid, old_key text, old_raw text, old_ack text, raw text, ack text)
         )
         UPDATE message_bodies b SET raw = decode(v.raw, 'base64'), ack = decode(v.ack, 'base64'), key_id = $2
         FROM v WHERE b.message_id = v.message_id AND b.key_id IS NOT DISTINCT FROM v.old_key
           AND encode(sha256(b.raw), 'hex') IS NOT DISTINCT FROM v.old_raw AND encode(sha256(b.ack), 'hex') IS NOT DISTINCT FROM v.old_ack
         RETURNING v.old_key`,
        [JSON.stringify(updates), current],
      );
      countWritten(done.rows, updates.length, report);
    }
    await this.rotateFhirEvents(current, options.batchSize, report);
    for (const t of SEALED_TABLES) await this.rotateTable(t, current, options.batchSize, report);
    await this.pseudonymise(options.batchSize, report);
    await this.reindexMothers(current, options.batchSize, report);
    await this.countRemaining(report);
    const { reencrypted, encrypted, changedMeanwhile, undecryptable, remainingByKey } = report;
    const counts = { currentKeyId: current, reencrypted, encrypted, changedMeanwhile, undecryptable, remainingByKey };
    await insertAuditEvents(this.db, [
      {
        at: options.at,
        actor: options.actor,
        action: 'keys-rotated',
        outcome: report.undecryptable > 0 ? 'incomplete' : 'done',
        details: {
          ...counts,
          pseudonymised: report.pseudonymised,
          tables: ['message_bodies', ...SEALED_TABLES.map((t) => t.table).filter((t) => t !== 'message_bodies'), 'mother_identifier_index'],
          role: 'system',
          purpose: 'operations',
        },
      },
    ]);
    return report;
  }

  /**
   * Re-encrypts a table's identifiable JSON values not under the current key (older keys, and values in clear), in
   * primary key order. A row is written only if every one of its columns still holds what was read (jsonb equality),
   * so a concurrent write (an enrichment, a merge, a purge) wins and the row is left for the next run.
   */
  private async rotateTable(t: SealedTable, current: string, batchSize: number, report: KeyRotationReport): Promise<void> {
    const keys = t.key.map(([c]) => c);
    const stale = t.columns
      .map((c) => `(${c} IS NOT NULL AND jsonb_typeof(${c}) <> 'null' AND ${kidOf(c)} <> $${keys.length + 1})`)
      .join(' OR ');
    let after: string[] | undefined;
    for (;;) {
      const params: unknown[] = [];
      // The first batch starts at the beginning (its cursor parameters are NULL, typed so PostgreSQL can plan them).
      const from =
        after === undefined
          ? t.key.map(([, type]) => `$${params.push(null)}::${type} IS NULL`).join(' AND ')
          : `(${keys.join(', ')}) > (${t.key.map(([, type], i) => `$${params.push(after?.[i])}::${type}`).join(', ')})`;
      params.push(current, batchSize);
      const batch = await this.db.query(
        `SELECT ${keys.map((k) => `${k}::text AS "k_${k}"`).join(', ')}, ${t.columns.join(', ')} FROM ${t.table}
         WHERE ${from} AND (${stale}) ORDER BY ${keys.join(', ')} LIMIT $${keys.length + 2}`,
        params,
      );
      const last = batch.rows[batch.rows.length - 1];
      if (last === undefined) return;
      after = keys.map((k) => String(last[`k_${k}`]));
      const updates: Record<string, unknown>[] = [];
      const wasClear: boolean[] = [];
      for (const r of batch.rows) {
        const key = keys.map((k) => String(r[`k_${k}`]));
        try {
          const u: Record<string, unknown> = {};
          keys.forEach((k, i) => (u[k] = key[i]));
          let clear = true;
          for (const c of t.columns) {
            const stored = r[c] ?? null;
            u[`old_${c}`] = stored;
            if (stored === null) {
              u[c] = null;
              continue;
            }
            if (envelopeKeyId(stored) !== null) clear = false;
            const place = t.place(key, c);
            u[c] = this.cipher.sealJson(this.cipher.openJson(stored, place), place);
          }
          updates.push(u);
          wasClear.push(clear);
        } catch (e) {
          if (!(e instanceof DataDecryptionError)) throw e;
          report.undecryptable++;
        }
      }
      if (updates.length === 0) continue;
      const recordset = [
        ...keys.map((k, i) => `${k} ${t.key[i]?.[1] ?? 'text'}`),
        ...t.columns.flatMap((c) => [`${c} jsonb`, `old_${c} jsonb`]),
      ];
      const done = await this.db.query(
        `WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(${recordset.join(', ')}))
         UPDATE ${t.table} t SET ${t.columns.map((c) => `${c} = v.${c}`).join(', ')}
         FROM v WHERE ${keys.map((k) => `t.${k} = v.${k}`).join(' AND ')}
           AND ${t.columns.map((c) => `t.${c} IS NOT DISTINCT FROM v.old_${c}`).join(' AND ')}
         RETURNING ${keys.map((k) => `t.${k}::text AS "k_${k}"`).join(', ')}`,
        [JSON.stringify(updates)],
      );
      const written = new Set(done.rows.map((r) => keys.map((k) => String(r[`k_${k}`])).join('/')));
      updates.forEach((u, i) => {
        if (!written.has(keys.map((k) => String(u[k])).join('/'))) report.changedMeanwhile++;
        else if (wasClear[i] === true) report.encrypted++;
        else report.reencrypted++;
      });
    }
  }

  /**
   * Rebuilds the mothers' blind index rows (migration 029) not under the current key, from each notification's current
   * record (decrypted), its row locked so that an enrichment replacing the same rows waits.
   */
  private async reindexMothers(current: string, batchSize: number, report: KeyRotationReport): Promise<void> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const batch = await this.db.query<{ notification_id: string }>(
        `SELECT DISTINCT notification_id FROM mother_identifier_index WHERE key_id <> $1 AND notification_id > $2
         ORDER BY notification_id LIMIT $3`,
        [current, after, batchSize],
      );
      const last = batch.rows[batch.rows.length - 1];
      if (last === undefined) return;
      after = last.notification_id;
      await this.db.transaction(async (tx) => {
        const r = await tx.query<{ id: string; message_id: string; record: unknown; canonical: unknown }>(
          `SELECT n.id, n.message_id, n.record, b.canonical FROM notifications n LEFT JOIN message_bodies b ON b.message_id = n.message_id
           WHERE n.id = ANY($1::uuid[]) ORDER BY n.id FOR UPDATE OF n`,
          [batch.rows.map((x) => x.notification_id)],
        );
        const entries = rekeyEach(r.rows, report, (row): { notificationId: string; record: BirthNotification | undefined } => ({
          notificationId: row.id,
          record: currentRecord(this.cipher, row) ?? undefined,
        }));
        if (entries.length === 0) return;
        await tx.query('DELETE FROM mother_identifier_index WHERE notification_id = ANY($1::uuid[])', [
          entries.map((e) => e.notificationId),
        ]);
        const rows = motherIndexRows(this.cipher, entries);
        if (rows.length > 0) {
          await tx.query(
            `INSERT INTO mother_identifier_index (hash, notification_id, key_id)
             SELECT v.hash, v.notification_id, v.key_id FROM jsonb_to_recordset($1::jsonb) AS v(hash text, notification_id uuid, key_id text)
             ON CONFLICT DO NOTHING`,
            [JSON.stringify(rows)],
          );
        }
        report.reindexed += entries.length;
      });
    }
  }

  /**
   * FHIR event bodies (fhir_events.raw, migration 038) not under the current key, re-encrypted as message bodies are;
   * an event still in clear also has its subject sealed and its NHS number pseudonymised. Written only if the row still
   * holds what was read.
   */
  private async rotateFhirEvents(current: string, batchSize: number, report: KeyRotationReport): Promise<void> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const batch = await this.db.query<{
        id: string;
        key_id: string | null;
        raw: Uint8Array;
        subject: unknown;
        subject_reference: string | null;
        subject_nhs_number: string | null;
      }>(
        `SELECT id, key_id, raw, subject, subject_reference, subject_nhs_number FROM fhir_events
          WHERE id > $1 AND key_id IS DISTINCT FROM $2 AND raw IS NOT NULL ORDER BY id LIMIT $3`,
        [after, current, batchSize],
      );
      const last = batch.rows[batch.rows.length - 1];
      if (last === undefined) return;
      after = last.id;
      const updates = rekeyEach(batch.rows, report, (r): Record<string, unknown> => {
        const plain = this.cipher.decrypt(r.key_id, Buffer.from(r.raw), fhirEventPlace(r.id, 'raw'));
        const clear = r.subject === null && (r.subject_reference !== null || r.subject_nhs_number !== null);
        const nhs = r.subject_nhs_number === null || isPseudonym(r.subject_nhs_number) ? undefined : r.subject_nhs_number;
        return {
          id: r.id,
          old_key: r.key_id,
          old_raw: sha(r.raw),
          raw: this.cipher.encrypt(plain, fhirEventPlace(r.id, 'raw')).stored.toString('base64'),
          clear,
          subject: clear
            ? this.cipher.sealJson(
                {
                  ...(r.subject_reference !== null ? { reference: r.subject_reference } : {}),
                  ...(nhs !== undefined ? { nhsNumber: nhs } : {}),
                },
                fhirEventPlace(r.id, 'subject'),
              )
            : null,
          nhs: this.cipher.pseudonymOrNull(r.subject_nhs_number),
        };
      });
      if (updates.length === 0) continue;
      const done = await this.db.query<{ old_key: string | null }>(
        `WITH v AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, old_key text, old_raw text, raw text, clear boolean, subject jsonb, nhs text)
         )
         UPDATE fhir_events e SET raw = decode(v.raw, 'base64'), key_id = $2,
           subject = CASE WHEN v.clear THEN v.subject ELSE e.subject END,
           subject_reference = CASE WHEN v.clear THEN NULL ELSE e.subject_reference END,
           subject_nhs_number = CASE WHEN v.clear THEN v.nhs ELSE e.subject_nhs_number END
         FROM v WHERE e.id = v.id AND e.key_id IS NOT DISTINCT FROM v.old_key AND encode(sha256(e.raw), 'hex') = v.old_raw
         RETURNING v.old_key`,
        [JSON.stringify(updates), current],
      );
      countWritten(done.rows, updates.length, report);
    }
  }

  /**
   * Converts the NHS numbers and lookup keys still stored in clear (rows written before a data key) to their
   * pseudonyms (migration 038), in batches in key order; a row is written only if it still holds what was read.
   * Consents get their sealed `subjects` too; identity and blocking keys (primary keys) are replaced row by row.
   * Audit events are never rewritten (append-only, hash-chained): searches match both forms.
   */
  private async pseudonymise(batchSize: number, report: KeyRotationReport): Promise<void> {
    if (this.cipher.pseudonymKeyId === undefined) return;
    const p = (v: string | null): string | null => this.cipher.pseudonymOrNull(v);
    for (const t of PSEUDONYM_TABLES) {
      let after = '00000000-0000-0000-0000-000000000000';
      const names = t.columns.map((c) => c.name);
      for (;;) {
        const batch = await this.db.query<Record<string, string | null>>(
          `SELECT ${t.key}::text AS k, ${names.join(', ')} FROM ${t.table}
            WHERE ${t.key} > $1 AND (${names.map(clearValue).join(' OR ')}) ORDER BY ${t.key} LIMIT $2`,
          [after, batchSize],
        );
        const last = batch.rows[batch.rows.length - 1];
        if (last === undefined) break;
        after = last.k ?? after;
        const rows = batch.rows.map((r) => {
          const u: Record<string, string | null> = { k: r.k ?? '' };
          for (const c of names) {
            const v = r[c] ?? null;
            u[`old_${c}`] = v;
            u[c] = v === null || v.startsWith('purged:') ? v : p(v);
          }
          return u;
        });
        const set = t.columns.map((c) =>
          c.unique === true
            ? `${c.name} = CASE WHEN v.${c.name} IS DISTINCT FROM t.${c.name} AND EXISTS (SELECT 1 FROM ${t.table} o WHERE o.${c.name} = v.${c.name})
                 THEN t.${c.name} ELSE v.${c.name} END`
            : `${c.name} = v.${c.name}`,
        );
        const done = await this.db.query<{ conflict: boolean }>(
          `WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(k uuid, ${names.flatMap((c) => [`${c} text`, `old_${c} text`]).join(', ')}))
           UPDATE ${t.table} t SET ${set.join(', ')}
           FROM v WHERE t.${t.key} = v.k AND ${names.map((c) => `t.${c} IS NOT DISTINCT FROM v.old_${c}`).join(' AND ')}
           RETURNING (${
             t.columns
               .filter((c) => c.unique === true)
               .map((c) => `t.${c.name} IS DISTINCT FROM v.${c.name}`)
               .join(' OR ') || 'false'
           }) AS conflict`,
          [JSON.stringify(rows)],
        );
        for (const d of done.rows) {
          if (d.conflict) report.pseudonymConflicts++;
          else report.pseudonymised++;
        }
        report.changedMeanwhile += rows.length - done.rows.length;
      }
    }
    // Identity keys: the row under its clear key is replaced by one under its pseudonym (unless one is held already).
    for (;;) {
      const batch = await this.db.query<{ key: string; subject_key: string }>(
        `SELECT key, subject_key FROM identity_keys WHERE ${clearValue('key')} OR ${clearValue('subject_key')} ORDER BY key LIMIT $1`,
        [batchSize],
      );
      if (batch.rows.length === 0) break;
      const rows = batch.rows.map((r) => ({ old_key: r.key, old_subject: r.subject_key, key: p(r.key), subject_key: p(r.subject_key) }));
      const moved = await this.db.transaction(async (tx) => {
        const gone = await tx.query<{ key: string; subject_key: string; message_id: string; created_at: Date | string }>(
          `DELETE FROM identity_keys i USING jsonb_to_recordset($1::jsonb) AS v(old_key text, old_subject text)
            WHERE i.key = v.old_key AND i.subject_key = v.old_subject RETURNING i.key, i.subject_key, i.message_id, i.created_at`,
          [JSON.stringify(rows)],
        );
        await tx.query(
          `INSERT INTO identity_keys (key, subject_key, message_id, created_at)
           SELECT key, subject_key, message_id, created_at FROM jsonb_to_recordset($1::jsonb)
             AS v(key text, subject_key text, message_id uuid, created_at timestamptz)
           ON CONFLICT (key) DO NOTHING`,
          [JSON.stringify(gone.rows.map((g) => ({ ...g, key: p(g.key), subject_key: p(g.subject_key) })))],
        );
        return gone.rows.length;
      });
      report.pseudonymised += moved;
      if (moved === 0) break;
    }
    // Blocking keys: likewise, per family.
    for (;;) {
      const batch = await this.db.query<{ key: string; family_id: string }>(
        `SELECT key, family_id::text AS family_id FROM family_block_keys WHERE ${clearValue('key')} ORDER BY key, family_id LIMIT $1`,
        [batchSize],
      );
      if (batch.rows.length === 0) break;
      const moved = await this.db.transaction(async (tx) => {
        const gone = await tx.query<{ key: string; family_id: string }>(
          `DELETE FROM family_block_keys k USING jsonb_to_recordset($1::jsonb) AS v(key text, family_id uuid)
            WHERE k.key = v.key AND k.family_id = v.family_id RETURNING k.key, k.family_id::text AS family_id`,
          [JSON.stringify(batch.rows)],
        );
        await tx.query(
          `INSERT INTO family_block_keys (key, family_id)
           SELECT key, family_id FROM jsonb_to_recordset($1::jsonb) AS v(key text, family_id uuid) ON CONFLICT DO NOTHING`,
          [JSON.stringify(gone.rows.map((g) => ({ key: storedBlockKey(g.key, this.cipher), family_id: g.family_id })))],
        );
        return gone.rows.length;
      });
      report.pseudonymised += moved;
      if (moved === 0) break;
    }
    // Family children: keyed by 'nhs:' and the baby's NHS number; re-keyed, their records sealed under the new place.
    let child = { family: '00000000-0000-0000-0000-000000000000', key: '' };
    for (;;) {
      const batch = await this.db.query<{ family_id: string; child_key: string; record: unknown }>(
        `SELECT family_id::text AS family_id, child_key, record FROM family_children
          WHERE ${clearValue('child_key')} AND (family_id, child_key) > ($2::uuid, $3::text) ORDER BY family_id, child_key LIMIT $1`,
        [batchSize, child.family, child.key],
      );
      const lastChild = batch.rows[batch.rows.length - 1];
      if (lastChild === undefined) break;
      child = { family: lastChild.family_id, key: lastChild.child_key };
      const rows: Record<string, unknown>[] = [];
      for (const r of batch.rows) {
        const key = this.cipher.pseudonym(r.child_key);
        try {
          const plain = this.cipher.openJson(r.record, sealedPlace.child(r.family_id, r.child_key));
          rows.push({
            family_id: r.family_id,
            old_key: r.child_key,
            old_record: r.record,
            key,
            record: this.cipher.sealJson(plain, sealedPlace.child(r.family_id, key)),
          });
        } catch (e) {
          if (!(e instanceof DataDecryptionError)) throw e;
          report.undecryptable++;
        }
      }
      const done =
        rows.length === 0
          ? 0
          : (
              await this.db.query(
                `UPDATE family_children c SET child_key = v.key, record = v.record
           FROM jsonb_to_recordset($1::jsonb) AS v(family_id uuid, old_key text, old_record jsonb, key text, record jsonb)
          WHERE c.family_id = v.family_id AND c.child_key = v.old_key AND c.record IS NOT DISTINCT FROM v.old_record
            AND NOT EXISTS (SELECT 1 FROM family_children o WHERE o.family_id = v.family_id AND o.child_key = v.key)`,
                [JSON.stringify(rows)],
              )
            ).rowCount;
      report.pseudonymised += done;
      // Left (changed meanwhile, or its pseudonym already held): counted; the next run tries again.
      report.pseudonymConflicts += rows.length - done;
    }
    // Consents: the numbers sealed in `subjects`, their columns pseudonymised.
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const batch = await this.db.query<{ id: string; mother_nhs_number: string | null; baby_nhs_number: string | null }>(
        `SELECT id::text AS id, mother_nhs_number, baby_nhs_number FROM consents
          WHERE id > $1 AND subjects IS NULL AND (${clearValue('mother_nhs_number')} OR ${clearValue('baby_nhs_number')}) ORDER BY id LIMIT $2`,
        [after, batchSize],
      );
      const last = batch.rows[batch.rows.length - 1];
      if (last === undefined) break;
      after = last.id;
      const rows = batch.rows.map((r) => ({
        id: r.id,
        old_mother: r.mother_nhs_number,
        old_baby: r.baby_nhs_number,
        mother: p(r.mother_nhs_number),
        baby: p(r.baby_nhs_number),
        subjects: this.cipher.sealJson(
          {
            ...(r.mother_nhs_number !== null ? { mother: r.mother_nhs_number } : {}),
            ...(r.baby_nhs_number !== null ? { baby: r.baby_nhs_number } : {}),
          },
          sealedPlace.consent(r.id),
        ),
      }));
      const done = await this.db.query(
        `WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, old_mother text, old_baby text, mother text, baby text, subjects jsonb))
         UPDATE consents c SET mother_nhs_number = v.mother, baby_nhs_number = v.baby, subjects = v.subjects
         FROM v WHERE c.id = v.id AND c.subjects IS NULL AND c.mother_nhs_number IS NOT DISTINCT FROM v.old_mother
           AND c.baby_nhs_number IS NOT DISTINCT FROM v.old_baby`,
        [JSON.stringify(rows)],
      );
      report.pseudonymised += done.rowCount;
      report.changedMeanwhile += rows.length - done.rowCount;
    }
  }

  /** What is left under each key, per place and in all. */
  private async countRemaining(report: KeyRotationReport): Promise<void> {
    const add = (place: string, kid: string | null, n: number | string): void => {
      const k = kid ?? 'clear';
      const byKey = (report.remainingByColumn[place] ??= {});
      byKey[k] = (byKey[k] ?? 0) + Number(n);
      report.remainingByKey[k] = (report.remainingByKey[k] ?? 0) + Number(n);
    };
    const bodies = await this.db.query<{ key_id: string | null; n: number | string }>(
      'SELECT key_id, count(*) AS n FROM message_bodies WHERE raw IS NOT NULL OR ack IS NOT NULL GROUP BY key_id ORDER BY key_id',
    );
    for (const r of bodies.rows) add('message_bodies.raw+ack', r.key_id, r.n);
    const events = await this.db.query<{ key_id: string | null; n: number | string }>(
      'SELECT key_id, count(*) AS n FROM fhir_events WHERE raw IS NOT NULL GROUP BY key_id ORDER BY key_id',
    );
    for (const r of events.rows) add('fhir_events.raw', r.key_id, r.n);
    for (const t of SEALED_TABLES) {
      for (const c of t.columns) {
        const r = await this.db.query<{ kid: string; n: number | string }>(
          `SELECT ${kidOf(c)} AS kid, count(*) AS n FROM ${t.table} WHERE ${c} IS NOT NULL AND jsonb_typeof(${c}) <> 'null' GROUP BY 1 ORDER BY 1`,
        );
        for (const x of r.rows) add(`${t.table}.${c}`, x.kid, x.n);
      }
    }
    const index = await this.db.query<{ key_id: string; n: number | string }>(
      'SELECT key_id, count(*) AS n FROM mother_identifier_index GROUP BY key_id ORDER BY key_id',
    );
    for (const r of index.rows) add('mother_identifier_index', r.key_id, r.n);
  }
}
