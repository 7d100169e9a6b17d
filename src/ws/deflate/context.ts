// permessage-deflate (RFC 7692) settings shared by a plugin's connections: the zlib job limiter and counters.
import { constants, deflateRaw } from 'node:zlib';
import type { DeflateAgreement } from '../../protocol/extensions.js';
import type { CompressionStats } from '../types.js';

/** RFC 7692 7.2.1 / 7.2.2: the empty stored block a sync flush ends with, removed on send, restored on receive. */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** A frame ready for the socket (same shape as the connection's). */
export type Frame = Buffer | [Buffer, Buffer];

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

export function noop(): void {}

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

  /** One agreement per distinct 101 header: connections with the same terms share one (read-only) object. */
  private readonly agreements = new Map<string, DeflateAgreement>();

  constructor(readonly settings: DeflateSettings) {
    this.limiter = new ZlibLimiter(settings.concurrencyLimit);
  }
  /**
   * The shared copy of an agreement (its params and header string), so that an idle connection holds
   * no object of its own for them. A header is bounded by its terms (a few hundred combinations at most).
   */
  shared(agreed: DeflateAgreement): DeflateAgreement {
    const known = this.agreements.get(agreed.header);
    if (known === undefined) {
      this.agreements.set(agreed.header, agreed);
      return agreed;
    }
    const a = known.params;
    const b = agreed.params;
    const same =
      a.serverNoContextTakeover === b.serverNoContextTakeover &&
      a.clientNoContextTakeover === b.clientNoContextTakeover &&
      a.serverWindowBits === b.serverWindowBits &&
      a.clientWindowBits === b.clientWindowBits;
    return same ? known : agreed;
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

export function stripTail(out: Buffer): Buffer {
  const n = out.length;
  if (n >= 4 && out[n - 4] === 0 && out[n - 3] === 0 && out[n - 2] === 0xff && out[n - 1] === 0xff)
    return out.subarray(0, n - 4);
  return out;
}
