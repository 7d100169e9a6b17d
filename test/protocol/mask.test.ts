// applyMask against a plain byte loop for every length 0..300 at aligned and unaligned offsets, plus round trips.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyMask } from '../../src/protocol/mask.js';
import { prng } from './helpers.js';

function reference(data: Uint8Array, key: readonly number[]): Buffer {
  const out = Buffer.from(data);
  for (let i = 0; i < out.length; i++) out[i] ^= key[i % 4];
  return out;
}

function randomBytes(n: number, random: () => number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(random() * 256);
  return b;
}

describe('applyMask', () => {
  it('matches a byte-by-byte XOR for lengths 0..300 at every byteOffset alignment and payload start', () => {
    const random = prng(42);
    const key = [0x12, 0x9a, 0xff, 0x01];
    for (let len = 0; len <= 300; len++) {
      const data = randomBytes(len, random);
      const expected = reference(data, key);
      for (let bufOffset = 0; bufOffset < 4; bufOffset++) {
        for (const start of [0, 1, 2, 3, 5]) {
          // A Buffer view whose byteOffset in its ArrayBuffer is not a multiple of 4.
          const backing = new ArrayBuffer(bufOffset + start + len + 7);
          const buf = Buffer.from(backing, bufOffset, start + len + 3);
          buf.fill(0xee);
          data.copy(buf, start);
          applyMask(buf, start, start + len, Uint8Array.from(key), 0);
          assert.deepEqual(
            buf.subarray(start, start + len),
            expected,
            `len ${len} offset ${bufOffset} start ${start}`
          );
          // Bytes outside [start, end) are untouched.
          assert.ok(buf.subarray(0, start).every(b => b === 0xee));
          assert.ok(buf.subarray(start + len).every(b => b === 0xee));
        }
      }
    }
  });
  it('reads the key at keyOffset inside another buffer (as the decoder does, from the frame header)', () => {
    const random = prng(7);
    for (const len of [0, 1, 3, 4, 63, 64, 65, 127, 128, 255, 1000]) {
      const keyHolder = Buffer.from([0, 0, 0, 0xa1, 0xb2, 0xc3, 0xd4, 0]);
      const data = randomBytes(len, random);
      const buf = Buffer.from(data);
      applyMask(buf, 0, len, keyHolder, 3);
      assert.deepEqual(buf, reference(data, [0xa1, 0xb2, 0xc3, 0xd4]), `len ${len}`);
    }
  });
  it('round-trips: masking twice restores the payload', () => {
    const random = prng(99);
    for (const len of [0, 1, 2, 5, 64, 100, 4096, 65537]) {
      const data = randomBytes(len, random);
      const key = randomBytes(4, random);
      const buf = Buffer.from(data);
      applyMask(buf, 0, len, key, 0);
      if (len >= 16) assert.notDeepEqual(buf, data);
      applyMask(buf, 0, len, key, 0);
      assert.deepEqual(buf, data, `len ${len}`);
    }
  });
  it('an all-zero key leaves the payload unchanged', () => {
    const data = Buffer.from('unchanged by a zero key, long enough for the word loop........');
    const buf = Buffer.from(data);
    applyMask(buf, 0, buf.length, new Uint8Array(4), 0);
    assert.deepEqual(buf, data);
  });
});
