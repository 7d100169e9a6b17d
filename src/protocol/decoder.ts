// Incremental RFC 6455 frame decoder: bytes in, messages / control frames / one error out, through a sink.
import { CloseCode, isValidWireCloseCode } from './close-codes.js';
import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import { applyMask } from './mask.js';
import { Opcode, isKnownOpcode } from './opcodes.js';
import { Utf8StreamValidator, isValidUtf8 } from './utf8.js';

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
  /** Largest message (sum of its fragments' payloads) accepted; larger fails with 1009. */
  maxMessageSize: number;
  /** Accept RSV1 on the first frame of a data message (permessage-deflate negotiated). */
  compression?: boolean;
}

/** 2^53 - 1 split as (high 32 bits, low 32 bits): the largest length JavaScript can count exactly. */
const MAX_SAFE_HIGH_WORD = 0x1fffff;
const TWO_POW_32 = 4294967296;
const NO_MESSAGE = -1;

/** Chunks smaller than this are copied into a shared tail buffer instead of being queued one by one. */
const SMALL_CHUNK = 512;
const TAIL_CAPACITY = 4096;

/**
 * A state machine over a byte stream. Frames that lie within one received chunk are parsed in place
 * (unmasked in the chunk itself) without copying. Bytes of a frame that straddles chunks wait in a
 * list until the whole frame is there, and then exactly that frame's bytes are joined: every byte is
 * copied at most once, whatever the chunking, and the rest of the last chunk is parsed in place again.
 * Small chunks (a trickle) are packed into a tail buffer so a flood of tiny reads pins only its bytes.
 */
export class FrameDecoder {
  private readonly sink: FrameSink;
  private readonly maxMessageSize: number;
  private readonly compression: boolean;

  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes that must be buffered before parsing can make progress. */
  private needed = 0;
  /** Where the last parse() stopped in the buffer it was given. */
  private stop = 0;
  private paused = false;
  private finished = false;
  /** Buffer that small chunks are packed into, and the view of it that sits last in `chunks`. */
  private tail: Buffer | null = null;
  private tailView: Buffer | null = null;

  /** Opcode of the fragmented message in progress (Text or Binary), or NO_MESSAGE. */
  private messageOpcode: number = NO_MESSAGE;
  private messageCompressed = false;
  /** Payload bytes of the fragmented message so far. */
  private messageLength = 0;
  private parts: Buffer | null = null;
  private utf8: Utf8StreamValidator | null = null;

  constructor(sink: FrameSink, options: DecoderOptions) {
    this.sink = sink;
    this.maxMessageSize = options.maxMessageSize;
    this.compression = options.compression === true;
  }

  /** Bytes received but not yet decoded (excluding a fragmented message's reassembled payload). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Bytes held for the fragmented message in progress. */
  get pendingMessageBytes(): number {
    return this.messageLength;
  }

  /** True after a close frame or an error: further input is ignored. */
  get isFinished(): boolean {
    return this.finished;
  }

  push(chunk: Buffer): void {
    if (this.finished || chunk.length === 0) return;
    if (this.buffered === 0 && !this.paused) {
      this.parse(chunk, 0);
      if (!this.finished && this.stop < chunk.length) this.append(chunk.subarray(this.stop));
      return;
    }
    this.append(chunk);
    this.drain();
  }

  /** Stops decoding after the current frame; input keeps being buffered. */
  pause(): void {
    this.paused = true;
  }

  /** Continues decoding buffered input. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.drain();
  }

  /** Drops all state (used when the connection is torn down). */
  destroy(): void {
    this.finished = true;
    this.chunks = [];
    this.buffered = 0;
    this.parts = null;
    this.tail = this.tailView = null;
  }

  /** Queues unparsed bytes, packing small chunks together. */
  private append(chunk: Buffer): void {
    const chunks = this.chunks;
    this.buffered += chunk.length;
    if (chunk.length < SMALL_CHUNK) {
      const last = chunks.length - 1;
      const view = this.tailView;
      const tail = this.tail;
      if (view !== null && tail !== null && last >= 0 && chunks[last] === view) {
        const used = view.byteOffset - tail.byteOffset + view.length;
        if (used + chunk.length <= tail.length) {
          chunk.copy(tail, used);
          chunks[last] = this.tailView = tail.subarray(
            view.byteOffset - tail.byteOffset,
            used + chunk.length
          );
          return;
        }
      }
      const fresh = Buffer.allocUnsafeSlow(TAIL_CAPACITY);
      chunk.copy(fresh, 0);
      this.tail = fresh;
      chunks.push((this.tailView = fresh.subarray(0, chunk.length)));
      return;
    }
    chunks.push(chunk);
  }

  /** Parses buffered bytes for as long as enough of them are there. */
  private drain(): void {
    const chunks = this.chunks;
    while (!this.paused && !this.finished && this.buffered > 0 && this.buffered >= this.needed) {
      const first = chunks[0];
      let buf: Buffer;
      if (first.length >= this.needed) {
        chunks.shift();
        buf = first;
      } else {
        buf = this.join(this.needed);
      }
      this.buffered -= buf.length;
      this.parse(buf, 0);
      if (this.finished) return;
      if (this.stop < buf.length) {
        chunks.unshift(buf.subarray(this.stop));
        this.buffered += buf.length - this.stop;
      }
    }
  }

  /** Removes exactly `n` bytes from the front of the queue, copied into one new buffer. */
  private join(n: number): Buffer {
    const chunks = this.chunks;
    const joined = Buffer.allocUnsafe(n);
    let filled = 0;
    let used = 0;
    while (filled < n) {
      const chunk = chunks[used];
      const take = Math.min(chunk.length, n - filled);
      chunk.copy(joined, filled, 0, take);
      filled += take;
      if (take < chunk.length) {
        chunks[used] = chunk.subarray(take);
        break;
      }
      used++;
    }
    chunks.splice(0, used);
    return joined;
  }

  private keep(off: number, needed: number): void {
    this.stop = off;
    this.needed = needed;
  }

  private fail(code: ProtocolErrorCode): void {
    this.destroy();
    this.sink.onError(new ProtocolError(code));
  }

  private parse(buf: Buffer, off: number): void {
    const total = buf.length;
    for (;;) {
      const avail = total - off;
      if (avail < 2) return this.keep(off, 2);
      const b0 = buf[off];
      const b1 = buf[off + 1];
      const fin = (b0 & 0x80) !== 0;
      const rsv = b0 & 0x70;
      const opcode = b0 & 0x0f;
      const len7 = b1 & 0x7f;

      // RFC 6455 5.2: "RSV1, RSV2, RSV3: 1 bit each. MUST be 0 unless an extension is negotiated that
      // defines meanings for non-zero values." RFC 7692 6: RSV1 marks the first frame of a compressed message.
      if (
        rsv !== 0 &&
        (rsv !== 0x40 || !this.compression || opcode === Opcode.Continuation || opcode >= 0x8)
      ) {
        return this.fail('WS_ERR_UNEXPECTED_RSV');
      }
      if (!isKnownOpcode(opcode)) return this.fail('WS_ERR_RESERVED_OPCODE');
      if (opcode >= 0x8) {
        // RFC 6455 5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
        if (!fin) return this.fail('WS_ERR_FRAGMENTED_CONTROL');
        if (len7 > 125) return this.fail('WS_ERR_CONTROL_TOO_LONG');
      } else if (opcode === Opcode.Continuation) {
        if (this.messageOpcode === NO_MESSAGE) return this.fail('WS_ERR_UNEXPECTED_CONTINUATION');
      } else if (this.messageOpcode !== NO_MESSAGE) {
        return this.fail('WS_ERR_EXPECTED_CONTINUATION');
      }
      // RFC 6455 5.1: "The server MUST close the connection upon receiving a frame that is not masked."
      if ((b1 & 0x80) === 0) return this.fail('WS_ERR_UNMASKED_FRAME');

      const headerLength = len7 < 126 ? 6 : len7 === 126 ? 8 : 14;
      if (avail < headerLength) return this.keep(off, headerLength);

      let payloadLength: number;
      if (len7 < 126) {
        payloadLength = len7;
      } else if (len7 === 126) {
        payloadLength = (buf[off + 2] << 8) | buf[off + 3];
      } else {
        const high = buf.readUInt32BE(off + 2);
        // RFC 6455 5.2: "the most significant bit MUST be 0" in a 64-bit length.
        if (high >= 0x80000000) return this.fail('WS_ERR_INVALID_LENGTH');
        if (high > MAX_SAFE_HIGH_WORD) return this.fail('WS_ERR_LENGTH_OVERFLOW');
        payloadLength = high * TWO_POW_32 + buf.readUInt32BE(off + 6);
      }
      if (opcode < 0x8) {
        const messageSoFar = opcode === Opcode.Continuation ? this.messageLength : 0;
        if (messageSoFar + payloadLength > this.maxMessageSize) return this.fail('WS_ERR_MESSAGE_TOO_BIG');
      }

      const frameLength = headerLength + payloadLength;
      if (avail < frameLength) return this.keep(off, frameLength);

      const start = off + headerLength;
      const end = start + payloadLength;
      if (payloadLength > 0) applyMask(buf, start, end, buf, start - 4);
      off = end;

      if (opcode >= 0x8) {
        this.control(opcode, buf, start, end);
      } else if (opcode === Opcode.Continuation) {
        this.continuation(buf, start, end, fin);
      } else if (rsv !== 0) {
        this.messageOpcode = fin ? NO_MESSAGE : opcode;
        this.messageCompressed = !fin;
        this.messageLength = fin ? 0 : payloadLength;
        this.deliverCompressed(buf.subarray(start, end), opcode === Opcode.Text, true, fin);
      } else if (fin) {
        this.deliverWhole(opcode, buf, start, end);
      } else {
        this.begin(opcode, buf, start, end);
      }

      if (this.finished) return;
      if (this.paused) return this.keep(off, 0);
    }
  }

  private deliverWhole(opcode: number, buf: Buffer, start: number, end: number): void {
    if (opcode === Opcode.Binary) {
      this.sink.onBinary(buf.subarray(start, end));
      return;
    }
    const bytes = buf.subarray(start, end);
    if (!isValidUtf8(bytes)) return this.fail('WS_ERR_INVALID_UTF8');
    this.sink.onText(bytes.toString('utf8'));
  }

  private deliverCompressed(payload: Buffer, isText: boolean, first: boolean, fin: boolean): void {
    const sink = this.sink;
    if (sink.onCompressedFrame === undefined) return this.fail('WS_ERR_UNEXPECTED_RSV');
    sink.onCompressedFrame(payload, isText, first, fin);
  }

  private begin(opcode: number, buf: Buffer, start: number, end: number): void {
    this.messageOpcode = opcode;
    this.messageCompressed = false;
    this.messageLength = 0;
    if (opcode === Opcode.Text) {
      const validator = (this.utf8 ??= new Utf8StreamValidator());
      validator.reset();
      if (!validator.feed(buf, start, end)) return this.fail('WS_ERR_INVALID_UTF8');
    }
    this.appendFragment(buf, start, end);
  }

  private continuation(buf: Buffer, start: number, end: number, fin: boolean): void {
    const isText = this.messageOpcode === Opcode.Text;
    if (this.messageCompressed) {
      this.messageLength += end - start;
      if (fin) this.endMessage();
      this.deliverCompressed(buf.subarray(start, end), isText, false, fin);
      return;
    }
    // Fail at the fragment that makes the text invalid, not at the end of the message.
    const validator = this.utf8;
    if (isText && (validator === null || !validator.feed(buf, start, end)))
      return this.fail('WS_ERR_INVALID_UTF8');
    this.appendFragment(buf, start, end);
    if (!fin) return;
    const message = this.parts === null ? Buffer.alloc(0) : this.parts.subarray(0, this.messageLength);
    this.endMessage();
    if (!isText) {
      this.sink.onBinary(message);
      return;
    }
    if (validator === null || !validator.isComplete()) return this.fail('WS_ERR_INVALID_UTF8');
    this.sink.onText(message.toString('utf8'));
  }

  private endMessage(): void {
    this.messageOpcode = NO_MESSAGE;
    this.messageCompressed = false;
    this.messageLength = 0;
    this.parts = null;
  }

  /**
   * Copies a fragment's payload into one growing buffer. Copying (instead of keeping a view of the
   * received chunk) means a flood of tiny fragments pins only the bytes it carries; doubling the
   * capacity keeps the total copying linear.
   */
  private appendFragment(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    const needed = this.messageLength + n;
    let parts = this.parts;
    if (parts === null || parts.length < needed) {
      const capacity = Math.min(Math.max(needed, (parts?.length ?? 0) * 2, 256), this.maxMessageSize);
      const grown = Buffer.allocUnsafeSlow(capacity);
      if (parts !== null) parts.copy(grown, 0, 0, this.messageLength);
      this.parts = parts = grown;
    }
    buf.copy(parts, this.messageLength, start, end);
    this.messageLength = needed;
  }

  private control(opcode: number, buf: Buffer, start: number, end: number): void {
    if (opcode === Opcode.Ping) {
      this.sink.onPing(buf.subarray(start, end));
      return;
    }
    if (opcode === Opcode.Pong) {
      this.sink.onPong(buf.subarray(start, end));
      return;
    }
    const length = end - start;
    if (length === 0) {
      this.destroy();
      this.sink.onCloseFrame(CloseCode.NoStatus, '');
      return;
    }
    // RFC 6455 5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer."
    if (length === 1) return this.fail('WS_ERR_INVALID_CLOSE_PAYLOAD');
    const code = (buf[start] << 8) | buf[start + 1];
    if (!isValidWireCloseCode(code)) return this.fail('WS_ERR_INVALID_CLOSE_CODE');
    const reasonBytes = buf.subarray(start + 2, end);
    if (!isValidUtf8(reasonBytes)) return this.fail('WS_ERR_INVALID_CLOSE_REASON');
    this.destroy();
    this.sink.onCloseFrame(code, reasonBytes.toString('utf8'));
  }
}
