// XOR masking of frame payloads (RFC 6455 5.3): WebAssembly SIMD for large ranges, else a 32-bit word at a time.
import { endianness } from 'node:os';
import { MASK_SIMD_WASM } from './mask-simd.js';

const LITTLE_ENDIAN = endianness() === 'LE';
/** Below this size a byte loop beats creating a typed-array view. */
const WORD_THRESHOLD = 64;
/**
 * From this size on, ranges go through the SIMD module: copying a range in and out of its memory and
 * XORing 16 bytes per step beats the word loop (bench/micro.ts: 21 vs 6 GB/s at 64 KiB; a one-off
 * comparison had it ahead from 1 KiB on: 138 vs 168 ns, and 245 vs 518 ns at 4 KiB).
 */
const SIMD_THRESHOLD = 2048;
/** The SIMD module works on blocks of up to this many bytes (a multiple of 4, so the key stays in phase). */
const SIMD_BLOCK = 65536;

interface SimdMasker {
  /** The module's memory as a Buffer: a block is copied to offset 0, masked there, and copied out. */
  readonly scratch: Buffer;
  /** XORs scratch[0, len) with the key as a little-endian 32-bit word (its low byte applies to byte 0). */
  readonly mask: (len: number, key: number) => void;
}

/** The SIMD module, made on first use; null where WebAssembly or its SIMD is unavailable (e.g. --jitless). */
let simd: SimdMasker | null | undefined;

/** The part of the WebAssembly API used here (the package's TypeScript setup has no DOM or WebAssembly types). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => {
    exports: { memory: { buffer: ArrayBuffer }; mask: (len: number, key: number) => void };
  };
}

function simdMasker(): SimdMasker | null {
  if (simd !== undefined) return simd;
  simd = null;
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  try {
    const bytes = Buffer.from(MASK_SIMD_WASM, 'base64');
    if (api !== undefined && api.validate(bytes)) {
      const { exports } = new api.Instance(new api.Module(bytes));
      simd = { scratch: Buffer.from(exports.memory.buffer), mask: exports.mask };
    }
  } catch {
    simd = null;
  }
  return simd;
}

/** Which implementation masks large ranges in this process (tests and benchmarks report it). */
export function maskBackend(): 'wasm-simd' | 'js' {
  return simdMasker() === null ? 'js' : 'wasm-simd';
}

/**
 * Writes `src[start, end)` XORed with the key (`k0` applies to `src[start]`) to `dst` from `dstStart`.
 * `dst` may be `src` at the same position (in place); other overlaps are not allowed.
 */
export function unmaskCopy(
  src: Buffer,
  start: number,
  end: number,
  dst: Buffer,
  dstStart: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number
): void {
  const len = end - start;
  const masker = len >= SIMD_THRESHOLD ? simdMasker() : null;
  if (masker === null) {
    if (src !== dst || start !== dstStart) src.copy(dst, dstStart, start, end);
    applyMaskWords(dst, dstStart, dstStart + len, k0, k1, k2, k3);
    return;
  }
  // WebAssembly memory is little-endian whatever the host: the low byte is byte 0.
  const key = k0 | (k1 << 8) | (k2 << 16) | (k3 << 24);
  const scratch = masker.scratch;
  for (let at = 0; at < len; at += SIMD_BLOCK) {
    const n = len - at < SIMD_BLOCK ? len - at : SIMD_BLOCK;
    src.copy(scratch, 0, start + at, start + at + n);
    masker.mask(n, key);
    scratch.copy(dst, dstStart + at, 0, n);
  }
}

/**
 * Unmasks (or masks: XOR is its own inverse) `buf[start, end)` in place with the 4-byte key found at
 * `key[keyOffset..keyOffset+3]`. Byte i of the payload is XORed with key byte i % 4.
 */
export function applyMask(buf: Buffer, start: number, end: number, key: Uint8Array, keyOffset: number): void {
  const k0 = key[keyOffset];
  const k1 = key[keyOffset + 1];
  const k2 = key[keyOffset + 2];
  const k3 = key[keyOffset + 3];
  if (end - start >= WORD_THRESHOLD) return applyMaskKey(buf, start, end, k0, k1, k2, k3);
  // Short payloads (most control frames and small messages): a byte loop, kept here so it inlines.
  for (let p = 0, i = start; i < end; p++, i++) {
    const m = p & 3;
    buf[i] ^= m === 0 ? k0 : m === 1 ? k1 : m === 2 ? k2 : k3;
  }
}

/**
 * The same with the key as four byte values: `k0` applies to `buf[start]`. A payload that arrives in
 * pieces is unmasked piece by piece by passing the key rotated by the number of payload bytes before the
 * piece (RFC 6455 5.3: "octet i of the transformed data is the XOR of octet i of the original data with
 * octet at index i modulo 4 of the masking key").
 */
export function applyMaskKey(
  buf: Buffer,
  start: number,
  end: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number
): void {
  if (end - start >= SIMD_THRESHOLD) unmaskCopy(buf, start, end, buf, start, k0, k1, k2, k3);
  else applyMaskWords(buf, start, end, k0, k1, k2, k3);
}

/** applyMaskKey in JavaScript alone: 32-bit words where the range allows (exported for the tests' comparison). */
export function applyMaskWords(
  buf: Buffer,
  start: number,
  end: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number
): void {
  let i = start;
  const len = end - start;
  if (len >= WORD_THRESHOLD && LITTLE_ENDIAN) {
    // Align to a 4-byte boundary of the underlying ArrayBuffer, then XOR whole words.
    const abs = buf.byteOffset + start;
    const head = (4 - (abs & 3)) & 3;
    const ks = [k0, k1, k2, k3];
    for (let h = 0; h < head; h++) buf[i + h] ^= ks[h & 3];
    i += head;
    const words = (end - i) >>> 2;
    // The key rotated so that its first byte lines up with byte `head` of the payload.
    const r0 = ks[head & 3];
    const r1 = ks[(head + 1) & 3];
    const r2 = ks[(head + 2) & 3];
    const r3 = ks[(head + 3) & 3];
    const word = r0 | (r1 << 8) | (r2 << 16) | (r3 << 24);
    const view = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    // Unrolled by eight: measured about twice as fast as a plain loop (bench/micro.ts).
    let w = 0;
    for (; w + 8 <= words; w += 8) {
      view[w] ^= word;
      view[w + 1] ^= word;
      view[w + 2] ^= word;
      view[w + 3] ^= word;
      view[w + 4] ^= word;
      view[w + 5] ^= word;
      view[w + 6] ^= word;
      view[w + 7] ^= word;
    }
    for (; w < words; w++) view[w] ^= word;
    i += words << 2;
    // Tail: continue the key sequence where the words stopped (words are multiples of 4, so no shift).
    for (let t = 0; i < end; t++, i++) buf[i] ^= ks[(head + t) & 3];
    return;
  }
  for (let p = 0; i < end; p++, i++) {
    const m = p & 3;
    buf[i] ^= m === 0 ? k0 : m === 1 ? k1 : m === 2 ? k2 : k3;
  }
}
