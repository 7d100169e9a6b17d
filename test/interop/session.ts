// One small client-session interface that every interop client (ws, Node's WebSocket, Chromium) implements.
import WebSocket from 'ws';
import { WebSocket as UndiciWebSocket } from 'undici';

export type Message = { type: 'text'; data: string } | { type: 'binary'; data: Buffer };

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface ClientSession {
  /** The negotiated extensions as the client reports them (Sec-WebSocket-Extensions of the response). */
  readonly extensions: string;
  send(message: Message): Promise<void>;
  /** The next message from the server. */
  next(): Promise<Message>;
  close(code: number, reason: string): Promise<void>;
  /** Resolves when the client sees the connection closed, with the code and reason it received. */
  closed(): Promise<CloseInfo>;
}

export type OpenSession = (url: string) => Promise<ClientSession>;

/** Fails with a clear message if `p` does not settle in time: a safety net, not a timing assertion. */
export async function within<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Queues incoming messages and close so tests can await them in order. */
class Inbox {
  private readonly messages: Message[] = [];
  private waiter: ((m: Message) => void) | undefined;
  private closeInfo: CloseInfo | undefined;
  private closeWaiters: ((c: CloseInfo) => void)[] = [];
  message(m: Message): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w) w(m);
    else this.messages.push(m);
  }
  next(): Promise<Message> {
    const m = this.messages.shift();
    if (m) return Promise.resolve(m);
    return new Promise(resolve => (this.waiter = resolve));
  }
  close(c: CloseInfo): void {
    this.closeInfo = c;
    for (const w of this.closeWaiters) w(c);
    this.closeWaiters = [];
  }
  closed(): Promise<CloseInfo> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise(resolve => this.closeWaiters.push(resolve));
  }
}

/** The `ws` package's client (offers permessage-deflate by default, like browsers). */
export const openWsClient: OpenSession = url =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const inbox = new Inbox();
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      inbox.message(isBinary ? { type: 'binary', data: buf } : { type: 'text', data: buf.toString('utf8') });
    });
    ws.on('close', (code, reason) => inbox.close({ code, reason: reason.toString('utf8') }));
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        get extensions() {
          return ws.extensions;
        },
        send: m =>
          new Promise((res, rej) =>
            ws.send(m.data, { binary: m.type === 'binary' }, e => (e ? rej(e) : res()))
          ),
        next: () => inbox.next(),
        close: (code, reason) => {
          ws.close(code, reason);
          return Promise.resolve();
        },
        closed: () => inbox.closed(),
      })
    );
  });

/** The WHATWG WebSocket of Node itself: global on Node 22+, the undici package's on Node 20. */
export const NodeWebSocket: typeof UndiciWebSocket =
  (globalThis as { WebSocket?: typeof UndiciWebSocket }).WebSocket ?? UndiciWebSocket;

export const nodeWebSocketName =
  (globalThis as { WebSocket?: unknown }).WebSocket !== undefined ? 'global WebSocket' : 'undici WebSocket';

export const openNodeWebSocket: OpenSession = url =>
  new Promise((resolve, reject) => {
    const ws = new NodeWebSocket(url);
    ws.binaryType = 'arraybuffer';
    const inbox = new Inbox();
    ws.addEventListener('message', ev => {
      const data = ev.data as unknown;
      inbox.message(
        typeof data === 'string'
          ? { type: 'text', data }
          : { type: 'binary', data: Buffer.from(data as ArrayBuffer) }
      );
    });
    ws.addEventListener('close', ev => inbox.close({ code: ev.code, reason: ev.reason }));
    ws.addEventListener('error', () => reject(new Error('WebSocket error before open')));
    ws.addEventListener('open', () =>
      resolve({
        get extensions() {
          return ws.extensions;
        },
        send: m => {
          ws.send(m.data);
          return Promise.resolve();
        },
        next: () => inbox.next(),
        close: (code, reason) => {
          ws.close(code, reason);
          return Promise.resolve();
        },
        closed: () => inbox.closed(),
      })
    );
  });
