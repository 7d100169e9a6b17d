// permessage-deflate (RFC 7692) I/O: lazy zlib streams per connection, bounded inflation, ordered compressed sends.
import {
  constants,
  createDeflateRaw,
  createInflateRaw,
  deflateRaw,
  type DeflateRaw,
  type InflateRaw,
} from 'node:zlib';
import type { DeflateParams } from '../protocol/extensions.js';
import { encodeFrame } from '../protocol/encoder.js';
import type { ProtocolErrorCode } from '../protocol/errors.js';
import { Opcode } from '../protocol/opcodes.js';
import { ReadyState } from './connection/lifecycle.js';
import type { CompressionStats, SendResult } from './types.js';

/** RFC 7692 7.2.1 / 7.2.2: the empty stored block a sync flush ends with, removed on send, restored on receive. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** A frame ready for the socket (same shape as the connection's). */
type Frame = Buffer | [Buffer, Buffer];

export interface DeflateSettings {
  threshold: number;
  level: number;
  memLevel: number;
  concurrencyLimit: number;
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | undefined;
}

/**
 * Bounds the zlib jobs running at once for one plugin (one per process in the usual setup): each job
 * holds a zlib stream's working memory and a thread-pool slot, so 10 000 busy connections queue here
 * instead of allocating 10 000 compressors at once.
 */
export class ZlibLimiter {
  private running = 0;
  private queue: (() => void)[] = [];
  private head = 0;
  private pumping = false;

  constructor(readonly limit: number) {}

  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Runs `job` now or when a slot frees; the job must call `done()` exactly once. */
  run(job: () => void): void {
    this.queue.push(job);
    this.pump();
  }

  done(): void {
    this.running--;
    this.pump();
  }

  private pump(): void {
    // A job may finish synchronously (its connection is gone): loop instead of recursing.
    if (this.pumping) return;
    this.pumping = true;
    while (this.running < this.limit && this.head < this.queue.length) {
      const job = this.queue[this.head];
      this.queue[this.head++] = noop;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.running++;
      job();
    }
    this.pumping = false;
  }
}

function noop(): void {}

/** What every connection of a plugin shares: settings, the job limiter, counters. */
export class DeflateContext {
  readonly limiter: ZlibLimiter;
  readonly stats = {
    messagesCompressed: 0,
    bytesIn: 0,
    bytesOut: 0,
    messagesInflated: 0,
    inflateBytesIn: 0,
    inflateBytesOut: 0,
    sharedCompressions: 0,
  };

  constructor(readonly settings: DeflateSettings) {
    this.limiter = new ZlibLimiter(settings.concurrencyLimit);
  }

  snapshot(): CompressionStats {
    return { ...this.stats, jobsWaiting: this.limiter.waiting };
  }

  /** One-shot compression with a fresh stream (no context takeover): output without the 4-byte tail. */
  compressOnce(data: Buffer, windowBits: number, cb: (error: Error | null, out: Buffer) => void): void {
    this.limiter.run(() => {
      const { level, memLevel } = this.settings;
      // finishFlush Z_SYNC_FLUSH: the output ends with 00 00 ff ff instead of a final block (RFC 7692 7.2.1).
      deflateRaw(data, { level, memLevel, windowBits, finishFlush: constants.Z_SYNC_FLUSH }, (error, out) => {
        this.limiter.done();
        if (error !== null) return cb(error, out);
        cb(null, this.counted(data.length, stripTail(out)));
      });
    });
  }

  counted(inLength: number, out: Buffer): Buffer {
    const s = this.stats;
    s.messagesCompressed++;
    s.bytesIn += inLength;
    s.bytesOut += out.length;
    return out;
  }
}

function stripTail(out: Buffer): Buffer {
  const n = out.length;
  if (n >= 4 && out[n - 4] === 0 && out[n - 3] === 0 && out[n - 2] === 0xff && out[n - 1] === 0xff)
    return out.subarray(0, n - 4);
  return out;
}

/** A broadcast compressed once for every recipient without server context takeover and the same window. */
export class SharedCompression {
  frame: Frame | null = null;
  private waiters: Deflater[] = [];

  constructor(
    readonly opcode: number,
    readonly payload: Buffer
  ) {}

  get hasWaiters(): boolean {
    return this.waiters.length > 0;
  }

  wait(deflater: Deflater): void {
    this.waiters.push(deflater);
  }

  start(context: DeflateContext, windowBits: number): void {
    context.compressOnce(this.payload, windowBits, (error, out) => {
      // A compressor failure is not the recipients' fault: they get the message uncompressed.
      this.frame =
        error === null ? encodeFrame(this.opcode, out, true, true) : encodeFrame(this.opcode, this.payload);
      if (error === null && this.waiters.length > 1) context.stats.sharedCompressions++;
      const waiters = this.waiters;
      this.waiters = [];
      for (const deflater of waiters) deflater.pump();
    });
  }
}

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

/**
 * One connection's compression state. zlib streams exist only while they are needed: they are
 * created on the first compressed message, and released after each message when context takeover
 * is off (so idle connections hold no zlib memory unless they keep a context, which is the point of
 * context takeover). Messages leave in the order they were sent, though compression is asynchronous.
 */
export class Deflater {
  private deflate: DeflateRaw | null = null;
  private inflate: InflateRaw | null = null;
  private queue: SendItem[] = [];
  private queueHead = 0;
  /** Uncompressed bytes waiting in the queue (counted as buffered for backpressure). */
  pendingBytes = 0;
  private parts: Buffer[] = [];
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
      this.queue = [];
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
    this.parts = [];
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
    this.queue = [];
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

/** A broadcast recipient, as the hub sees it: its lifecycle state and its send queue. */
export interface BroadcastTarget {
  readonly state: number;
  readonly queue: {
    readonly deflater: Deflater | null;
    sendFrame(frame: Frame): SendResult;
    queueMessage(
      opcode: number,
      payload: Buffer,
      shared: SharedCompression | null,
      plain?: Frame
    ): SendResult;
  };
}

/**
 * Broadcast with permessage-deflate: recipients without server context takeover that share a window
 * size get one compression between them; recipients with context takeover compress on their own
 * stream; small messages and recipients without the extension share one uncompressed frame. Every
 * recipient's own order is kept by its queue. A Buffer `data` must be owned (see ownPayload).
 */
export function deliverCompressible(
  context: DeflateContext,
  data: string | Buffer,
  text: boolean,
  targets: Iterable<BroadcastTarget>
): number {
  const opcode = text ? Opcode.Text : Opcode.Binary;
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const compress = payload.length >= context.settings.threshold;
  const shared = new Map<number, SharedCompression>();
  let plain: Frame | undefined;
  let delivered = 0;
  for (const { state, queue: target } of targets) {
    // Only OPEN recipients (one closing while its onClose handlers run is skipped).
    if (state !== ReadyState.OPEN) continue;
    const deflater = target.deflater;
    let result: SendResult;
    if (deflater === null) {
      result = target.sendFrame((plain ??= encodeFrame(opcode, payload)));
    } else if (!compress) {
      result = target.queueMessage(opcode, payload, null, (plain ??= encodeFrame(opcode, payload)));
    } else if (deflater.params.serverNoContextTakeover) {
      const bits = deflater.params.serverWindowBits;
      let job = shared.get(bits);
      if (job === undefined) shared.set(bits, (job = new SharedCompression(opcode, payload)));
      result = target.queueMessage(opcode, payload, job);
    } else {
      result = target.queueMessage(opcode, payload, null);
    }
    if (result !== 'dropped') delivered++;
  }
  for (const [bits, job] of shared) if (job.hasWaiters) job.start(context, bits);
  return delivered;
}
