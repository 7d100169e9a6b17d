// Hostile handshakes: slow headers, oversized / too many headers, malformed Host and targets, connection limit, idle upgraded sockets.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createApp, WebSocketPlugin } from '../../src/index.js';
import type { AddressInfo } from 'node:net';
import { delay, echoServer, goodClient, rawStatus, upgradeRequest, type EchoServer } from './helpers.js';

describe('hostile handshakes', () => {
  let server: EchoServer;
  let good: Awaited<ReturnType<typeof goodClient>>;

  before(async () => {
    server = await echoServer(
      {},
      { headersTimeout: 1000, requestTimeout: 1500, keepAliveTimeout: 500, connectionsCheckingInterval: 100 }
    );
    good = await goodClient(server.port);
  });
  after(async () => {
    await good.close();
    await server.app.close();
  });

  it('cuts off headers trickled a byte at a time with 408 (headersTimeout)', async () => {
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET /echo HTTP/1.1\r\nHost: x\r\n');
    const timer = setInterval(() => socket.write('X'), 200);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    // Waits for the outcome; the test runner's timeout is the safety net.
    await new Promise(resolve => socket.once('close', resolve));
    clearInterval(timer);
    assert.match(text, /^HTTP\/1\.1 408 /);
    await good.check();
  });

  it('refuses oversized headers with 431', async () => {
    const status = await rawStatus(server.port, upgradeRequest('/echo', `X-Big: ${'a'.repeat(20_000)}\r\n`));
    assert.match(status, /^HTTP\/1\.1 431 /);
    await good.check();
  });

  it('refuses an upgrade whose Upgrade header was dropped by the header-count limit with 431', async () => {
    const many = Array.from({ length: 1200 }, (_, i) => `h${i}:\r\n`).join('');
    const status = await rawStatus(server.port, upgradeRequest('/echo', many));
    assert.match(status, /^HTTP\/1\.1 431 /);
    await good.check();
  });

  it('answers malformed Host headers and request targets without throwing', async () => {
    const cases: [string, string, RegExp][] = [
      ['/echo', 'a:b:c', /^HTTP\/1\.1 101 /], // Host is not used for routing
      ['//x%zz', 'h', /^HTTP\/1\.1 404 /],
      ['/echo%zz', 'h', /^HTTP\/1\.1 404 /],
      ['*', 'h', /^HTTP\/1\.1 400 /],
      ['http://h/echo', 'h', /^HTTP\/1\.1 101 /], // absolute-form
      ['http://[bad/echo', 'h', /^HTTP\/1\.1 400 /],
    ];
    for (const [target, host, expected] of cases) {
      assert.match(await rawStatus(server.port, upgradeRequest(target, '', host)), expected, target);
    }
    await good.check();
  });

  it('answers pathological token lists (linear-time header parsing)', async () => {
    const extra = `Sec-WebSocket-Protocol: ${'a,'.repeat(6000)}\r\n` + `X-Pad: ${' ,'.repeat(1000)}\r\n`;
    assert.match(await rawStatus(server.port, upgradeRequest('/echo', extra)), /^HTTP\/1\.1 400 /);
    const conn = `Connection: ${'keep-alive, '.repeat(1000)}Upgrade\r\n`;
    const req =
      `GET /echo HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n${conn}` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    assert.match(await rawStatus(server.port, req), /^HTTP\/1\.1 101 /);
    await good.check();
  });

  it('keeps an upgraded socket open past requestTimeout, headersTimeout and keepAliveTimeout', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/echo`);
    await new Promise(resolve => ws.once('open', resolve));
    let closed = false;
    ws.once('close', () => (closed = true));
    await delay(2500); // idle longer than every HTTP timeout of this app (checked every 100 ms)
    assert.equal(closed, false);
    const reply = new Promise<string>(resolve => ws.once('message', (d: Buffer) => resolve(d.toString())));
    ws.send('still here');
    assert.equal(await reply, 'still here');
    ws.close();
    await new Promise(resolve => ws.once('close', resolve));
    await good.check();
  });
});

describe('maxConnections under concurrent upgrades', () => {
  it('500 concurrent upgrades with a slow async verifyClient: exactly maxConnections get 101, the rest 503', async () => {
    const max = 50;
    const app = createApp();
    const plugin = new WebSocketPlugin({
      heartbeatMs: 0,
      maxConnections: max + 1, // one slot for the good client
      verifyClient: () => delay(200).then(() => true),
    });
    app.register(plugin);
    app.ws('/echo', socket => socket.onMessage(data => void socket.send(data)));
    const server = app.listen(0, '127.0.0.1');
    await new Promise(resolve => server.once('listening', resolve));
    const port = (server.address() as AddressInfo).port;
    const good = await goodClient(port);
    const sockets: ReturnType<typeof connect>[] = [];
    const statuses = await Promise.all(
      Array.from(
        { length: 500 },
        () =>
          new Promise<string>(resolve => {
            const socket = connect(port, '127.0.0.1');
            sockets.push(socket);
            let text = '';
            socket.on('error', () => resolve('error'));
            socket.on('data', (chunk: Buffer) => {
              text += chunk.toString('latin1');
              if (text.includes('\r\n')) resolve(text.slice(9, 12));
            });
            socket.on('close', () => resolve(text.slice(9, 12) || 'closed'));
            socket.write(upgradeRequest('/echo'));
          })
      )
    );
    const count = (s: string): number => statuses.filter(x => x === s).length;
    assert.equal(count('101'), max);
    assert.equal(count('503'), 500 - max);
    assert.equal(plugin.getStats().connections, max + 1);
    await good.check();
    for (const s of sockets) s.destroy();
    await good.close();
    await app.close();
  });
});
