import { demoCipher } from './data-keys.js';
import { SqlNotificationStore } from '../../adapters/store/sql-notification-store.js';
import type { ProcessingTransaction } from '../../src/ports/notification-store.js';

/** Where a test may hold a processing transaction (its locks and uncommitted writes kept) until it lets it go on. */
export interface ProcessingPauses {
  /** After the batch's notifications are inserted (uncommitted). */
  afterInsert?: () => Promise<void>;
  /** After the notifications a later message is about are locked (an update inserts nothing). */
  afterLock?: () => Promise<void>;
}

/** The transaction `tx`, every call passed through, with the pauses run after the steps they name. */
export function withPauses(tx: ProcessingTransaction, pauses: ProcessingPauses): ProcessingTransaction {
  return {
    createNotifications: async (items, at) => {
      const created = await tx.createNotifications(items, at);
      await pauses.afterInsert?.();
      return created;
    },
    messagesWithNotification: (ids) => tx.messagesWithNotification(ids),
    messagesNotQueued: (ids) => tx.messagesNotQueued(ids),
    lockLiveNotifications: (keys) => tx.lockLiveNotifications(keys),
    lockMatchingNotifications: async (keys) => {
      const locked = await tx.lockMatchingNotifications(keys);
      await pauses.afterLock?.();
      return locked;
    },
    enrichNotifications: (updates, at) => tx.enrichNotifications(updates, at),
    withdrawNotifications: (ids, at) => tx.withdrawNotifications(ids, at),
    markMessages: (ids, status, at, reason) => tx.markMessages(ids, status, at, reason),
    appendAudit: (events) => tx.appendAudit(events),
    resolveIdentityKeys: (keys) => tx.resolveIdentityKeys(keys),
    families: tx.families,
    consents: () => tx.consents(),
  };
}

/**
 * The SQL notification store whose processing transactions stop where `pauses` say, so a test can force a race
 * between two workers, or between a worker and the API, every run.
 */
export class PausingStore extends SqlNotificationStore {
  constructor(
    db: ConstructorParameters<typeof SqlNotificationStore>[0],
    private readonly pauses: ProcessingPauses,
  ) {
    // The test hubs' demo data key: the stored records are encrypted under it (migration 029).
    super(db, demoCipher);
  }

  override processingTransaction<T>(work: (tx: ProcessingTransaction) => Promise<T>): Promise<T> {
    return super.processingTransaction((tx) => work(withPauses(tx, this.pauses)));
  }
}
