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
  /** The response on the socket (an HTTP/1.1 upgrade makes it on first use). */
  readonly res: ServerResponse;
  /**
   * The chain did not reach the protocol synchronously (a middleware awaits something): from now on the
   * socket must be watched for the client hanging up. Not needed by sockets that are always watched.
   */
  park?(): void;
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
 *
 * Nothing is built that the upgrade does not use: the ServerResponse is made on first use of `res`, and
 * the socket is watched (listeners, early-data buffer) only once the chain waits on a promise (`park()`).
 * A chain that reaches the protocol synchronously, as it does without middleware, costs neither.
 */
export class PendingSocket implements PendingUpgradeSocket {
  /** Called once when a protocol takes the socket (the app stops tracking it then). */
  onTake: (() => void) | undefined;
  private readonly req: IncomingMessage;
  private readonly socket: Duplex;
  private head: Buffer;
  private taken = false;
  private response: AppResponse | undefined;
  /** The listeners of a parked socket, removed on take(). */
  private watchers: { data: (chunk: Buffer) => void; end: () => void } | undefined;
  /** The app's in-flight listener: removed on take(), or it would hold this request for the socket's life. */
  private closeListener: (() => void) | undefined;

  constructor(req: IncomingMessage, socket: Duplex, head: Buffer) {
    this.req = req;
    this.socket = socket;
    this.head = head;
    if (head.length > EARLY_DATA_LIMIT) socket.destroy();
  }

  /** The response on this socket, made on first use; made after take(), it is attached to nothing. */
  get res(): AppResponse {
    return (this.response ??= this.respond());
  }

  private respond(): AppResponse {
    const res = new AppResponse(this.req);
    res.shouldKeepAlive = false;
    if (this.taken) return res;
    this.park();
    const socket = this.socket;
    res.assignSocket(socket as Socket);
    res.once('finish', () => {
      if (this.taken) return;
      res.detachSocket(socket as Socket);
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    });
    return res;
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  /**
   * The chain is waiting: read the socket from now on, so that a FIN destroys it (a hung middleware
   * cannot hold it) and early data is kept (or, past EARLY_DATA_LIMIT, closes it). Idempotent.
   */
  park(): void {
    if (this.watchers !== undefined || this.taken) return;
    const socket = this.socket;
    const watchers = (this.watchers = {
      data: (chunk: Buffer): void => this.earlyData(chunk),
      // The client hung up before the upgrade was answered: nobody is left to answer.
      end: (): void => void socket.destroy(),
    });
    // Node's own listener is gone after 'upgrade'; a reset must not become an uncaught exception.
    socket.on('error', ignore);
    socket.on('data', watchers.data);
    socket.on('end', watchers.end);
  }

  take(): { socket: Duplex; head: Buffer } {
    if (this.taken) throw new Error('take(): the upgrade socket was already taken');
    this.taken = true;
    const socket = this.socket;
    socket.pause();
    const watchers = this.watchers;
    if (watchers !== undefined) {
      this.watchers = undefined;
      socket.off('data', watchers.data);
      socket.off('end', watchers.end);
      socket.off('error', ignore);
    }
    this.response?.detachSocket(socket as Socket);
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

  private earlyData(chunk: Buffer): void {
    if (this.head.length + chunk.length > EARLY_DATA_LIMIT) {
      this.socket.destroy();
      return;
    }
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
  }
}

function ignore(): void {}

const EMPTY = Buffer.alloc(0);
