// Collects the payload pieces of a message (or frame) that arrives over several reads, and joins them once at the end.
import { applyMaskKey, unmaskCopy } from './mask.js';

/** Below this, a piece is always copied: a view would cost more in bookkeeping than the bytes it saves. */
const MIN_VIEW = 1024;
/** The first pack buffer of a message that goes on past this frame; each next one doubles, up to MAX_PACK. */
const MIN_PACK = 4096;
const MAX_PACK = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * Holds received payload bytes until a message is complete, and then hands them over in one buffer.
 *
 * The rest of a final frame of at most MAX_PACK bytes is copied into one pack of exactly its size, so the
 * message is handed over without a join, and masked bytes are unmasked on the way in (one pass; bytes
 * fresh from the kernel are unmasked in place only when kept as a view).
 * Otherwise, a piece that fills at least half of the memory it lives in (a read that is mostly payload)
 * is kept as a view: no copy until the final join, and a view never pins more than twice its own bytes.
 * Any other piece (the tail of a read that also carried other frames, a trickle of tiny reads, a pooled
 * buffer) is copied into a pack buffer, so a flood of small fragments holds its payload bytes and not the
 * reads they came in. A message that ends up in one piece (one pack, or one view) is handed over without
 * a join.
 * After `take()` nothing is held.
 */
export class PayloadAssembler {
  private pieces: Buffer[] = [];
  /** Bytes added since the last take(). */
  length = 0;
  private pack: Buffer | null = null;
  /** Where the current pack's unflushed bytes start, and how far it is filled. */
  private packStart = 0;
  private packUsed = 0;
  private lastPackSize = 0;

  /** Bytes of memory this assembler keeps reachable (views count their whole backing store). */
  get retainedBytes(): number {
    let n = this.pack?.length ?? 0;
    for (const piece of this.pieces) {
      if (piece.buffer !== this.pack?.buffer) n += piece.buffer.byteLength;
    }
    return n;
  }

  /** Where `place()` put the bytes it was last given, in the buffer it returned. */
  placedAt = 0;

  /**
   * Adds `buf[start, end)`. `expected` is how many more bytes the caller knows are coming in this frame
   * (including these), and `more` whether further frames may add to the message: a pack is sized for
   * exactly the rest of a final frame, or, when more may come, at least MIN_PACK and doubling.
   */
  add(buf: Buffer, start: number, end: number, expected: number, more: boolean): void {
    if (end > start) this.place(buf, start, end, expected, more, null, 0);
  }

  /**
   * The same as add() for masked bytes when `key` is given (the masking key repeated, `key[keyAt]` applying
   * to `buf[start]`): they are unmasked as they are kept. Returns where the kept bytes are, for a UTF-8
   * check: in the returned buffer from `placedAt` on (a pack, or `buf` itself for a view). `end` must be
   * past `start`.
   */
  place(
    buf: Buffer,
    start: number,
    end: number,
    expected: number,
    more: boolean,
    key: readonly number[] | null,
    keyAt: number
  ): Buffer {
    const n = end - start;
    this.length += n;
    // The rest of a final frame that fits one pack goes there, so the message needs no join.
    const exact = !more && expected <= MAX_PACK;
    if (!exact && n >= MIN_VIEW && n * 2 >= buf.buffer.byteLength) {
      this.flushPack();
      if (key !== null)
        applyMaskKey(buf, start, end, key[keyAt], key[keyAt + 1], key[keyAt + 2], key[keyAt + 3]);
      this.pieces.push(buf.subarray(start, end));
      this.placedAt = start;
      return buf;
    }
    let pack = this.pack;
    if (pack === null || pack.length - this.packUsed < n) {
      this.flushPack();
      const wanted = more ? Math.max(expected, MIN_PACK, this.lastPackSize * 2) : expected;
      const size = Math.max(n, Math.min(MAX_PACK, wanted));
      pack = this.pack = Buffer.allocUnsafeSlow(size);
      this.lastPackSize = size;
      this.packStart = this.packUsed = 0;
    }
    const at = this.packUsed;
    if (key === null) buf.copy(pack, at, start, end);
    else unmaskCopy(buf, start, end, pack, at, key[keyAt], key[keyAt + 1], key[keyAt + 2], key[keyAt + 3]);
    this.placedAt = at;
    this.packUsed += n;
    return pack;
  }

  /** Everything added since the last take(), in one buffer; the assembler is empty afterwards. */
  take(): Buffer {
    this.flushPack();
    const pieces = this.pieces;
    const out =
      pieces.length === 1 ? pieces[0] : pieces.length === 0 ? EMPTY : Buffer.concat(pieces, this.length);
    this.clear();
    return out;
  }

  /** Drops everything held. */
  clear(): void {
    this.pieces = [];
    this.length = 0;
    this.pack = null;
    this.packStart = this.packUsed = this.lastPackSize = 0;
  }

  /** Moves the filled, not yet listed part of the pack into the piece list (the pack stays for more). */
  private flushPack(): void {
    if (this.pack === null || this.packUsed === this.packStart) return;
    this.pieces.push(this.pack.subarray(this.packStart, this.packUsed));
    this.packStart = this.packUsed;
  }
}
