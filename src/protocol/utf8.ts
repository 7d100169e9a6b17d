// UTF-8 validation for text messages: whole buffers, and an incremental validator that fails at the
// first invalid byte even when a message arrives in fragments (RFC 6455 8.1: "When an endpoint is to
// interpret a byte stream as UTF-8 but finds that the byte stream is not, in fact, a valid UTF-8 stream,
// that endpoint MUST _Fail the WebSocket Connection_").
import { constants, isUtf8 } from 'node:buffer';

/**
 * The longest text message, in UTF-8 bytes, that can always become a JavaScript string. V8 strings hold
 * at most `buffer.constants.MAX_STRING_LENGTH` UTF-16 code units (2^29 - 24 on 64-bit Node 20), and UTF-8
 * never takes fewer bytes than UTF-16 takes code units (1 to 3 bytes make one unit, 4 bytes make two), so a
 * message of at most this many bytes always decodes; a longer one fails with 1009 (WS_ERR_TEXT_TOO_BIG).
 */
export const MAX_TEXT_MESSAGE_BYTES = constants.MAX_STRING_LENGTH;

/** Strict validation (no overlongs, no surrogates, nothing above U+10FFFF) of a complete byte sequence. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return bytes.length === 0 || isUtf8(bytes);
}

/** Length of the sequence introduced by a lead byte, or 0 when the byte cannot start a sequence. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead < 0xc2) return 0;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  if (lead < 0xf5) return 4;
  return 0;
}

/**
 * Validates a text message fragment by fragment. State between fragments is at most one unfinished
 * sequence: how many continuation bytes are still due, and the allowed range of the next one
 * (RFC 3629 section 4 narrows the second byte after E0, ED, F0 and F4).
 */
export class Utf8StreamValidator {
  private need = 0;
  private lo = 0x80;
  private hi = 0xbf;

  /** Feeds `bytes[start, end)`. Returns false as soon as the stream can no longer be valid UTF-8. */
  feed(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
    let i = start;
    while (this.need > 0 && i < end) {
      if (!this.step(bytes[i])) return false;
      i++;
    }
    if (i === end) return true;

    // Find where a sequence cut off by the end of this fragment starts, so that the complete part
    // can go to the native validator and only the cut-off tail is checked byte by byte.
    let tail = end;
    let j = end - 1;
    let continuations = 0;
    while (j >= i && continuations < 3 && (bytes[j] & 0xc0) === 0x80) {
      j--;
      continuations++;
    }
    if (j >= i) {
      const len = sequenceLength(bytes[j]);
      if (len > continuations + 1) tail = j;
    }
    if (tail > i && !isUtf8(bytes.subarray(i, tail))) return false;
    for (let p = tail; p < end; p++) if (!this.step(bytes[p])) return false;
    return true;
  }

  /** True when the bytes fed so far end on a sequence boundary. */
  isComplete(): boolean {
    return this.need === 0;
  }

  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
  }

  private step(b: number): boolean {
    if (this.need > 0) {
      if (b < this.lo || b > this.hi) return false;
      this.need--;
      this.lo = 0x80;
      this.hi = 0xbf;
      return true;
    }
    if (b < 0x80) return true;
    if (b >= 0xc2 && b <= 0xdf) {
      this.need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      this.need = 2;
      if (b === 0xe0) this.lo = 0xa0;
      else if (b === 0xed) this.hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      this.need = 3;
      if (b === 0xf0) this.lo = 0x90;
      else if (b === 0xf4) this.hi = 0x8f;
    } else {
      return false;
    }
    return true;
  }
}
