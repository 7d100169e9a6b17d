// One WebSocket connection (internal): its state, flow control, handlers and the closing handshake.
import { CloseCode, MAX_CLOSE_REASON_BYTES, isValidWireCloseCode } from '../../protocol/close-codes.js';
import type { DeflateParams } from '../../protocol/extensions.js';
import { Opcode } from '../../protocol/opcodes.js';
import type { Deflater } from '../deflate/deflater.js';
import { WsCloses, wsError, type WsCloseCode } from '../errors.js';
import { RECOVERY_PROTOCOL } from '../recovery/wire.js';
import type { ConnectionHost } from '../host.js';
import { RoomSet } from '../rooms.js';
import { onRejection } from '../settle.js';
import type { SendResult, WSCloseHandler, WSMessage, WSMessageHandler } from '../types.js';
import { Lifecycle, State } from './lifecycle.js';
import { SendQueue, type SendQueueOwner } from './send-queue.js';
import { ServerSocket } from './socket.js';
import type { Transport, TransportSink } from './transport.js';
import { PauseReason, Receiver, STOPPED, type ReceivePath } from './receive.js';

const EMPTY = Buffer.alloc(0);
const EMPTY_ROOMS = new RoomSet();

function onCloseTimeout(connection: Connection): void {
  connection.terminate();
}

/** What the upgrade path learned about a connection. */
export interface ConnectionInit {
  url: string;
  /** The route match found at upgrade time (never matched again). */
  params: Record<string, string>;
  protocol: string;
  extensions: string;
  /** Bytes that came with the handshake, decoded when reading starts. */
  head: Buffer;
  deflate: DeflateParams | null;
}

/**
 * The receive path (decoder, inflate, budgets, dispatch) is in receive.ts, the send path in send-queue.ts,
 * the state machine in lifecycle.ts, the user-facing object in socket.ts; this class ties them together.
 */
export class Connection extends Lifecycle implements TransportSink, SendQueueOwner {
  /** The object handlers get: the public interface and nothing else. */
  readonly socket: ServerSocket;
  readonly queue: SendQueue;
  readonly url: string;
  readonly params: Record<string, string>;
  readonly protocol: string;
  readonly extensions: string;
  /** A nextrush.v1 peer of a plugin with recovery on: every direct send is framed as `\n` + data. */
  readonly wrapsSends: boolean;
  /** Heartbeat tick of the last bytes received: traffic proves liveness. Written here, read by the sweep. */
  lastSeen: number;

  private readonly transport: Transport;
  readonly host: ConnectionHost;
  /** Created on the first byte received, so an idle connection carries no decoder. */
  private receiver: ReceivePath | null = null;
  private roomSet: RoomSet | null = null;
  private messageHandlers: WSMessageHandler | WSMessageHandler[] | undefined;
  private closeHandlers: WSCloseHandler[] | undefined;
  private drainHandlers: (() => void)[] | undefined;
  private pauseReasons: number = PauseReason.Setup;
  private closeTimer: NodeJS.Timeout | undefined;
  private head: Buffer | null;

  constructor(transport: Transport, host: ConnectionHost, init: ConnectionInit) {
    super();
    this.transport = transport;
    this.host = host;
    this.url = init.url;
    this.params = init.params;
    this.protocol = init.protocol;
    this.wrapsSends = host.recovery !== undefined && this.protocol === RECOVERY_PROTOCOL;
    this.extensions = init.extensions;
    this.head = init.head;
    this.lastSeen = host.clock.tick;
    this.queue = new SendQueue(this, transport, host.options, host.stats, host.deflate, init.deflate);
    this.socket = new ServerSocket(this);
    transport.attach(this);
    host.connectionCreated(this);
  }

  get deflater(): Deflater | null {
    return this.queue.deflater;
  }

  get rooms(): Set<string> {
    return this.roomSet ?? EMPTY_ROOMS;
  }

  /** The connection's room set, created on first join. */
  ownRooms(): RoomSet {
    return (this.roomSet ??= new RoomSet());
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  get httpVersion(): '1.1' | '2.0' {
    return this.transport.httpVersion;
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  /**
   * PENDING -> OPEN: joins the broadcast set, attaches the route handler, then starts reading (the
   * handler sees every message, also those sent while middleware ran). False if middleware closed it.
   */
  open(handler: (socket: ServerSocket) => unknown): boolean {
    if (!this.toOpen()) return false;
    this.host.connectionOpened(this);
    try {
      onRejection(handler(this.socket), error => this.handlerFailed(error));
    } catch (error) {
      this.handlerFailed(error);
    }
    this.startReading();
    return true;
  }

  /** Decodes the bytes that came with the handshake and resumes the transport. Idempotent. */
  private startReading(): void {
    const head = this.head;
    if (head === null) return;
    this.head = null;
    if (head.length > 0) this.transportData(head);
    this.resumeReading(PauseReason.Setup);
  }

  get acceptsData(): boolean {
    return this.state <= State.Open;
  }

  // ---- reading -----------------------------------------------------------------------------------

  isPaused(reason: number): boolean {
    return (this.pauseReasons & reason) !== 0;
  }

  pauseReading(reason: number): void {
    if (this.pauseReasons === 0) this.transport.pause();
    this.pauseReasons |= reason;
  }

  resumeReading(reason: number): void {
    if ((this.pauseReasons & reason) === 0) return;
    this.pauseReasons &= ~reason;
    if (this.pauseReasons === 0 && this.state !== State.Closed) this.transport.resume();
  }

  transportData(chunk: Buffer): void {
    this.host.stats.bytesReceived += chunk.length;
    this.lastSeen = this.host.clock.tick;
    (this.receiver ??= new Receiver(this)).push(chunk);
  }

  /** A message the receive path admitted: every onMessage handler gets it, in registration order. */
  deliver(data: WSMessage): void {
    const handlers = this.messageHandlers;
    if (handlers === undefined || this.state === State.Closed) return;
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

  /** An application handler threw: log it and close with 1011 rather than leave the peer in an unknown state. */
  handlerFailed(error: unknown, code: WsCloseCode = 'WS_CLOSE_HANDLER_FAILED'): void {
    this.host.log('error', 'WebSocket handler threw', { url: this.url, code, error: String(error) });
    if (this.acceptsData) this.failWith(code);
  }

  /** The peer's close frame (`code` 1005 when it had none): echo it (RFC 6455 5.5.1), then end TCP. */
  peerClosed(echo: number | undefined, code: number, reason: string): void {
    this.markCloseReceived(code, reason);
    this.sendClose(echo, reason, false);
    this.endTransport();
  }

  // ---- writing -----------------------------------------------------------------------------------

  send(data: string | Buffer | ArrayBufferView | ArrayBuffer): SendResult {
    return this.queue.send(data);
  }

  ping(data: string | Buffer = EMPTY): void {
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    if (payload.length > 125) throw wsError('WS_ERR_PING_TOO_LONG');
    if (this.acceptsData) this.queue.sendControl(Opcode.Ping, payload);
  }

  /** The heartbeat's shared, prebuilt ping frame. */
  sendPing(frame: Buffer): void {
    if (this.acceptsData) this.queue.sendControlFrame(frame);
  }

  backpressureExceeded(waiting: number): void {
    this.host.log('debug', 'backpressure limit exceeded, closing', {
      url: this.url,
      code: 'WS_CLOSE_BACKPRESSURE',
      waiting,
    });
    this.failWith('WS_CLOSE_BACKPRESSURE');
  }

  writeBlocked(): void {
    this.pauseReading(PauseReason.Backpressure);
  }

  transportDrained(): void {
    this.resumeReading(PauseReason.Backpressure);
    const handlers = this.drainHandlers;
    if (handlers === undefined || this.state !== State.Open) return;
    for (const handler of handlers) {
      try {
        handler();
      } catch (error) {
        this.handlerFailed(error);
      }
    }
  }

  // ---- closing -----------------------------------------------------------------------------------

  close(code: number = CloseCode.Normal, reason = ''): void {
    if (!Number.isInteger(code) || !isValidWireCloseCode(code)) {
      throw wsError(
        'WS_ERR_INVALID_CLOSE_CODE',
        `close(): code ${String(code)} may not be sent; use 1000-1003, 1007-1014 or 3000-4999`
      );
    }
    if (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
      throw wsError(
        'WS_ERR_INVALID_CLOSE_REASON',
        `close(): reason must be a string of at most ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes`
      );
    }
    if (this.state >= State.Closing) return;
    this.sendClose(code, reason, true);
    this.armCloseTimer();
  }

  terminate(): void {
    this.transport.destroy();
  }

  /** Fails the connection (RFC 6455 7.1.7): close frame with `code`, then the transport is ended. */
  fail(code: number, reason: string): void {
    if (this.state >= State.Closing) return;
    this.stopDecoding();
    this.sendClose(code, reason, false);
    this.endTransport();
  }

  /** A policy close of the catalogue. */
  failWith(why: WsCloseCode): void {
    const entry = WsCloses[why];
    this.fail(entry.close, entry.reason);
  }

  private sendClose(code: number | undefined, reason: string, afterCompression: boolean): void {
    this.markCloseSent();
    if (!this.queue.close(code, reason, afterCompression)) return;
    // Read on so that the peer's close frame is seen, even when closing during upgrade middleware.
    this.startReading();
  }

  /** Nothing received from now on is decoded. */
  private stopDecoding(): void {
    this.receiver?.stop();
    this.receiver = STOPPED;
  }

  /** RFC 6455 7.1.1: the server closes TCP first once the closing handshake is done. */
  private endTransport(): void {
    const transport = this.transport;
    transport.end();
    // Once both sides sent FIN and nothing waits to be written, the socket closes by itself; the
    // timer is for a peer that keeps its side open or stops reading what we still owe it.
    if (!transport.destroyed && (!this.peerFinished || transport.writableLength > 0)) this.armCloseTimer();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== undefined || this.state === State.Closed) return;
    this.closeTimer = setTimeout(onCloseTimeout, this.host.options.closeTimeoutMs, this);
    this.closeTimer.unref();
  }

  transportEnded(): void {
    // The peer half-closed TCP. Without a close frame first this is an abnormal closure (1006).
    this.markPeerFinished();
    this.endTransport();
  }

  transportError(error: Error): void {
    this.host.log('debug', 'socket error', { url: this.url, error: error.message });
  }

  /** -> CLOSED: onClose handlers run (rooms still as they were), then the hub forgets the connection. */
  transportClosed(): void {
    if (!this.toClosed()) return;
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.stopDecoding();
    this.queue.deflater?.destroy();
    this.queue.discard();
    const handlers = this.closeHandlers;
    this.closeHandlers = undefined;
    this.messageHandlers = undefined;
    this.drainHandlers = undefined;
    if (handlers !== undefined) {
      const code = this.closeCode;
      const reason = this.closeReason;
      for (const handler of handlers) {
        try {
          handler(code, reason);
        } catch (error) {
          this.host.log('error', 'WebSocket close handler threw', { url: this.url, error: String(error) });
        }
      }
    }
    this.host.connectionClosed(this);
  }

  // ---- registration ------------------------------------------------------------------------------

  onMessage(handler: WSMessageHandler): void {
    const current = this.messageHandlers;
    if (current === undefined) this.messageHandlers = handler;
    else if (typeof current === 'function') this.messageHandlers = [current, handler];
    else current.push(handler);
  }

  onClose(handler: WSCloseHandler): void {
    if (this.state === State.Closed) return;
    (this.closeHandlers ??= []).push(handler);
  }

  onDrain(handler: () => void): void {
    (this.drainHandlers ??= []).push(handler);
  }

  join(room: string): void {
    this.host.rooms.add(this, room);
  }

  leave(room: string): void {
    this.host.rooms.remove(this, room);
  }
}
