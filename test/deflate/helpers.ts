// Helpers for the deflate tests: an app with the plugin on 127.0.0.1:0, a ws client, message inboxes.
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import {
  createApp,
  WebSocketPlugin,
  type Application,
  type WebSocketPluginOptions,
} from '../../src/index.js';

export interface Server {
  app: Application;
  plugin: WebSocketPlugin;
  port: number;
  url(path?: string): string;
  close(): Promise<void>;
}

export async function startEcho(options: WebSocketPluginOptions): Promise<Server> {
  const app = createApp();
  const plugin = new WebSocketPlugin(options);
  plugin.install(app);
  app.ws('/echo', socket => socket.onMessage(m => void socket.send(m)));
  const server = app.listen(0, '127.0.0.1');
  if (!server.listening) await new Promise(resolve => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  return { app, plugin, port, url: (p = '/echo') => `ws://127.0.0.1:${port}${p}`, close: () => app.close() };
}

export class Client {
  readonly inbox: (string | Buffer)[] = [];
  private wake: (() => void) | undefined;
  headers: Record<string, string | string[] | undefined> = {};

  constructor(readonly ws: WebSocket) {
    ws.on('upgrade', res => (this.headers = res.headers));
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.from(data as Buffer);
      this.inbox.push(isBinary ? buf : buf.toString('utf8'));
      this.wake?.();
    });
  }

  static async open(
    url: string,
    options: WebSocket.ClientOptions = {},
    protocols?: string[]
  ): Promise<Client> {
    const client = new Client(new WebSocket(url, protocols, options));
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', resolve);
      client.ws.once('error', reject);
    });
    return client;
  }

  async next(): Promise<string | Buffer> {
    while (this.inbox.length === 0) await new Promise<void>(r => (this.wake = r));
    return this.inbox.shift()!;
  }

  closed(): Promise<number> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve(-1);
    return new Promise(r => this.ws.once('close', code => r(code)));
  }

  async close(): Promise<void> {
    const done = this.closed();
    this.ws.close();
    await done;
  }
}
