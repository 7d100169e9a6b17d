// Broadcast compression: a message compressed once for every recipient that can share the result.
import { encodeFrame } from '../../protocol/encoder.js';
import { Opcode } from '../../protocol/opcodes.js';
import { ReadyState } from '../connection/lifecycle.js';
import type { SendResult } from '../types.js';
import type { DeflateContext, Frame } from './context.js';
import type { Deflater } from './deflater.js';

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
