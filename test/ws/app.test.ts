// Integration tests of wsUse, wsBroadcast, getStats, the HTTP context fields and app.close().
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { request } from '../core/helpers.js';
import { closeInfo, open, rawUpgrade, refusedStatus, startWs, startsApps, until } from './helpers.js';

const start = startsApps();

describe('wsUse', () => {
  it('runs in order with a real next, then the handler', async () => {
    const order: string[] = [];
    const r = await start({}, app => {
      app.wsUse((_s, req, next) => {
        order.push(`a:${req.url ?? ''}`);
        next();
        order.push('a:after');
      });
      app.wsUse(async (_s, _req, next) => {
        order.push('b');
        await Promise.resolve();
        next();
        next(); // a second call is ignored
      });
      app.ws('/m', s => {
        order.push('handler');
        s.send(order.join(','));
      });
    });
    const c = await open(r.url('/m?q'));
    assert.equal(await c.next(), 'a:/m?q,b,a:after,handler');
    c.ws.close();
    await c.closed;
  });

  it('a middleware that closes with 1008 ends the chain; the client sees 1008 and the reason', async () => {
    let handled = false;
    const r = await start({}, app => {
      app.wsUse((s, _req, next) => {
        if (new URL(s.url, 'http://x').searchParams.get('token') !== 'ok')
          return s.close(1008, 'Authentication required');
        next();
      });
      app.ws('/', () => {
        handled = true;
      });
    });
    const c = await open(r.url('/'));
    assert.deepEqual(await c.closed, { code: 1008, reason: 'Authentication required' });
    assert.equal(handled, false);
    const ok = await open(r.url('/?token=ok'));
    await until(() => handled);
    ok.ws.close();
    await ok.closed;
  });

  it('a throwing or rejecting middleware closes with 1011', async () => {
    const r = await start({}, app => {
      app.wsUse((s, _req, next) => {
        if (s.url === '/throw') throw new Error('sync boom');
        if (s.url === '/reject') return Promise.reject(new Error('async boom'));
        next();
      });
      app.ws('/*', () => {});
    });
    for (const path of ['/throw', '/reject']) {
      const c = await open(r.url(path));
      assert.equal((await c.closed).code, 1011, path);
    }
  });
});

describe('wsBroadcast', () => {
  it('reaches room members only, or everyone; text stays text, binary stays binary', async () => {
    const r = await start({}, app =>
      app.ws('/:room', s => {
        if (s.params.room !== 'none') s.join(s.params.room);
        s.send('ready');
      })
    );
    const a1 = await open(r.url('/a'));
    const a2 = await open(r.url('/a'));
    const b = await open(r.url('/b'));
    const n = await open(r.url('/none'));
    const all = [a1, a2, b, n];
    for (const c of all) assert.equal(await c.next(), 'ready');

    r.app.wsBroadcast('to-a', 'a');
    r.app.wsBroadcast(Buffer.from([1, 2, 3]), 'b');
    r.app.wsBroadcast('to-nobody', 'empty');
    r.app.wsBroadcast(Buffer.from([7]));
    r.app.wsBroadcast('everyone');
    assert.equal(await a1.next(), 'to-a');
    assert.equal(await a2.next(), 'to-a');
    assert.deepEqual(await b.next(), Buffer.from([1, 2, 3]));
    for (const c of all) {
      assert.deepEqual(await c.next(), Buffer.from([7]));
      assert.equal(await c.next(), 'everyone');
    }
    assert.equal(r.plugin.broadcast('count', 'a'), 2);
    for (const c of all) c.ws.close();
    await Promise.all(all.map(c => c.closed));
  });
});

describe('getStats', () => {
  it('counts connections, rooms, messages, bytes, opened and refused by reason', async () => {
    const r = await start(
      { allowOrigins: ['https://ok.example'], verifyClient: req => req.url !== '/deny' },
      app =>
        app.ws('/*', s => {
          s.join('room');
          s.onMessage(m => void s.send(m));
        })
    );
    const base = r.plugin.getStats();
    assert.deepEqual(
      { ...base, adapter: undefined },
      {
        connections: 0,
        rooms: 0,
        messagesSent: 0,
        messagesReceived: 0,
        bytesSent: 0,
        bytesReceived: 0,
        messagesDropped: 0,
        connectionsOpened: 0,
        http2: { connections: 0, connectionsOpened: 0 },
        connectionsRefused: {
          path: 0,
          handshake: 0,
          origin: 0,
          limit: 0,
          verify: 0,
          timeout: 0,
          closing: 0,
          error: 0,
          clientLimit: 0,
        },
        protocolErrors: 0,
        adapter: undefined,
        limits: {
          messagesLimited: 0,
          connectionsLimited: 0,
          upgradesRefused: { maxConnections: 0, upgradesPerMinute: 0 },
          trackedKeys: 0,
        },
      }
    );
    const c = await open(r.url('/x'));
    c.ws.send('hello'); // 5 bytes + 6 header bytes from the client; 7 bytes back
    assert.equal(await c.next(), 'hello');
    let s = r.plugin.getStats();
    assert.equal(s.connections, 1);
    assert.equal(s.rooms, 1);
    assert.equal(s.messagesReceived, 1);
    assert.equal(s.messagesSent, 1);
    assert.equal(s.bytesReceived, 11);
    assert.equal(s.bytesSent, 7);
    assert.equal(s.connectionsOpened, 1);

    assert.equal(await refusedStatus(r.url('/deny')), 401);
    assert.equal(await refusedStatus(r.url('/x'), { origin: 'https://bad.example' }), 403);
    const bad = await rawUpgrade(r.port, '/x', { 'Sec-WebSocket-Version': '7' });
    assert.equal(bad.status, 426);
    bad.client.destroy();
    c.ws.close();
    await c.closed;
    await until(() => r.plugin.getStats().connections === 0);
    s = r.plugin.getStats();
    assert.equal(s.rooms, 0);
    assert.equal(s.connectionsOpened, 1);
    assert.deepEqual(s.connectionsRefused, {
      path: 0,
      handshake: 1,
      origin: 1,
      limit: 0,
      verify: 1,
      timeout: 0,
      closing: 0,
      error: 0,
      clientLimit: 0,
    });
  });
});

describe('HTTP routes next to the plugin', () => {
  it('ctx.isWebSocket is false and ctx.wsRooms is the room manager', async () => {
    const r = await start({}, app => {
      app.ws('/ws', s => s.join('lobby'));
      app.get('/info', ctx => {
        ctx.json({
          isWebSocket: ctx.isWebSocket,
          lobby: ctx.wsRooms.size('lobby'),
          has: ctx.wsRooms.has('lobby'),
        });
      });
    });
    const c = await open(r.url('/ws'));
    await until(() => r.plugin.rooms.has('lobby'));
    const res = await request(r.port, '/info');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { isWebSocket: false, lobby: 1, has: true });
    c.ws.close();
    await c.closed;
  });
});

describe('app.close()', () => {
  it('sends every peer 1001 and resolves', async () => {
    const r = await startWs({}, app => app.ws('/', () => {}));
    const a = await open(r.url('/'));
    const raw = await rawUpgrade(r.port, '/');
    const closing = r.app.close();
    assert.equal(closeInfo(await raw.client.frame())?.code, 1001);
    raw.client.destroy();
    assert.equal((await a.closed).code, 1001);
    await closing;
    assert.equal(r.plugin.getStats().connections, 0);
  });

  it('new upgrades during shutdown get 503', async () => {
    const r = await startWs({}, app => app.ws('/', () => {}));
    const raw = await rawUpgrade(r.port, '/');
    // plugin.close() is the part of app.close() that shuts the plugin down; the listener stays open here,
    // so a new upgrade reaches the plugin while the raw client (which never answers) keeps shutdown busy.
    const closing = r.plugin.close();
    assert.equal(closeInfo(await raw.client.frame())?.code, 1001);
    assert.equal(await refusedStatus(r.url('/')), 503);
    assert.equal(r.plugin.getStats().connectionsRefused.closing, 1);
    raw.client.destroy();
    await closing;
    await r.app.close();
  });

  it('leaves no timers behind: a process that closes the app exits by itself', async () => {
    const program = `
      import { createApp, WebSocketPlugin } from ${JSON.stringify(new URL('../../src/index.js', import.meta.url).href)};
      import WebSocket from 'ws';
      const app = createApp();
      new WebSocketPlugin({ heartbeatMs: 10, pongTimeoutMs: 20 }).install(app);
      app.ws('/', s => { s.join('r'); s.send('hi'); });
      const server = app.listen(0, '127.0.0.1', () => {
        const ws = new WebSocket('ws://127.0.0.1:' + server.address().port + '/');
        ws.on('message', () => app.close().then(() => console.log('closed')));
        ws.on('close', code => console.log('client', code));
      });`;
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', program], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.on('error', reject);
      const guard = setTimeout(() => child.kill(), 20_000);
      child.on('close', code => {
        clearTimeout(guard);
        resolve({ code, stdout });
      });
    });
    assert.equal(out.code, 0);
    assert.deepEqual(out.stdout.trim().split('\n').sort(), ['client 1001', 'closed']);
  });
});
