/**
 * Identity events in SQL (migration 017): the identity keys A40 merges leave behind, and one transaction per
 * identity event with the notification writes processing already has (SqlProcessingTransaction).
 */
import type { LocalIdentifier } from '../../src/domain/birth-notification.js';
import type { Database, SqlClient } from '../../src/ports/database.js';
import type { IdentityStore, IdentityTransaction } from '../../src/ports/identity-store.js';
import { resolveIdentityKeys } from './sql-identity-keys.js';
import { SqlProcessingTransaction } from './sql-notification-store.js';

class SqlIdentityTransaction extends SqlProcessingTransaction implements IdentityTransaction {
  constructor(private readonly client: SqlClient) {
    super(client);
  }

  async recordIdentityKeys(keys: readonly string[], subjectKey: string, messageId: string, at: Date): Promise<void> {
    const others = [...new Set(keys)].filter((k) => k !== subjectKey);
    // The target may itself have been merged before: point at the end of that chain, unless the chain leads back to
    // one of these keys (a later A40 reversing an earlier one), when the target stands for itself again.
    const earlier = (await resolveIdentityKeys(this.client, [subjectKey])).get(subjectKey);
    const target = earlier === undefined || others.includes(earlier) ? subjectKey : earlier;
    if (target === subjectKey) await this.client.query('DELETE FROM identity_keys WHERE key = $1', [subjectKey]);
    const own = others.filter((k) => k !== target);
    if (own.length === 0) return;
    await this.client.query(
      `INSERT INTO identity_keys (key, subject_key, message_id, created_at)
       SELECT k, $2, $3, $4 FROM unnest($1::text[]) AS k
       ON CONFLICT (key) DO UPDATE SET subject_key = EXCLUDED.subject_key, message_id = EXCLUDED.message_id, created_at = EXCLUDED.created_at`,
      [own, target, messageId, at],
    );
    // Keys that resolved to one of these now resolve to the target, so a chain of merges resolves in one step.
    await this.client.query('UPDATE identity_keys SET subject_key = $2 WHERE subject_key = ANY($1::text[])', [own, target]);
  }

  async notificationsOfMother(nhsNumber: string | undefined, local: readonly LocalIdentifier[]): Promise<string[]> {
    const ids = new Set<string>();
    if (nhsNumber !== undefined) {
      const r = await this.client.query<{ id: string }>('SELECT id FROM notifications WHERE mother_nhs_number = $1', [nhsNumber]);
      for (const x of r.rows) ids.add(x.id);
    }
    for (const l of local) {
      const probe = JSON.stringify([{ value: l.value, ...(l.assigner !== undefined ? { assigner: l.assigner } : {}) }]);
      const r = await this.client.query<{ id: string }>(
        `SELECT n.id FROM notifications n LEFT JOIN message_bodies b ON b.message_id = n.message_id
         WHERE COALESCE(n.record, b.canonical) -> 'mother' -> 'localIdentifiers' @> $1::jsonb`,
        [probe],
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
  constructor(private readonly db: Database) {}

  async identityTransaction<T>(work: (tx: IdentityTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new SqlIdentityTransaction(tx)), { asyncCommit: true });
  }
}
