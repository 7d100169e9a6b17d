// HTTP/2 test support: a self-signed certificate made per run, an app served over TLS with HTTP/2, raw extended CONNECT.
import {
  connect,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type Http2SecureServer,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { selfSignedCert, type TestCert } from './tls.js';
import { FrameReader, type Frame } from './frames.js';
import { Client, type WebSocket } from 'undici';
import {
  createApp,
  WebSocketPlugin,
  type Application,
  type Http2Options,
  type WebSocketPluginOptions,
} from '../../src/index.js';

let cached: TestCert | undefined;

/** A throw-away self-signed certificate for localhost and 127.0.0.1 (never committed), made once per process. */
export function testCert(): TestCert {
  return (cached ??= selfSignedCert());
}

export interface Http2App {
  app: Application;
  plugin: WebSocketPlugin | undefined;
  port: number;
  origin: string;
  /** The server listen() returned (`app.server` is the same object, typed as any server an app may have). */
  server: Http2SecureServer;
  close: () => Promise<void>;
}

/**
 * Starts an app over TLS with HTTP/2 on 127.0.0.1:0; `setup` adds routes (the plugin is installed first
 * unless null); `http2` is listen()'s option.
 */
export async function startHttp2App(
  setup: (app: Application, plugin: WebSocketPlugin | undefined) => void,
  options: WebSocketPluginOptions | null = {},
  http2: true | Http2Options = true
): Promise<Http2App> {
  const app = createApp();
  const plugin = options === null ? undefined : new WebSocketPlugin(options);
  if (plugin) app.register(plugin);
  setup(app, plugin);
  const server = await new Promise<Http2SecureServer>(resolve => {
    const s = app.listen({ port: 0, host: '127.0.0.1', tls: testCert(), http2 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return { app, plugin, port, server, origin: `https://127.0.0.1:${port}`, close: () => app.close() };
}

/** An HTTP/2 client session to `origin` that trusts the test certificate, once the server's SETTINGS arrived. */
export async function h2Session(origin: string): Promise<ClientHttp2Session> {
  const session = connect(origin, { ca: testCert().cert, servername: 'localhost' });
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => resolve());
    session.once('error', reject);
  });
  return session;
}

/** The RFC 8441 §5 request headers for `path`, with overrides (undefined removes a field). */
export function connectHeaders(
  path: string,
  overrides: Record<string, string | undefined> = {}
): Record<string, string> {
  const headers: Record<string, string | undefined> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'https',
    ':path': path,
    'sec-websocket-version': '13',
    ...overrides,
  };
  for (const k of Object.keys(headers)) if (headers[k] === undefined) delete headers[k];
  return headers as Record<string, string>;
}

/** Opens a stream and resolves with the response headers (or rejects when the stream fails first). */
export function request(
  session: ClientHttp2Session,
  headers: Record<string, string>
): Promise<{ stream: ClientHttp2Stream; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: false });
    stream.once('response', h => resolve({ stream, headers: h }));
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`stream closed before a response (rst ${stream.rstCode})`)));
  });
}

/** Reads a refused stream to its end: status and body. */
export async function refusal(
  session: ClientHttp2Session,
  headers: Record<string, string>
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  const { stream, headers: h } = await request(session, headers);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { status: Number(h[':status']), body: Buffer.concat(chunks).toString(), headers: h };
}

/** Collects the server frames of a WebSocket carried by an HTTP/2 stream, through the shared frame reader. */
export class StreamFrames {
  private readonly reader = new FrameReader();
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | undefined;
  ended = false;

  constructor(stream: ClientHttp2Stream) {
    stream.on('data', (chunk: Buffer) => {
      this.frames.push(...this.reader.push(chunk));
      this.wake();
    });
    stream.on('close', () => {
      this.ended = true;
      this.wake();
    });
    stream.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next frame, or undefined once the stream closed without one. */
  async next(): Promise<Frame | undefined> {
    for (;;) {
      const f = this.frames.shift();
      if (f) return f;
      if (this.ended) return undefined;
      await new Promise<void>(resolve => (this.waiter = resolve));
    }
  }

  /** The code of the next close frame (skipping data frames), or 1006 when the stream closed without one. */
  async closeCode(): Promise<number> {
    for (;;) {
      const f = await this.next();
      if (f === undefined) return 1006;
      if (f.opcode === 8) return f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
    }
  }
}

/**
 * An undici dispatcher of one connection that trusts the test certificate (HTTP/2 unless `allowH2` is
 * false); `pipelining` lets undici run more than one request (stream) on it at a time.
 */
export function h2Client(origin: string, allowH2 = true): Client {
  return new Client(origin, {
    allowH2,
    pipelining: 1000,
    connect: { ca: testCert().cert, servername: 'localhost' },
  });
}

/** Resolves when an undici WebSocket opens; rejects on an error first. */
export function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error('WebSocket error before open')), { once: true });
  });
}

/** The next message of an undici WebSocket, as a string or a Buffer. */
export function nextMessage(ws: WebSocket): Promise<string | Buffer> {
  return new Promise(resolve =>
    ws.addEventListener(
      'message',
      e => resolve(typeof e.data === 'string' ? e.data : Buffer.from(e.data as ArrayBuffer)),
      { once: true }
    )
  );
}

/** Resolves with the close code and reason of an undici WebSocket. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise(resolve =>
    ws.addEventListener('close', e => resolve({ code: e.code, reason: e.reason }), { once: true })
  );
}
