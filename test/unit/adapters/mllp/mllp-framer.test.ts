import { CR, FS, VT, frame, MllpFramer, type FrameEvent } from '../../../../adapters/mllp/mllp-framer.js';

const MSG_A = 'MSH|^~\\&|PAS|RX1|STORK|HUB|20240101120000||ADT^A28^ADT_A05|A1|P|2.4\rPID|1||9000000009^^^NHS^NH\r';
const MSG_B = 'MSH|^~\\&|PAS|RX1|STORK|HUB|20240101120001||ADT^A28^ADT_A05|B2|P|2.4\rPID|1||9449307946^^^NHS^NH\r';

/** The text of each `message` event, failing on any other kind. */
function texts(events: readonly FrameEvent[]): string[] {
  return events.map((e) => {
    if (e.kind !== 'message') throw new Error(`expected a message event, got ${e.kind}`);
    return e.bytes.toString('utf8');
  });
}

function pushAll(framer: MllpFramer, chunks: readonly Buffer[]): FrameEvent[] {
  return chunks.flatMap((c) => framer.push(c));
}

describe('frame()', () => {
  it('wraps a string in VT … FS CR', () => {
    const f = frame('AB');
    expect([...f]).toEqual([VT, 0x41, 0x42, FS, CR]);
  });

  it('wraps a Buffer unchanged', () => {
    const body = Buffer.from([1, 2, 3]);
    expect([...frame(body)]).toEqual([0x0b, 1, 2, 3, 0x1c, 0x0d]);
  });

  it('encodes strings as UTF-8', () => {
    expect([...frame('é')]).toEqual([VT, 0xc3, 0xa9, FS, CR]);
  });

  it('round-trips through the framer, including non-ASCII text', () => {
    const message = 'MSH|^~\\&|PAS|RX1\rPID|1||^^^NHS||ŁÓDŹ^Zoë\r';
    const framer = new MllpFramer(1024);
    expect(texts(framer.push(frame(message)))).toEqual([message]);
    expect(framer.bufferedBytes).toBe(0);
    expect(framer.skippedBytes).toBe(0);
  });

  it('round-trips an empty message as an empty message event', () => {
    const framer = new MllpFramer(1024);
    const events = framer.push(frame(''));
    expect(events).toHaveLength(1);
    expect(events[0]?.kind).toBe('message');
    expect(texts(events)).toEqual(['']);
  });
});

describe('MllpFramer', () => {
  it('the block characters are VT 0x0B, FS 0x1C, CR 0x0D', () => {
    expect([VT, FS, CR]).toEqual([0x0b, 0x1c, 0x0d]);
  });

  it('emits one frame from one chunk', () => {
    const framer = new MllpFramer(1024);
    const events = framer.push(frame(MSG_A));
    expect(events).toHaveLength(1);
    expect(texts(events)).toEqual([MSG_A]);
    expect(framer.bufferedBytes).toBe(0);
    expect(framer.skippedBytes).toBe(0);
  });

  it('emits nothing for half a frame and holds its bytes', () => {
    const framer = new MllpFramer(1024);
    const whole = frame(MSG_A);
    expect(framer.push(whole.subarray(0, 20))).toEqual([]);
    expect(framer.bufferedBytes).toBe(19); // the VT is not part of the message
    expect(texts(framer.push(whole.subarray(20)))).toEqual([MSG_A]);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('reassembles a frame split at every possible byte position', () => {
    const whole = frame(MSG_A);
    // Split point s: the first chunk is whole[0, s), the second whole[s, end). s = length - 1 splits FS | CR.
    for (let s = 0; s <= whole.length; s++) {
      const framer = new MllpFramer(1024);
      const events = pushAll(framer, [whole.subarray(0, s), whole.subarray(s)]);
      expect({ s, messages: texts(events) }).toEqual({ s, messages: [MSG_A] });
      expect({ s, buffered: framer.bufferedBytes, skipped: framer.skippedBytes }).toEqual({ s, buffered: 0, skipped: 0 });
    }
  });

  it('reassembles a frame split between FS and CR, then reads the next frame normally', () => {
    const whole = frame(MSG_A);
    const framer = new MllpFramer(1024);
    expect(framer.push(whole.subarray(0, whole.length - 1))).toEqual([]);
    const events = framer.push(Buffer.concat([Buffer.from([CR]), frame(MSG_B)]));
    expect(texts(events)).toEqual([MSG_A, MSG_B]);
  });

  it('reassembles two back-to-back frames split at every position, three ways', () => {
    const stream = Buffer.concat([frame(MSG_A), frame(MSG_B)]);
    for (let s = 0; s <= stream.length; s++) {
      const t = Math.min(stream.length, s + 7);
      const framer = new MllpFramer(1024);
      const events = pushAll(framer, [stream.subarray(0, s), stream.subarray(s, t), stream.subarray(t)]);
      expect({ s, messages: texts(events) }).toEqual({ s, messages: [MSG_A, MSG_B] });
    }
  });

  it('reassembles a frame fed one byte at a time', () => {
    const whole = frame(MSG_A);
    const framer = new MllpFramer(1024);
    const events: FrameEvent[] = [];
    for (const byte of whole) events.push(...framer.push(Buffer.from([byte])));
    expect(texts(events)).toEqual([MSG_A]);
  });

  it('ignores empty chunks, also while an FS awaits its CR', () => {
    const whole = frame(MSG_A);
    const framer = new MllpFramer(1024);
    expect(framer.push(Buffer.alloc(0))).toEqual([]);
    expect(framer.push(whole.subarray(0, whole.length - 1))).toEqual([]);
    expect(framer.push(Buffer.alloc(0))).toEqual([]);
    expect(texts(framer.push(whole.subarray(whole.length - 1)))).toEqual([MSG_A]);
  });

  it('emits several frames packed in one chunk, in order', () => {
    const framer = new MllpFramer(1024);
    const chunk = Buffer.concat([frame(MSG_A), frame(MSG_B), frame('third')]);
    expect(texts(framer.push(chunk))).toEqual([MSG_A, MSG_B, 'third']);
    expect(framer.skippedBytes).toBe(0);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('skips and counts bytes before, between and after frames', () => {
    const framer = new MllpFramer(1024);
    const chunk = Buffer.concat([
      Buffer.from('noise'), // 5
      frame(MSG_A),
      Buffer.from('\r\n'), // 2
      frame(MSG_B),
      Buffer.from('xyz'), // 3
    ]);
    expect(texts(framer.push(chunk))).toEqual([MSG_A, MSG_B]);
    expect(framer.skippedBytes).toBe(10);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('counts skipped bytes across chunks that hold no frame at all', () => {
    const framer = new MllpFramer(1024);
    expect(framer.push(Buffer.from('MSH|^~\\&|unframed\r'))).toEqual([]);
    expect(framer.push(Buffer.from([CR, FS, CR]))).toEqual([]);
    expect(framer.skippedBytes).toBe(18 + 3);
    expect(framer.bufferedBytes).toBe(0);
    expect(texts(framer.push(frame('ok')))).toEqual(['ok']);
    expect(framer.skippedBytes).toBe(21);
  });

  it('treats an FS not followed by CR as data', () => {
    const framer = new MllpFramer(1024);
    const body = Buffer.from([0x41, FS, 0x42, FS, FS, 0x43]);
    const events = framer.push(frame(body));
    expect(events).toHaveLength(1);
    const e = events[0];
    expect(e?.kind).toBe('message');
    if (e?.kind === 'message') expect([...e.bytes]).toEqual([0x41, FS, 0x42, FS, FS, 0x43]);
  });

  it('treats an FS at a chunk end followed by a non-CR byte as data', () => {
    const framer = new MllpFramer(1024);
    expect(framer.push(Buffer.from([VT, 0x41, FS]))).toEqual([]);
    const events = framer.push(Buffer.from([0x42, FS, CR]));
    expect(events).toHaveLength(1);
    const e = events[0];
    if (e?.kind !== 'message') throw new Error('expected a message');
    expect([...e.bytes]).toEqual([0x41, FS, 0x42]);
  });

  it('a VT inside a frame abandons the unfinished frame and starts a new one', () => {
    const framer = new MllpFramer(1024);
    const chunk = Buffer.concat([Buffer.from([VT]), Buffer.from('half a mess'), frame(MSG_B)]);
    const events = framer.push(chunk);
    expect(events).toEqual([{ kind: 'message', bytes: Buffer.from(MSG_B) }]);
    expect({ frames: framer.abandonedFrames, bytes: framer.abandonedBytes }).toEqual({ frames: 1, bytes: 11 });
    expect(framer.bufferedBytes).toBe(0);
  });

  it('a VT in a later chunk abandons the frame held from earlier chunks, counting all its bytes', () => {
    const framer = new MllpFramer(1024);
    expect(framer.push(Buffer.from([VT, 0x61, 0x62, 0x63]))).toEqual([]);
    expect(framer.push(Buffer.from('defg'))).toEqual([]);
    expect(framer.bufferedBytes).toBe(7);
    const events = framer.push(Buffer.concat([Buffer.from('hi'), frame('next')]));
    expect(texts(events)).toEqual(['next']);
    expect({ frames: framer.abandonedFrames, bytes: framer.abandonedBytes }).toEqual({ frames: 1, bytes: 9 });
  });

  it('an FS held at a chunk end then a VT: the FS counts towards the abandoned frame', () => {
    const framer = new MllpFramer(1024);
    expect(framer.push(Buffer.from([VT, 0x61, FS]))).toEqual([]);
    const events = framer.push(frame('new'));
    expect(texts(events)).toEqual(['new']);
    expect({ frames: framer.abandonedFrames, bytes: framer.abandonedBytes }).toEqual({ frames: 1, bytes: 2 });
  });

  describe('hostile input', () => {
    it('a mebibyte of VT bytes is counted as abandoned empty frames, in linear time, with no event per byte', () => {
      const framer = new MllpFramer(1024 * 1024);
      const chunk = Buffer.alloc(64 * 1024, VT);
      const events: FrameEvent[] = [];
      const started = process.hrtime.bigint();
      for (let n = 0; n < 16; n++) events.push(...framer.push(chunk));
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      expect(events).toEqual([]);
      // The first VT opens a frame; every later one abandons the (empty) frame before it.
      expect({ frames: framer.abandonedFrames, bytes: framer.abandonedBytes }).toEqual({ frames: 1024 * 1024 - 1, bytes: 0 });
      expect(framer.inPartialFrame).toBe(true);
      expect(framer.bufferedBytes).toBe(0);
      // Safety ceiling, not a benchmark: the quadratic rescan this replaces took about 400 ms here.
      expect(ms).toBeLessThan(2000);
      expect(texts(framer.push(frame(MSG_A)))).toEqual([MSG_A]);
    });

    it('VT bytes scattered through a chunk that also holds an FS further on: each abandons a frame, the last frame completes', () => {
      const framer = new MllpFramer(1024);
      const chunk = Buffer.concat([Buffer.from([VT, 0x61, VT, 0x62, 0x63, VT, VT]), Buffer.from(MSG_A), Buffer.from([FS, CR])]);
      expect(texts(framer.push(chunk))).toEqual([MSG_A]);
      expect({ frames: framer.abandonedFrames, bytes: framer.abandonedBytes }).toEqual({ frames: 3, bytes: 3 });
    });

    it('reports whether it holds a partial frame, and how many bytes of it have arrived', () => {
      const framer = new MllpFramer(100, 10);
      expect({ partial: framer.inPartialFrame, bytes: framer.partialFrameBytes }).toEqual({ partial: false, bytes: 0 });
      framer.push(Buffer.from([VT]));
      expect({ partial: framer.inPartialFrame, bytes: framer.partialFrameBytes }).toEqual({ partial: true, bytes: 0 });
      framer.push(Buffer.alloc(150, 0x41));
      expect({ bytes: framer.partialFrameBytes, kept: framer.bufferedBytes }).toEqual({ bytes: 150, kept: 10 });
      framer.push(Buffer.from([FS, CR]));
      expect({ partial: framer.inPartialFrame, bytes: framer.partialFrameBytes, kept: framer.bufferedBytes }).toEqual({
        partial: false,
        bytes: 0,
        kept: 0,
      });
    });

    it('an unfinished frame keeps a copy of a few bytes, not the whole read they arrived in', () => {
      const framer = new MllpFramer(1024 * 1024);
      const read = Buffer.alloc(64 * 1024, 0x20);
      read[read.length - 3] = VT;
      read[read.length - 2] = 0x41;
      read[read.length - 1] = 0x42;
      framer.push(read);
      expect(framer.bufferedBytes).toBe(2);
      read.fill(0x5a); // the caller's buffer is reused: what the framer holds must not change
      const events = framer.push(Buffer.from([0x43, FS, CR]));
      expect(texts(events)).toEqual(['ABC']);
    });
  });

  describe('size limit', () => {
    it('a frame of exactly maxBytes is a normal message; one byte more is oversize', () => {
      const exact = 'x'.repeat(100);
      const framer = new MllpFramer(100);
      expect(texts(framer.push(frame(exact)))).toEqual([exact]);
      const events = framer.push(frame('y'.repeat(101)));
      expect(events).toEqual([{ kind: 'oversize', head: Buffer.from('y'.repeat(100)), sizeBytes: 101 }]);
    });

    it('an oversize frame in one chunk gives its head and exact size, and the next frame is normal', () => {
      const framer = new MllpFramer(100);
      const big = MSG_A + 'Z'.repeat(500);
      const events = framer.push(Buffer.concat([frame(big), frame(MSG_B)]));
      expect(events).toHaveLength(2);
      const first = events[0];
      if (first?.kind !== 'oversize') throw new Error(`expected oversize, got ${String(first?.kind)}`);
      expect(first.sizeBytes).toBe(Buffer.byteLength(big));
      expect(first.head.length).toBeLessThanOrEqual(100);
      expect(first.head.toString('utf8')).toBe(big.slice(0, 100));
      expect(texts(events.slice(1))).toEqual([MSG_B]);
      expect(framer.bufferedBytes).toBe(0);
    });

    it('keeps only headBytes of an oversize frame when headBytes is smaller than maxBytes', () => {
      const framer = new MllpFramer(100, 16);
      const big = 'MSH|^~\\&|PAS|RX1|' + 'q'.repeat(300);
      const whole = frame(big);
      const events = pushAll(framer, [whole.subarray(0, 60), whole.subarray(60, 200), whole.subarray(200)]);
      expect(events).toEqual([{ kind: 'oversize', head: Buffer.from(big.slice(0, 16)), sizeBytes: big.length }]);
      const next = framer.push(frame(MSG_A));
      expect(texts(next)).toEqual([MSG_A]);
    });

    it('an oversize frame split at every position still reports its exact size and head', () => {
      const big = 'H'.repeat(40) + 'T'.repeat(140);
      const whole = frame(big);
      for (let s = 0; s <= whole.length; s++) {
        const framer = new MllpFramer(100, 50);
        const events = pushAll(framer, [whole.subarray(0, s), whole.subarray(s), frame('after')]);
        expect({ s, events }).toEqual({
          s,
          events: [
            { kind: 'oversize', head: Buffer.from('H'.repeat(40) + 'T'.repeat(10)), sizeBytes: 180 },
            { kind: 'message', bytes: Buffer.from('after') },
          ],
        });
      }
    });

    it('an oversize frame that is then abandoned reports its full size', () => {
      const framer = new MllpFramer(100);
      const events = framer.push(Buffer.concat([Buffer.from([VT]), Buffer.alloc(250, 0x61), frame('ok')]));
      expect(events).toEqual([{ kind: 'message', bytes: Buffer.from('ok') }]);
      expect({ frames: framer.abandonedFrames, bytes: framer.abandonedBytes }).toEqual({ frames: 1, bytes: 250 });
    });

    it('bufferedBytes stays bounded while a 10 MB frame streams in 1 KB chunks', () => {
      const maxBytes = 100;
      const framer = new MllpFramer(maxBytes);
      const chunk = Buffer.alloc(1024, 0x41);
      const total = 10 * 1024 * 1024;
      let maxBuffered = 0;
      expect(framer.push(Buffer.from([VT]))).toEqual([]);
      for (let sent = 0; sent < total; sent += chunk.length) {
        expect(framer.push(chunk)).toEqual([]);
        maxBuffered = Math.max(maxBuffered, framer.bufferedBytes);
      }
      expect(maxBuffered).toBe(maxBytes);
      const events = framer.push(Buffer.from([FS, CR]));
      expect(events).toHaveLength(1);
      const e = events[0];
      if (e?.kind !== 'oversize') throw new Error('expected oversize');
      expect(e.sizeBytes).toBe(total);
      expect(e.head.equals(Buffer.alloc(100, 0x41))).toBe(true);
      expect(framer.bufferedBytes).toBe(0);
      expect(texts(framer.push(frame(MSG_A)))).toEqual([MSG_A]);
    });

    it('the default head is min(maxBytes, 64 KiB)', () => {
      const framer = new MllpFramer(200 * 1024);
      const size = 300 * 1024;
      const events = framer.push(frame(Buffer.alloc(size, 0x42)));
      const e = events[0];
      if (e?.kind !== 'oversize') throw new Error('expected oversize');
      expect(e.sizeBytes).toBe(size);
      expect(e.head.length).toBe(64 * 1024);
    });
  });
});
