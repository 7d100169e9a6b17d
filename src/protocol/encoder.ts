// Encodes unmasked server frames (RFC 6455 5.2) of any size, in as few allocations as possible.
import { Opcode } from './opcodes.js';

/**
 * Payloads up to this size are copied behind their header in one buffer; larger ones travel by reference.
 * It is also the copy policy of `send()` / `wsBroadcast()`: a caller may reuse a Buffer of up to 64 KiB
 * as soon as the call returns; a larger one is handed over (README, "Buffer ownership").
 */
export const COPY_THRESHOLD = 64 * 1024;

export function headerLength(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10;
}

/** Writes a frame header into `target` at 0 and returns its length. */
export function writeHeader(
  target: Buffer,
  opcode: number,
  payloadLength: number,
  fin: boolean,
  rsv1: boolean
): number {
  target[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (payloadLength < 126) {
    target[1] = payloadLength;
    return 2;
  }
  if (payloadLength < 65536) {
    target[1] = 126;
    target[2] = payloadLength >>> 8;
    target[3] = payloadLength & 0xff;
    return 4;
  }
  target[1] = 127;
  target.writeUInt32BE(Math.floor(payloadLength / 4294967296), 2);
  target.writeUInt32BE(payloadLength >>> 0, 6);
  return 10;
}

/**
 * A whole frame as one Buffer (header + copied payload) for small payloads, or as [header, payload]
 * for large ones so that megabytes are never copied just to prepend a few header bytes.
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  fin = true,
  rsv1 = false
): Buffer | [Buffer, Buffer] {
  const length = payload.length;
  const hlen = headerLength(length);
  if (length <= COPY_THRESHOLD) {
    const frame = Buffer.allocUnsafe(hlen + length);
    writeHeader(frame, opcode, length, fin, rsv1);
    frame.set(payload, hlen);
    return frame;
  }
  const header = Buffer.allocUnsafe(hlen);
  writeHeader(header, opcode, length, fin, rsv1);
  const body = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return [header, body];
}

/** A text frame for `text`, encoding the string straight into the frame buffer when it is small. */
export function encodeTextFrame(text: string): Buffer | [Buffer, Buffer] {
  // Strings up to COPY_THRESHOLD / 3 characters are at most COPY_THRESHOLD UTF-8 bytes.
  if (text.length <= COPY_THRESHOLD / 3) {
    const length = Buffer.byteLength(text);
    const hlen = headerLength(length);
    const frame = Buffer.allocUnsafe(hlen + length);
    writeHeader(frame, Opcode.Text, length, true, false);
    frame.write(text, hlen);
    return frame;
  }
  // A string's bytes are a fresh buffer already: no copy is needed to own them.
  const body = Buffer.from(text);
  const header = Buffer.allocUnsafe(headerLength(body.length));
  writeHeader(header, Opcode.Text, body.length, true, false);
  return [header, body];
}

/** A control frame (ping, pong, close); payloads are at most 125 bytes by construction. */
export function encodeControlFrame(opcode: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(2 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = payload.length;
  frame.set(payload, 2);
  return frame;
}
