// UTF-8 validation: whole-buffer checks and the incremental validator fed at every split, failing fast on invalid prefixes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Utf8StreamValidator, isValidUtf8 } from '../../src/protocol/utf8.js';

const valid: [string, number[]][] = [
  ['empty', []],
  ['ASCII', [0x00, 0x41, 0x7f]],
  ['2-byte min U+0080', [0xc2, 0x80]],
  ['2-byte max U+07FF', [0xdf, 0xbf]],
  ['3-byte min U+0800', [0xe0, 0xa0, 0x80]],
  ['U+D7FF before surrogates', [0xed, 0x9f, 0xbf]],
  ['U+E000 after surrogates', [0xee, 0x80, 0x80]],
  ['U+FFFF', [0xef, 0xbf, 0xbf]],
  ['4-byte min U+10000', [0xf0, 0x90, 0x80, 0x80]],
  ['U+10FFFF', [0xf4, 0x8f, 0xbf, 0xbf]],
  ['mixed text', [...Buffer.from('a€b𝄞cé', 'utf8')]],
];

/** Invalid vectors with the length of the longest prefix that can still be completed validly. */
const invalid: [string, number[], number][] = [
  ['overlong C0 80', [0xc0, 0x80], 0],
  ['overlong C1 BF', [0xc1, 0xbf], 0],
  ['overlong E0 80 80', [0xe0, 0x80, 0x80], 1],
  ['overlong E0 9F BF', [0xe0, 0x9f, 0xbf], 1],
  ['overlong F0 80 80 80', [0xf0, 0x80, 0x80, 0x80], 1],
  ['overlong F0 8F BF BF', [0xf0, 0x8f, 0xbf, 0xbf], 1],
  ['surrogate ED A0 80', [0xed, 0xa0, 0x80], 1],
  ['surrogate ED BF BF', [0xed, 0xbf, 0xbf], 1],
  ['above U+10FFFF F4 90 80 80', [0xf4, 0x90, 0x80, 0x80], 1],
  ['F5 lead', [0xf5, 0x80, 0x80, 0x80], 0],
  ['F8 lead', [0xf8], 0],
  ['FE', [0xfe], 0],
  ['FF', [0xff], 0],
  ['lone continuation', [0x61, 0x80], 1],
  ['continuation after a complete character', [0xc3, 0xa9, 0xa9], 2],
  ['ASCII interrupting a sequence', [0xe2, 0x82, 0x41], 2],
  ['lead interrupting a sequence', [0xe2, 0xc3, 0xa9], 1],
  ['invalid byte after a long valid run', [...Buffer.from('x'.repeat(100)), 0xc0], 100],
];

/** Truncated sequences: every prefix is acceptable so far, but the whole is not a complete text. */
const truncated: [string, number[]][] = [
  ['2-byte', [0xc3]],
  ['3-byte', [0xe2, 0x82]],
  ['4-byte', [0xf0, 0x9f, 0x98]],
  ['after text', [0x61, 0x62, 0xf4, 0x8f]],
];

/**
 * Reference: the length of the longest prefix of `bytes` that can still begin a valid UTF-8 text,
 * straight from the RFC 3629 section 4 table (the byte ranges allowed after each lead byte).
 */
function validPrefixLength(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let ranges: [number, number][];
    if (b <= 0x7f) ranges = [];
    else if (b >= 0xc2 && b <= 0xdf) ranges = [[0x80, 0xbf]];
    else if (b === 0xe0)
      ranges = [
        [0xa0, 0xbf],
        [0x80, 0xbf],
      ];
    else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef)
      ranges = [
        [0x80, 0xbf],
        [0x80, 0xbf],
      ];
    else if (b === 0xed)
      ranges = [
        [0x80, 0x9f],
        [0x80, 0xbf],
      ];
    else if (b === 0xf0)
      ranges = [
        [0x90, 0xbf],
        [0x80, 0xbf],
        [0x80, 0xbf],
      ];
    else if (b >= 0xf1 && b <= 0xf3)
      ranges = [
        [0x80, 0xbf],
        [0x80, 0xbf],
        [0x80, 0xbf],
      ];
    else if (b === 0xf4)
      ranges = [
        [0x80, 0x8f],
        [0x80, 0xbf],
        [0x80, 0xbf],
      ];
    else return i;
    let k = 0;
    for (; k < ranges.length; k++) {
      if (i + 1 + k >= bytes.length) return bytes.length;
      const c = bytes[i + 1 + k];
      if (c < ranges[k][0] || c > ranges[k][1]) return i + 1 + k;
    }
    i += 1 + k;
  }
  return i;
}

function feedSplit(
  bytes: Buffer,
  splits: readonly number[]
): { ok: boolean; failedAt: number; complete: boolean } {
  const v = new Utf8StreamValidator();
  let from = 0;
  for (const at of [...splits, bytes.length]) {
    if (!v.feed(bytes, from, at)) return { ok: false, failedAt: at, complete: false };
    from = at;
  }
  return { ok: true, failedAt: -1, complete: v.isComplete() };
}

function allChunkings(n: number): number[][] {
  const out: number[][] = [[], Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1)];
  for (let i = 1; i < n; i++) out.push([i]);
  for (let i = 1; i < n; i++) for (let j = i + 1; j < n; j++) out.push([i, j]);
  return out;
}

describe('isValidUtf8', () => {
  for (const [name, v] of valid) {
    it(`accepts ${name}`, () => assert.equal(isValidUtf8(Buffer.from(v)), true));
  }
  for (const [name, v] of invalid) {
    it(`rejects ${name}`, () => assert.equal(isValidUtf8(Buffer.from(v)), false));
  }
  for (const [name, v] of truncated) {
    it(`rejects a truncated ${name} sequence`, () => assert.equal(isValidUtf8(Buffer.from(v)), false));
  }
});

describe('Utf8StreamValidator', () => {
  for (const [name, v] of valid) {
    it(`accepts ${name} at every chunking and ends complete`, () => {
      const b = Buffer.from(v);
      for (const splits of allChunkings(b.length)) {
        assert.deepEqual(
          feedSplit(b, splits),
          { ok: true, failedAt: -1, complete: true },
          `splits ${splits.join()}`
        );
      }
    });
  }
  for (const [name, v, validPrefix] of invalid) {
    it(`rejects ${name} at every chunking, as soon as the invalid byte is fed`, () => {
      const b = Buffer.from(v);
      for (const splits of allChunkings(b.length)) {
        const r = feedSplit(b, splits);
        assert.equal(r.ok, false, `splits ${splits.join()}`);
        // The chunk that failed is the first one that reaches past the longest valid prefix.
        const expectedAt = [...splits, b.length].find(at => at > validPrefix);
        assert.equal(r.failedAt, expectedAt, `splits ${splits.join()}`);
      }
    });
    it(`accepts every prefix of ${name} up to the invalid byte`, () => {
      const v2 = new Utf8StreamValidator();
      assert.equal(v2.feed(Buffer.from(v.slice(0, validPrefix))), true);
    });
  }
  for (const [name, v] of truncated) {
    it(`accepts a truncated ${name} sequence as a prefix but reports it incomplete`, () => {
      const b = Buffer.from(v);
      for (const splits of allChunkings(b.length)) {
        assert.deepEqual(
          feedSplit(b, splits),
          { ok: true, failedAt: -1, complete: false },
          `splits ${splits.join()}`
        );
      }
    });
  }
  it('fails on F4 90 immediately, before the rest of the sequence', () => {
    const v = new Utf8StreamValidator();
    assert.equal(v.feed(Buffer.from([0x61, 0xf4, 0x90])), false);
  });
  it('fails on E0 80 and ED A0 immediately', () => {
    assert.equal(new Utf8StreamValidator().feed(Buffer.from([0xe0, 0x80])), false);
    assert.equal(new Utf8StreamValidator().feed(Buffer.from([0xed, 0xa0])), false);
    assert.equal(new Utf8StreamValidator().feed(Buffer.from([0xf0, 0x80])), false);
  });
  it('honours start and end offsets into a larger buffer', () => {
    const b = Buffer.from([0xff, 0xe2, 0x82, 0xac, 0xff]);
    const v = new Utf8StreamValidator();
    assert.equal(v.feed(b, 1, 3), true);
    assert.equal(v.isComplete(), false);
    assert.equal(v.feed(b, 3, 4), true);
    assert.equal(v.isComplete(), true);
  });
  it('reset() clears an unfinished sequence', () => {
    const v = new Utf8StreamValidator();
    assert.equal(v.feed(Buffer.from([0xf0, 0x90])), true);
    v.reset();
    assert.equal(v.isComplete(), true);
    assert.equal(v.feed(Buffer.from([0x41])), true);
  });
  it('agrees with the whole-buffer check on every 2-byte sequence at every split', () => {
    const b = Buffer.alloc(2);
    for (let x = 0; x < 256; x++) {
      for (let y = 0; y < 256; y++) {
        b[0] = x;
        b[1] = y;
        const whole = isValidUtf8(b);
        for (const splits of [[], [1]]) {
          const r = feedSplit(b, splits);
          assert.equal(
            r.ok && r.complete,
            whole,
            `${x.toString(16)} ${y.toString(16)} splits ${splits.join()}`
          );
        }
      }
    }
  });

  it('fails in the chunk holding the first invalid byte, for arbitrary bytes at arbitrary splits (property)', () => {
    // Bias towards the bytes that matter: leads, boundary continuations, and ASCII.
    const byte = fc.oneof(
      fc.nat(255),
      fc.constantFrom(
        0x41,
        0x7f,
        0x80,
        0x8f,
        0x90,
        0x9f,
        0xa0,
        0xbf,
        0xc0,
        0xc1,
        0xc2,
        0xdf,
        0xe0,
        0xed,
        0xef,
        0xf0,
        0xf4,
        0xf5
      )
    );
    const input = fc
      .array(byte, { maxLength: 24 })
      .chain(a =>
        fc.tuple(
          fc.constant(Buffer.from(a)),
          a.length < 2
            ? fc.constant<number[]>([])
            : fc.uniqueArray(fc.integer({ min: 1, max: a.length - 1 })).map(s => s.sort((x, y) => x - y))
        )
      );
    fc.assert(
      fc.property(input, ([bytes, splits]) => {
        const prefix = validPrefixLength(bytes);
        const r = feedSplit(bytes, splits);
        if (prefix < bytes.length) {
          assert.equal(r.ok, false);
          assert.equal(
            r.failedAt,
            [...splits, bytes.length].find(at => at > prefix)
          );
        } else {
          assert.equal(r.ok, true);
          assert.equal(r.complete, isValidUtf8(bytes));
        }
      }),
      { numRuns: 3000 }
    );
  });
});
