// Protocol test helpers: a recording FrameSink, and feeders that decode a byte vector under many chunkings.
import assert from 'node:assert/strict';
import { FrameDecoder, type DecoderOptions, type FrameSink } from '../../src/protocol/decoder.js';
import type { ProtocolError, ProtocolErrorCode } from '../../src/protocol/errors.js';

/** The protocol tests call the shared client frame builder `frame`. */
export { clientFrame as frame, type FrameSpec } from '../support/frames.js';

export type SinkEvent =
  | ['text', string]
  | ['binary', string]
  | ['compressed', string, boolean, boolean, boolean]
  | ['ping', string]
  | ['pong', string]
  | ['close', number, string]
  | ['error', ProtocolErrorCode, number];

/** Records every sink call as a plain value (payloads as hex, copied out of the decoder's buffers). */
export class RecordingSink implements FrameSink {
  readonly events: SinkEvent[] = [];
  /** Called after each recorded event (tests use it to pause the decoder). */
  after: ((event: SinkEvent) => void) | undefined;

  protected record(event: SinkEvent): void {
    this.events.push(event);
    this.after?.(event);
  }
  onText(text: string): void {
    this.record(['text', text]);
  }
  onBinary(data: Buffer): void {
    this.record(['binary', data.toString('hex')]);
  }
  onPing(payload: Buffer): void {
    this.record(['ping', payload.toString('hex')]);
  }
  onPong(payload: Buffer): void {
    this.record(['pong', payload.toString('hex')]);
  }
  onCloseFrame(code: number, reason: string): void {
    this.record(['close', code, reason]);
  }
  onError(error: ProtocolError): void {
    this.record(['error', error.code, error.closeCode]);
  }
}

/** A sink that also accepts compressed frames (permessage-deflate negotiated). */
export class CompressionRecordingSink extends RecordingSink {
  onCompressedFrame(payload: Buffer, isText: boolean, first: boolean, fin: boolean): void {
    this.record(['compressed', payload.toString('hex'), isText, first, fin]);
  }
}

export const DEFAULT_OPTIONS: DecoderOptions = { maxMessageSize: 1 << 20 };

/** Concatenates frames (and raw byte arrays) into one vector. */
export function bytes(...parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

export interface DecodeResult {
  events: SinkEvent[];
  decoder: FrameDecoder;
}

/**
 * Decodes `input` pushed as the chunks delimited by the sorted `splits` offsets. Each chunk is a fresh copy:
 * the decoder unmasks in place, so the caller's vector must stay untouched between runs.
 */
export function decodeSplit(
  input: Uint8Array,
  splits: readonly number[],
  options: DecoderOptions = DEFAULT_OPTIONS,
  sink: RecordingSink = options.compression ? new CompressionRecordingSink() : new RecordingSink()
): DecodeResult {
  const decoder = new FrameDecoder(sink, options);
  let from = 0;
  for (const at of [...splits, input.length]) {
    decoder.push(Buffer.from(input.subarray(from, at)));
    from = at;
  }
  return { events: sink.events, decoder };
}

/** Checks the invariant every run must keep: at most one error, and nothing reported after an error or a close. */
export function assertTerminalLast(events: readonly SinkEvent[]): void {
  const terminal = events.findIndex(e => e[0] === 'error' || e[0] === 'close');
  if (terminal !== -1)
    assert.equal(terminal, events.length - 1, 'an event was reported after an error or a close');
}

/** Split-point lists for the chunkings of `n` bytes we compare: whole, byte by byte, and two chunks split at i. */
export function chunkings(n: number): { name: string; splits: number[] }[] {
  const out: { name: string; splits: number[] }[] = [{ name: 'whole', splits: [] }];
  out.push({ name: 'byte by byte', splits: Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1) });
  // Every boundary for small vectors; for large ones the first and last 40 boundaries plus a stride through the middle.
  for (let i = 1; i < n; i++) {
    if (n <= 4096 || i <= 40 || i >= n - 40 || i % 997 === 0)
      out.push({ name: `split at ${i}`, splits: [i] });
  }
  return out;
}

/**
 * Decodes `input` whole, byte by byte and split in two at every boundary, asserts every run reports
 * exactly `expected`, and returns the decoder of the whole run.
 */
export function assertDecodes(
  input: Uint8Array,
  expected: readonly SinkEvent[],
  options: DecoderOptions = DEFAULT_OPTIONS
): void {
  for (const { name, splits } of chunkings(input.length)) {
    const { events } = decodeSplit(input, splits, options);
    assert.deepEqual(events, expected, `chunking: ${name}`);
    assertTerminalLast(events);
  }
}

/** Shorthand for the single-error expectation. */
export function error(code: ProtocolErrorCode, closeCode: number): SinkEvent {
  return ['error', code, closeCode];
}

/** A small deterministic PRNG (mulberry32) so "random" splits are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
