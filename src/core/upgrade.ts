// HTTP upgrade requests: raw handlers, or a protocol served at the end of the app's middleware chain.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { logError } from './error-response.js';
import { AppResponse } from './response.js';
import type { UpgradeHandler, UpgradeProtocol, UpgradeSocket } from './types.js';

/** Writes a minimal HTTP error on a raw socket and closes it; a silent client cannot keep it open. */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  message: string,
  headers: Record<string, string> = {}
): void {
  socket.on('error', () => {});
  if (socket.destroyed) return;
  const body = `${message}\n`;
  let extra = '';
  for (const [name, value] of Object.entries(headers)) extra += `${name}: ${value}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`
  );
  setTimeout(() => socket.destroy(), 2000).unref();
}

/** Node's default header-pair limit (server.maxHeadersCount); header lines past it are silently dropped. */
const NODE_MAX_HEADER_PAIRS = 1000;

/**
 * Bytes a client may send after its upgrade request while the middleware chain runs. RFC 6455 4.1: the
 * client MUST wait for the server's response before sending any further data; a little slack covers
 * clients that pipeline anyway, more is abuse and closes the socket.
 */
export const EARLY_DATA_LIMIT = 16 * 1024;

export interface UpgradeHost {
  readonly closing: boolean;
  readonly handlers: readonly (UpgradeHandler | UpgradeProtocol)[];
  /** Serves an upgrade request claimed by `protocol` through the middleware chain. */
  serve(protocol: UpgradeProtocol, req: IncomingMessage, socket: PendingUpgradeSocket): void;
}

/**
 * What the app holds of an upgrade while its chain runs: an HTTP/1.1 upgrade socket (PendingSocket) or
 * an HTTP/2 extended CONNECT stream (PendingStream in http2.ts). `res` answers it as a response.
 */
export interface PendingUpgradeSocket extends UpgradeSocket {
  readonly res: ServerResponse;
  /** Called once when a protocol takes it (the app stops tracking it then). */
  onTake: (() => void) | undefined;
  readonly isTaken: boolean;
  once(event: 'close', listener: () => void): void;
  destroy(): void;
}

/** The 'upgrade' listener: one per server, the single entry of every upgrade request. */
export function createUpgradeListener(
  host: UpgradeHost,
  maxHeaderPairs: () => number | null = () => null
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    if (host.closing) return rejectUpgrade(socket, 503, 'Server is shutting down');
    // At the limit, Node may have dropped header lines (Upgrade among them): judge no truncated request.
    if (req.rawHeaders.length / 2 >= (maxHeaderPairs() || NODE_MAX_HEADER_PAIRS)) {
      return rejectUpgrade(socket, 431, 'Too many header fields');
    }
    for (const handler of host.handlers) {
      try {
        if (typeof handler === 'function') {
          if (handler(req, socket, head)) return;
        } else if (handler.claims(req)) {
          host.serve(handler, req, new PendingSocket(req, socket, head));
          return;
        }
      } catch (err) {
        logError(err, `upgrade handler failed for ${req.url ?? ''}`);
        return rejectUpgrade(socket, 500, 'Internal Server Error');
      }
    }
    rejectUpgrade(socket, 404, 'No upgrade handler for this path');
  };
}

/**
 * An upgrade socket while the middleware chain runs. `res` writes a real HTTP response on it (the
 * error path and middleware use it as for any request); a client that hangs up frees it at once, even
 * while a middleware never settles.
 */
export class PendingSocket implements PendingUpgradeSocket {
  readonly res: AppResponse;
  /** Called once when a protocol takes the socket (the app stops tracking it then). */
  onTake: (() => void) | undefined;
  private readonly socket: Duplex;
  private head: Buffer;
  private taken = false;
  /** The app's in-flight listener: removed on take(), or it would hold this request for the socket's life. */
  private closeListener: (() => void) | undefined;

  constructor(req: IncomingMessage, socket: Duplex, head: Buffer) {
    this.socket = socket;
    this.head = head;
    const res = (this.res = new AppResponse(req));
    res.shouldKeepAlive = false;
    // Node's own listener is gone after 'upgrade'; a reset must not become an uncaught exception.
    socket.on('error', ignore);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    res.assignSocket(socket as Socket);
    if (head.length > EARLY_DATA_LIMIT) socket.destroy();
    res.once('finish', () => {
      if (this.taken) return;
      res.detachSocket(socket as Socket);
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    });
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  take(): { socket: Duplex; head: Buffer } {
    if (this.taken) throw new Error('take(): the upgrade socket was already taken');
    this.taken = true;
    const socket = this.socket;
    socket.pause();
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('error', ignore);
    this.res.detachSocket(socket as Socket);
    if (this.closeListener !== undefined) socket.off('close', this.closeListener);
    this.closeListener = undefined;
    this.onTake?.();
    this.onTake = undefined;
    // The protocol owns the bytes now; this object (reachable from the request's context) keeps none.
    const head = this.head;
    this.head = EMPTY;
    return { socket, head };
  }

  /** For the app's in-flight set: 'close' is the socket's. */
  once(event: 'close', listener: () => void): void {
    this.closeListener = listener;
    this.socket.once(event, listener);
  }

  destroy(): void {
    this.socket.destroy();
  }

  get isTaken(): boolean {
    return this.taken;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.head.length + chunk.length > EARLY_DATA_LIMIT) {
      this.socket.destroy();
      return;
    }
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
  };

  /** The client hung up before the upgrade was answered: nobody is left to answer. */
  private readonly onEnd = (): void => {
    this.socket.destroy();
  };
}

function ignore(): void {}

const EMPTY = Buffer.alloc(0);
