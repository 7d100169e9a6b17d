// The one send path of a connection: admission, backpressure, accounting, buffer copies, batching, deflate order.
import { encodeClosePayload } from '../../protocol/close-codes.js';
import { COPY_THRESHOLD, encodeControlFrame, encodeFrame, encodeTextFrame } from '../../protocol/encoder.js';
import { Opcode } from '../../protocol/opcodes.js';
import type { DeflateParams } from '../../protocol/extensions.js';
import type { DeflateContext } from '../deflate/context.js';
import { Deflater, type DeflateOwner } from '../deflate/deflater.js';
import type { SharedCompression } from '../deflate/shared.js';
import { wsError } from '../errors.js';
import { scheduleFlush, type Flushable } from '../flush.js';
import type { Counters, ResolvedOptions } from '../host.js';
import type { SendResult } from '../types.js';
import type { Transport } from './transport.js';

/** A frame ready for the transport: one buffer, or header + payload for large payloads. */
export type EncodedFrame = Buffer | [Buffer, Buffer];

/** Frames queued in one tick up to this size are joined into one buffer for a single write. */
const JOIN_LIMIT = 64 * 1024;
/** Above this many bytes waiting, `send()` answers 'queued' so producers can slow down. */
const HIGH_WATER_MARK = 64 * 1024;

export function frameSize(frame: EncodedFrame): number {
  return Buffer.isBuffer(frame) ? frame.length : frame[0].length + frame[1].length;
}

export function toBuffer(data: Buffer | ArrayBufferView | ArrayBuffer): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  throw wsError(
    'WS_ERR_INVALID_ARGUMENT',
    'send() takes a string, a Buffer, a typed array or an ArrayBuffer'
  );
}

/**
 * The copy policy for a payload that is held past the call (compression is asynchronous): up to
 * COPY_THRESHOLD bytes are copied so the caller may reuse its buffer at once; larger ones are handed over.
 */
export function ownPayload(payload: Buffer): Buffer {
  return payload.length <= COPY_THRESHOLD ? Buffer.from(payload) : payload;
}

/** What the queue asks of its connection. */
export interface SendQueueOwner {
  /** Whether data may still be admitted (PENDING or OPEN, no close frame queued). */
  readonly acceptsData: boolean;
  /** maxBackpressure was exceeded under backpressurePolicy 'close'. */
  backpressureExceeded(waiting: number): void;
  /** The transport's buffer passed readPauseBytes: stop reading from the peer until it drains. */
  writeBlocked(): void;
}

/**
 * Admission rule (one formula for every path): a message is refused when bytes already wait and the
 * message would bring them past `maxBackpressure`, so one message always fits an empty queue and the
 * option never caps the message size. Waiting bytes = queued frames + the transport's buffer +
 * messages waiting for compression. Accounting: an admitted message counts in messagesSent and its
 * frame bytes in bytesSent when it is queued for the transport; a refused one in messagesDropped.
 */
export class SendQueue implements Flushable, DeflateOwner {
  flushQueued = false;
  private out: Buffer[] | null = null;
  private outBytes = 0;
  /** A close() waiting for compressed messages in front of it. */
  private pendingClose: [number | undefined, string] | null = null;
  private closeQueued = false;

  /** permessage-deflate state when it was negotiated (RFC 7692), else null: one check per send. */
  readonly deflater: Deflater | null;

  constructor(
    private readonly owner: SendQueueOwner,
    private readonly transport: Transport,
    private readonly options: ResolvedOptions,
    private readonly stats: Counters,
    deflate: DeflateContext | undefined,
    deflateParams: DeflateParams | null
  ) {
    this.deflater =
      deflate !== undefined && deflateParams !== null ? new Deflater(deflate, deflateParams, this) : null;
  }

  get bufferedAmount(): number {
    return this.outBytes + this.transport.writableLength + (this.deflater?.pendingBytes ?? 0);
  }

  private waiting(): number {
    return this.outBytes + this.transport.writableLength;
  }

  /** `socket.send()`. */
  send(data: string | Buffer | ArrayBufferView | ArrayBuffer): SendResult {
    if (!this.owner.acceptsData) return this.dropped();
    if (this.deflater !== null) {
      if (typeof data === 'string') return this.queueMessage(Opcode.Text, Buffer.from(data), null);
      return this.queueMessage(Opcode.Binary, ownPayload(toBuffer(data)), null);
    }
    // encodeFrame copies binary payloads up to COPY_THRESHOLD: the caller may reuse its buffer at once.
    const frame =
      typeof data === 'string' ? encodeTextFrame(data) : encodeFrame(Opcode.Binary, toBuffer(data));
    return this.admitFrame(frame);
  }

  /** A message whose opcode its type does not tell (a nextrush.v1 text body is a Buffer); `payload` is owned. */
  sendAs(text: boolean, payload: Buffer): SendResult {
    if (!this.owner.acceptsData) return this.dropped();
    const opcode = text ? Opcode.Text : Opcode.Binary;
    if (this.deflater !== null) return this.queueMessage(opcode, payload, null);
    return this.admitFrame(encodeFrame(opcode, payload));
  }

  /** An already encoded data frame (shared by every recipient of a broadcast). */
  sendFrame(frame: EncodedFrame): SendResult {
    if (!this.owner.acceptsData) return this.dropped();
    return this.admitFrame(frame);
  }

  /**
   * One recipient of a broadcast whose frame (`size` bytes) is shared, from a caller that has checked the
   * connection is OPEN: the same admission as send(), without re-measuring the frame for every recipient.
   */
  sendShared(frame: EncodedFrame, size: number): boolean {
    return this.admitFrame(frame, size) !== 'dropped';
  }

  private admitFrame(frame: EncodedFrame, size = frameSize(frame)): SendResult {
    const waiting = this.waiting();
    if (waiting !== 0 && waiting + size > this.options.maxBackpressure) return this.overLimit(waiting);
    this.enqueueData(frame, size);
    return waiting + size > HIGH_WATER_MARK ? 'queued' : 'sent';
  }

  private dropped(): SendResult {
    this.stats.messagesDropped++;
    return 'dropped';
  }

  private overLimit(waiting: number): SendResult {
    this.stats.messagesDropped++;
    if (this.options.backpressurePolicy === 'close') this.owner.backpressureExceeded(waiting);
    return 'dropped';
  }

  /**
   * With permessage-deflate: queues a message behind the ones still being compressed, so order is kept.
   * `shared` is a broadcast compressed once for several recipients; `plain` its uncompressed frame.
   * `payload` must be owned already (see ownPayload): it may wait for compression.
   */
  queueMessage(
    opcode: number,
    payload: Buffer,
    shared: SharedCompression | null,
    plain?: EncodedFrame
  ): SendResult {
    const deflater = this.deflater;
    if (!this.owner.acceptsData || deflater === null) return this.dropped();
    const size = payload.length;
    const waiting = this.waiting() + deflater.pendingBytes;
    if (waiting !== 0 && waiting + size > this.options.maxBackpressure) return this.overLimit(waiting);
    deflater.send(opcode, payload, shared, plain);
    return waiting + size > HIGH_WATER_MARK ? 'queued' : 'sent';
  }

  /** DeflateOwner: a message left the compression queue, in order. */
  writeDataFrame(frame: EncodedFrame): void {
    // After a close frame went out nothing may follow; a deferred close still lets earlier messages out.
    if (this.closeQueued && this.pendingClose === null) return;
    this.enqueueData(frame, frameSize(frame));
  }

  /** DeflateOwner: nothing waits for compression; a deferred close() may go now. */
  sendQueueIdle(): void {
    const pending = this.pendingClose;
    if (pending === null) return;
    this.pendingClose = null;
    this.writeClose(pending[0], pending[1]);
  }

  private enqueueData(frame: EncodedFrame, size: number): void {
    this.stats.messagesSent++;
    this.enqueue(frame, size);
  }

  /** Ping / pong: never refused (they are small and prove liveness). */
  sendControl(opcode: number, payload: Buffer): void {
    this.sendControlFrame(encodeControlFrame(opcode, payload));
  }

  /** A prebuilt control frame (the heartbeat's shared ping). */
  sendControlFrame(frame: Buffer): void {
    this.enqueue(frame, frame.length);
  }

  /**
   * Queues the close frame behind every data frame sent before it and writes the queue now. With
   * `afterCompression` (a user's close()) it also waits for messages still being compressed; a reply to
   * the peer's close or a failure does not wait (those messages are dropped). False if already queued.
   */
  close(code: number | undefined, reason: string, afterCompression: boolean): boolean {
    // A close deferred behind compression is replaced by one that does not wait.
    if (this.closeQueued && this.pendingClose === null) return false;
    this.closeQueued = true;
    if (afterCompression && this.deflater?.busy === true) {
      this.pendingClose = [code, reason];
      return true;
    }
    this.pendingClose = null;
    this.writeClose(code, reason);
    return true;
  }

  private writeClose(code: number | undefined, reason: string): void {
    const frame = encodeControlFrame(Opcode.Close, encodeClosePayload(code, reason));
    this.enqueue(frame, frame.length);
    // Queued data goes first; the close frame is the last thing written.
    this.flush();
  }

  private enqueue(frame: EncodedFrame, size: number): void {
    this.stats.bytesSent += size;
    const out = (this.out ??= []);
    if (Buffer.isBuffer(frame)) out.push(frame);
    else out.push(frame[0], frame[1]);
    this.outBytes += size;
    scheduleFlush(this);
  }

  /** Writes everything queued in one write (small frames joined, large ones corked together). */
  flush(): void {
    const out = this.out;
    if (out === null) return;
    const count = out.length;
    const transport = this.transport;
    const bytes = this.outBytes;
    this.out = null;
    this.outBytes = 0;
    if (!transport.writable) return;
    let ok: boolean;
    if (count === 1) {
      ok = transport.write(out[0]);
    } else if (bytes <= JOIN_LIMIT) {
      ok = transport.write(Buffer.concat(out, bytes));
    } else {
      transport.cork();
      for (let i = 0; i < count - 1; i++) transport.write(out[i]);
      ok = transport.write(out[count - 1]);
      transport.uncork();
    }
    // Flow control: while the peer does not read what we already owe it, stop reading what it sends.
    if (ok) return;
    transport.watchDrain();
    if (transport.writableLength >= this.options.readPauseBytes) this.owner.writeBlocked();
  }

  /** The transport is gone: nothing queued will be written. */
  discard(): void {
    this.out = null;
    this.outBytes = 0;
    this.pendingClose = null;
    this.closeQueued = true;
  }
}
