// The nextrush.v1 wire format on the server side: frame bodies for recovery clients and the resume query.
import type { StreamPosition, UnrecoverableReason } from './history.js';

/** The subprotocol a recovery client offers. */
export const RECOVERY_PROTOCOL = 'nextrush.v1';
/** Query parameter that carries the client's positions on reconnect. */
export const RESUME_PARAM = 'nextrush-resume';

/** A resume parameter longer than this is ignored (the client is then treated as a new one). */
export const MAX_RESUME_CHARS = 8192;

const NEWLINE = Buffer.from('\n');

/*
 * Every frame the server sends on a nextrush.v1 connection is `header \n body`, in the opcode of the
 * message (text or binary). An empty header is an application message that belongs to no room
 * (socket.send, global broadcast); otherwise the header is a JSON object whose `t` says what it is.
 * JSON escapes newlines inside strings, so the first 0x0A always ends the header.
 */

/** Body of a plain (room-less) message: a lone newline, then the data. */
export function plainBody(data: string | Buffer): Buffer {
  if (typeof data === 'string') {
    const out = Buffer.allocUnsafe(1 + Buffer.byteLength(data));
    out[0] = 0x0a;
    out.write(data, 1, 'utf8');
    return out;
  }
  return Buffer.concat([NEWLINE, data]);
}

/** Body of a room message at `position`. */
export function roomBody(room: string, position: StreamPosition, data: string | Buffer): Buffer {
  const header = `${JSON.stringify({ t: 'm', r: room, e: position.epoch, o: position.offset })}\n`;
  if (typeof data === 'string') return Buffer.from(header + data);
  const head = Buffer.byteLength(header);
  const out = Buffer.allocUnsafe(head + data.length);
  out.write(header, 0, 'utf8');
  data.copy(out, head);
  return out;
}

export type Notice =
  | { t: 'join'; r: string; e: string; o: number }
  | { t: 'leave'; r: string }
  | { t: 'recovered'; r: string; e: string; o: number; n: number }
  | { t: 'unrecoverable'; r: string; e: string; o: number; reason: UnrecoverableReason };

/** A control notice: header only (sent as a text frame). */
export function noticeBody(notice: Notice): string {
  return `${JSON.stringify(notice)}\n`;
}

/**
 * Reads the positions a reconnecting client sent: `?nextrush-resume=` + JSON `{"room": ["epoch", offset]}`.
 * Anything malformed is ignored (the client then gets `join` notices, as a new client would).
 */
export function resumePositions(url: string): Map<string, StreamPosition> {
  const out = new Map<string, StreamPosition>();
  const q = url.indexOf('?');
  if (q === -1) return out;
  let raw: string | null;
  try {
    raw = new URLSearchParams(url.slice(q + 1)).get(RESUME_PARAM);
  } catch {
    return out;
  }
  if (raw === null || raw.length > MAX_RESUME_CHARS) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return out;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return out;
  for (const [room, pos] of Object.entries(parsed as Record<string, unknown>)) {
    if (!Array.isArray(pos) || pos.length !== 2) continue;
    const [epoch, offset] = pos as unknown[];
    if (typeof epoch !== 'string' || !Number.isSafeInteger(offset) || (offset as number) < 0) continue;
    out.set(room, { epoch, offset: offset as number });
  }
  return out;
}
