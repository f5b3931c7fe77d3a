import type { Logger } from '../logger.js';
import { MeshError, type MeshDownload, type MeshMailbox } from '../ports/mesh-mailbox.js';

/** What intake answered for one message handed over (the part the poller needs). */
export interface MeshReceipt {
  /** Durably stored (or recognised as stored before): only then is the message acknowledged. */
  stored: boolean;
  duplicate: boolean;
  messageId?: string;
  status?: string;
}

export interface MeshPollerDeps {
  feedId: string;
  mailbox: MeshMailbox;
  /** Workflow ids taken from the inbox; any other is left there, untouched. */
  workflowIds: readonly string[];
  /** Stores one message (the feed's intake, channel mesh); keyed by the MESH message id. */
  receive: (m: {
    bytes: Buffer;
    meshMessageId: string;
    oversize?: { sizeBytes: number; limitBytes: number; detail?: string };
  }) => Promise<MeshReceipt>;
  logger: Logger;
  intervalMs: number;
  clock?: () => Date;
}

/** Listing pages read per workflow id and poll; the rest waits for the next poll. */
const MAX_PAGES_PER_POLL = 20;
/** MESH asks clients to handshake when they start and at least once a day. */
const HANDSHAKE_EVERY_MS = 24 * 60 * 60 * 1000;
/** After failures the wait doubles, up to this many intervals. */
const MAX_BACKOFF_INTERVALS = 16;

export interface PollSummary {
  taken: number;
  duplicates: number;
  leftAlone: number;
}

/**
 * Polls one NEMS feed's MESH mailbox: one poll at a time, every `intervalMs`, doubling the wait after each failed
 * poll (MESH down, credentials refused, store unavailable) up to 16 intervals. A poll handshakes when due, lists
 * the inbox per workflow id (every page, up to a bound), downloads each message, hands it to intake, and
 * acknowledges it ONLY once intake says it is durably stored. A restart between storing and acknowledging
 * downloads the message again: intake recognises the MESH message id, nothing is processed twice, and the
 * message is acknowledged then. A message too large (bytes or chunks) is stored truncated and quarantined, and
 * acknowledged, so it cannot block the mailbox.
 */
export class MeshPoller {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastHandshake: number | undefined;
  private failures = 0;
  private readonly clock: () => Date;

  constructor(private readonly deps: MeshPollerDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops polling: the call in flight is aborted (a message stored but not acknowledged is recognised next time). */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger, feedId } = this.deps;
    while (!this.stopped()) {
      try {
        const s = await this.pollOnce();
        if (this.failures > 0) logger.info({ feed: feedId, failures: this.failures }, 'MESH mailbox reachable again');
        this.failures = 0;
        if (s.taken + s.duplicates > 0) logger.debug({ feed: feedId, ...s }, 'MESH poll done');
      } catch (err) {
        if (this.stopped()) break;
        this.failures++;
        // Never the error's text (it could carry what a server sent back): its kind and status say enough.
        const e = err instanceof MeshError ? { kind: err.kind, httpStatus: err.status } : { kind: 'store' };
        logger.warn({ feed: feedId, ...e, failures: this.failures, retryInMs: this.waitMs() }, 'MESH poll failed; retrying later');
        if (!(err instanceof MeshError) && !(err instanceof StoreUnavailable))
          logger.error({ err, feed: feedId }, 'MESH poll met an error');
        if (err instanceof MeshError && err.kind === 'auth') this.lastHandshake = undefined;
      }
      await this.sleep(this.waitMs());
    }
  }

  private stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private waitMs(): number {
    const { intervalMs } = this.deps;
    return this.failures === 0 ? intervalMs : intervalMs * Math.min(2 ** this.failures, MAX_BACKOFF_INTERVALS);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped()) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One poll; throws when it could not finish (the next one, after a back-off, starts over). */
  async pollOnce(): Promise<PollSummary> {
    const { mailbox } = this.deps;
    const signal = this.stopping.signal;
    const now = this.clock().getTime();
    if (this.lastHandshake === undefined || now - this.lastHandshake >= HANDSHAKE_EVERY_MS) {
      await mailbox.handshake(signal);
      this.lastHandshake = now;
    }
    const summary: PollSummary = { taken: 0, duplicates: 0, leftAlone: 0 };
    const seen = new Set<string>();
    for (const workflowId of this.deps.workflowIds) {
      let continueFrom: string | undefined;
      for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
        const listing = await mailbox.listInbox(workflowId, continueFrom, signal);
        for (const id of listing.messageIds) {
          if (seen.has(id)) continue;
          seen.add(id);
          await this.take(id, summary);
        }
        continueFrom = listing.continueFrom;
        if (continueFrom === undefined) break;
      }
    }
    return summary;
  }

  /** Downloads one message, stores it, and acknowledges it once stored. */
  private async take(meshMessageId: string, summary: PollSummary): Promise<void> {
    const { mailbox, logger, feedId } = this.deps;
    const signal = this.stopping.signal;
    let d: MeshDownload;
    try {
      d = await mailbox.download(meshMessageId, signal);
    } catch (err) {
      // One message breaking the API (bad chunk headers, corrupt gzip) does not hold up the others; it is tried
      // again next poll, and stays in the mailbox (MESH returns it to its sender when it expires).
      if (err instanceof MeshError && err.kind === 'protocol') {
        logger.warn(
          { feed: feedId, meshMessageId, kind: err.kind, httpStatus: err.status },
          'MESH message cannot be downloaded; left in the mailbox',
        );
        return;
      }
      throw err;
    }
    if (d.kind === 'gone') {
      logger.info({ feed: feedId, meshMessageId, httpStatus: d.status }, 'MESH message listed but gone (acknowledged elsewhere)');
      return;
    }
    if (d.workflowId !== undefined && !this.deps.workflowIds.includes(d.workflowId)) {
      summary.leftAlone++;
      logger.warn(
        { feed: feedId, meshMessageId, workflowId: d.workflowId },
        'MESH message of another workflow listed; left in the mailbox',
      );
      return;
    }
    const receipt =
      d.kind === 'oversize'
        ? await this.deps.receive({
            bytes: d.head,
            meshMessageId,
            oversize: {
              sizeBytes: d.sizeBytes,
              limitBytes: d.limitBytes,
              ...(d.why === 'chunks' ? { detail: `The message has ${d.totalChunks} chunks, over the limit of ${d.maxChunks} chunks` } : {}),
            },
          })
        : await this.deps.receive({ bytes: d.bytes, meshMessageId });
    if (!receipt.stored) throw new StoreUnavailable();
    if (d.kind === 'oversize')
      logger.warn(
        {
          feed: feedId,
          meshMessageId,
          messageId: receipt.messageId,
          why: d.why,
          sizeBytes: d.sizeBytes,
          limitBytes: d.limitBytes,
          chunks: d.chunks,
        },
        'MESH message over the limit: its head stored and quarantined, and acknowledged',
      );
    await mailbox.acknowledge(meshMessageId, signal);
    if (receipt.duplicate) summary.duplicates++;
    else summary.taken++;
    logger.info(
      {
        feed: feedId,
        meshMessageId,
        workflowId: d.workflowId,
        messageId: receipt.messageId,
        status: receipt.status,
        duplicate: receipt.duplicate,
        chunks: d.chunks,
      },
      receipt.duplicate ? 'MESH message downloaded again, recognised as stored; acknowledged' : 'MESH message stored and acknowledged',
    );
  }
}

/** Intake could not store a message: the poll stops (nothing acknowledged) and backs off. */
class StoreUnavailable extends Error {
  constructor() {
    super('store unavailable');
    this.name = 'StoreUnavailable';
  }
}
