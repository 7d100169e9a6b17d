// Binary envelope for messages between nodes: origin node id, kind, room and the raw payload bytes.
import type { BroadcastData } from '../adapter.js';

/*
 * Layout (all lengths big-endian):
 *   u8  version (1)
 *   u8  kind
 *   u8  node id byte length N (1..255), then N bytes of node id (UTF-8)
 *   u16 room byte length + 1 (0 means "no room", so the empty string stays a valid room), then the room
 *   ... payload: the message bytes as they were given, never re-encoded (no JSON, no base64)
 * The payload is the tail of the buffer so decoding binary messages needs no copy.
 */
const VERSION = 1;
const MAX_ROOM_BYTES = 0xfffe;

export const Kind = {
  Text: 1,
  Binary: 2,
  StatsRequest: 3,
  StatsReply: 4,
  /**
   * A room broadcast recorded in the room's history (recovery over Redis). The payload is built by the
   * append script: `1` (text) or `2` (binary), then `<epoch> <offset>\n` in ASCII, then the message bytes.
   */
  Sequenced: 5,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export interface Envelope {
  kind: Kind;
  nodeId: string;
  room: string | undefined;
  payload: Buffer;
}

/** Encodes a broadcast; text is written as UTF-8 straight into the envelope. */
export function encodeBroadcast(nodeId: string, data: BroadcastData, room: string | undefined): Buffer {
  if (typeof data === 'string') return encode(Kind.Text, nodeId, room, data);
  return encode(Kind.Binary, nodeId, room, data);
}

export function encode(
  kind: Kind,
  nodeId: string,
  room: string | undefined,
  payload: string | Buffer
): Buffer {
  const idBytes = Buffer.byteLength(nodeId);
  if (idBytes === 0 || idBytes > 255) throw new RangeError('node id must be 1..255 bytes');
  const roomBytes = room === undefined ? 0 : Buffer.byteLength(room);
  if (roomBytes > MAX_ROOM_BYTES) throw new RangeError(`room name longer than ${MAX_ROOM_BYTES} bytes`);
  const payloadBytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const out = Buffer.allocUnsafe(5 + idBytes + roomBytes + payloadBytes);
  out[0] = VERSION;
  out[1] = kind;
  out[2] = idBytes;
  let at = 3 + out.write(nodeId, 3, 'utf8');
  out.writeUInt16BE(room === undefined ? 0 : roomBytes + 1, at);
  at += 2;
  if (room !== undefined) at += out.write(room, at, 'utf8');
  if (typeof payload === 'string') out.write(payload, at, 'utf8');
  else payload.copy(out, at);
  return out;
}

/** Decodes an envelope; returns undefined for anything that is not one (foreign publishers on the channel). */
export function decode(buf: Buffer): Envelope | undefined {
  if (buf.length < 5 || buf[0] !== VERSION) return undefined;
  const kind = buf[1] as Kind;
  if (kind < Kind.Text || kind > Kind.Sequenced) return undefined;
  const idBytes = buf[2];
  if (idBytes === 0 || buf.length < 5 + idBytes) return undefined;
  const nodeId = buf.toString('utf8', 3, 3 + idBytes);
  let at = 3 + idBytes;
  const roomField = buf.readUInt16BE(at);
  at += 2;
  let room: string | undefined;
  if (roomField !== 0) {
    const end = at + roomField - 1;
    if (end > buf.length) return undefined;
    room = buf.toString('utf8', at, end);
    at = end;
  }
  return { kind, nodeId, room, payload: buf.subarray(at) };
}

/** A sequenced room message: its stream position and the message bytes. */
export interface Sequenced {
  epoch: string;
  offset: number;
  text: boolean;
  data: Buffer;
}

/** Reads a `Kind.Sequenced` payload; undefined when it is malformed. */
export function decodeSequenced(payload: Buffer): Sequenced | undefined {
  const nl = payload.indexOf(0x0a);
  const sp = payload.indexOf(0x20);
  if (nl === -1 || sp < 2 || sp > nl || (payload[0] !== 0x31 && payload[0] !== 0x32)) return undefined;
  const offset = Number(payload.toString('latin1', sp + 1, nl));
  if (!Number.isSafeInteger(offset) || offset < 1) return undefined;
  return {
    epoch: payload.toString('latin1', 1, sp),
    offset,
    text: payload[0] === 0x31,
    data: payload.subarray(nl + 1),
  };
}
