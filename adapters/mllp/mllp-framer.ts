/** MLLP block characters: a frame is VT + message + FS + CR. */
export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

export type FrameEvent =
  | { kind: 'message'; bytes: Buffer }
  /** The frame passed the size limit: only its head is kept, so the ACK can still name the message. */
  | { kind: 'oversize'; head: Buffer; sizeBytes: number }
  /** A new frame started before the last one ended; the unfinished one was never acknowledged. */
  | { kind: 'abandoned'; sizeBytes: number };

/** Wraps a message in an MLLP frame. */
export function frame(message: string | Buffer): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  return Buffer.concat([Buffer.from([VT]), body, Buffer.from([FS, CR])]);
}

/**
 * Turns a TCP byte stream into MLLP frames: a read may hold half a frame or several, FS and CR may fall
 * into different reads, and bytes between frames are skipped. Frames over `maxBytes` are cut to their
 * head instead of buffering without bound.
 */
export class MllpFramer {
  private inFrame = false;
  private parts: Buffer[] = [];
  private kept = 0;
  private size = 0;
  private pendingFs = false;
  /** Bytes seen outside any frame (noise, or a sender that does not frame). */
  skippedBytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly headBytes = Math.min(maxBytes, 64 * 1024),
  ) {}

  /** Bytes held for an unfinished frame. */
  get bufferedBytes(): number {
    return this.kept;
  }

  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    let i = 0;
    if (this.pendingFs && chunk.length > 0) {
      this.pendingFs = false;
      if (chunk[0] === CR) {
        events.push(this.finish());
        i = 1;
      } else this.append(Buffer.from([FS]));
    }
    while (i < chunk.length) {
      if (!this.inFrame) {
        const start = chunk.indexOf(VT, i);
        if (start === -1) {
          this.skippedBytes += chunk.length - i;
          break;
        }
        this.skippedBytes += start - i;
        this.inFrame = true;
        i = start + 1;
        continue;
      }
      const end = chunk.indexOf(FS, i);
      const restart = chunk.indexOf(VT, i);
      if (restart !== -1 && (end === -1 || restart < end)) {
        this.append(chunk.subarray(i, restart));
        events.push({ kind: 'abandoned', sizeBytes: this.size });
        this.reset();
        this.inFrame = true;
        i = restart + 1;
        continue;
      }
      if (end === -1) {
        this.append(chunk.subarray(i));
        break;
      }
      this.append(chunk.subarray(i, end));
      if (end === chunk.length - 1) {
        this.pendingFs = true;
        break;
      }
      if (chunk[end + 1] === CR) {
        events.push(this.finish());
        i = end + 2;
      } else {
        this.append(chunk.subarray(end, end + 1));
        i = end + 1;
      }
    }
    return events;
  }

  private append(b: Buffer): void {
    if (b.length === 0) return;
    this.size += b.length;
    const limit = this.size > this.maxBytes ? this.headBytes : this.maxBytes;
    if (this.kept < limit) {
      const take = b.subarray(0, limit - this.kept);
      this.parts.push(take);
      this.kept += take.length;
    }
    if (this.size > this.maxBytes && this.kept > this.headBytes) {
      // Just crossed the limit: drop what was kept beyond the head.
      const head = Buffer.concat(this.parts).subarray(0, this.headBytes);
      this.parts = [head];
      this.kept = head.length;
    }
  }

  private finish(): FrameEvent {
    const size = this.size;
    const only = this.parts.length === 1 ? this.parts[0] : undefined;
    const bytes = only ?? Buffer.concat(this.parts);
    this.reset();
    return size > this.maxBytes ? { kind: 'oversize', head: bytes, sizeBytes: size } : { kind: 'message', bytes };
  }

  private reset(): void {
    this.inFrame = false;
    this.parts = [];
    this.kept = 0;
    this.size = 0;
  }
}
