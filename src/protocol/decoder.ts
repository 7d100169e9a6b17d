// Incremental RFC 6455 frame decoder: an explicit state machine (header, extended length, mask, payload) over a byte stream.
import { PayloadAssembler } from './assembler.js';
import { CloseCode, isValidWireCloseCode } from './close-codes.js';
import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import { applyMask, applyMaskKey, unmaskCopy } from './mask.js';
import { Opcode, isKnownOpcode } from './opcodes.js';
import { MAX_TEXT_MESSAGE_BYTES, Utf8StreamValidator, isValidUtf8 } from './utf8.js';

/** Where the decoder reports what it found. Called synchronously from `push()`. */
export interface FrameSink {
  /** A complete, UTF-8-validated text message. */
  onText(text: string): void;
  /** A complete binary message. The buffer may share memory with the received chunk. */
  onBinary(data: Buffer): void;
  /**
   * One frame of a compressed message (RSV1 set on its first frame; RFC 7692). Only called when
   * `compression` is enabled. The sink inflates; it may call `pause()` until the frame is consumed.
   * `first` marks the frame that started the message; the payload is unmasked.
   */
  onCompressedFrame?(payload: Buffer, isText: boolean, first: boolean, fin: boolean): void;
  /** A ping from the peer, with its payload (at most 125 bytes). */
  onPing(payload: Buffer): void;
  /** A pong from the peer, with its payload. */
  onPong(payload: Buffer): void;
  /** The peer's close frame: its code (1005 when it carried none) and reason, both validated. */
  onCloseFrame(code: number, reason: string): void;
  /** The peer broke the protocol; nothing more is decoded after this. */
  onError(error: ProtocolError): void;
}

export interface DecoderOptions {
  /**
   * Largest message (sum of its fragments' payloads) accepted; larger fails with 1009. Text messages are
   * also capped at MAX_TEXT_MESSAGE_BYTES (what a JavaScript string can hold), whatever this says.
   */
  maxMessageSize: number;
  /** Accept RSV1 on the first frame of a data message (permessage-deflate negotiated). */
  compression?: boolean;
}

// The decoder's states within a frame (RFC 6455 5.2 layout: 2 header bytes, 0/2/8 length bytes, 4 key bytes, payload).
/** Expecting the first byte of a frame. */
const HEADER = 0;
/** The first byte arrived alone (kept in `b0`); expecting the second. */
const HEADER_SECOND = 1;
/** Reading the 16- or 64-bit extended payload length, `lengthDue` bytes to go. */
const LENGTH = 2;
/** Reading the 4-byte masking key, `keyDue` bytes to go. */
const MASK = 3;
/** Reading payload bytes: each piece is unmasked (and, for text, validated) as it arrives. */
const PAYLOAD = 4;

/** 2^53 - 1 split as (high 32 bits, low 32 bits): the largest length JavaScript can count exactly. */
const MAX_SAFE_HIGH_WORD = 0x1fffff;
const TWO_POW_32 = 4294967296;
const NO_MESSAGE = -1;
const EMPTY = Buffer.alloc(0);

/**
 * Bytes in, messages / control frames / one error out. Each header field is read once, when its bytes
 * arrive, however the stream is cut, and is never re-read. A frame whose payload lies within one received
 * chunk is delivered as a view of that chunk (unmasked in place, no copy). A payload spread over several
 * chunks is unmasked piece by piece where PayloadAssembler keeps it (a copy for the rest of a final frame of
 * up to 64 KiB, which is then the message itself; else mostly views of the reads, joined once when the
 * message ends), and text is UTF-8-validated piece by piece (so invalid text fails at the piece that breaks
 * it, not at the end of the frame). Between frames the decoder holds no buffer at all.
 */
export class FrameDecoder {
  private readonly sink: FrameSink;
  private readonly maxMessageSize: number;
  private readonly compression: boolean;

  private state = HEADER;
  private paused = false;
  private finished = false;
  /** Chunks pushed while paused (or the rest of the chunk that was being decoded when pause() was called). */
  private queue: Buffer[] = [];
  private queued = 0;
  /** Frame headers decoded so far (one per frame, whatever the chunking). */
  private headers = 0;

  // ---- the current frame (set by header(), once) ----
  private fin = false;
  private opcode = 0;
  /** The payload goes to onCompressedFrame: RSV1 on a first frame, or a continuation of a compressed message. */
  private compressed = false;
  /** A data frame of a text message. */
  private text = false;
  /** The first header byte, while the second has not arrived. */
  private b0 = 0;
  private lengthDue = 0;
  /** The 64-bit length's high word, or -1 while reading a 16-bit length. */
  private lengthHigh = 0;
  private lengthLow = 0;
  private keyDue = 0;
  /** The masking key, repeated so that key[p..p+3] is the key for a piece that starts at payload offset p (mod 4). */
  private readonly key = [0, 0, 0, 0, 0, 0, 0];
  private payloadLength = 0;
  private payloadReceived = 0;
  /** Bytes of the current, incomplete frame received so far (header included). */
  private frameBytes = 0;
  /** Payload of a control frame that arrives in pieces (at most 125 bytes). */
  private control: Buffer | null = null;

  // ---- the fragmented message in progress (set when its first frame completes) ----
  /** Its opcode (Text or Binary), or NO_MESSAGE. */
  private messageOpcode: number = NO_MESSAGE;
  private messageCompressed = false;
  /** Payload bytes in its completed frames. */
  private messageLength = 0;
  /** Payload of the message (or of the compressed frame) that arrives over several chunks or frames. */
  private readonly pieces = new PayloadAssembler();
  private utf8: Utf8StreamValidator | null = null;

  constructor(sink: FrameSink, options: DecoderOptions) {
    this.sink = sink;
    this.maxMessageSize = options.maxMessageSize;
    this.compression = options.compression === true;
  }

  /** Bytes received but not yet delivered: the current incomplete frame so far, plus input queued while paused. */
  get bufferedBytes(): number {
    return this.frameBytes + this.queued;
  }

  /** Payload bytes held for the fragmented message in progress (its completed frames). */
  get pendingMessageBytes(): number {
    return this.messageLength;
  }

  /** Memory the decoder keeps reachable (queued chunks, payload pieces and packs); 0 between frames when idle. */
  get retainedBytes(): number {
    let n = this.pieces.retainedBytes + (this.control?.length ?? 0);
    for (const chunk of this.queue) n += chunk.length;
    return n;
  }

  /** How many frame headers were decoded: exactly one per frame, whatever the chunking (tests count it). */
  get headersParsed(): number {
    return this.headers;
  }

  /** True after a close frame or an error: further input is ignored. */
  get isFinished(): boolean {
    return this.finished;
  }

  /**
   * Decodes `chunk`. The decoder unmasks it in place and may keep views of it until the message it
   * carries is complete: pass buffers that are not reused (socket reads are not).
   */
  push(chunk: Buffer): void {
    if (this.finished || chunk.length === 0) return;
    if (this.paused || this.queue.length > 0) {
      this.queue.push(chunk);
      this.queued += chunk.length;
      return;
    }
    const stop = this.run(chunk, 0);
    if (stop < chunk.length && !this.finished) {
      this.queue.push(chunk.subarray(stop));
      this.queued += chunk.length - stop;
    }
  }

  /** Stops decoding after the current frame; input keeps being queued. */
  pause(): void {
    this.paused = true;
  }

  /** Continues decoding queued input. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const queue = this.queue;
    while (queue.length > 0 && !this.paused && !this.finished) {
      const chunk = queue.shift()!;
      this.queued -= chunk.length;
      const stop = this.run(chunk, 0);
      if (stop < chunk.length && !this.finished) {
        queue.unshift(chunk.subarray(stop));
        this.queued += chunk.length - stop;
      }
    }
  }

  /** Drops all state (used when the connection is torn down). */
  destroy(): void {
    this.finished = true;
    this.queue = [];
    this.queued = 0;
    this.frameBytes = 0;
    this.control = null;
    this.pieces.clear();
  }

  /** Decodes `buf` from `pos`; returns where it stopped (buf.length unless paused after a frame). */
  private run(buf: Buffer, pos: number): number {
    const end = buf.length;
    while (pos < end) {
      const state = this.state;
      if (state === HEADER && end - pos >= 2) {
        const b1 = buf[pos + 1];
        if (!this.header(buf[pos], b1)) return end;
        const len7 = b1 & 0x7f;
        const headerLength = len7 < 126 ? 6 : len7 === 126 ? 8 : 14;
        if (end - pos < headerLength) {
          // The rest of the header comes byte by byte (headerByte), in later chunks.
          pos += 2;
          this.frameBytes = 2;
          this.afterFixedHeader(len7);
        } else {
          // Fast path: the whole header is here and is read straight from the chunk.
          const length =
            len7 < 126
              ? len7
              : len7 === 126
                ? (buf[pos + 2] << 8) | buf[pos + 3]
                : this.length64(buf.readUInt32BE(pos + 2), buf.readUInt32BE(pos + 6));
          if (length < 0 || !this.lengthAllowed(length)) return end;
          const start = pos + headerLength;
          pos = start + length;
          if (pos <= end) {
            // And so is the payload: unmask it in place and deliver it from the chunk.
            if (length > 0) applyMask(buf, start, pos, buf, start - 4);
            this.complete(buf, start, pos);
          } else {
            const key = this.key;
            key[0] = key[4] = buf[start - 4];
            key[1] = key[5] = buf[start - 3];
            key[2] = key[6] = buf[start - 2];
            key[3] = buf[start - 1];
            this.payloadLength = length;
            this.payloadReceived = 0;
            this.frameBytes = headerLength;
            this.state = PAYLOAD;
            pos = start;
          }
        }
      } else if (state === PAYLOAD) {
        pos = this.payload(buf, pos, end);
      } else {
        this.headerByte(buf[pos++]);
      }
      if (this.finished) return end;
      if (this.paused && this.state === HEADER) return pos;
    }
    return pos;
  }

  /** After the two fixed header bytes of a header that arrives in pieces: what comes next. */
  private afterFixedHeader(len7: number): void {
    if (len7 < 126) {
      this.lengthKnown(len7);
      return;
    }
    this.state = LENGTH;
    this.lengthDue = len7 === 126 ? 2 : 8;
    this.lengthHigh = len7 === 126 ? -1 : 0;
    this.lengthLow = 0;
  }

  /** One header byte when the header arrives in pieces: each byte is read once, into the frame's fields. */
  private headerByte(b: number): void {
    this.frameBytes++;
    switch (this.state) {
      case HEADER:
        this.b0 = b;
        this.state = HEADER_SECOND;
        return;
      case HEADER_SECOND:
        this.state = HEADER;
        if (this.header(this.b0, b)) this.afterFixedHeader(b & 0x7f);
        return;
      case LENGTH:
        // 64-bit lengths: the first four bytes are the high word.
        if (this.lengthDue > 4) this.lengthHigh = this.lengthHigh * 256 + b;
        else this.lengthLow = this.lengthLow * 256 + b;
        if (--this.lengthDue === 0) {
          const length =
            this.lengthHigh === -1 ? this.lengthLow : this.length64(this.lengthHigh, this.lengthLow);
          if (length >= 0) this.lengthKnown(length);
        }
        return;
      default: {
        const i = 4 - this.keyDue;
        this.key[i] = b;
        if (i < 3) this.key[i + 4] = b;
        if (--this.keyDue > 0) return;
        if (this.payloadLength > 0) {
          this.state = PAYLOAD;
          return;
        }
        this.frameDone();
        this.complete(EMPTY, 0, 0);
      }
    }
  }

  /** The length of a header that arrives in pieces is known: check it, then read the key. */
  private lengthKnown(length: number): void {
    if (!this.lengthAllowed(length)) return;
    this.payloadLength = length;
    this.payloadReceived = 0;
    this.state = MASK;
    this.keyDue = 4;
  }

  private fail(code: ProtocolErrorCode): false {
    this.destroy();
    this.sink.onError(new ProtocolError(code));
    return false;
  }

  /** Decodes the two fixed header bytes: the only place a frame's flags, opcode and mask bit are read. */
  private header(b0: number, b1: number): boolean {
    this.headers++;
    const fin = (b0 & 0x80) !== 0;
    const rsv = b0 & 0x70;
    const opcode = b0 & 0x0f;

    // RFC 6455 5.2: "RSV1, RSV2, RSV3: 1 bit each. MUST be 0 unless an extension is negotiated that
    // defines meanings for non-zero values." RFC 7692 6: RSV1 marks the first frame of a compressed message.
    if (
      rsv !== 0 &&
      (rsv !== 0x40 ||
        !this.compression ||
        opcode === Opcode.Continuation ||
        opcode >= 0x8 ||
        this.sink.onCompressedFrame === undefined)
    ) {
      return this.fail('WS_ERR_UNEXPECTED_RSV');
    }
    if (!isKnownOpcode(opcode)) return this.fail('WS_ERR_RESERVED_OPCODE');
    if (opcode >= 0x8) {
      // RFC 6455 5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
      if (!fin) return this.fail('WS_ERR_FRAGMENTED_CONTROL');
      if ((b1 & 0x7f) > 125) return this.fail('WS_ERR_CONTROL_TOO_LONG');
    } else if (opcode === Opcode.Continuation) {
      if (this.messageOpcode === NO_MESSAGE) return this.fail('WS_ERR_UNEXPECTED_CONTINUATION');
    } else if (this.messageOpcode !== NO_MESSAGE) {
      return this.fail('WS_ERR_EXPECTED_CONTINUATION');
    }
    // RFC 6455 5.1: "The server MUST close the connection upon receiving a frame that is not masked."
    if ((b1 & 0x80) === 0) return this.fail('WS_ERR_UNMASKED_FRAME');

    this.fin = fin;
    this.opcode = opcode;
    if (opcode === Opcode.Continuation) {
      this.compressed = this.messageCompressed;
      this.text = this.messageOpcode === Opcode.Text;
    } else {
      this.compressed = rsv !== 0;
      this.text = opcode === Opcode.Text;
    }
    return true;
  }

  /** A 64-bit length as a number, or -1 after failing the connection for one JavaScript cannot hold. */
  private length64(high: number, low: number): number {
    // RFC 6455 5.2: "the most significant bit MUST be 0" in a 64-bit length.
    if (high < 0x80000000) {
      if (high <= MAX_SAFE_HIGH_WORD) return high * TWO_POW_32 + low;
      this.fail('WS_ERR_LENGTH_OVERFLOW');
    } else {
      this.fail('WS_ERR_INVALID_LENGTH');
    }
    return -1;
  }

  /** The message limits, applied as soon as the payload length is known, before a payload byte is taken. */
  private lengthAllowed(length: number): boolean {
    const opcode = this.opcode;
    if (opcode >= 0x8) return true;
    const total = opcode === Opcode.Continuation ? this.messageLength + length : length;
    if (total > this.maxMessageSize) return this.fail('WS_ERR_MESSAGE_TOO_BIG');
    // Compressed text is checked after inflation: its size on the wire is not its length.
    if (this.text && !this.compressed && total > MAX_TEXT_MESSAGE_BYTES)
      return this.fail('WS_ERR_TEXT_TOO_BIG');
    return true;
  }

  /** Takes the payload bytes of `buf` from `pos` that belong to the current frame; returns the new position. */
  private payload(buf: Buffer, pos: number, end: number): number {
    const due = this.payloadLength - this.payloadReceived;
    const n = due < end - pos ? due : end - pos;
    const stop = pos + n;
    const k = this.key;
    const p = this.payloadReceived & 3;
    const first = this.payloadReceived === 0;
    if (n === due && first) {
      // The whole payload is in this chunk: unmask it and deliver it from here.
      applyMaskKey(buf, pos, stop, k[p], k[p + 1], k[p + 2], k[p + 3]);
      this.frameDone();
      this.complete(buf, pos, stop);
      return stop;
    }
    this.payloadReceived += n;
    this.frameBytes += n;
    if (this.opcode >= 0x8) {
      const control = (this.control ??= Buffer.allocUnsafe(this.payloadLength));
      unmaskCopy(buf, pos, stop, control, this.payloadReceived - n, k[p], k[p + 1], k[p + 2], k[p + 3]);
      if (n < due) return stop;
      this.control = null;
      this.frameDone();
      this.complete(control, 0, control.length);
      return stop;
    }
    // The piece is unmasked where it is kept: on its way into a pack, or in place when kept as a view.
    const pieces = this.pieces;
    const kept = pieces.place(buf, pos, stop, due, !this.fin, k, p);
    const at = pieces.placedAt;
    // Invalid text fails here, at the piece that breaks it, before the rest of the frame arrives.
    if (this.text && !this.compressed && !this.validator(first).feed(kept, at, at + n)) {
      this.fail('WS_ERR_INVALID_UTF8');
      return end;
    }
    if (n === due) {
      this.frameDone();
      this.complete(EMPTY, 0, 0, true);
    }
    return stop;
  }

  /** Back to reading a header: the frame's bytes are all in. */
  private frameDone(): void {
    this.state = HEADER;
    this.frameBytes = 0;
  }

  /**
   * The frame is complete (the state is HEADER again). Its unmasked payload is `buf[start, end)`, or, when
   * `collected`, it went into `pieces` piece by piece (already validated if text).
   */
  private complete(buf: Buffer, start: number, end: number, collected = false): void {
    const opcode = this.opcode;
    if (opcode >= 0x8) return this.controlFrame(opcode, buf.subarray(start, end));
    const fin = this.fin;
    if (this.compressed) {
      const payload = collected ? this.pieces.take() : buf.subarray(start, end);
      if (fin) this.endMessage();
      else this.continueMessage(opcode, payload.length);
      this.sink.onCompressedFrame!(payload, this.text, opcode !== Opcode.Continuation, fin);
      return;
    }
    if (!collected) {
      if (fin && opcode !== Opcode.Continuation) {
        // A whole message in one frame within one chunk: no copy, and one native UTF-8 check.
        const data = buf.subarray(start, end);
        if (!this.text) return this.sink.onBinary(data);
        if (!isValidUtf8(data)) return void this.fail('WS_ERR_INVALID_UTF8');
        return this.sink.onText(data.toString('utf8'));
      }
      if (this.text && !this.validator(true).feed(buf, start, end))
        return void this.fail('WS_ERR_INVALID_UTF8');
      this.pieces.add(buf, start, end, end - start, !this.fin);
    }
    if (!fin) return this.continueMessage(opcode, end - start + (collected ? this.payloadLength : 0));
    const message = this.pieces.take();
    this.endMessage();
    if (!this.text) return this.sink.onBinary(message);
    if (!this.utf8!.isComplete()) return void this.fail('WS_ERR_INVALID_UTF8');
    this.sink.onText(message.toString('utf8'));
  }

  /** A non-final data frame completed: the message goes on. */
  private continueMessage(opcode: number, payloadLength: number): void {
    if (opcode !== Opcode.Continuation) {
      this.messageOpcode = opcode;
      this.messageCompressed = this.compressed;
      this.messageLength = 0;
    }
    this.messageLength += payloadLength;
  }

  /** The UTF-8 validator of the text message in progress, reset when `frameStart` is the start of its first frame. */
  private validator(frameStart: boolean): Utf8StreamValidator {
    const validator = (this.utf8 ??= new Utf8StreamValidator());
    if (frameStart && this.opcode === Opcode.Text) validator.reset();
    return validator;
  }

  private endMessage(): void {
    this.messageOpcode = NO_MESSAGE;
    this.messageCompressed = false;
    this.messageLength = 0;
  }

  private controlFrame(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) return this.sink.onPing(payload);
    if (opcode === Opcode.Pong) return this.sink.onPong(payload);
    const length = payload.length;
    if (length === 0) {
      this.destroy();
      this.sink.onCloseFrame(CloseCode.NoStatus, '');
      return;
    }
    // RFC 6455 5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer."
    if (length === 1) return void this.fail('WS_ERR_INVALID_CLOSE_PAYLOAD');
    const code = (payload[0] << 8) | payload[1];
    if (!isValidWireCloseCode(code)) return void this.fail('WS_ERR_INVALID_CLOSE_CODE');
    const reasonBytes = payload.subarray(2);
    if (!isValidUtf8(reasonBytes)) return void this.fail('WS_ERR_INVALID_CLOSE_REASON');
    this.destroy();
    this.sink.onCloseFrame(code, reasonBytes.toString('utf8'));
  }
}
