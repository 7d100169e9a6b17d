// The one place that decides which WebSocket server the conformance and interop suites talk to.
import { createServer } from 'node:http';
import type { ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { createApp, WebSocketPlugin, type WebSocketPluginOptions } from '../../src/index.js';
import { h2Session, testCert } from './http2.js';

/**
 * Which server runs behind the suites: nextrush-v2's WebSocketPlugin. The `ws` package's server was the
 * stand-in before the plugin landed and stays here, so the suite's own behaviour can be checked against
 * a second implementation by changing this one line.
 */
export const SERVER_UNDER_TEST = 'nextrush-v2' as 'ws-standin' | 'nextrush-v2';

/** Rooms (join + broadcast) exist only in nextrush-v2; interop registers its rooms case when true. */
export const SERVER_SUPPORTS_ROOMS = SERVER_UNDER_TEST === 'nextrush-v2';

/** WebSockets over HTTP/2 (RFC 8441) exist only in nextrush-v2; the conformance suite runs over both then. */
export const SERVER_SUPPORTS_HTTP2 = SERVER_UNDER_TEST === 'nextrush-v2';

/** The spec's default `maxMessageSize` ("16MB"), read as 16 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

export interface PeerClose {
  code: number;
  reason: string;
}

export interface ServerOptions {
  /** Overrides the server's maximum message size; the server's default is used when omitted. */
  maxMessageSize?: number;
  /** HTML served at `GET /` (interop pages run their client code from the same origin). */
  page?: string;
  /** nextrush-v2 only: the perMessageDeflate option (compression sections and interop). */
  perMessageDeflate?: WebSocketPluginOptions['perMessageDeflate'];
  /** nextrush-v2 only: listen with TLS (a test certificate) and HTTP/2 beside HTTP/1.1. */
  http2?: boolean;
}

export interface ServerUnderTest {
  readonly kind: typeof SERVER_UNDER_TEST;
  readonly port: number;
  /** Whether the server offers rooms (join + broadcast); the stand-in does not. */
  readonly supportsRooms: boolean;
  /** `ws://127.0.0.1:<port><path>` */
  wsUrl(path?: string): string;
  /** `http://127.0.0.1:<port><path>` */
  httpUrl(path?: string): string;
  /** An HTTP/2 session to the server (servers started with `http2: true`). */
  http2Session(): Promise<ClientHttp2Session>;
  /** Resolves with the close the server observed on the connection opened at `path` (code and reason as the server saw them). */
  peerClose(path: string): Promise<PeerClose>;
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 with an ephemeral port. Every WebSocket path echoes each message back
 * unchanged (text as text, binary as binary). Connections whose path starts with `/cmd` instead obey
 * text commands, used by interop tests:
 *   `close:<code>:<reason>`  the server closes the connection with that code and reason
 *   `join:<room>`            (rooms only) joins a room and answers `joined:<room>`
 *   `broadcast:<room>:<msg>` (rooms only) sends <msg> to every member of <room>
 */
export async function startServer(options: ServerOptions = {}): Promise<ServerUnderTest> {
  return SERVER_UNDER_TEST === 'nextrush-v2' ? startNextrush(options) : startStandIn(options);
}

/** Closes the server observed, by connection path, so a test can await the close of its own connection. */
class CloseLog {
  private readonly seen = new Map<string, PeerClose>();
  private readonly waiting = new Map<string, (c: PeerClose) => void>();
  push(path: string, c: PeerClose): void {
    const w = this.waiting.get(path);
    this.waiting.delete(path);
    if (w) w(c);
    else this.seen.set(path, c);
  }
  get(path: string): Promise<PeerClose> {
    const c = this.seen.get(path);
    if (c) return Promise.resolve(c);
    return new Promise(resolve => this.waiting.set(path, resolve));
  }
}

function parseCommand(text: string): { name: string; args: string[] } {
  const [name = '', ...args] = text.split(':');
  return { name, args };
}

async function startStandIn(options: ServerOptions): Promise<ServerUnderTest> {
  const closes = new CloseLog();
  const http = createServer((req, res) => {
    if (req.url === '/' && options.page !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(options.page);
      return;
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({
    server: http,
    maxPayload: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    perMessageDeflate: false,
    // ws caps a message at 16384 fragments by default; the spec has no fragment-count limit and the
    // suite requires e.g. 4 MiB in 65536 fragments to pass, so the stand-in is configured like the spec.
    maxFragments: 0,
  });
  wss.on('connection', (socket, req) => {
    const path = req.url ?? '/';
    const commands = path.startsWith('/cmd');
    socket.on('close', (code, reason) => closes.push(path, { code, reason: reason.toString('utf8') }));
    socket.on('error', () => {
      // Protocol errors are answered with a close frame by `ws` itself; nothing else to do here.
    });
    socket.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (!commands) {
        socket.send(buf, { binary: isBinary });
        return;
      }
      const { name, args } = parseCommand(buf.toString('utf8'));
      if (name === 'close') socket.close(Number(args[0]), args.slice(1).join(':'));
      else socket.send(buf, { binary: isBinary });
    });
  });
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    kind: SERVER_UNDER_TEST,
    port,
    supportsRooms: SERVER_SUPPORTS_ROOMS,
    wsUrl: (path = '/') => `ws://127.0.0.1:${port}${path}`,
    httpUrl: (path = '/') => `http://127.0.0.1:${port}${path}`,
    peerClose: path => closes.get(path),
    http2Session: () => Promise.reject(new Error('the ws stand-in does not speak HTTP/2')),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>(resolve => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>(resolve => http.close(() => resolve()));
    },
  };
}

async function startNextrush(options: ServerOptions): Promise<ServerUnderTest> {
  const closes = new CloseLog();
  const app = createApp();
  new WebSocketPlugin({
    path: '/*',
    ...(options.maxMessageSize === undefined ? {} : { maxMessageSize: options.maxMessageSize }),
    ...(options.perMessageDeflate === undefined ? {} : { perMessageDeflate: options.perMessageDeflate }),
  }).install(app);
  const page = options.page;
  if (page !== undefined) {
    app.get('/', ctx => {
      ctx.res.setHeader('content-type', 'text/html; charset=utf-8');
      ctx.res.end(page);
    });
  }
  app.ws('/*', socket => {
    const path = socket.url;
    socket.onClose((code, reason) => closes.push(path, { code, reason }));
    if (!path.startsWith('/cmd')) {
      socket.onMessage(data => {
        socket.send(data);
      });
      return;
    }
    socket.onMessage(data => {
      if (typeof data !== 'string') {
        socket.send(data);
        return;
      }
      const { name, args } = parseCommand(data);
      if (name === 'close') {
        socket.close(Number(args[0]), args.slice(1).join(':'));
      } else if (name === 'join') {
        socket.join(args[0] ?? '');
        socket.send(`joined:${args[0] ?? ''}`);
      } else if (name === 'broadcast') {
        app.wsBroadcast(args.slice(1).join(':'), args[0]);
      } else {
        socket.send(data);
      }
    });
  });
  const server = options.http2
    ? app.listen({ port: 0, host: '127.0.0.1', tls: testCert(), http2: true })
    : app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    kind: SERVER_UNDER_TEST,
    port,
    supportsRooms: SERVER_SUPPORTS_ROOMS,
    wsUrl: (path = '/') => `${options.http2 ? 'wss' : 'ws'}://127.0.0.1:${port}${path}`,
    httpUrl: (path = '/') => `${options.http2 ? 'https' : 'http'}://127.0.0.1:${port}${path}`,
    peerClose: path => closes.get(path),
    http2Session: () => h2Session(`https://127.0.0.1:${port}`),
    close: () => app.close(),
  };
}
