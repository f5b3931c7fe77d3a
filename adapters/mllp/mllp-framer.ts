/** MLLP block characters: a frame is VT + message + FS + CR. */
export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

export type FrameEvent =
  | { kind: 'message'; bytes: Buffer }
  /** The frame passed the size limit: only its head is kept, so the ACK can still name the message. */
  | { kind: 'oversize'; head: Buffer; sizeBytes: number };

/** Wraps a message in an MLLP frame. */
export function frame(message: string | Buffer): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  return Buffer.concat([Buffer.from([VT]), body, Buffer.from([FS, CR])]);
}

/**
 * Turns a TCP byte stream into MLLP frames: a read may hold half a frame or several, FS and CR may fall
 * into different reads, and bytes between frames are skipped. Frames over `maxBytes` are cut to their
 * head instead of buffering without bound.
 *
 * Faults (bytes outside frames, frames abandoned because a new VT came before their end) are counted,
 * never reported one by one: a stream of stray VT bytes costs a counter increment each, and the listener
 * logs the counts (rate-limited). Every byte is looked at a bounded number of times, whatever the input.
 */
export class MllpFramer {
  private inFrame = false;
  private parts: Buffer[] = [];
  private kept = 0;
  private size = 0;
  private pendingFs = false;
  /** How many of `parts` are copies of their own (the rest are views into the chunk being pushed). */
  private ownedParts = 0;
  /** Bytes seen outside any frame (noise, or a sender that does not frame). */
  skippedBytes = 0;
  /** Frames abandoned because a new frame started (VT) before they ended. */
  abandonedFrames = 0;
  /** The bytes those abandoned frames held. */
  abandonedBytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly headBytes = Math.min(maxBytes, 64 * 1024),
  ) {}

  /** Bytes held for an unfinished frame. */
  get bufferedBytes(): number {
    return this.kept;
  }

  /** A frame has started (VT seen) and not yet ended. */
  get inPartialFrame(): boolean {
    return this.inFrame;
  }

  /** Bytes received so far of the unfinished frame (may exceed what is kept, for an oversize frame). */
  get partialFrameBytes(): number {
    return this.inFrame ? this.size + (this.pendingFs ? 1 : 0) : 0;
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
    // Position of the next FS at or after i (chunk.length when there is none): found once and reused, so a
    // run of VT bytes does not rescan the rest of the chunk for each one.
    let end = -1;
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
      if (end < i) {
        end = chunk.indexOf(FS, i);
        if (end === -1) end = chunk.length;
      }
      if (chunk[i] === VT && this.size === 0) {
        // A run of VT bytes: each one abandons the empty frame the one before it opened.
        let j = i;
        while (j < chunk.length && chunk[j] === VT) j++;
        this.abandonedFrames += j - i;
        i = j;
        continue;
      }
      const restart = chunk.indexOf(VT, i);
      if (restart !== -1 && restart < end) {
        this.append(chunk.subarray(i, restart));
        this.abandonedFrames++;
        this.abandonedBytes += this.size;
        this.reset();
        this.inFrame = true;
        i = restart + 1;
        continue;
      }
      if (end === chunk.length) {
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
    this.keepOwnCopy();
    return events;
  }

  /**
   * An unfinished frame outlives this chunk: when what it holds of the chunk is a small part of the memory
   * behind it, copy that part, so that a few buffered bytes do not keep a whole 64 KiB read alive (memory
   * would then be far above what `bufferedBytes` says). A view of most of a read is kept as it is.
   */
  private keepOwnCopy(): void {
    for (let i = this.ownedParts; i < this.parts.length; i++) {
      const v = this.parts[i];
      if (v === undefined) continue;
      if (v.length * 2 < v.buffer.byteLength) {
        const copy = Buffer.allocUnsafeSlow(v.length);
        v.copy(copy);
        this.parts[i] = copy;
      }
    }
    this.ownedParts = this.parts.length;
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
      const head = Buffer.allocUnsafeSlow(this.headBytes);
      let at = 0;
      for (const p of this.parts) {
        if (at >= this.headBytes) break;
        at += p.copy(head, at, 0, Math.min(p.length, this.headBytes - at));
      }
      this.parts = [head];
      this.ownedParts = 1;
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
    this.ownedParts = 0;
    this.kept = 0;
    this.size = 0;
  }
}
