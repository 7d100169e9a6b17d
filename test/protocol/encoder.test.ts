// Encoder: header lengths at the 7/16/64-bit boundaries, RSV1, multi-byte text, and decoding what we encode.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import {
  COPY_THRESHOLD,
  encodeControlFrame,
  encodeFrame,
  encodeTextFrame,
  headerLength,
  writeHeader,
} from '../../src/protocol/encoder.js';
import { encodeClosePayload } from '../../src/protocol/close-codes.js';
import { Opcode } from '../../src/protocol/opcodes.js';
import { clientFrame, readFrames } from '../support/frames.js';
import { RecordingSink } from './helpers.js';

function flatten(frame: Buffer | [Buffer, Buffer]): Buffer {
  return Array.isArray(frame) ? Buffer.concat(frame) : frame;
}

/** Turns a server frame into the client frame the decoder expects: the same frame, masked. */
function maskFrame(serverFrame: Buffer): Buffer {
  const [f] = readFrames(serverFrame);
  assert.equal(headerLength(f.payload.length) + f.payload.length, serverFrame.length, 'one whole frame');
  return clientFrame({ ...f, masked: true, key: [0xde, 0xad, 0xbe, 0xef] });
}

function decodeOne(bytes: Buffer): RecordingSink['events'] {
  const sink = new RecordingSink();
  new FrameDecoder(sink, { maxMessageSize: 1 << 22 }).push(bytes);
  return sink.events;
}

describe('encoder headers', () => {
  const cases: [number, number, number[]][] = [
    [0, 2, [0x82, 0]],
    [1, 2, [0x82, 1]],
    [125, 2, [0x82, 125]],
    [126, 4, [0x82, 126, 0, 126]],
    [65535, 4, [0x82, 126, 0xff, 0xff]],
    [65536, 10, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
    [2 ** 32 + 5, 10, [0x82, 127, 0, 0, 0, 1, 0, 0, 0, 5]],
    [2 ** 53 - 1, 10, [0x82, 127, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
  ];
  for (const [length, hlen, header] of cases) {
    it(`writes a ${hlen}-byte header for a ${length}-byte payload`, () => {
      assert.equal(headerLength(length), hlen);
      const target = Buffer.alloc(10);
      assert.equal(writeHeader(target, Opcode.Binary, length, true, false), hlen);
      assert.deepEqual([...target.subarray(0, hlen)], header);
    });
  }
  it('sets FIN, RSV1 and the opcode in the first byte', () => {
    const target = Buffer.alloc(2);
    writeHeader(target, Opcode.Text, 0, true, true);
    assert.equal(target[0], 0xc1);
    writeHeader(target, Opcode.Continuation, 0, false, false);
    assert.equal(target[0], 0x00);
    writeHeader(target, Opcode.Binary, 0, false, true);
    assert.equal(target[0], 0x42);
  });
  it('encodeFrame copies small payloads into one buffer and passes large ones by reference', () => {
    const small = Buffer.alloc(COPY_THRESHOLD, 1);
    const smallFrame = encodeFrame(Opcode.Binary, small);
    assert.ok(Buffer.isBuffer(smallFrame));
    assert.equal(smallFrame.length, 10 + COPY_THRESHOLD);
    const large = Buffer.alloc(COPY_THRESHOLD + 1, 2);
    const largeFrame = encodeFrame(Opcode.Binary, large, true, true);
    assert.ok(Array.isArray(largeFrame));
    assert.equal(largeFrame[1], large);
    assert.equal(largeFrame[0].length, 10);
    assert.deepEqual([...largeFrame[0].subarray(0, 2)], [0xc2, 127]);
    assert.equal(Number(largeFrame[0].readBigUInt64BE(2)), COPY_THRESHOLD + 1);
  });
  it('encodeFrame accepts a Uint8Array view without copying it', () => {
    const backing = new Uint8Array(COPY_THRESHOLD + 10).fill(7);
    const view = backing.subarray(3, COPY_THRESHOLD + 8);
    const frame = encodeFrame(Opcode.Binary, view);
    assert.ok(Array.isArray(frame));
    assert.equal(frame[1].length, view.length);
    assert.equal(frame[1].buffer, backing.buffer);
    assert.equal(frame[1].byteOffset, 3);
  });
  it('encodes multi-byte text with its UTF-8 byte length, small and large', () => {
    const small = 'é€𝄞';
    const f = flatten(encodeTextFrame(small));
    assert.deepEqual([...f.subarray(0, 2)], [0x81, Buffer.byteLength(small)]);
    assert.equal(f.subarray(2).toString('utf8'), small);
    // 3-byte characters: a string of COPY_THRESHOLD / 3 characters needs a 16-bit length.
    const medium = '€'.repeat(Math.floor(COPY_THRESHOLD / 3));
    const m = flatten(encodeTextFrame(medium));
    assert.equal(m[1], 126);
    assert.equal(m.readUInt16BE(2), Buffer.byteLength(medium));
    const large = '𝄞'.repeat(20000); // 80 000 bytes: 64-bit length
    const l = flatten(encodeTextFrame(large));
    assert.equal(l[1], 127);
    assert.equal(Number(l.readBigUInt64BE(2)), 80000);
    assert.equal(l.subarray(10).toString('utf8'), large);
  });
  it('encodes control frames with FIN set', () => {
    assert.deepEqual([...encodeControlFrame(Opcode.Ping, Buffer.from('hi'))], [0x89, 2, 0x68, 0x69]);
    assert.deepEqual(
      [...encodeControlFrame(Opcode.Close, encodeClosePayload(1000, 'x'))],
      [0x88, 3, 0x03, 0xe8, 0x78]
    );
    assert.deepEqual([...encodeControlFrame(Opcode.Close, encodeClosePayload(undefined))], [0x88, 0]);
  });
});

describe('encoder round trip through the decoder', () => {
  for (const length of [0, 1, 125, 126, 65535, 65536, 200000]) {
    it(`decodes a masked copy of an encoded ${length}-byte binary frame to the same payload`, () => {
      const payload = Buffer.alloc(length);
      for (let i = 0; i < length; i++) payload[i] = (i * 13) & 0xff;
      const events = decodeOne(maskFrame(flatten(encodeFrame(Opcode.Binary, payload))));
      assert.deepEqual(events, [['binary', payload.toString('hex')]]);
    });
  }
  for (const text of [
    '',
    'plain',
    'é€𝄞 mixed',
    '€'.repeat(Math.floor(COPY_THRESHOLD / 3)),
    '𝄞'.repeat(20000),
  ]) {
    it(`round-trips a text frame of ${Buffer.byteLength(text)} UTF-8 bytes`, () => {
      assert.deepEqual(decodeOne(maskFrame(flatten(encodeTextFrame(text)))), [['text', text]]);
    });
  }
  it('round-trips ping, pong and close control frames', () => {
    const bytes = Buffer.concat([
      maskFrame(encodeControlFrame(Opcode.Ping, Buffer.from('p'))),
      maskFrame(encodeControlFrame(Opcode.Pong, Buffer.alloc(125, 9))),
      maskFrame(encodeControlFrame(Opcode.Close, encodeClosePayload(4000, 'done é'))),
    ]);
    assert.deepEqual(decodeOne(bytes), [
      ['ping', '70'],
      ['pong', Buffer.alloc(125, 9).toString('hex')],
      ['close', 4000, 'done é'],
    ]);
  });
  it('round-trips a fragmented message encoded with fin=false and continuations', () => {
    const bytes = Buffer.concat([
      maskFrame(flatten(encodeFrame(Opcode.Text, Buffer.from([0xe2, 0x82]), false))),
      maskFrame(flatten(encodeFrame(Opcode.Continuation, Buffer.from([0xac]), true))),
    ]);
    assert.deepEqual(decodeOne(bytes), [['text', '€']]);
  });
});
