// listen(0), close() with idle keep-alive sockets, close hooks, onServer, onUpgrade dispatch and app.context.
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { createApp } from '../../src/index.js';
import { request, start } from './helpers.js';

describe('app lifecycle', () => {
  it('listen(0) picks a free port and serves', async () => {
    const app = createApp();
    app.get('/', ctx => ctx.json({ ok: true }));
    const port = await start(app);
    assert.ok(port > 0);
    const res = await request(port, '/');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { ok: true });
    await app.close();
  });

  it('listen(port, cb) calls back once listening', async () => {
    const app = createApp();
    let server: ReturnType<typeof app.listen> | undefined;
    await new Promise<void>(resolve => {
      server = app.listen(0, resolve);
    });
    assert.equal(server?.listening, true);
    assert.equal(app.server, server);
    await app.close();
    assert.equal(server?.listening, false);
  });

  it('close() ends an idle keep-alive connection and runs close hooks once', async () => {
    const app = createApp();
    const ran: string[] = [];
    app.onClose(() => {
      ran.push('a');
    });
    app.onClose(async () => {
      await Promise.resolve();
      ran.push('b');
    });
    app.get('/', ctx => ctx.json({ ok: true }));
    const port = await start(app);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const res = await request(port, '/', { agent });
    assert.equal(res.status, 200);
    const idle = Object.values(agent.freeSockets).flat()[0];
    assert.ok(idle, 'the agent kept an idle keep-alive socket');
    // The agent unrefs pooled sockets; keep this one ref'd so the test waits for its close.
    idle.ref();
    const socketClosed = new Promise(resolve => idle.once('close', resolve));
    assert.equal(app.closing, false);
    const first = app.close();
    assert.equal(app.close(), first, 'close() is idempotent');
    assert.equal(app.closing, true);
    await first;
    await socketClosed;
    assert.deepEqual(ran, ['a', 'b']);
    agent.destroy();
  });

  it('close() waits for an in-flight request to finish', async () => {
    const app = createApp();
    let release!: () => void;
    const gate = new Promise<void>(resolve => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>(resolve => (entered = resolve));
    app.get('/slow', async ctx => {
      entered();
      await gate;
      ctx.json({ done: true });
    });
    const port = await start(app);
    const pending = request(port, '/slow');
    await inside;
    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await new Promise(resolve => setImmediate(resolve));
    assert.equal(closed, false, 'close() still waits for the request');
    release();
    const res = await pending;
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { done: true });
    await closing;
  });

  it('close() before listen() still runs close hooks', async () => {
    const app = createApp();
    let ran = false;
    app.onClose(() => {
      ran = true;
    });
    await app.close();
    assert.equal(ran, true);
  });

  it('onServer hooks run when the server exists, and immediately afterwards', async () => {
    const app = createApp();
    const seen: unknown[] = [];
    app.onServer(s => seen.push(s));
    assert.equal(seen.length, 0);
    await start(app);
    app.onServer(s => seen.push(s));
    assert.deepEqual(seen, [app.server, app.server]);
    await app.close();
  });

  it('register() installs a plugin and rejects a duplicate name', () => {
    const app = createApp();
    let installed = 0;
    const plugin = { name: 'p', install: () => void installed++ };
    app.register(plugin);
    assert.equal(installed, 1);
    assert.throws(() => app.register(plugin), /already registered/);
  });

  it('app.context properties are visible on every ctx, and not across apps', async () => {
    const app = createApp();
    const other = createApp();
    app.context.isWebSocket = false;
    app.context.wsRooms = { kind: 'manager' };
    app.get('/', ctx => {
      const c = ctx as unknown as Record<string, unknown>;
      ctx.json({ isWebSocket: c.isWebSocket, rooms: c.wsRooms });
    });
    const port = await start(app);
    const res = await request(port, '/');
    assert.deepEqual(res.json(), { isWebSocket: false, rooms: { kind: 'manager' } });
    assert.equal(other.context.isWebSocket, undefined);
    await app.close();
  });
});

function rawUpgrade(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
      );
    });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('onUpgrade dispatch', () => {
  it('offers upgrades to handlers in order; an unclaimed one gets an HTTP 404 and a closed socket', async () => {
    const app = createApp();
    const offered: string[] = [];
    app.onUpgrade(req => {
      offered.push(`first ${req.url}`);
      return false;
    });
    app.onUpgrade((req, socket) => {
      offered.push(`second ${req.url}`);
      if (req.url !== '/ws') return false;
      socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    });
    const port = await start(app);
    const claimed = await rawUpgrade(port, '/ws');
    assert.match(claimed, /^HTTP\/1\.1 418 /);
    const unclaimed = await rawUpgrade(port, '/nope');
    assert.match(unclaimed, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.deepEqual(offered, ['first /ws', 'second /ws', 'first /nope', 'second /nope']);
    await app.close();
  });

  it('a handler that throws yields a 500 and the server keeps serving', async () => {
    const app = createApp();
    app.onUpgrade(() => {
      throw new Error('boom in upgrade');
    });
    app.get('/', ctx => ctx.json({ ok: true }));
    const port = await start(app);
    const reply = await rawUpgrade(port, '/ws');
    assert.match(reply, /^HTTP\/1\.1 500 /);
    assert.doesNotMatch(reply, /boom/);
    assert.equal((await request(port, '/')).status, 200);
    await app.close();
  });
});
