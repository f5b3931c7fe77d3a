/**
 * The consent register in a processing batch (issue 13): before the batch's births are decided, the families'
 * register locks are taken, the consents their messages carried are recorded (once per message), and every
 * record about the families is read in one query; after the batch is saved, notifications made earlier for a
 * family whose message carried a new consent or objection are decided again (an objection after delivery
 * withdraws). All inside the batch's transaction.
 */
import type { BirthNotification } from '../domain/birth-notification.js';
import type { ConsentRecord, ConsentStatement } from '../domain/consent.js';
import type { ProcessingTransaction } from '../ports/notification-store.js';
import { WORKER_ACTOR } from './birth-outcomes.js';
import { applyToLive, carriedConsents, consentRecordedEvent, subjectsOf, subjectsOfRecord } from './record-consents.js';
import type { Replan } from './reconsider-consent.js';

/** A queued message's record, without the consents it carried (they go to the register, never to a recipient). */
export interface ReadyBirth {
  messageId: string;
  record: BirthNotification;
  consents: ConsentStatement[];
}

/** Splits the consents a canonical record carries from the record itself. */
export function splitConsents(messageId: string, canonical: BirthNotification): ReadyBirth {
  const { consents, ...record } = canonical;
  return { messageId, record, consents: consents ?? [] };
}

/** What the batch read and recorded. */
export interface BatchConsents {
  /** Every record about the batch's families, the new ones included. */
  records: ConsentRecord[];
  /** Records this batch inserted (none when a retried batch had recorded them already). */
  inserted: ConsentRecord[];
}

/** Locks the batch's families, records the consents their messages carried, and reads every record about them. */
export async function readBatchConsents(tx: ProcessingTransaction, ready: readonly ReadyBirth[], at: Date): Promise<BatchConsents> {
  const register = tx.consents();
  const subjects = new Set<string>();
  for (const b of ready) {
    for (const s of subjectsOfRecord(b.record)) subjects.add(s);
    for (const c of b.consents) for (const s of subjectsOf(c)) subjects.add(s);
  }
  if (subjects.size === 0) return { records: [], inserted: [] };
  await register.lockSubjects([...subjects]);
  const carried = carriedConsents(ready, at);
  const inserted = carried.length > 0 ? await register.insert(carried) : [];
  if (inserted.length > 0) {
    const byId = new Map(carried.map((c) => [c.id, c.messageId]));
    await register.appendAudit(inserted.map((r) => consentRecordedEvent(r, at, WORKER_ACTOR, byId.get(r.id))));
  }
  return { records: await register.recordsAbout([...subjects]), inserted };
}

/**
 * After the batch: the notifications about families with a newly recorded consent, other than those this batch
 * created (decided with it already), are decided again.
 */
export async function reconsiderAfterBatch(
  tx: ProcessingTransaction,
  consents: BatchConsents,
  created: ReadonlySet<string>,
  replan: Replan,
  at: Date,
): Promise<void> {
  const byMessage = new Map<string, Set<string>>();
  for (const r of consents.inserted) {
    const messageId = r.recordedBy.replace(/^message:/, '');
    const subjects = byMessage.get(messageId) ?? new Set<string>();
    for (const s of subjectsOf(r)) subjects.add(s);
    byMessage.set(messageId, subjects);
  }
  // One message at a time, so each change is audited with the message that brought it.
  for (const [messageId, subjects] of byMessage) {
    await applyToLive(tx.consents(), [...subjects], replan, at, WORKER_ACTOR, { messageId }, created);
  }
}
