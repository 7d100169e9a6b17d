// One WebSocket connection: socket <-> decoder/encoder, send queue, backpressure, closing handshake.
import type { Socket } from 'node:net';
import {
  CloseCode,
  MAX_CLOSE_REASON_BYTES,
  encodeClosePayload,
  isValidWireCloseCode,
} from '../protocol/close-codes.js';
import { FrameDecoder, type FrameSink } from '../protocol/decoder.js';
import { encodeControlFrame, encodeFrame, encodeTextFrame } from '../protocol/encoder.js';
import { ProtocolError, type ProtocolErrorCode } from '../protocol/errors.js';
import type { DeflateParams } from '../protocol/extensions.js';
import { Opcode } from '../protocol/opcodes.js';
import { isValidUtf8 } from '../protocol/utf8.js';
import { Deflater, type DeflateOwner, type SharedCompression } from './deflate.js';
import { scheduleFlush, type Flushable } from './flush.js';
import type { ConnectionHost } from './host.js';
import { RoomSet } from './rooms.js';
import { onRejection } from './settle.js';
import type { SendResult, WSCloseHandler, WSConnection, WSMessage, WSMessageHandler } from './types.js';

export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

/** A frame ready for the socket: one buffer, or header + payload for large payloads. */
export type EncodedFrame = Buffer | [Buffer, Buffer];

/** Reasons reading from the socket is paused; reading resumes when none is left. */
export const PauseReason = { Setup: 1, Backpressure: 2, Inflate: 4 } as const;

const Flags = {
  /** Our close frame is queued: no data frame may follow it. */
  CloseSent: 1,
  /** The peer half-closed TCP. */
  PeerFinished: 2,
  /** A 'drain' listener is attached (only after a write hit backpressure). */
  DrainListening: 4,
} as const;

/** Frames queued in one tick up to this size are joined into one buffer for a single write. */
const JOIN_LIMIT = 64 * 1024;
/** Above this many bytes waiting, `send()` answers 'queued' so producers can slow down. */
const HIGH_WATER_MARK = 64 * 1024;

const kConnection = Symbol('nextrush.ws.connection');
type TaggedSocket = Socket & { [kConnection]: WebSocketConnection };

// Socket listeners are shared functions that find their connection through the socket, so a
// connection costs no closures.
function onSocketData(this: TaggedSocket, chunk: Buffer): void {
  this[kConnection].receive(chunk);
}
function onSocketEnd(this: TaggedSocket): void {
  this[kConnection].peerEnded();
}
function onSocketClose(this: TaggedSocket): void {
  this[kConnection].socketClosed();
}
function onSocketError(this: TaggedSocket, error: Error): void {
  this[kConnection].socketError(error);
}
function onSocketDrain(this: TaggedSocket): void {
  this[kConnection].drained();
}
function onCloseTimeout(connection: WebSocketConnection): void {
  connection.terminate();
}

const EMPTY = Buffer.alloc(0);

/** Stands in for the decoder once decoding has stopped: it ignores everything pushed to it. */
const STOPPED = new FrameDecoder(
  {
    onText() {},
    onBinary() {},
    onPing() {},
    onPong() {},
    onCloseFrame() {},
    onError() {},
  },
  { maxMessageSize: 0 }
);
STOPPED.destroy();
const EMPTY_ROOMS = new RoomSet();

export function frameSize(frame: EncodedFrame): number {
  return Buffer.isBuffer(frame) ? frame.length : frame[0].length + frame[1].length;
}

function toBuffer(data: Buffer | ArrayBufferView | ArrayBuffer): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  throw new TypeError('send() takes a string, a Buffer, a typed array or an ArrayBuffer');
}

export class WebSocketConnection implements WSConnection, FrameSink, Flushable, DeflateOwner {
  readyState: number = ReadyState.OPEN;
  readonly url: string;
  readonly protocol: string;
  readonly extensions: string;
  flushQueued = false;

  /** Heartbeat bookkeeping (read by the heartbeat sweep). */
  lastPingTick = 0;
  pingOutstandingTick = 0;

  private readonly socket: TaggedSocket;
  private readonly host: ConnectionHost;
  /** Created on the first byte received, so an idle connection does not carry one. */
  private decoder: FrameDecoder | null = null;
  /** permessage-deflate state when it was negotiated (RFC 7692), else null: one check on the hot path. */
  readonly deflater: Deflater | null;
  /** A close() waiting for compressed messages in front of it. */
  private pendingClose: [number, string] | null = null;
  private roomSet: RoomSet | null = null;
  private messageHandlers: WSMessageHandler | WSMessageHandler[] | undefined;
  private closeHandlers: WSCloseHandler[] | undefined;
  private drainHandlers: (() => void)[] | undefined;
  private out: Buffer[] | null = null;
  private outBytes = 0;
  private pauseReasons = 0;
  /** Flags.* bits: few fields keep an idle connection small. */
  private flags = 0;
  /** The code of the peer's close frame; stays 1006 (never on the wire) until one arrives. */
  private peerCode: number = CloseCode.Abnormal;
  private peerReason = '';
  private closeTimer: NodeJS.Timeout | undefined;
  /** Route parameters, matched again from `url` on first use: most handlers never read them. */
  private paramsCache: Record<string, string> | null = null;
  /** Bytes that came with the handshake, decoded when reading starts. */
  private head: Buffer | null;

  constructor(
    socket: Socket,
    host: ConnectionHost,
    url: string,
    protocol: string,
    extensions: string,
    head: Buffer,
    deflateParams: DeflateParams | null = null
  ) {
    this.socket = socket as TaggedSocket;
    this.host = host;
    this.url = url;
    this.protocol = protocol;
    this.extensions = extensions;
    this.deflater =
      deflateParams !== null && host.deflate !== undefined
        ? new Deflater(host.deflate, deflateParams, this)
        : null;
    this.head = head;
    this.socket[kConnection] = this;
    socket.setNoDelay(true);
    // A keep-alive timeout left from an earlier request on this connection must not end the WebSocket.
    if (socket.timeout) socket.setTimeout(0);
    // Nothing is read until start(): messages sent while upgrade middleware runs wait in the socket.
    this.pauseReasons = PauseReason.Setup;
    socket.pause();
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
  }

  get params(): Record<string, string> {
    return (this.paramsCache ??= this.host.routeParams(this.url));
  }

  private get closeReceived(): boolean {
    return this.peerCode !== CloseCode.Abnormal;
  }

  get rooms(): Set<string> {
    return this.roomSet ?? EMPTY_ROOMS;
  }

  /** The connection's room set, created on first join. */
  ownRooms(): RoomSet {
    return (this.roomSet ??= new RoomSet());
  }

  get bufferedAmount(): number {
    return this.outBytes + this.socket.writableLength + (this.deflater?.pendingBytes ?? 0);
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  /** Starts reading, beginning with the bytes that arrived with the handshake. Idempotent. */
  start(): void {
    const head = this.head;
    if (head === null) return;
    this.head = null;
    if (head.length > 0) this.receive(head);
    this.resumeReading(PauseReason.Setup);
  }

  pauseReading(reason: number): void {
    if (this.pauseReasons === 0) this.socket.pause();
    this.pauseReasons |= reason;
  }

  resumeReading(reason: number): void {
    if ((this.pauseReasons & reason) === 0) return;
    this.pauseReasons &= ~reason;
    if (this.pauseReasons === 0 && this.readyState !== ReadyState.CLOSED) this.socket.resume();
  }

  receive(chunk: Buffer): void {
    this.host.stats.bytesReceived += chunk.length;
    (this.decoder ??= this.createDecoder()).push(chunk);
  }

  private createDecoder(): FrameDecoder {
    return new FrameDecoder(this, {
      maxMessageSize: this.host.options.maxMessageSize,
      compression: this.deflater !== null,
    });
  }

  // ---- sending ------------------------------------------------------------------------------------

  send(data: string | Buffer | ArrayBufferView | ArrayBuffer): SendResult {
    if (this.readyState !== ReadyState.OPEN) {
      this.host.stats.messagesDropped++;
      return 'dropped';
    }
    if (this.deflater !== null) {
      if (typeof data === 'string') return this.queueMessage(Opcode.Text, Buffer.from(data), null);
      return this.queueMessage(Opcode.Binary, toBuffer(data), null);
    }
    const frame =
      typeof data === 'string' ? encodeTextFrame(data) : encodeFrame(Opcode.Binary, toBuffer(data));
    return this.sendFrame(frame);
  }

  /** Queues an already encoded data frame (shared by every recipient of a broadcast). */
  sendFrame(frame: EncodedFrame): SendResult {
    if (this.readyState !== ReadyState.OPEN) {
      this.host.stats.messagesDropped++;
      return 'dropped';
    }
    const size = frameSize(frame);
    const waiting = this.outBytes + this.socket.writableLength;
    // One message always fits an empty queue, so maxBackpressure never caps the message size.
    if (waiting !== 0 && waiting + size > this.host.options.maxBackpressure) return this.overLimit(waiting);
    this.enqueue(frame, size);
    const stats = this.host.stats;
    stats.messagesSent++;
    stats.bytesSent += size;
    return waiting + size > HIGH_WATER_MARK ? 'queued' : 'sent';
  }

  private overLimit(waiting: number): SendResult {
    this.host.stats.messagesDropped++;
    if (this.host.options.backpressurePolicy === 'close') {
      this.host.log('debug', 'backpressure limit exceeded, closing', { url: this.url, waiting });
      this.fail(CloseCode.PolicyViolation, 'Backpressure limit exceeded');
    }
    return 'dropped';
  }

  /**
   * With permessage-deflate: queues a message behind the ones still being compressed, so order is kept.
   * `shared` is a broadcast compressed once for several recipients; `plain` its uncompressed frame.
   */
  queueMessage(
    opcode: number,
    payload: Buffer,
    shared: SharedCompression | null,
    plain?: EncodedFrame
  ): SendResult {
    const deflater = this.deflater;
    if (this.readyState !== ReadyState.OPEN || deflater === null) {
      this.host.stats.messagesDropped++;
      return 'dropped';
    }
    const size = payload.length;
    const waiting = this.outBytes + this.socket.writableLength + deflater.pendingBytes;
    if (waiting !== 0 && waiting + size > this.host.options.maxBackpressure) return this.overLimit(waiting);
    deflater.send(opcode, payload, shared, plain);
    return waiting + size > HIGH_WATER_MARK ? 'queued' : 'sent';
  }

  /** DeflateOwner: a message left the compression queue, in order. */
  writeDataFrame(frame: EncodedFrame): void {
    if ((this.flags & Flags.CloseSent) !== 0) return;
    const size = frameSize(frame);
    this.enqueue(frame, size);
    const stats = this.host.stats;
    stats.messagesSent++;
    stats.bytesSent += size;
  }

  /** DeflateOwner: nothing waits for compression; a deferred close() may go now. */
  sendQueueIdle(): void {
    const pending = this.pendingClose;
    if (pending === null) return;
    this.pendingClose = null;
    if ((this.flags & Flags.CloseSent) === 0) this.sendClose(pending[0], pending[1]);
  }

  ping(data: string | Buffer = EMPTY): void {
    if (this.readyState !== ReadyState.OPEN) return;
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    if (payload.length > 125) throw new RangeError('ping payload must be at most 125 bytes');
    this.sendControl(Opcode.Ping, payload);
  }

  private sendControl(opcode: number, payload: Buffer): void {
    const frame = encodeControlFrame(opcode, payload);
    this.host.stats.bytesSent += frame.length;
    this.enqueue(frame, frame.length);
  }

  private enqueue(frame: EncodedFrame, size: number): void {
    const out = (this.out ??= []);
    if (Buffer.isBuffer(frame)) out.push(frame);
    else out.push(frame[0], frame[1]);
    this.outBytes += size;
    scheduleFlush(this);
  }

  flush(): void {
    const out = this.out;
    if (out === null) return;
    const count = out.length;
    const socket = this.socket;
    const bytes = this.outBytes;
    this.out = null;
    this.outBytes = 0;
    if (socket.destroyed || !socket.writable) return;
    let ok: boolean;
    if (count === 1) {
      ok = socket.write(out[0]);
    } else if (bytes <= JOIN_LIMIT) {
      ok = socket.write(Buffer.concat(out, bytes));
    } else {
      socket.cork();
      for (let i = 0; i < count - 1; i++) socket.write(out[i]);
      ok = socket.write(out[count - 1]);
      socket.uncork();
    }
    // Flow control: while the peer does not read what we already owe it, stop reading what it sends.
    if (ok) return;
    if ((this.flags & Flags.DrainListening) === 0) {
      this.flags |= Flags.DrainListening;
      socket.on('drain', onSocketDrain);
    }
    if (socket.writableLength >= this.host.options.readPauseBytes)
      this.pauseReading(PauseReason.Backpressure);
  }

  drained(): void {
    this.resumeReading(PauseReason.Backpressure);
    const handlers = this.drainHandlers;
    if (handlers === undefined || this.readyState !== ReadyState.OPEN) return;
    for (const handler of handlers) this.guard(handler);
  }

  // ---- receiving (FrameSink) ----------------------------------------------------------------------

  onText(text: string): void {
    this.dispatch(text);
  }

  onBinary(data: Buffer): void {
    this.dispatch(data);
  }

  onCompressedFrame(payload: Buffer, isText: boolean, _first: boolean, fin: boolean): void {
    const deflater = this.deflater;
    if (deflater === null) return;
    // Decode nothing more, and read nothing more, until this frame is inflated: order and memory stay bounded.
    this.decoder?.pause();
    this.pauseReading(PauseReason.Inflate);
    deflater.inflateFrame(payload, fin, this.host.options.maxMessageSize, (error, message) =>
      this.inflated(error, message, isText)
    );
  }

  private inflated(error: ProtocolErrorCode | null, message: Buffer | undefined, isText: boolean): void {
    // Read on in every case: after a failure the peer's close frame (or FIN) must still be seen.
    this.resumeReading(PauseReason.Inflate);
    const decoder = this.decoder;
    if (decoder === null || decoder.isFinished) return;
    if (error !== null) return this.onError(new ProtocolError(error));
    if (message !== undefined) {
      if (!isText) this.dispatch(message);
      // RFC 7692 6: the inflated payload of a text message must be valid UTF-8 (RFC 6455 8.1).
      else if (!isValidUtf8(message)) return this.onError(new ProtocolError('WS_ERR_INVALID_UTF8'));
      else this.dispatch(message.toString('utf8'));
    }
    decoder.resume();
  }

  onPing(payload: Buffer): void {
    // RFC 6455 5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response,
    // unless it already received a Close frame." The pong carries the ping's payload.
    if (this.readyState === ReadyState.OPEN) this.sendControl(Opcode.Pong, payload);
  }

  onPong(): void {
    this.pingOutstandingTick = 0;
  }

  onCloseFrame(code: number, reason: string): void {
    this.peerCode = code;
    this.peerReason = reason;
    if ((this.flags & Flags.CloseSent) === 0) {
      // RFC 6455 5.5.1: reply with a close frame, "typically echoing the status code it received".
      this.sendClose(code === CloseCode.NoStatus ? undefined : code, reason);
    }
    this.endTcp();
  }

  onError(error: ProtocolError): void {
    this.host.stats.protocolErrors++;
    this.host.log('debug', 'protocol error', { url: this.url, code: error.code, close: error.closeCode });
    this.fail(error.closeCode, error.message);
  }

  private dispatch(data: WSMessage): void {
    this.host.stats.messagesReceived++;
    const handlers = this.messageHandlers;
    if (handlers === undefined || this.readyState === ReadyState.CLOSED) return;
    if (typeof handlers === 'function') this.invoke(handlers, data);
    else for (const handler of handlers) this.invoke(handler, data);
  }

  private invoke(handler: WSMessageHandler, data: WSMessage): void {
    try {
      onRejection(handler(data), error => this.handlerFailed(error));
    } catch (error) {
      this.handlerFailed(error);
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.handlerFailed(error);
    }
  }

  /** An application handler threw: log it and close with 1011 rather than leave the peer in an unknown state. */
  handlerFailed(error: unknown): void {
    this.host.log('error', 'WebSocket handler threw', { url: this.url, error: String(error) });
    if (this.readyState === ReadyState.OPEN) this.fail(CloseCode.InternalError, 'Internal error');
  }

  // ---- closing -----------------------------------------------------------------------------------

  close(code: number = CloseCode.Normal, reason = ''): void {
    if (!Number.isInteger(code) || !isValidWireCloseCode(code)) {
      throw new RangeError(
        `close(): code ${String(code)} may not be sent; use 1000-1003, 1007-1014 or 3000-4999`
      );
    }
    if (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
      throw new RangeError(
        `close(): reason must be a string of at most ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes`
      );
    }
    if (this.readyState !== ReadyState.OPEN) return;
    if (this.deflater?.busy === true) {
      // Messages sent before close() are still being compressed: the close frame follows them.
      this.readyState = ReadyState.CLOSING;
      this.pendingClose = [code, reason];
      this.armCloseTimer();
      return;
    }
    this.sendClose(code, reason);
    this.armCloseTimer();
  }

  terminate(): void {
    this.socket.destroy();
  }

  /** Fails the connection (RFC 6455 7.1.7): close frame with `code`, then TCP is closed. */
  fail(code: number, reason: string): void {
    if (this.readyState >= ReadyState.CLOSING) return;
    this.stopDecoding();
    this.sendClose(code, reason);
    this.endTcp();
  }

  private sendClose(code: number | undefined, reason: string): void {
    // Read on so that the peer's close frame is seen, even when closing during upgrade middleware.
    this.start();
    this.readyState = ReadyState.CLOSING;
    this.flags |= Flags.CloseSent;
    const frame = encodeControlFrame(Opcode.Close, encodeClosePayload(code, reason));
    this.host.stats.bytesSent += frame.length;
    (this.out ??= []).push(frame);
    this.outBytes += frame.length;
    // Queued data goes first; the close frame is the last thing written.
    this.flush();
  }

  /** Nothing received from now on is decoded. */
  private stopDecoding(): void {
    this.decoder?.destroy();
    this.decoder = STOPPED;
  }

  /** RFC 6455 7.1.1: the server closes TCP first once the closing handshake is done. */
  private endTcp(): void {
    const socket = this.socket;
    if (!socket.destroyed) socket.end();
    // Once both sides sent FIN and nothing waits to be written, the socket closes by itself; the
    // timer is for a peer that keeps its side open or stops reading what we still owe it.
    if (!socket.destroyed && ((this.flags & Flags.PeerFinished) === 0 || socket.writableLength > 0))
      this.armCloseTimer();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== undefined || this.readyState === ReadyState.CLOSED) return;
    this.closeTimer = setTimeout(onCloseTimeout, this.host.options.closeTimeoutMs, this);
    this.closeTimer.unref();
  }

  peerEnded(): void {
    // The peer half-closed TCP. Without a close frame first this is an abnormal closure (1006).
    this.flags |= Flags.PeerFinished;
    if (!this.closeReceived) this.readyState = ReadyState.CLOSING;
    this.endTcp();
  }

  socketError(error: Error): void {
    this.host.log('debug', 'socket error', { url: this.url, error: error.message });
  }

  socketClosed(): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSED;
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.stopDecoding();
    this.deflater?.destroy();
    this.out = null;
    this.outBytes = 0;
    this.host.connectionClosed(this);
    const handlers = this.closeHandlers;
    this.closeHandlers = undefined;
    this.messageHandlers = undefined;
    this.drainHandlers = undefined;
    if (handlers === undefined) return;
    const code = this.closeReceived ? this.peerCode : CloseCode.Abnormal;
    const reason = this.closeReceived ? this.peerReason : '';
    for (const handler of handlers) {
      try {
        handler(code, reason);
      } catch (error) {
        this.host.log('error', 'WebSocket close handler threw', { url: this.url, error: String(error) });
      }
    }
  }

  // ---- registration ------------------------------------------------------------------------------

  onMessage(handler: WSMessageHandler): void {
    const current = this.messageHandlers;
    if (current === undefined) this.messageHandlers = handler;
    else if (typeof current === 'function') this.messageHandlers = [current, handler];
    else current.push(handler);
  }

  onClose(handler: WSCloseHandler): void {
    if (this.readyState === ReadyState.CLOSED) return;
    (this.closeHandlers ??= []).push(handler);
  }

  onDrain(handler: () => void): void {
    (this.drainHandlers ??= []).push(handler);
  }

  join(room: string): void {
    if (this.readyState >= ReadyState.CLOSING) return;
    this.host.rooms.join(this, room);
  }

  leave(room: string): void {
    this.host.rooms.leave(this, room);
  }
}
