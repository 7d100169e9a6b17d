// applyMask against a plain byte loop for every length 0..300 at aligned and unaligned offsets, plus round trips;
// the WebAssembly SIMD path against the JavaScript one, and the JavaScript fallback where WebAssembly is off.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { applyMask, applyMaskKey, applyMaskWords, maskBackend, unmaskCopy } from '../../src/protocol/mask.js';
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

describe('masking with WebAssembly SIMD (ranges of 2 KiB and more)', () => {
  it('is the backend in this Node', () => {
    assert.equal(maskBackend(), 'wasm-simd');
  });
  it('applyMaskKey and unmaskCopy match the JavaScript word loop at every length class, offset and key phase', () => {
    const random = prng(2024);
    const lengths = [2047, 2048, 2049, 2063, 4096, 65535, 65536, 65537, 65536 * 2 + 5, 200_003];
    for (let i = 0; i < 40; i++) lengths.push(2048 + Math.floor(random() * 300_000));
    for (const len of lengths) {
      const start = Math.floor(random() * 9);
      const data = randomBytes(start + len + 5, random);
      const k = [0, 1, 2, 3].map(() => Math.floor(random() * 256));
      const expected = Buffer.from(data);
      applyMaskWords(expected, start, start + len, k[0], k[1], k[2], k[3]);
      const inPlace = Buffer.from(data);
      applyMaskKey(inPlace, start, start + len, k[0], k[1], k[2], k[3]);
      assert.deepEqual(inPlace, expected, `in place, len ${len} start ${start}`);
      const dstStart = Math.floor(random() * 9);
      const dst = Buffer.alloc(dstStart + len + 3, 0xee);
      unmaskCopy(data, start, start + len, dst, dstStart, k[0], k[1], k[2], k[3]);
      assert.deepEqual(
        dst.subarray(dstStart, dstStart + len),
        expected.subarray(start, start + len),
        `copy, len ${len}`
      );
      assert.ok(
        dst.subarray(0, dstStart).every(b => b === 0xee),
        'nothing written before dstStart'
      );
      assert.ok(
        dst.subarray(dstStart + len).every(b => b === 0xee),
        'nothing written past the range'
      );
    }
  });
  it('a range cut anywhere and unmasked piece by piece with the key rotated equals one pass (as the decoder does)', () => {
    const random = prng(5);
    const data = randomBytes(150_001, random);
    const k = [0x11, 0x22, 0x33, 0x44];
    const whole = Buffer.from(data);
    applyMaskWords(whole, 0, whole.length, k[0], k[1], k[2], k[3]);
    for (let round = 0; round < 10; round++) {
      const pieces = Buffer.from(data);
      for (let at = 0; at < pieces.length;) {
        const n = Math.min(pieces.length - at, 1 + Math.floor(random() * 70_000));
        const p = at & 3;
        applyMaskKey(pieces, at, at + n, k[p], k[(p + 1) & 3], k[(p + 2) & 3], k[(p + 3) & 3]);
        at += n;
      }
      assert.deepEqual(pieces, whole, `round ${round}`);
    }
  });
  it('falls back to JavaScript where WebAssembly is disabled (node --jitless), with the same results', () => {
    const maskModule = fileURLToPath(new URL('../../src/protocol/mask.js', import.meta.url));
    const script = `
      import(${JSON.stringify(maskModule)}).then(m => {
        const b = Buffer.alloc(100000, 7);
        m.applyMaskKey(b, 3, 99999, 1, 2, 3, 4);
        const sum = b.reduce((s, x) => (s * 31 + x) >>> 0, 0);
        console.log(JSON.stringify({ backend: m.maskBackend(), sum }));
      });`;
    const run = (flags: string[]): { backend: string; sum: number } => {
      const out = execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      return JSON.parse(out) as { backend: string; sum: number };
    };
    const off = run(['--jitless']);
    const on = run([]);
    assert.equal(off.backend, 'js');
    assert.equal(on.backend, 'wasm-simd');
    assert.equal(off.sum, on.sum);
  });
  it('src/protocol/mask-simd.ts is what src/protocol/mask-simd.wat assembles to', () => {
    const script = fileURLToPath(new URL('../../../scripts/build-wasm.mjs', import.meta.url));
    execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' });
  });
});
