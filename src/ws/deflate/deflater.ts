// One connection's permessage-deflate (RFC 7692) streams: lazy zlib, bounded inflation, ordered compressed sends.
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import type { DeflateParams } from '../../protocol/extensions.js';
import { encodeFrame } from '../../protocol/encoder.js';
import type { ProtocolErrorCode } from '../../protocol/errors.js';
import { noop, stripTail, TAIL, type DeflateContext, type Frame } from './context.js';
import type { SharedCompression } from './shared.js';

/** The connection side the deflater writes to. */
export interface DeflateOwner {
  /** Queues a finished data frame; its `accounted` bytes were counted at send() time. */
  writeDataFrame(frame: Frame, accounted: number): void;
  /** The ordered send queue is empty again. */
  sendQueueIdle(): void;
}

interface SendItem {
  opcode: number;
  payload: Buffer;
  /** Ready to write (uncompressed, or compressed already). */
  frame: Frame | null;
  shared: SharedCompression | null;
  started: boolean;
}

type InflateCallback = (error: ProtocolErrorCode | null, message: Buffer | undefined) => void;

/** Shared empty arrays of idle deflaters: replaced by a real array on first push, never pushed to. */
const NO_ITEMS: SendItem[] = [];
const NO_PARTS: Buffer[] = [];

/**
 * One connection's compression state. zlib streams exist only while they are needed: they are
 * created on the first compressed message, and released after each message when context takeover
 * is off (so idle connections hold no zlib memory unless they keep a context, which is the point of
 * context takeover). Messages leave in the order they were sent, though compression is asynchronous.
 */
export class Deflater {
  private deflate: DeflateRaw | null = null;
  private inflate: InflateRaw | null = null;
  /** NO_ITEMS while nothing waits: an idle connection holds no array. */
  private queue: SendItem[] = NO_ITEMS;
  private queueHead = 0;
  /** Uncompressed bytes waiting in the queue (counted as buffered for backpressure). */
  pendingBytes = 0;
  /** Inflated pieces of the message being received; NO_PARTS between messages. */
  private parts: Buffer[] = NO_PARTS;
  private inflatedLength = 0;
  private compressedLength = 0;
  private finishJob: ((error: ProtocolErrorCode | null) => void) | null = null;
  private finishDeflateJob: ((error: Error | null) => void) | null = null;
  private destroyed = false;

  constructor(
    readonly context: DeflateContext,
    readonly params: DeflateParams,
    private readonly owner: DeflateOwner
  ) {}

  /** True while messages wait for compression. */
  get busy(): boolean {
    return this.queueHead < this.queue.length;
  }

  /** Sends one message in order: compressed when at least `threshold` bytes, else as is. */
  send(opcode: number, payload: Buffer, shared: SharedCompression | null = null, plain?: Frame): void {
    const compress = shared !== null || payload.length >= this.context.settings.threshold;
    if (!compress && !this.busy) {
      this.owner.writeDataFrame(plain ?? encodeFrame(opcode, payload), payload.length);
      return;
    }
    const frame = compress ? null : (plain ?? encodeFrame(opcode, payload));
    if (this.queue === NO_ITEMS) this.queue = [];
    this.queue.push({ opcode, payload, frame, shared, started: false });
    this.pendingBytes += payload.length;
    shared?.wait(this);
    this.pump();
  }

  /** Writes every ready item at the head of the queue; starts compressing the first one that is not. */
  pump(): void {
    const queue = this.queue;
    while (this.queueHead < queue.length && !this.destroyed) {
      const item = queue[this.queueHead];
      if (item.shared !== null && item.frame === null) item.frame = item.shared.frame;
      if (item.frame === null) {
        if (!item.started && item.shared === null) {
          item.started = true;
          this.compress(item);
        }
        return;
      }
      queue[this.queueHead++] = undefined as unknown as SendItem;
      this.pendingBytes -= item.payload.length;
      this.owner.writeDataFrame(item.frame, item.payload.length);
    }
    if (this.queueHead > 0) {
      this.queue = NO_ITEMS;
      this.queueHead = 0;
    }
    if (!this.destroyed) this.owner.sendQueueIdle();
  }

  private compress(item: SendItem): void {
    const done = (error: Error | null, out: Buffer): void => {
      item.frame =
        error === null ? encodeFrame(item.opcode, out, true, true) : encodeFrame(item.opcode, item.payload);
      this.pump();
    };
    if (this.params.serverNoContextTakeover) {
      this.context.compressOnce(item.payload, this.params.serverWindowBits, done);
      return;
    }
    // RFC 7692 7.2.1: with context takeover one compressor carries its window from message to message.
    this.context.limiter.run(() => {
      if (this.destroyed) {
        this.context.limiter.done();
        return;
      }
      const { level, memLevel } = this.context.settings;
      const z = (this.deflate ??= createDeflateRaw({
        level,
        memLevel,
        windowBits: this.params.serverWindowBits,
      }));
      const chunks: Buffer[] = [];
      let length = 0;
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        length += chunk.length;
      };
      let finished = false;
      const finish = (error: Error | null): void => {
        if (finished) return;
        finished = true;
        this.finishDeflateJob = null;
        z.removeListener('data', onData);
        z.removeListener('error', finish);
        this.context.limiter.done();
        if (error !== null) {
          z.on('error', noop);
          z.close();
          this.deflate = null;
          return done(error, item.payload);
        }
        done(null, this.context.counted(item.payload.length, stripTail(Buffer.concat(chunks, length))));
      };
      this.finishDeflateJob = finish;
      z.on('data', onData);
      z.once('error', finish);
      z.write(item.payload);
      z.flush(constants.Z_SYNC_FLUSH, () => finish(null));
    });
  }

  /**
   * Inflates one frame of a compressed message (RFC 7692 7.2.2). Stops as soon as the message inflates
   * past `maxSize` (WS_ERR_MESSAGE_TOO_BIG); data that does not inflate is WS_ERR_INVALID_COMPRESSED_DATA.
   * On the last frame the callback gets the whole message.
   */
  inflateFrame(payload: Buffer, fin: boolean, maxSize: number, cb: InflateCallback): void {
    this.compressedLength += payload.length;
    this.context.limiter.run(() => {
      if (this.destroyed) {
        this.context.limiter.done();
        return;
      }
      const z = (this.inflate ??= createInflateRaw({
        windowBits: Math.max(9, this.params.clientWindowBits),
      }));
      let finished = false;
      const onData = (chunk: Buffer): void => {
        this.inflatedLength += chunk.length;
        if (this.inflatedLength > maxSize) return finish('WS_ERR_MESSAGE_TOO_BIG');
        if (this.parts === NO_PARTS) this.parts = [];
        this.parts.push(chunk);
      };
      const onError = (): void => finish('WS_ERR_INVALID_COMPRESSED_DATA');
      const finish = (error: ProtocolErrorCode | null): void => {
        if (finished) return;
        finished = true;
        this.finishJob = null;
        z.removeListener('data', onData);
        z.removeListener('error', onError);
        this.context.limiter.done();
        if (error !== null) {
          this.dropInflate();
          this.resetMessage();
          return cb(error, undefined);
        }
        if (!fin) return cb(null, undefined);
        const message = Buffer.concat(this.parts, this.inflatedLength);
        const s = this.context.stats;
        s.messagesInflated++;
        s.inflateBytesIn += this.compressedLength;
        s.inflateBytesOut += this.inflatedLength;
        this.resetMessage();
        // RFC 7692 7.2.2: without client context takeover each message starts from an empty window.
        if (this.params.clientNoContextTakeover) this.dropInflate();
        cb(null, message);
      };
      this.finishJob = finish;
      z.on('data', onData);
      z.on('error', onError);
      z.write(payload);
      // RFC 7692 7.2.2: "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload of the message."
      if (fin) z.write(TAIL);
      z.flush(constants.Z_SYNC_FLUSH, () => finish(null));
    });
  }

  private resetMessage(): void {
    this.parts = NO_PARTS;
    this.inflatedLength = 0;
    this.compressedLength = 0;
  }

  private dropInflate(): void {
    const z = this.inflate;
    this.inflate = null;
    if (z !== null) {
      // A closed stream may still report an error for work in flight: keep a listener so it is not thrown.
      z.on('error', noop);
      z.close();
    }
  }

  /** Whether zlib streams are held now (for tests and the idle-memory figures). */
  get holdsStreams(): boolean {
    return this.deflate !== null || this.inflate !== null;
  }

  /** Releases everything; pending messages are dropped and no callback runs afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const finish = this.finishJob;
    this.finishJob = null;
    this.queue = NO_ITEMS;
    this.queueHead = 0;
    this.pendingBytes = 0;
    this.resetMessage();
    if (finish !== null) finish('WS_ERR_INVALID_COMPRESSED_DATA');
    const finishDeflate = this.finishDeflateJob;
    this.finishDeflateJob = null;
    if (finishDeflate !== null) finishDeflate(new Error('connection closed'));
    this.dropInflate();
    const z = this.deflate;
    this.deflate = null;
    if (z !== null) {
      z.on('error', noop);
      z.close();
    }
  }
}
