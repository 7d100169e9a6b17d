// The decoder as a streaming state machine: one header parse per frame, UTF-8 failing mid-frame, nothing held between frames, the V8 string cap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { Opcode } from '../../src/protocol/opcodes.js';
import { MAX_TEXT_MESSAGE_BYTES } from '../../src/protocol/utf8.js';
import {
  CompressionRecordingSink,
  DEFAULT_OPTIONS,
  RecordingSink,
  bytes,
  chunkings,
  decodeSplit,
  error,
  frame,
  type SinkEvent,
} from './helpers.js';

const { Continuation, Text, Binary, Close, Ping } = Opcode;

/** Text of `n` bytes mixing 1- to 4-byte UTF-8 sequences, so piece boundaries fall inside sequences. */
function mixedText(n: number): Buffer {
  const unit = Buffer.from('aé€𝄞', 'utf8'); // 1 + 2 + 3 + 4 bytes
  const out = Buffer.alloc(n, 0x61);
  for (let i = 0; i + unit.length <= n; i += unit.length) unit.copy(out, i);
  return out;
}

/** Pushes `input` in the chunks delimited by `splits`; reports after which chunk (its end offset) each event arrived. */
function decodeTimed(
  input: Buffer,
  splits: readonly number[],
  options = DEFAULT_OPTIONS
): { events: SinkEvent[]; at: number[]; decoder: FrameDecoder } {
  const sink = new RecordingSink();
  const decoder = new FrameDecoder(sink, options);
  const at: number[] = [];
  let from = 0;
  for (const to of [...splits, input.length]) {
    decoder.push(Buffer.from(input.subarray(from, to)));
    while (at.length < sink.events.length) at.push(to);
    from = to;
  }
  return { events: sink.events, at, decoder };
}

describe('FrameDecoder: each frame header is decoded once, whatever the chunking', () => {
  const input = bytes(
    frame({ opcode: Text, payload: 'seven' }),
    frame({ opcode: Binary, payload: Buffer.alloc(300, 1) }), // 16-bit length
    frame({ opcode: Binary, payload: Buffer.alloc(70000, 2) }), // 64-bit length
    frame({ opcode: Text, fin: false, payload: 'frag' }),
    frame({ opcode: Ping, payload: 'p' }),
    frame({ opcode: Continuation, fin: false }),
    frame({ opcode: Continuation, payload: 'ment', lengthForm: 64 }),
    frame({ opcode: Binary }),
    frame({ opcode: Close, payload: Buffer.from([0x03, 0xe8]) })
  );
  const frames = 9;

  it('counts 9 headers for 9 frames fed whole, byte by byte and split at every boundary', () => {
    let runs = 0;
    for (const { name, splits } of chunkings(input.length)) {
      const { events, decoder } = decodeSplit(input, splits);
      assert.equal(events.length, 7, `${name}: events`);
      assert.deepEqual(events.at(-1), ['close', 1000, ''], name);
      assert.equal(decoder.headersParsed, frames, `${name}: headers decoded`);
      runs++;
    }
    assert.ok(runs > 100);
  });
  it('counts one header per frame when every frame arrives in 1- to 7-byte pieces', () => {
    for (let size = 1; size <= 7; size++) {
      const splits: number[] = [];
      for (let at = size; at < input.length; at += size) splits.push(at);
      assert.equal(decodeSplit(input, splits).decoder.headersParsed, frames, `pieces of ${size}`);
    }
  });
});

describe('FrameDecoder: invalid UTF-8 inside one text frame fails with 1007 before the rest of the frame arrives', () => {
  // [what, bytes, index of the first byte that no valid UTF-8 stream can have there]
  const bad: [string, number[], number][] = [
    ['a lone continuation byte', [0x80], 0],
    ['a 2-byte lead followed by ASCII', [0xc3, 0x28], 1],
    ['an overlong lead', [0xc0, 0xaf], 0],
    ['a UTF-16 surrogate', [0xed, 0xa0, 0x80], 1],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 1],
    ['an invalid byte', [0xff], 0],
  ];
  for (const [name, seq, breaks] of bad) {
    it(`${name} in the middle of a 300-byte frame: reported with the chunk that carries it, at every split`, () => {
      const payload = mixedText(300);
      const badAt = 150;
      Buffer.from(seq).copy(payload, badAt);
      const input = frame({ opcode: Text, payload });
      const header = input.length - payload.length;
      // Bytes of the frame up to and including the first one that breaks the text.
      const breaksAt = header + badAt + breaks + 1;
      for (const { name: chunking, splits } of chunkings(input.length)) {
        const { events, at } = decodeTimed(input, splits);
        assert.deepEqual(events, [error('WS_ERR_INVALID_UTF8', 1007)], chunking);
        // The chunk after which the error came is the first one that reaches the breaking byte.
        const expectedAt = [...splits, input.length].find(end => end >= breaksAt);
        assert.equal(at[0], expectedAt, `${chunking}: error reported after ${at[0]} bytes`);
      }
    });
  }
  it('a 1 MiB text frame fed in 16 KiB reads fails at the read that carries the bad byte, long before the end', () => {
    const payload = mixedText(1 << 20);
    payload[300_000] = 0xff;
    const input = frame({ opcode: Text, payload });
    const splits: number[] = [];
    for (let at = 16384; at < input.length; at += 16384) splits.push(at);
    const { events, at, decoder } = decodeTimed(input, splits, { maxMessageSize: 2 << 20 });
    assert.deepEqual(events, [error('WS_ERR_INVALID_UTF8', 1007)]);
    assert.equal(at[0], Math.ceil((300_000 + 14 + 1) / 16384) * 16384);
    assert.equal(decoder.isFinished, true);
    assert.equal(decoder.retainedBytes, 0, 'nothing held after the failure');
  });
  it('in a continuation frame of a fragmented message: fails mid-frame too', () => {
    const second = mixedText(400);
    second[200] = 0xc0;
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: mixedText(100) }),
      frame({ opcode: Continuation, payload: second })
    );
    const badOffset = input.length - 400 + 200 + 1;
    for (const { name, splits } of chunkings(input.length)) {
      const { events, at } = decodeTimed(input, splits);
      assert.deepEqual(events, [error('WS_ERR_INVALID_UTF8', 1007)], name);
      assert.equal(
        at[0],
        [...splits, input.length].find(end => end >= badOffset),
        name
      );
    }
  });
  it('a sequence cut off by the end of the message still fails at the end of the frame', () => {
    const payload = Buffer.concat([mixedText(99), Buffer.from([0xe2, 0x82])]);
    const input = frame({ opcode: Text, payload });
    for (const { name, splits } of chunkings(input.length)) {
      const { events, at } = decodeTimed(input, splits);
      assert.deepEqual(events, [error('WS_ERR_INVALID_UTF8', 1007)], name);
      assert.equal(at[0], input.length, name);
    }
  });
  it('valid text split inside its multi-byte sequences decodes unchanged', () => {
    const payload = mixedText(500);
    const input = frame({ opcode: Text, payload });
    for (const { name, splits } of chunkings(input.length)) {
      assert.deepEqual(decodeSplit(input, splits).events, [['text', payload.toString('utf8')]], name);
    }
  });
});

describe('FrameDecoder: nothing is held between frames', () => {
  it('holds no buffer after a partial header (no tail buffer pinned by one short read)', () => {
    const input = frame({ opcode: Binary, payload: Buffer.alloc(70000, 3) });
    for (let n = 1; n <= 14; n++) {
      const decoder = new FrameDecoder(new RecordingSink(), DEFAULT_OPTIONS);
      decoder.push(Buffer.from(input.subarray(0, n)));
      assert.equal(decoder.retainedBytes, 0, `after ${n} header bytes`);
      assert.equal(decoder.bufferedBytes, n);
    }
  });
  it('holds the payload while a frame is incomplete and nothing once it completes, at every split', () => {
    const payload = mixedText(3000);
    const input = bytes(
      frame({ opcode: Text, payload }),
      frame({ opcode: Binary, fin: false, payload: Buffer.alloc(2000, 7) }),
      frame({ opcode: Ping, payload: 'mid' }),
      frame({ opcode: Continuation, payload: Buffer.alloc(1000, 8) })
    );
    const firstEnd = frame({ opcode: Text, payload }).length;
    for (const { name, splits } of chunkings(input.length)) {
      const sink = new RecordingSink();
      const decoder = new FrameDecoder(sink, DEFAULT_OPTIONS);
      let from = 0;
      for (const to of [...splits, input.length]) {
        decoder.push(Buffer.from(input.subarray(from, to)));
        from = to;
        if (to === firstEnd || to === input.length) {
          assert.equal(decoder.retainedBytes, 0, `${name}: held after a complete message at ${to}`);
          assert.equal(decoder.bufferedBytes, 0, name);
        } else if (to > 8 && to < firstEnd) {
          assert.ok(decoder.retainedBytes > 0, `${name}: the partial text frame at ${to} is held`);
        }
      }
      assert.equal(sink.events.length, 3, name);
    }
  });
  it('a whole frame within one chunk is delivered as a view of that chunk (no copy)', () => {
    const sink = new RecordingSink();
    let seen: Buffer | undefined;
    sink.onBinary = (data: Buffer) => void (seen = data);
    const chunk = frame({ opcode: Binary, payload: Buffer.alloc(5000, 9) });
    new FrameDecoder(sink, DEFAULT_OPTIONS).push(chunk);
    assert.equal(seen?.buffer, chunk.buffer);
    assert.equal(seen?.byteOffset, chunk.byteOffset + 8);
  });
  /** Feeds `input` cut at `splits`, each read a buffer of its own (as a socket gives); returns the reads and the binary messages. */
  function feedReads(input: Buffer, splits: readonly number[]): { reads: Buffer[]; got: Buffer[] } {
    const sink = new RecordingSink();
    const got: Buffer[] = [];
    sink.onBinary = (data: Buffer) => void got.push(data);
    const decoder = new FrameDecoder(sink, DEFAULT_OPTIONS);
    const reads: Buffer[] = [];
    let from = 0;
    for (const to of [...splits, input.length]) {
      const read = Buffer.from(input.subarray(from, to));
      reads.push(read);
      decoder.push(read);
      from = to;
    }
    assert.equal(decoder.retainedBytes, 0);
    return { reads, got };
  }
  it('a final frame of up to 64 KiB in several reads is copied into one buffer of its size, and the reads stay as they came', () => {
    const payload = Buffer.alloc(65536);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    const wire = frame({ opcode: Binary, payload });
    for (const splits of [[30000], [14, 40000], [5, 20000, 50000], [65000]]) {
      const { reads, got } = feedReads(wire, splits);
      assert.equal(got.length, 1);
      assert.deepEqual(got[0], payload, `splits ${splits.join(',')}`);
      // One buffer of exactly the payload: no join, and no read pinned by the message.
      assert.equal(got[0].buffer.byteLength, payload.length, `splits ${splits.join(',')}`);
      // Copied, then unmasked in the copy: every read still holds the masked bytes it arrived with.
      let at = 0;
      for (const read of reads) {
        assert.deepEqual(read, wire.subarray(at, at + read.length), `splits ${splits.join(',')}`);
        at += read.length;
      }
    }
  });
  it('a larger frame keeps reads that are mostly payload as views until the message ends, unmasked in place', () => {
    const payload = Buffer.alloc(200_000, 0x5a);
    const wire = frame({ opcode: Binary, payload });
    const { reads, got } = feedReads(wire, [100_000]);
    assert.deepEqual(got, [payload]);
    // The first read (header + 99 986 payload bytes) was kept as a view, so it was unmasked where it lies.
    assert.deepEqual(reads[0].subarray(14), payload.subarray(0, 100_000 - 14));
  });
});

describe('FrameDecoder: a text message never exceeds what a JavaScript string can hold', () => {
  const huge = { maxMessageSize: 2 ** 32 };
  it('MAX_TEXT_MESSAGE_BYTES is V8 string limit, which bounds any UTF-8 text of that many bytes', () => {
    assert.ok(MAX_TEXT_MESSAGE_BYTES >= 2 ** 28, `${MAX_TEXT_MESSAGE_BYTES}`);
    // UTF-16 length never exceeds the UTF-8 byte length: 4-byte sequences give 2 code units.
    for (const s of ['a', 'é', '€', '𝄞', 'aé€𝄞']) assert.ok(s.length <= Buffer.byteLength(s), s);
  });
  it('fails a text frame that declares more bytes with 1009 at its header, before any payload', () => {
    const header = frame({ opcode: Text, declaredLength: MAX_TEXT_MESSAGE_BYTES + 1, lengthForm: 64 });
    for (const { name, splits } of chunkings(header.length)) {
      const { events } = decodeSplit(header, splits, huge);
      assert.deepEqual(events, [error('WS_ERR_TEXT_TOO_BIG', 1009)], name);
    }
  });
  it('counts the fragments of a text message together', () => {
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: 'a' }),
      frame({ opcode: Continuation, declaredLength: MAX_TEXT_MESSAGE_BYTES, lengthForm: 64 })
    );
    assert.deepEqual(decodeSplit(input, [], huge).events, [error('WS_ERR_TEXT_TOO_BIG', 1009)]);
  });
  it('accepts exactly MAX_TEXT_MESSAGE_BYTES (waits for the payload), and binary beyond it', () => {
    for (const input of [
      frame({ opcode: Text, declaredLength: MAX_TEXT_MESSAGE_BYTES, lengthForm: 64 }),
      frame({ opcode: Binary, declaredLength: MAX_TEXT_MESSAGE_BYTES + 1, lengthForm: 64 }),
    ]) {
      const { events, decoder } = decodeSplit(input, [], huge);
      assert.deepEqual(events, []);
      assert.equal(decoder.isFinished, false);
    }
  });
  it('leaves compressed text to the inflater (its size on the wire is not its length)', () => {
    const input = frame({ opcode: Text, rsv: 4, declaredLength: MAX_TEXT_MESSAGE_BYTES + 1, lengthForm: 64 });
    const { events } = decodeSplit(input, [], { ...huge, compression: true }, new CompressionRecordingSink());
    assert.deepEqual(events, []);
  });
  it('maxMessageSize below the cap answers first, with its own code', () => {
    const header = frame({ opcode: Text, declaredLength: MAX_TEXT_MESSAGE_BYTES + 1, lengthForm: 64 });
    assert.deepEqual(decodeSplit(header, []).events, [error('WS_ERR_MESSAGE_TOO_BIG', 1009)]);
  });
});
