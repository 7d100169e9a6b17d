// The HTTP/1.1 Upgrade mechanics (RFC 6455 4): request descriptor, 101 response, net.Socket transport.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { rejectUpgrade } from '../../core/upgrade.js';
import { checkHandshake, isWebSocketUpgrade, switchingProtocolsResponse } from '../../protocol/handshake.js';
import { SocketTransport, type Transport } from '../connection/transport.js';
import type { RouteMatch } from '../../core/router.js';
import type { WebSocketHub } from '../hub.js';
import type { WSContext, WSHandler } from '../types.js';
import { admit } from './admit.js';
import type { HandshakeVerdict, UpgradeResponder } from './request.js';

function ignoreError(): void {}

const HANDSHAKE_OK: HandshakeVerdict = { ok: true };

/** Bytes a client may send after its handshake while verifyClient runs; past this it is dropped. */
const PENDING_READ_LIMIT = 64 * 1024;

/** The listeners of an upgrade waiting for verifyClient (made only then). */
interface EarlyWatch {
  close: () => void;
  data: (chunk: Buffer) => void;
  end: () => void;
}

class Http1Responder implements UpgradeResponder {
  private watch: EarlyWatch | undefined;
  private early: Buffer[] | null = null;
  private earlyBytes = 0;

  constructor(
    private readonly socket: Duplex,
    private firstBytes: Buffer,
    private readonly key: string
  ) {}

  get head(): Buffer {
    return this.firstBytes;
  }

  private settle(): void {
    const watch = this.watch;
    if (watch === undefined) return;
    this.watch = undefined;
    // The listeners hold the pending upgrade (and its request): they must not stay on a long-lived socket.
    const socket = this.socket;
    socket.pause();
    socket.removeListener('data', watch.data);
    socket.removeListener('end', watch.end);
    socket.removeListener('close', watch.close);
    socket.removeListener('error', ignoreError);
    if (this.early !== null) this.firstBytes = Buffer.concat([this.firstBytes, ...this.early]);
    this.early = null;
  }

  refuse(status: number, message: string, headers?: Record<string, string>): void {
    this.settle();
    rejectUpgrade(this.socket, status, message, headers);
  }

  accept(protocol: string | undefined, extensions: string | undefined): Transport | null {
    this.settle();
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return null;
    socket.write(switchingProtocolsResponse(this.key, protocol, extensions));
    return new SocketTransport(socket as Socket);
  }

  /**
   * A hang-up is only seen by reading: while the verdict is pending the socket is read, and what the
   * client sends early (frames may follow the handshake at once) is kept for the connection.
   */
  onAbort(listener: () => void): void {
    const socket = this.socket;
    const watch: EarlyWatch = (this.watch = {
      close: listener,
      data: chunk => this.earlyData(chunk),
      // The client gave up (FIN): nothing will be answered, so the socket goes and 'close' frees the slot.
      end: () => void socket.destroy(),
    });
    // A reset while verifyClient runs must not become an uncaught 'error'.
    socket.on('error', ignoreError);
    socket.on('data', watch.data);
    socket.once('end', watch.end);
    socket.once('close', listener);
    socket.resume();
  }

  onClosed(listener: () => void): void {
    // A client that hung up while the app's middleware ran: 'close' was emitted already.
    if (this.socket.closed) listener();
    else this.socket.once('close', listener);
  }

  private earlyData(chunk: Buffer): void {
    (this.early ??= []).push(chunk);
    this.earlyBytes += chunk.length;
    if (this.earlyBytes > PENDING_READ_LIMIT) this.socket.destroy();
  }
}

/**
 * Handles one HTTP upgrade request. Returns false for upgrades to other protocols (the app answers
 * those); otherwise answers it, with a 101 or an HTTP error, and returns true. Never throws.
 */
export function handleUpgrade(
  hub: WebSocketHub,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  ctx: WSContext,
  route?: RouteMatch<WSHandler>
): boolean {
  if (!isWebSocketUpgrade(req.headers)) return false;
  const check = checkHandshake(req.method, req.httpVersion, req.headers);
  const handshake: HandshakeVerdict = check.ok
    ? HANDSHAKE_OK
    : { ok: false, status: check.status, reason: check.reason, headers: check.headers };
  admit(
    hub,
    { req, url: req.url ?? '/', headers: req.headers, handshake, route, ctx },
    new Http1Responder(socket, head, check.ok ? check.key : '')
  );
  return true;
}
