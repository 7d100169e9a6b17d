// Test helpers for the WebSocket plugin: start an app, ws clients, and a raw TCP client that speaks frames.
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after } from 'node:test';
import WebSocket from 'ws';
import { createApp, WebSocketPlugin } from '../../src/index.js';
import type { Application, WebSocketPluginOptions } from '../../src/index.js';
import { FrameReader, type Frame } from '../support/frames.js';

export { clientFrame } from '../support/frames.js';
export { until } from '../support/until.js';

export interface Running {
  app: Application;
  plugin: WebSocketPlugin;
  port: number;
  url(path: string): string;
}

/** Creates an app with the plugin installed, lets `setup` add routes, and listens on 127.0.0.1:0. */
/**
 * Returns a `start` that works like startWs and closes every app it started when the test file ends.
 * Call it at the top level of a test file.
 */
export function startsApps(): typeof startWs {
  const running: Running[] = [];
  after(() => Promise.all(running.map(r => r.app.close())));
  return async (...args) => {
    const r = await startWs(...args);
    running.push(r);
    return r;
  };
}

export async function startWs(
  options: WebSocketPluginOptions,
  setup: (app: Application, plugin: WebSocketPlugin) => void
): Promise<Running> {
  const app = createApp();
  const plugin = new WebSocketPlugin(options);
  plugin.install(app);
  setup(app, plugin);
  const server = app.listen(0, '127.0.0.1');
  if (!server.listening) await new Promise(resolve => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  return { app, plugin, port, url: path => `ws://127.0.0.1:${port}${path}` };
}

export interface Client {
  ws: WebSocket;
  /** Resolves with the next message (text as string, binary as Buffer). */
  next(): Promise<string | Buffer>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a `ws` client and buffers its messages from the start. */
export function open(url: string, options?: WebSocket.ClientOptions): Promise<Client> {
  const ws = new WebSocket(url, options);
  const queue: (string | Buffer)[] = [];
  const waiters: ((m: string | Buffer) => void)[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const m = isBinary ? data : data.toString('utf8');
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const closed = new Promise<{ code: number; reason: string }>(resolve =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }))
  );
  const client: Client = {
    ws,
    next: () => {
      const m = queue.shift();
      if (m !== undefined) return Promise.resolve(m);
      return new Promise(resolve => waiters.push(resolve));
    },
    closed,
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)));
  });
}

/** Status of a refused ws upgrade (rejects if it was accepted). */
export function refusedStatus(url: string, options?: WebSocket.ClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('upgrade was accepted'));
    });
    ws.once('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    ws.once('error', () => {});
  });
}

/** A raw TCP client: sends exact bytes, reads the HTTP response head and then unmasked server frames. */
export class RawClient {
  readonly socket: Socket;
  /** Bytes not yet handed to the frame reader (the HTTP head, then what arrived since the last frame() call). */
  private buf = Buffer.alloc(0);
  private headDone = false;
  private readonly reader = new FrameReader();
  private readonly frames: Frame[] = [];
  private wake: (() => void) | undefined;
  ended = false;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.poke();
    });
    socket.on('error', () => {});
    this.closed = new Promise(resolve =>
      socket.on('close', () => {
        this.ended = true;
        this.poke();
        resolve();
      })
    );
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private waitData(): Promise<void> {
    if (this.ended) return Promise.reject(new Error('connection closed'));
    return new Promise(resolve => (this.wake = resolve));
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The HTTP response head (status line and headers) as text. */
  async head(): Promise<{ status: number; text: string }> {
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end !== -1) {
        const text = this.buf.subarray(0, end).toString('latin1');
        this.buf = this.buf.subarray(end + 4);
        this.headDone = true;
        return { status: Number(text.split(' ')[1]), text };
      }
      await this.waitData();
    }
  }

  /** Everything until the server closes the connection (for HTTP error bodies). */
  async rest(): Promise<string> {
    await this.closed;
    return this.buf.toString('utf8');
  }

  /** The next server frame, or undefined when the connection ended. */
  async frame(): Promise<Frame | undefined> {
    if (!this.headDone) throw new Error('read the head first');
    for (;;) {
      if (this.buf.length > 0) {
        this.frames.push(...this.reader.push(this.buf));
        this.buf = Buffer.alloc(0);
      }
      const f = this.frames.shift();
      if (f) return f;
      if (this.ended) return undefined;
      await this.waitData().catch(() => undefined);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A valid opening handshake for `path`, with header overrides (value null removes a header). */
export function handshake(
  path: string,
  overrides: Record<string, string | null> = {},
  method = 'GET'
): string {
  const headers: Record<string, string | null> = {
    Host: 'localhost',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': KEY,
    'Sec-WebSocket-Version': '13',
    ...overrides,
  };
  let text = `${method} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) if (v !== null) text += `${k}: ${v}\r\n`;
  return text + '\r\n';
}

/** Connects raw, sends a handshake (plus optional extra bytes in the same write), returns client + status. */
export async function rawUpgrade(
  port: number,
  path: string,
  overrides: Record<string, string | null> = {},
  extra?: Buffer,
  method = 'GET'
): Promise<{ client: RawClient; status: number; text: string }> {
  const client = await RawClient.connect(port);
  const hs = Buffer.from(handshake(path, overrides, method), 'latin1');
  client.write(extra ? Buffer.concat([hs, extra]) : hs);
  const { status, text } = await client.head();
  return { client, status, text };
}

/** Close frame payload -> code and reason. */
export function closeInfo(frame: Frame | undefined): { code: number; reason: string } | undefined {
  if (!frame || frame.opcode !== 8) return undefined;
  if (frame.payload.length < 2) return { code: 1005, reason: '' };
  return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString('utf8') };
}

/** Resolves with the first value passed to the returned callback. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>(r => (resolve = r));
  return { promise, resolve };
}
