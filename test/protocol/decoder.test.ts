// FrameDecoder byte vectors for every RFC 6455 framing rule, each fed whole, byte by byte and split at every boundary.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { Opcode } from '../../src/protocol/opcodes.js';
import {
  CompressionRecordingSink,
  DEFAULT_OPTIONS,
  RecordingSink,
  assertDecodes,
  bytes,
  decodeSplit,
  error,
  frame,
  prng,
  type SinkEvent,
} from './helpers.js';

const { Continuation, Text, Binary, Close, Ping, Pong } = Opcode;

/** A payload of `n` bytes with a recognisable pattern. */
function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

function closePayload(code: number, reason: Uint8Array | string = ''): Buffer {
  const r = typeof reason === 'string' ? Buffer.from(reason) : Buffer.from(reason);
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

describe('FrameDecoder: payload lengths', () => {
  for (const n of [0, 1, 125]) {
    it(`decodes a ${n}-byte binary frame with a 7-bit length`, () => {
      const p = pattern(n);
      assertDecodes(frame({ opcode: Binary, payload: p }), [['binary', p.toString('hex')]]);
    });
  }
  for (const n of [126, 1000, 65535]) {
    it(`decodes a ${n}-byte binary frame with a 16-bit length`, () => {
      const p = pattern(n);
      const input = frame({ opcode: Binary, payload: p });
      assert.equal(input[1] & 0x7f, 126);
      assertDecodes(input, [['binary', p.toString('hex')]]);
    });
  }
  it('decodes a 65536-byte binary frame with a 64-bit length', () => {
    const p = pattern(65536);
    const input = frame({ opcode: Binary, payload: p });
    assert.equal(input[1] & 0x7f, 127);
    assertDecodes(input, [['binary', p.toString('hex')]]);
  });
  it('accepts non-minimal length encodings (16-bit and 64-bit lengths for small payloads)', () => {
    const input = bytes(
      frame({ opcode: Text, payload: 'abc', lengthForm: 16 }),
      frame({ opcode: Text, payload: 'defgh', lengthForm: 64 }),
      frame({ opcode: Binary, payload: pattern(300), lengthForm: 64 }),
      frame({ opcode: Binary, payload: new Uint8Array(0), lengthForm: 64 })
    );
    assertDecodes(input, [
      ['text', 'abc'],
      ['text', 'defgh'],
      ['binary', pattern(300).toString('hex')],
      ['binary', ''],
    ]);
  });
  it('decodes zero-length text, ping and pong frames', () => {
    assertDecodes(
      bytes(frame({ opcode: Text }), frame({ opcode: Ping }), frame({ opcode: Pong, payload: 'x' })),
      [
        ['text', ''],
        ['ping', ''],
        ['pong', '78'],
      ]
    );
  });
});

describe('FrameDecoder: 1009 for lengths that cannot be accepted, before any payload arrives', () => {
  it('fails a 64-bit length of 2^53 with WS_ERR_LENGTH_OVERFLOW / 1009 from the header alone', () => {
    const header = frame({ opcode: Binary, declaredLength: 2n ** 53n, lengthForm: 64 });
    assert.equal(header.length, 14);
    assertDecodes(header, [error('WS_ERR_LENGTH_OVERFLOW', 1009)]);
  });
  // RFC 6455 5.2: "the most significant bit MUST be 0" -- a protocol error, not a size problem.
  const msbSet: [string, bigint][] = [
    ['2^63', 2n ** 63n],
    ['2^64 - 1', 2n ** 64n - 1n],
  ];
  for (const [name, length] of msbSet) {
    it(`fails a 64-bit length of ${name} (most significant bit set) with WS_ERR_INVALID_LENGTH / 1002`, () => {
      const header = frame({ opcode: Binary, declaredLength: length, lengthForm: 64 });
      assertDecodes(header, [error('WS_ERR_INVALID_LENGTH', 1002)]);
    });
  }
  it('fails a 64-bit length of 2^53 - 1 with 1009 (over maxMessageSize) from the header alone', () => {
    const header = frame({ opcode: Binary, declaredLength: 2n ** 53n - 1n, lengthForm: 64 });
    assertDecodes(header, [error('WS_ERR_MESSAGE_TOO_BIG', 1009)]);
  });
  it('fails a frame one byte over maxMessageSize with 1009 from the header alone (16-bit and 64-bit)', () => {
    const options = { maxMessageSize: 1000 };
    assertDecodes(
      frame({ opcode: Text, declaredLength: 1001 }),
      [error('WS_ERR_MESSAGE_TOO_BIG', 1009)],
      options
    );
    assertDecodes(
      frame({ opcode: Binary, declaredLength: 1001, lengthForm: 64 }),
      [error('WS_ERR_MESSAGE_TOO_BIG', 1009)],
      options
    );
  });
  it('fails a 7-bit length over a tiny maxMessageSize with 1009', () => {
    assertDecodes(frame({ opcode: Binary, payload: pattern(11) }), [error('WS_ERR_MESSAGE_TOO_BIG', 1009)], {
      maxMessageSize: 10,
    });
  });
  it('accepts a message of exactly maxMessageSize bytes', () => {
    const p = pattern(1000);
    assertDecodes(frame({ opcode: Binary, payload: p }), [['binary', p.toString('hex')]], {
      maxMessageSize: 1000,
    });
  });
  it('fails with 1009 at the header of the fragment that takes the message over maxMessageSize', () => {
    const options = { maxMessageSize: 1000 };
    const input = bytes(
      frame({ opcode: Binary, fin: false, payload: pattern(600) }),
      frame({ opcode: Continuation, fin: false, payload: pattern(400) }),
      frame({ opcode: Continuation, declaredLength: 1 })
    );
    assertDecodes(input, [error('WS_ERR_MESSAGE_TOO_BIG', 1009)], options);
  });
  it('accepts fragments that add up to exactly maxMessageSize', () => {
    const input = bytes(
      frame({ opcode: Binary, fin: false, payload: pattern(600) }),
      frame({ opcode: Continuation, payload: pattern(400) })
    );
    const expected = Buffer.concat([pattern(600), pattern(400)]).toString('hex');
    assertDecodes(input, [['binary', expected]], { maxMessageSize: 1000 });
  });
  it('does not count control frame payloads toward maxMessageSize', () => {
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: 'aaaa' }),
      frame({ opcode: Ping, payload: pattern(100) }),
      frame({ opcode: Continuation, payload: 'bbbb' })
    );
    assertDecodes(
      input,
      [
        ['ping', pattern(100).toString('hex')],
        ['text', 'aaaabbbb'],
      ],
      { maxMessageSize: 8 }
    );
  });
});

describe('FrameDecoder: masking', () => {
  for (const [name, opcode] of [
    ['text', Text],
    ['binary', Binary],
    ['ping', Ping],
    ['pong', Pong],
    ['close', Close],
  ] as const) {
    it(`rejects an unmasked ${name} frame with 1002`, () => {
      assertDecodes(frame({ opcode, payload: opcode === Close ? closePayload(1000) : 'hi', masked: false }), [
        error('WS_ERR_UNMASKED_FRAME', 1002),
      ]);
    });
  }
  it('rejects an unmasked continuation frame with 1002', () => {
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: 'a' }),
      frame({ opcode: Continuation, payload: 'b', masked: false })
    );
    assertDecodes(input, [error('WS_ERR_UNMASKED_FRAME', 1002)]);
  });
  it('unmasks with any key, including an all-zero key', () => {
    const input = bytes(
      frame({ opcode: Text, payload: 'zero key', key: [0, 0, 0, 0] }),
      frame({ opcode: Text, payload: 'ff key', key: [0xff, 0xff, 0xff, 0xff] })
    );
    assertDecodes(input, [
      ['text', 'zero key'],
      ['text', 'ff key'],
    ]);
  });
});

describe('FrameDecoder: RSV bits', () => {
  for (const rsv of [4, 2, 1, 6, 7]) {
    it(`rejects RSV bits 0x${(rsv << 4).toString(16)} on a text frame with 1002 when no extension is negotiated`, () => {
      assertDecodes(frame({ opcode: Text, payload: 'x', rsv }), [error('WS_ERR_UNEXPECTED_RSV', 1002)]);
    });
  }
  it('rejects RSV1 on a ping with 1002 when no extension is negotiated', () => {
    assertDecodes(frame({ opcode: Ping, rsv: 4 }), [error('WS_ERR_UNEXPECTED_RSV', 1002)]);
  });

  const compression = { ...DEFAULT_OPTIONS, compression: true };
  it('with compression, hands an RSV1 single-frame message to onCompressedFrame', () => {
    assertDecodes(
      frame({ opcode: Binary, payload: Buffer.from([1, 2, 3]), rsv: 4 }),
      [['compressed', '010203', false, true, true]],
      compression
    );
  });
  it('with compression, hands every fragment of an RSV1 message to onCompressedFrame in order', () => {
    const input = bytes(
      frame({ opcode: Text, payload: Buffer.from([0xaa]), rsv: 4, fin: false }),
      frame({ opcode: Ping, payload: 'p' }),
      frame({ opcode: Continuation, payload: Buffer.from([0xbb]), fin: false }),
      frame({ opcode: Continuation, payload: Buffer.from([0xcc]) }),
      frame({ opcode: Text, payload: 'plain' })
    );
    assertDecodes(
      input,
      [
        ['compressed', 'aa', true, true, false],
        ['ping', '70'],
        ['compressed', 'bb', true, false, false],
        ['compressed', 'cc', true, false, true],
        ['text', 'plain'],
      ],
      compression
    );
  });
  it('with compression, still decodes uncompressed messages normally', () => {
    assertDecodes(frame({ opcode: Text, payload: 'héllo' }), [['text', 'héllo']], compression);
  });
  it('with compression, rejects RSV1 on a continuation frame with 1002', () => {
    const input = bytes(
      frame({ opcode: Text, payload: 'a', rsv: 4, fin: false }),
      frame({ opcode: Continuation, payload: 'b', rsv: 4 })
    );
    assertDecodes(
      input,
      [['compressed', '61', true, true, false], error('WS_ERR_UNEXPECTED_RSV', 1002)],
      compression
    );
  });
  it('with compression, rejects RSV1 on a continuation of an uncompressed message with 1002', () => {
    const input = bytes(
      frame({ opcode: Text, payload: 'a', fin: false }),
      frame({ opcode: Continuation, payload: 'b', rsv: 4 })
    );
    assertDecodes(input, [error('WS_ERR_UNEXPECTED_RSV', 1002)], compression);
  });
  for (const [name, opcode] of [
    ['ping', Ping],
    ['pong', Pong],
    ['close', Close],
  ] as const) {
    it(`with compression, rejects RSV1 on a ${name} frame with 1002`, () => {
      assertDecodes(frame({ opcode, rsv: 4 }), [error('WS_ERR_UNEXPECTED_RSV', 1002)], compression);
    });
  }
  for (const rsv of [2, 1, 6]) {
    it(`with compression, rejects RSV bits 0x${(rsv << 4).toString(16)} with 1002`, () => {
      assertDecodes(
        frame({ opcode: Binary, payload: 'x', rsv }),
        [error('WS_ERR_UNEXPECTED_RSV', 1002)],
        compression
      );
    });
  }
  it('with compression but a sink without onCompressedFrame, rejects RSV1 with 1002', () => {
    const sink = new RecordingSink();
    decodeSplit(frame({ opcode: Text, payload: 'x', rsv: 4 }), [], compression, sink);
    assert.deepEqual(sink.events, [error('WS_ERR_UNEXPECTED_RSV', 1002)]);
  });
});

describe('FrameDecoder: opcodes', () => {
  for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    it(`rejects reserved opcode ${opcode} with 1002`, () => {
      assertDecodes(frame({ opcode, payload: 'x' }), [error('WS_ERR_RESERVED_OPCODE', 1002)]);
    });
  }
  it('rejects a reserved opcode inside a fragmented message with 1002', () => {
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: 'a' }),
      frame({ opcode: 0xb, payload: 'b' })
    );
    assertDecodes(input, [error('WS_ERR_RESERVED_OPCODE', 1002)]);
  });
});

describe('FrameDecoder: control frames', () => {
  for (const [name, opcode] of [
    ['ping', Ping],
    ['pong', Pong],
    ['close', Close],
  ] as const) {
    it(`rejects a fragmented ${name} with 1002`, () => {
      assertDecodes(frame({ opcode, fin: false }), [error('WS_ERR_FRAGMENTED_CONTROL', 1002)]);
    });
    it(`rejects a ${name} with a 126-byte payload with 1002 from the header alone`, () => {
      assertDecodes(frame({ opcode, declaredLength: 126 }), [error('WS_ERR_CONTROL_TOO_LONG', 1002)]);
    });
    it(`rejects a ${name} with a 64-bit length with 1002 from the header alone`, () => {
      assertDecodes(frame({ opcode, declaredLength: 70000 }), [error('WS_ERR_CONTROL_TOO_LONG', 1002)]);
    });
  }
  it('accepts a 125-byte ping and pong', () => {
    const p = pattern(125);
    assertDecodes(bytes(frame({ opcode: Ping, payload: p }), frame({ opcode: Pong, payload: p })), [
      ['ping', p.toString('hex')],
      ['pong', p.toString('hex')],
    ]);
  });
});

describe('FrameDecoder: fragmentation', () => {
  it('rejects a continuation frame with no message started with 1002', () => {
    assertDecodes(frame({ opcode: Continuation, payload: 'x' }), [
      error('WS_ERR_UNEXPECTED_CONTINUATION', 1002),
    ]);
  });
  it('rejects a continuation frame after a fragmented message has finished with 1002', () => {
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: 'a' }),
      frame({ opcode: Continuation, payload: 'b' }),
      frame({ opcode: Continuation, payload: 'c' })
    );
    assertDecodes(input, [['text', 'ab'], error('WS_ERR_UNEXPECTED_CONTINUATION', 1002)]);
  });
  for (const [name, opcode] of [
    ['text', Text],
    ['binary', Binary],
  ] as const) {
    it(`rejects a new ${name} frame inside a fragmented message with 1002`, () => {
      const input = bytes(
        frame({ opcode: Binary, fin: false, payload: 'a' }),
        frame({ opcode, payload: 'b' })
      );
      assertDecodes(input, [error('WS_ERR_EXPECTED_CONTINUATION', 1002)]);
    });
  }
  it('reassembles fragments with pings and pongs interleaved, delivering the controls first', () => {
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: 'Hel' }),
      frame({ opcode: Ping, payload: 'p1' }),
      frame({ opcode: Continuation, fin: false, payload: '' }),
      frame({ opcode: Pong, payload: 'p2' }),
      frame({ opcode: Continuation, fin: false, payload: 'lo, ' }),
      frame({ opcode: Ping }),
      frame({ opcode: Continuation, payload: 'world' }),
      frame({ opcode: Binary, fin: false, payload: Buffer.from([1]) }),
      frame({ opcode: Continuation, payload: Buffer.from([2, 3]) })
    );
    assertDecodes(input, [
      ['ping', '7031'],
      ['pong', '7032'],
      ['ping', ''],
      ['text', 'Hello, world'],
      ['binary', '010203'],
    ]);
  });
  it('delivers a fragmented message made only of empty fragments as an empty message', () => {
    const input = bytes(
      frame({ opcode: Binary, fin: false }),
      frame({ opcode: Continuation, fin: false }),
      frame({ opcode: Continuation })
    );
    assertDecodes(input, [['binary', '']]);
  });
  it('accepts a close frame in the middle of a fragmented message and drops the partial message', () => {
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: 'a' }),
      frame({ opcode: Close, payload: closePayload(1000) })
    );
    assertDecodes(input, [['close', 1000, '']]);
  });
});

describe('FrameDecoder: UTF-8 of text messages', () => {
  it('accepts multi-byte characters split across fragments', () => {
    const text = Buffer.from('€𝄞é', 'utf8'); // E2 82 AC F0 9D 84 9E C3 A9
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: text.subarray(0, 1) }),
      frame({ opcode: Continuation, fin: false, payload: text.subarray(1, 4) }),
      frame({ opcode: Continuation, fin: false, payload: text.subarray(4, 6) }),
      frame({ opcode: Ping }),
      frame({ opcode: Continuation, fin: false, payload: text.subarray(6, 8) }),
      frame({ opcode: Continuation, payload: text.subarray(8) })
    );
    assertDecodes(input, [
      ['ping', ''],
      ['text', '€𝄞é'],
    ]);
  });
  it('rejects invalid UTF-8 in an unfragmented text frame with 1007', () => {
    assertDecodes(frame({ opcode: Text, payload: Buffer.from([0x61, 0xc0, 0x80]) }), [
      error('WS_ERR_INVALID_UTF8', 1007),
    ]);
  });
  it('fails at a first fragment ending in F4 90, without waiting for more fragments', () => {
    const input = frame({ opcode: Text, fin: false, payload: Buffer.from([0x61, 0xf4, 0x90]) });
    assertDecodes(input, [error('WS_ERR_INVALID_UTF8', 1007)]);
  });
  it('fails at the first invalid continuation fragment, not at the end of the message', () => {
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: 'ok ' }),
      frame({ opcode: Continuation, fin: false, payload: Buffer.from([0xe2, 0x82]) }),
      frame({ opcode: Continuation, fin: false, payload: Buffer.from([0x28]) })
    );
    assertDecodes(input, [error('WS_ERR_INVALID_UTF8', 1007)]);
  });
  it('fails at a fragment carrying a surrogate (ED A0) before the message ends', () => {
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: Buffer.from([0xed]) }),
      frame({ opcode: Continuation, fin: false, payload: Buffer.from([0xa0]) })
    );
    assertDecodes(input, [error('WS_ERR_INVALID_UTF8', 1007)]);
  });
  it('rejects a text message whose last fragment ends inside a character with 1007', () => {
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: 'a' }),
      frame({ opcode: Continuation, payload: Buffer.from([0xf0, 0x9f, 0x98]) })
    );
    assertDecodes(input, [error('WS_ERR_INVALID_UTF8', 1007)]);
  });
  it('does not validate binary messages as UTF-8', () => {
    assertDecodes(frame({ opcode: Binary, payload: Buffer.from([0xff, 0xc0, 0x80]) }), [
      ['binary', 'ffc080'],
    ]);
  });
  it('starts each text message with a fresh validator state', () => {
    // A message ending validly must not leave state that changes how the next message is read.
    const input = bytes(
      frame({ opcode: Text, fin: false, payload: Buffer.from([0xc3]) }),
      frame({ opcode: Continuation, payload: Buffer.from([0xa9]) }),
      frame({ opcode: Text, fin: false, payload: Buffer.from([0xa9]) })
    );
    assertDecodes(input, [['text', 'é'], error('WS_ERR_INVALID_UTF8', 1007)]);
  });
});

describe('FrameDecoder: close frames', () => {
  it('reports 1005 for a close frame without a payload', () => {
    assertDecodes(frame({ opcode: Close }), [['close', 1005, '']]);
  });
  it('rejects a 1-byte close payload with 1002', () => {
    assertDecodes(frame({ opcode: Close, payload: Buffer.from([0x03]) }), [
      error('WS_ERR_INVALID_CLOSE_PAYLOAD', 1002),
    ]);
  });
  const invalid = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
  for (const code of invalid) {
    it(`rejects close code ${code} on the wire with 1002`, () => {
      assertDecodes(frame({ opcode: Close, payload: closePayload(code) }), [
        error('WS_ERR_INVALID_CLOSE_CODE', 1002),
      ]);
    });
  }
  const valid = [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
  ];
  for (const code of valid) {
    it(`accepts close code ${code}`, () => {
      assertDecodes(frame({ opcode: Close, payload: closePayload(code) }), [['close', code, '']]);
    });
  }
  it('reports a UTF-8 reason, up to the full 123 bytes', () => {
    const reason = 'é'.repeat(61) + 'x'; // 123 bytes
    assert.equal(Buffer.byteLength(reason), 123);
    assertDecodes(frame({ opcode: Close, payload: closePayload(4001, reason) }), [['close', 4001, reason]]);
  });
  for (const [name, reason] of [
    ['an overlong', [0xc0, 0x80]],
    ['a truncated', [0x61, 0xe2, 0x82]],
    ['a surrogate', [0xed, 0xa0, 0x80]],
    ['an out-of-range', [0xf4, 0x90, 0x80, 0x80]],
  ] as const) {
    it(`rejects a close reason with ${name} sequence with 1007`, () => {
      assertDecodes(frame({ opcode: Close, payload: closePayload(1000, Buffer.from(reason)) }), [
        error('WS_ERR_INVALID_CLOSE_REASON', 1007),
      ]);
    });
  }
});

describe('FrameDecoder: nothing after a close or an error', () => {
  it('decodes nothing after a close frame, even in the same chunk', () => {
    const input = bytes(
      frame({ opcode: Text, payload: 'before' }),
      frame({ opcode: Close, payload: closePayload(1000, 'bye') }),
      frame({ opcode: Text, payload: 'after' }),
      frame({ opcode: 3 })
    );
    assertDecodes(input, [
      ['text', 'before'],
      ['close', 1000, 'bye'],
    ]);
  });
  it('decodes nothing after an error and reports exactly one error', () => {
    const input = bytes(
      frame({ opcode: Text, payload: 'before' }),
      frame({ opcode: Ping, fin: false }),
      frame({ opcode: Text, payload: 'after' }),
      frame({ opcode: 3 }),
      frame({ opcode: Continuation })
    );
    assertDecodes(input, [['text', 'before'], error('WS_ERR_FRAGMENTED_CONTROL', 1002)]);
  });
  it('ignores pushes after an error and reports itself finished', () => {
    const sink = new RecordingSink();
    const decoder = new FrameDecoder(sink, DEFAULT_OPTIONS);
    decoder.push(frame({ opcode: Text, payload: 'x', masked: false }));
    assert.equal(decoder.isFinished, true);
    decoder.push(frame({ opcode: Text, payload: 'y' }));
    decoder.push(frame({ opcode: 4 }));
    assert.deepEqual(sink.events, [error('WS_ERR_UNMASKED_FRAME', 1002)]);
  });
});

describe('FrameDecoder: chunking', () => {
  it('decodes many frames from a single chunk, in order', () => {
    const frames: Buffer[] = [];
    const expected: SinkEvent[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 3 === 0) {
        frames.push(frame({ opcode: Text, payload: `m${i}` }));
        expected.push(['text', `m${i}`]);
      } else if (i % 3 === 1) {
        frames.push(frame({ opcode: Binary, payload: pattern(i) }));
        expected.push(['binary', pattern(i).toString('hex')]);
      } else {
        frames.push(frame({ opcode: Ping, payload: Buffer.from([i]) }));
        expected.push(['ping', Buffer.from([i]).toString('hex')]);
      }
    }
    const { events } = decodeSplit(Buffer.concat(frames), []);
    assert.deepEqual(events, expected);
  });
  it('decodes large frames split at random points', () => {
    const random = prng(0x5eed);
    const payloads = [pattern(70000), pattern(200000).reverse(), pattern(130)];
    const input = bytes(
      frame({ opcode: Binary, payload: payloads[0], key: [1, 2, 3, 4] }),
      frame({ opcode: Binary, fin: false, payload: payloads[1].subarray(0, 99999), key: [9, 8, 7, 6] }),
      frame({ opcode: Ping, payload: 'mid' }),
      frame({ opcode: Continuation, payload: payloads[1].subarray(99999) }),
      frame({ opcode: Binary, payload: payloads[2] })
    );
    const expected: SinkEvent[] = [
      ['binary', payloads[0].toString('hex')],
      ['ping', Buffer.from('mid').toString('hex')],
      ['binary', payloads[1].toString('hex')],
      ['binary', payloads[2].toString('hex')],
    ];
    for (let run = 0; run < 10; run++) {
      const splits: number[] = [];
      for (let at = 0; ;) {
        at += 1 + Math.floor(random() * (run % 2 === 0 ? 20000 : 300));
        if (at >= input.length) break;
        splits.push(at);
      }
      const { events } = decodeSplit(input, splits);
      assert.deepEqual(events, expected, `run ${run}`);
    }
  });
  it('keeps the unconsumed bytes of a partial frame counted in bufferedBytes until the frame completes', () => {
    const sink = new RecordingSink();
    const decoder = new FrameDecoder(sink, DEFAULT_OPTIONS);
    const input = frame({ opcode: Binary, payload: pattern(500) });
    decoder.push(Buffer.from(input.subarray(0, 300)));
    assert.equal(decoder.bufferedBytes, 300);
    assert.deepEqual(sink.events, []);
    decoder.push(Buffer.from(input.subarray(300)));
    assert.equal(decoder.bufferedBytes, 0);
    assert.deepEqual(sink.events, [['binary', pattern(500).toString('hex')]]);
  });
});

describe('FrameDecoder: pause and resume', () => {
  const input = bytes(
    frame({ opcode: Text, payload: 'one' }),
    frame({ opcode: Text, payload: 'two' }),
    frame({ opcode: Ping, payload: 'p' }),
    frame({ opcode: Text, fin: false, payload: 'th' }),
    frame({ opcode: Continuation, payload: 'ree' }),
    frame({ opcode: Binary, payload: Buffer.from([4]) })
  );
  const all: SinkEvent[] = [
    ['text', 'one'],
    ['text', 'two'],
    ['ping', '70'],
    ['text', 'three'],
    ['binary', '04'],
  ];

  it('stops after the frame during which pause() was called and resumes in order', () => {
    for (const splits of [[], [5], [11, 12, 13], Array.from({ length: input.length - 1 }, (_, i) => i + 1)]) {
      const sink = new RecordingSink();
      const decoder = new FrameDecoder(sink, DEFAULT_OPTIONS);
      // Pause after every event; resume one event at a time once all input is in.
      sink.after = () => decoder.pause();
      let from = 0;
      for (const at of [...splits, input.length]) {
        decoder.push(Buffer.from(input.subarray(from, at)));
        from = at;
      }
      assert.deepEqual(sink.events, all.slice(0, 1), `splits ${splits.length}`);
      for (let k = 2; k <= all.length; k++) {
        decoder.resume();
        assert.deepEqual(sink.events, all.slice(0, k), `splits ${splits.length}, resume ${k}`);
      }
      decoder.resume();
      assert.deepEqual(sink.events, all);
      assert.equal(decoder.bufferedBytes, 0);
    }
  });
  it('buffers input pushed while paused and decodes it on resume', () => {
    const sink = new RecordingSink();
    const decoder = new FrameDecoder(sink, DEFAULT_OPTIONS);
    decoder.pause();
    decoder.push(Buffer.from(input.subarray(0, 7)));
    decoder.push(Buffer.from(input.subarray(7)));
    assert.deepEqual(sink.events, []);
    assert.equal(decoder.bufferedBytes, input.length);
    decoder.resume();
    assert.deepEqual(sink.events, all);
  });
  it('pauses inside onCompressedFrame and resumes with the following frames in order', () => {
    const sink = new CompressionRecordingSink();
    const decoder = new FrameDecoder(sink, { ...DEFAULT_OPTIONS, compression: true });
    sink.after = event => {
      if (event[0] === 'compressed') decoder.pause();
    };
    decoder.push(
      bytes(
        frame({ opcode: Binary, rsv: 4, fin: false, payload: Buffer.from([1]) }),
        frame({ opcode: Continuation, payload: Buffer.from([2]) }),
        frame({ opcode: Ping, payload: Buffer.from([3]) })
      )
    );
    assert.deepEqual(sink.events, [['compressed', '01', false, true, false]]);
    decoder.resume();
    assert.deepEqual(sink.events.slice(1), [['compressed', '02', false, false, true]]);
    decoder.resume();
    assert.deepEqual(sink.events.slice(2), [['ping', '03']]);
    assert.equal(decoder.bufferedBytes, 0);
  });
  it('resume() while not paused does nothing', () => {
    const sink = new RecordingSink();
    const decoder = new FrameDecoder(sink, DEFAULT_OPTIONS);
    decoder.push(Buffer.from(input.subarray(0, 4)));
    decoder.resume();
    assert.deepEqual(sink.events, []);
    decoder.push(Buffer.from(input.subarray(4)));
    assert.deepEqual(sink.events, all);
  });
});

describe('FrameDecoder: memory under a flood of tiny fragments', () => {
  it('holds only the payload bytes of 20 000 one-byte fragments, not their frames', () => {
    const sink = new RecordingSink();
    const decoder = new FrameDecoder(sink, DEFAULT_OPTIONS);
    decoder.push(frame({ opcode: Binary, fin: false, payload: Buffer.from([0]) }));
    const n = 20000;
    for (let i = 1; i < n; i++) {
      decoder.push(frame({ opcode: Continuation, fin: false, payload: Buffer.from([i & 0xff]) }));
      assert.equal(decoder.pendingMessageBytes, i + 1);
      assert.equal(decoder.bufferedBytes, 0);
    }
    decoder.push(frame({ opcode: Continuation }));
    assert.equal(decoder.pendingMessageBytes, 0);
    assert.equal(sink.events.length, 1);
    const [kind, hex] = sink.events[0];
    assert.equal(kind, 'binary');
    const data = Buffer.from(hex, 'hex');
    assert.equal(data.length, n);
    for (let i = 0; i < n; i++) assert.equal(data[i], i & 0xff);
  });
  it('holds nothing for a flood of empty continuation fragments', () => {
    const sink = new RecordingSink();
    const decoder = new FrameDecoder(sink, DEFAULT_OPTIONS);
    const one = frame({ opcode: Continuation, fin: false });
    decoder.push(frame({ opcode: Text, fin: false }));
    const flood = Buffer.concat(Array.from({ length: 5000 }, () => one));
    decoder.push(flood);
    assert.equal(decoder.pendingMessageBytes, 0);
    assert.equal(decoder.bufferedBytes, 0);
    decoder.push(frame({ opcode: Continuation, payload: 'end' }));
    assert.deepEqual(sink.events, [['text', 'end']]);
  });
  it('frees the reassembly buffer when the message completes', () => {
    const sink = new CompressionRecordingSink();
    const decoder = new FrameDecoder(sink, DEFAULT_OPTIONS);
    decoder.push(frame({ opcode: Text, fin: false, payload: 'a'.repeat(1000) }));
    assert.equal(decoder.pendingMessageBytes, 1000);
    decoder.push(frame({ opcode: Continuation, payload: 'b' }));
    assert.equal(decoder.pendingMessageBytes, 0);
    assert.deepEqual(sink.events, [['text', 'a'.repeat(1000) + 'b']]);
  });
});
