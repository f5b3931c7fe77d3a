/**
 * Identity events in SQL (migration 017): the identity keys A40 merges leave behind, and one transaction per
 * identity event with the notification writes processing already has (SqlProcessingTransaction).
 */
import type { LocalIdentifier } from '../../src/domain/birth-notification.js';
import type { Database, SqlClient } from '../../src/ports/database.js';
import type { IdentityStore, IdentityTransaction } from '../../src/ports/identity-store.js';
import { resolveIdentityKeys } from './sql-identity-keys.js';
import { SqlProcessingTransaction } from './sql-notification-store.js';
import { NO_DATA_KEYS, type DataCipher } from './data-cipher.js';
import { probeText } from './sealed-columns.js';

class SqlIdentityTransaction extends SqlProcessingTransaction implements IdentityTransaction {
  constructor(
    private readonly client: SqlClient,
    cipher: DataCipher,
  ) {
    super(client, cipher);
  }

  async recordIdentityKeys(keys: readonly string[], subjectKey: string, messageId: string, at: Date): Promise<void> {
    // Compared and stored as pseudonyms (migration 038); a key still in clear is replaced by its pseudonym here.
    const p = (k: string): string => this.cipher.pseudonym(k);
    const subject = p(subjectKey);
    const clearOf = new Map([...keys, subjectKey].map((k) => [p(k), k]));
    const others = [...new Set(keys.map(p))].filter((k) => k !== subject);
    // The target may itself have been merged before: point at the end of that chain, unless the chain leads back to
    // one of these keys (a later A40 reversing an earlier one), when the target stands for itself again.
    const resolved = (await resolveIdentityKeys(this.client, [subjectKey], this.cipher)).get(subjectKey);
    const earlier = resolved === undefined ? undefined : p(resolved);
    const target = earlier === undefined || others.includes(earlier) ? subject : earlier;
    if (target === subject)
      await this.client.query('DELETE FROM identity_keys WHERE key = ANY($1::text[])', [this.cipher.pseudonymForms([subjectKey])]);
    const own = others.filter((k) => k !== target);
    if (own.length === 0) return;
    const ownForms = this.cipher.pseudonymForms(own.map((k) => clearOf.get(k) ?? k));
    await this.client.query('DELETE FROM identity_keys WHERE key = ANY($1::text[]) AND NOT (key = ANY($2::text[]))', [ownForms, own]);
    await this.client.query(
      `INSERT INTO identity_keys (key, subject_key, message_id, created_at)
       SELECT k, $2, $3, $4 FROM unnest($1::text[]) AS k
       ON CONFLICT (key) DO UPDATE SET subject_key = EXCLUDED.subject_key, message_id = EXCLUDED.message_id, created_at = EXCLUDED.created_at`,
      [own, target, messageId, at],
    );
    // Keys that resolved to one of these now resolve to the target, so a chain of merges resolves in one step.
    await this.client.query('UPDATE identity_keys SET subject_key = $2 WHERE subject_key = ANY($1::text[])', [ownForms, target]);
  }

  async notificationsOfMother(nhsNumber: string | undefined, local: readonly LocalIdentifier[]): Promise<string[]> {
    const ids = new Set<string>();
    if (nhsNumber !== undefined) {
      const r = await this.client.query<{ id: string }>('SELECT id FROM notifications WHERE mother_nhs_number = ANY($1::text[])', [
        this.cipher.pseudonymForms([nhsNumber]),
      ]);
      for (const x of r.rows) ids.add(x.id);
    }
    // The mother's record is encrypted: her local identifiers are found through their blind index (migration 029),
    // under every configured key and the clear one (rows written before a key, or not yet rotated).
    const hashes = local.flatMap((l) => this.cipher.blindIndexes(probeText(l)));
    if (hashes.length > 0) {
      const r = await this.client.query<{ id: string }>(
        'SELECT DISTINCT notification_id AS id FROM mother_identifier_index WHERE hash = ANY($1::text[])',
        [hashes],
      );
      for (const x of r.rows) ids.add(x.id);
    }
    return [...ids];
  }

  async retireChild(
    mergedNotificationId: string,
    survivor: { notificationId: string; childKey: string; record: Record<string, unknown> },
    at: Date,
  ): Promise<void> {
    const families = await this.families.familyOfNotifications([mergedNotificationId, survivor.notificationId]);
    await this.client.query('DELETE FROM family_children WHERE notification_id = $1', [mergedNotificationId]);
    const theirs = families.get(mergedNotificationId);
    if (theirs !== undefined && !families.has(survivor.notificationId)) {
      await this.families.addChildren([
        { familyId: theirs, childKey: survivor.childKey, notificationId: survivor.notificationId, record: survivor.record, at },
      ]);
      await this.families.linkNotifications([{ notificationId: survivor.notificationId, familyId: theirs, method: 'merge', at }]);
    }
  }

  async settleMessage(messageId: string, status: 'processed' | 'quarantined', at: Date, reason?: string): Promise<void> {
    await this.client.query(
      `UPDATE messages SET status = $2, reason = COALESCE($3, reason), updated_at = $4 WHERE id = $1 AND status = 'queued'`,
      [messageId, status, reason ?? null, at],
    );
  }
}

/** Identity event processing's store: one transaction per event, not waiting for the disk (it can be redone from the message). */
export class SqlIdentityStore implements IdentityStore {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  async identityTransaction<T>(work: (tx: IdentityTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new SqlIdentityTransaction(tx, this.cipher)), { asyncCommit: true });
  }
}
