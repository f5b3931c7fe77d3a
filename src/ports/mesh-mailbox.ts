/**
 * One MESH mailbox (NHS England's Message Exchange for Social care and Health), as the poller uses it: the
 * inbox of one workflow id page by page, a message downloaded whole (every chunk, unpacked), and its
 * acknowledgement. adapters/mesh implements it over the MESH API.
 */

/** A page of the inbox listing: message ids, oldest first, and where the next page starts. */
export interface MeshInboxPage {
  messageIds: string[];
  /** The listing's `continue_from`: absent on the last page. */
  continueFrom?: string;
}

/** What downloading a listed message gave. */
export type MeshDownload =
  /** The whole message, every chunk joined and unpacked. */
  | { kind: 'message'; bytes: Buffer; workflowId?: string; chunks: number }
  /**
   * Larger than the limit (bytes, unpacked or on the wire), or more chunks than allowed: only `head` was kept.
   * `sizeBytes` is what was seen before stopping (the message is at least this large).
   */
  | {
      kind: 'oversize';
      head: Buffer;
      sizeBytes: number;
      limitBytes: number;
      workflowId?: string;
      /** Chunks read; how many the message has; how many may be read. */
      chunks: number;
      totalChunks: number;
      maxChunks: number;
      why: 'bytes' | 'chunks';
    }
  /** 404 or 410: unknown, or already acknowledged (by another process polling the same mailbox). */
  | { kind: 'gone'; status: number };

export interface MeshMailbox {
  /** The handshake (MESH asks for one at start and daily): checks the credentials and the certificate. */
  handshake(signal: AbortSignal): Promise<void>;
  listInbox(workflowId: string, continueFrom: string | undefined, signal: AbortSignal): Promise<MeshInboxPage>;
  download(messageId: string, signal: AbortSignal): Promise<MeshDownload>;
  /** `PUT .../status/acknowledged`: MESH then removes the message from the inbox (410 afterwards). */
  acknowledge(messageId: string, signal: AbortSignal): Promise<void>;
}

/**
 * A MESH call that failed: `auth` (401/403: password, shared key or certificate refused), `server` (5xx, 429),
 * `protocol` (an answer that breaks the API: bad JSON, headers, gzip), `network` (refused, reset, TLS),
 * `timeout`, or `aborted` (Stork is stopping). Its message never holds a secret or message content.
 */
export class MeshError extends Error {
  constructor(
    readonly kind: 'auth' | 'server' | 'protocol' | 'network' | 'timeout' | 'aborted',
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MeshError';
  }
}
