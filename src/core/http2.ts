// HTTP/2 and HTTP/1.1 on one TLS port (ALPN h2, http/1.1): the server, extended CONNECT dispatch, GOAWAY on close.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createSecureServer,
  Http2ServerResponse,
  type Http2SecureServer,
  type Http2ServerRequest,
  type SecureServerOptions,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Duplex } from 'node:stream';
import type { ResolvedHttp2Options } from './http2-options.js';
import { AppResponse } from './response.js';
import type { ServerTimeouts } from './server.js';
import type { UpgradeProtocol } from './types.js';
import type { PendingUpgradeSocket, UpgradeHost } from './upgrade.js';

/** The `ctx.res` class of HTTP/2 requests: Node's compatibility response with the same helpers. */
export class Http2AppResponse extends Http2ServerResponse {}
// Taken off AppResponse's prototype on purpose: they only use `this` as a response, which this one is.
// eslint-disable-next-line @typescript-eslint/unbound-method
const { status, json, send } = AppResponse.prototype;
for (const [name, value] of Object.entries({ status, json, send })) {
  Object.defineProperty(Http2AppResponse.prototype, name, { value, writable: true, configurable: true });
}

/** Whether `server` came from node:http2 (it has settings to advertise and sessions to end). */
export function isHttp2Server(server: object): server is Http2SecureServer {
  return typeof (server as Partial<Http2SecureServer>).updateSettings === 'function';
}

/**
 * HTTP/2 and HTTP/1.1 on one TLS port (`allowHTTP1`: ALPN offers h2 and http/1.1, and a client without
 * ALPN gets HTTP/1.1). SETTINGS_ENABLE_CONNECT_PROTOCOL starts off: `attach()` turns it on only when a
 * protocol (the WebSocket plugin) serves extended CONNECT, because browsers take the setting as a
 * promise and stop falling back to HTTP/1.1 for their WebSockets.
 */
export function createHttp2Server(
  tls: SecureServerOptions,
  timeouts: ServerTimeouts,
  options: ResolvedHttp2Options
): Http2SecureServer {
  const { maxConcurrentStreams } = options;
  const server = createSecureServer({
    ...tls,
    allowHTTP1: true,
    // Many small WebSocket frames share one TCP connection under HTTP/2: Nagle would hold them back.
    noDelay: true,
    // One session carries many WebSockets, each allowed a 16 MiB message and 4 MiB of send backlog by
    // default; Node's 10 MB session default (enforced more strictly by Node 24's nghttp2) reset streams
    // that echo a 16 MiB message with ENHANCE_YOUR_CALM (hence 64 by default, see HTTP2_DEFAULTS). The
    // WebSocket limits stay the per-socket bound.
    maxSessionMemory: options.maxSessionMemory,
    // The subclasses carry the ctx.res helpers on their prototypes; Node's typings cannot express it.
    Http1ServerResponse: AppResponse as unknown as typeof ServerResponse,
    Http2ServerResponse: Http2AppResponse,
    settings: {
      ...tls.settings,
      enableConnectProtocol: false,
      ...(maxConcurrentStreams === undefined ? {} : { maxConcurrentStreams }),
    },
  });
  // The HTTP/1.1 side of the server reads these as an http.Server does.
  Object.assign(server, timeouts);
  const idle = options.sessionIdleTimeout;
  if (idle > 0) server.on('session', (session: ServerHttp2Session) => closeWhenIdle(session, idle));
  return server;
}

/**
 * GOAWAY once `session` has had no open stream for `ms`. Idle means no stream, as for Go's IdleTimeout:
 * PING and SETTINGS frames do not keep a session, and a stream (a WebSocket included) always does, however
 * long it stays silent: the WebSocket heartbeat judges those, never this timer. Node's own
 * `session.setTimeout()` counts frames instead, so it would end sessions whose WebSockets are quiet.
 */
function closeWhenIdle(session: ServerHttp2Session, ms: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer = setTimeout(() => {
      // Node's close() sends GOAWAY(NO_ERROR) with the last stream id and ends the connection.
      if (open === 0 && !session.closed && !session.destroyed) session.close();
    }, ms);
    timer.unref();
  };
  session.on('stream', (stream: ServerHttp2Stream) => {
    open++;
    clearTimeout(timer);
    stream.once('close', () => {
      if (--open === 0 && !session.closed && !session.destroyed) arm();
    });
  });
  session.once('close', () => clearTimeout(timer));
  arm();
}

/** Turns SETTINGS_ENABLE_CONNECT_PROTOCOL on for the sessions to come (RFC 8441 §3); it is never turned off. */
export function advertiseExtendedConnect(server: Http2SecureServer): void {
  server.updateSettings({ enableConnectProtocol: true });
}

/**
 * The stream of an extended CONNECT while the app's middleware chain runs. `res` answers it as any
 * HTTP/2 response (the error path uses it); `take()` hands the stream to the protocol, which answers
 * `:status 200` on it itself.
 */
export class PendingStream implements PendingUpgradeSocket {
  readonly res: ServerResponse;
  onTake: (() => void) | undefined;
  private readonly stream: ServerHttp2Stream;
  private taken = false;

  constructor(req: Http2ServerRequest, res: Http2ServerResponse) {
    this.stream = req.stream;
    this.res = res as unknown as ServerResponse;
  }

  get closed(): boolean {
    return this.stream.destroyed || this.stream.closed;
  }

  get isTaken(): boolean {
    return this.taken;
  }

  take(): { socket: Duplex; head: Buffer } {
    if (this.taken) throw new Error('take(): the upgrade stream was already taken');
    this.taken = true;
    this.onTake?.();
    return { socket: this.stream, head: Buffer.alloc(0) };
  }

  once(event: 'close', listener: () => void): void {
    this.stream.once(event, listener);
  }

  destroy(): void {
    this.stream.destroy();
  }
}

function answer(res: Http2ServerResponse, status: number, message: string): void {
  if (res.stream.destroyed || res.headersSent) return;
  const body = `${message}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/**
 * The 'connect' listener: a plain CONNECT asks for a tunnel, which an app is not (405); an extended
 * CONNECT (RFC 8441 §4) is served by the protocol that claims it, through the app's middleware chain,
 * like an HTTP/1.1 upgrade; a `:protocol` nobody serves gets 501.
 */
export function createConnectListener(
  host: UpgradeHost
): (req: Http2ServerRequest, res: Http2ServerResponse) => void {
  return (req, res) => {
    const protocol = req.headers[':protocol'];
    if (typeof protocol !== 'string') return answer(res, 405, 'CONNECT tunnels are not served here');
    if (host.closing) return answer(res, 503, 'Server is shutting down');
    const message = req as unknown as IncomingMessage;
    for (const handler of host.handlers) {
      if (typeof handler === 'function' || handler.connectProtocol !== protocol) continue;
      if (!handler.claims(message)) continue;
      host.serve(handler, message, new PendingStream(req, res));
      return;
    }
    answer(res, 501, `The "${protocol}" protocol is not served here`);
  };
}

/** Whether a protocol serves extended CONNECT, so the server must advertise it. */
export function servesExtendedConnect(handler: unknown): handler is UpgradeProtocol {
  return typeof handler === 'object' && handler !== null && 'connectProtocol' in handler;
}

/** Sessions of an HTTP/2 server, so that close() can send each one GOAWAY and destroy what outlives the deadline. */
export class SessionTracker {
  private readonly sessions = new Set<ServerHttp2Session>();

  constructor(server: Http2SecureServer) {
    server.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      // A session error (a peer that breaks the framing) ends that session only.
      session.on('error', () => {});
    });
  }

  /**
   * GOAWAY on every session (Node's `session.close()` sends it with the last stream id and lets the open
   * streams finish), then waits for them to end, destroying the ones left at the deadline.
   */
  async closeAll(timeout: number): Promise<void> {
    const closing = [...this.sessions].map(
      session =>
        new Promise<void>(resolve => {
          if (session.destroyed) return resolve();
          if (session.closed) session.once('close', () => resolve());
          else session.close(() => resolve());
        })
    );
    if (closing.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>(resolve => (timer = setTimeout(resolve, timeout)));
    await Promise.race([Promise.all(closing), late]);
    clearTimeout(timer);
    for (const session of this.sessions) session.destroy();
  }
}
