// Headless Chromium over https:// with HTTP/2: the page and several wss:// sockets share one TLS connection (RFC 8441).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Http2ServerRequest, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { createDemo } from '../../demo/app.js';
import type { Application, WSConnection } from '../../src/index.js';
import { chromiumSkipReason, launchChromium, type Browser } from '../support/chromium.js';
import { startHttp2App, testCert, type Http2App } from '../support/http2.js';

/** Plain browser JavaScript: opens sockets, keeps what each receives, sends text or bytes. */
const PAGE_SCRIPT = `
const sockets = [];
window.openSocket = path => new Promise((resolve, reject) => {
  const ws = new WebSocket('wss://' + location.host + path);
  ws.binaryType = 'arraybuffer';
  const s = { ws, inbox: [], waiters: [] };
  ws.onmessage = e => {
    const m = typeof e.data === 'string' ? 'text:' + e.data : 'bytes:' + Array.from(new Uint8Array(e.data)).join(',');
    const w = s.waiters.shift();
    if (w) w(m); else s.inbox.push(m);
  };
  ws.onerror = () => reject(new Error('WebSocket error before open'));
  ws.onopen = () => { sockets.push(s); resolve(sockets.length - 1); };
});
window.next = i => { const s = sockets[i]; return s.inbox.length ? s.inbox.shift() : new Promise(r => s.waiters.push(r)); };
window.sendText = (i, text) => sockets[i].ws.send(text);
window.sendBytes = (i, bytes) => sockets[i].ws.send(new Uint8Array(bytes));
window.closeAll = () => Promise.all(sockets.map(s => new Promise(r => { s.ws.onclose = e => r(e.code); s.ws.close(1000); })));
`;
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>h2</title></head><body><script>${PAGE_SCRIPT}</script></body></html>`;

interface PageApi {
  openSocket(path: string): Promise<number>;
  next(i: number): Promise<string>;
  sendText(i: number, text: string): void;
  sendBytes(i: number, bytes: number[]): void;
  closeAll(): Promise<number[]>;
}
const api = (page: Page) => ({
  open: (path: string) => page.evaluate(p => (globalThis as unknown as PageApi).openSocket(p), path),
  next: (i: number) => page.evaluate(n => (globalThis as unknown as PageApi).next(n), i),
  sendText: (i: number, t: string) =>
    page.evaluate(([n, x]) => (globalThis as unknown as PageApi).sendText(n, x), [i, t] as const),
  sendBytes: (i: number, b: number[]) =>
    page.evaluate(([n, x]) => (globalThis as unknown as PageApi).sendBytes(n, x), [i, b] as const),
  closeAll: () => page.evaluate(() => (globalThis as unknown as PageApi).closeAll()),
});

const skip = chromiumSkipReason('HTTP/2 WebSocket Chromium suite');

describe('Chromium: WebSockets over HTTP/2 on the page origin', { skip }, () => {
  let browser: Browser;
  let server: Http2App;
  /** The HTTP/2 session (TCP+TLS connection) of each page request and of each extended CONNECT stream. */
  const pageSessions = new Set<unknown>();
  const socketSessions = new Set<unknown>();
  const pageProtocols: string[] = [];

  before(async () => {
    server = await startHttp2App(app => {
      app.get('/', ctx => {
        pageProtocols.push(ctx.req.httpVersion);
        pageSessions.add((ctx.req as unknown as Http2ServerRequest).stream.session);
        ctx.res.send(PAGE);
      });
      app.ws('/room/:name', (socket: WSConnection) => {
        socket.join(socket.params.name);
        socket.onMessage(m => {
          if (typeof m === 'string' && m.startsWith('all:')) app.wsBroadcast(m.slice(4), socket.params.name);
          else void socket.send(m);
        });
      });
    });
    server.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      if (headers[':method'] === 'CONNECT') socketSessions.add(stream.session);
    });
    browser = await launchChromium(undefined, ['--ignore-certificate-errors']);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads the page over h2, then text, binary, rooms and broadcasts over h2 streams of the same connection', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.origin}/`);
    assert.deepEqual(pageProtocols, ['2.0'], 'the page came over HTTP/2');
    const p = api(page);
    const red = [await p.open('/room/red'), await p.open('/room/red'), await p.open('/room/red')];
    const blue = await p.open('/room/blue');
    const stats = server.plugin!.getStats();
    assert.equal(stats.connections, 4);
    assert.deepEqual(
      stats.http2,
      { connections: 4, connectionsOpened: 4 },
      'every socket is an HTTP/2 stream'
    );
    assert.equal(socketSessions.size, 1, 'the four sockets share one TCP+TLS connection');
    assert.deepEqual([...socketSessions], [...pageSessions], '... the one that brought the page');

    await p.sendText(red[0], 'hello');
    assert.equal(await p.next(red[0]), 'text:hello');
    await p.sendBytes(blue, [0, 1, 2, 254, 255]);
    assert.equal(await p.next(blue), 'bytes:0,1,2,254,255');

    await p.sendText(red[1], 'all:red news');
    for (const i of red) assert.equal(await p.next(i), 'text:red news');
    await p.sendText(blue, 'ping');
    assert.equal(await p.next(blue), 'text:ping', 'the blue socket got no red broadcast before its echo');

    assert.deepEqual(await p.closeAll(), [1000, 1000, 1000, 1000]);
    await page.close();
  });
});

describe('Chromium: the demo over HTTPS + HTTP/2 (what HTTPS=1 npm start serves)', { skip }, () => {
  it("shows that the chat's socket runs over HTTP/2, and over HTTP/1.1 on a plain server", async () => {
    const browser = await launchChromium(undefined, ['--ignore-certificate-errors']);
    const apps: Application[] = [];
    try {
      for (const http2 of [true, false]) {
        const { app } = createDemo({ statsIntervalMs: 200 });
        apps.push(app);
        const server = http2
          ? app.listen({ port: 0, host: '127.0.0.1', tls: testCert(), http2: true })
          : app.listen(0, '127.0.0.1');
        await new Promise(resolve => server.once('listening', resolve));
        const { port } = server.address() as AddressInfo;
        const page = await browser.context.newPage();
        await page.goto(`${http2 ? 'https' : 'http'}://127.0.0.1:${port}/`);
        const transport = http2 ? 'HTTP/2' : 'HTTP/1.1';
        await page.locator(`#status[data-transport="${transport}"]`).waitFor({ timeout: 20_000 });
        assert.equal(await page.locator('#status').getAttribute('title'), `WebSocket over ${transport}`);
        await page.getByText(`Your socket runs over ${transport}.`).waitFor({ timeout: 20_000 });
        await page.close();
      }
    } finally {
      await browser.close();
      await Promise.all(apps.map(app => app.close()));
    }
  });
});
