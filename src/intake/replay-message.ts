import type { FeedDirectory } from '../pipeline/hl7v2/feed-directory.js';
import type { ProcessingQueue } from '../ports/job-queue.js';
import type { MessageStatus, MessageStore } from '../ports/message-store.js';
import type { AuditEventInput } from '../ports/audit.js';
import { assessHl7v2, type FeedMapper } from '../pipeline/hl7v2/assess-hl7v2.js';
import { decodeHl7v2 } from '../pipeline/hl7v2/decode.js';

export type ReplayResult =
  { kind: 'replayed'; status: MessageStatus; reason?: string } | { kind: 'not-found' } | { kind: 'conflict'; detail: string };

export interface ReplayDeps {
  store: MessageStore;
  queue: ProcessingQueue;
  feeds: FeedDirectory;
  mapper: FeedMapper;
  clock: () => Date;
}

/**
 * Runs a quarantined message through intake again, from its stored bytes, once an operator has fixed its
 * feed or mapping. The sender is not acknowledged again (it was answered at receipt); the audit says who replayed it.
 */
export async function replayMessage(deps: ReplayDeps, id: string, actor: string): Promise<ReplayResult> {
  const message = await deps.store.get(id);
  if (!message) return { kind: 'not-found' };
  if (message.status !== 'quarantined')
    return { kind: 'conflict', detail: `Only quarantined messages can be replayed; this one is ${message.status}` };
  if (message.rawTruncated)
    return { kind: 'conflict', detail: 'Only the head of this oversize message was kept; ask the sender to resend it' };
  const at = deps.clock();
  const a = assessHl7v2(decodeHl7v2(message.raw), {
    feeds: deps.feeds,
    mapper: deps.mapper,
    receivedAt: at,
    ...(message.channel === 'mllp' && message.remoteAddress !== undefined ? { remoteAddress: message.remoteAddress } : {}),
  });
  const subject = a.notification?.baby.nhsNumber;
  const audit: AuditEventInput[] = [
    {
      at,
      actor,
      action: 'replayed',
      messageId: id,
      outcome: a.status,
      ...(subject ? { subjectNhsNumber: subject } : {}),
      details: {
        previousReason: message.reason,
        reason: a.reason,
        issues: a.issues.map((i) => ({ code: i.code, location: i.location, path: i.path })),
      },
    },
  ];
  await deps.store.updateAfterReplay({
    id,
    status: a.status,
    issues: a.issues,
    at,
    audit,
    ...(a.reason !== undefined ? { reason: a.reason } : {}),
    ...(a.feed ? { feedId: a.feed.id } : {}),
    ...(a.notification ? { canonical: a.notification } : {}),
  });
  if (a.status === 'queued') await deps.queue.enqueue([id]);
  return { kind: 'replayed', status: a.status, ...(a.reason !== undefined ? { reason: a.reason } : {}) };
}
