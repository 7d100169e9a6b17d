// Upgrade requests run the app's middleware chain: auth refuses with a real HTTP response, rewrites, hang-ups.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { Context, Middleware } from '../../src/index.js';
import { request } from '../core/helpers.js';
import { within } from '../interop/session.js';
import { EARLY_DATA_LIMIT } from '../../src/core/upgrade.js';
import { RawClient, clientFrame, handshake, open, rawUpgrade, startsApps, until } from './helpers.js';

const start = startsApps();

/** What a middleware saw of one request, recorded server-side and checked by the test. */
interface Seen {
  path: string;
  isWebSocket: boolean;
  params: Record<string, string>;
  token: unknown;
}

function recorder(seen: Seen[]): Middleware {
  return async (ctx: Context, next) => {
    seen.push({
      path: ctx.path,
      isWebSocket: ctx.isWebSocket,
      params: { ...ctx.params },
      token: ctx.query.token,
    });
    await next();
  };
}

/** Shared auth: one middleware for HTTP and WebSocket alike. */
const auth: Middleware = async (ctx, next) => {
  const token = ctx.query.token;
  if (typeof token !== 'string' || !token.startsWith('valid-')) ctx.throw(401, 'Sign in first');
  ctx.state.user = token.slice('valid-'.length);
  await next();
};

describe('app.use runs for upgrade requests', () => {
  it('refuses an upgrade with a real 401 response (no 101) and lets a good one through', async () => {
    const seen: Seen[] = [];
    const r = await start({ heartbeatMs: 0 }, app => {
      app.use(recorder(seen));
      app.use(auth);
      app.ws('/chat/:room', socket => socket.send(`hello ${socket.params.room}`));
      app.get('/me', ctx => ctx.json({ user: ctx.state.user }));
    });

    const refused = await rawUpgrade(r.port, '/chat/lobby');
    assert.equal(refused.status, 401);
    assert.doesNotMatch(refused.text, /101|Upgrade: websocket/i);
    assert.match(refused.text, /\r\nConnection: close/i);
    assert.deepEqual(JSON.parse(await refused.client.rest()), {
      error: { status: 401, message: 'Sign in first' },
    });
    assert.equal(r.plugin.getStats().connectionsOpened, 0);

    const c = await open(r.url('/chat/lobby?token=valid-ada'));
    assert.equal(await c.next(), 'hello lobby');
    c.ws.close();
    await c.closed;

    assert.equal((await request(r.port, '/me')).status, 401);
    assert.deepEqual((await request(r.port, '/me?token=valid-bob')).json(), { user: 'bob' });

    assert.deepEqual(seen, [
      { path: '/chat/lobby', isWebSocket: true, params: { room: 'lobby' }, token: undefined },
      { path: '/chat/lobby', isWebSocket: true, params: { room: 'lobby' }, token: 'valid-ada' },
      { path: '/me', isWebSocket: false, params: {}, token: undefined },
      { path: '/me', isWebSocket: false, params: {}, token: 'valid-bob' },
    ]);
  });

  it('a middleware that rewrites the URL changes the WebSocket route', async () => {
    const r = await start({ heartbeatMs: 0 }, app => {
      app.use(async (ctx, next) => {
        if (ctx.path === '/legacy-chat') ctx.url = '/chat/general?from=legacy';
        await next();
      });
      app.ws('/chat/:room', socket => socket.send(`room ${socket.params.room} ${socket.url}`));
    });
    const c = await open(r.url('/legacy-chat'));
    assert.equal(await c.next(), 'room general /chat/general?from=legacy');
    c.ws.close();
    await c.closed;
  });

  it('an upgrade to a path without an app.ws() route is a 404 after the middleware ran', async () => {
    const seen: Seen[] = [];
    const r = await start({ heartbeatMs: 0 }, app => {
      app.use(recorder(seen));
      app.ws('/ws', () => undefined);
    });
    const { status } = await rawUpgrade(r.port, '/elsewhere');
    assert.equal(status, 404);
    assert.equal(seen.length, 1);
    assert.equal(r.plugin.getStats().connectionsRefused.path, 1);
  });

  it('a middleware may answer an upgrade request itself (a redirect), and no 101 follows', async () => {
    const r = await start({ heartbeatMs: 0 }, app => {
      app.use(ctx => {
        ctx.res.statusCode = 307;
        ctx.res.setHeader('Location', '/ws2');
        ctx.res.end();
      });
      app.ws('/ws', () => undefined);
    });
    const reply = await rawUpgrade(r.port, '/ws');
    assert.equal(reply.status, 307);
    assert.match(reply.text, /\r\nLocation: \/ws2/i);
    await within(reply.client.closed, 'the server closing the socket');
  });
});

describe('what an upgrade builds (issue 12: only what it uses)', () => {
  it('a middleware that touches ctx.res and calls next() at once: 101 without its header, early frames kept', async () => {
    const r = await start({ heartbeatMs: 0 }, app => {
      app.use((ctx, next) => {
        // The response is made here, on the upgrade socket; the protocol takes the socket right after.
        ctx.res.setHeader('X-Not-On-The-101', 'yes');
        return next();
      });
      app.ws('/', socket => socket.onMessage(data => socket.send(`echo ${String(data)}`)));
    });
    const { client, status, text } = await rawUpgrade(r.port, '/', {}, clientFrame(0x1, 'early bird'));
    assert.equal(status, 101);
    assert.doesNotMatch(text, /X-Not-On-The-101/i);
    const frame = await client.frame();
    assert.equal(frame?.payload.toString(), 'echo early bird');
    client.destroy();
  });

  it('a middleware that awaits before next(): the socket is watched meanwhile, frames sent early are kept', async () => {
    const r = await start({ heartbeatMs: 0 }, app => {
      app.use(async (_ctx, next) => {
        await new Promise(resolve => setTimeout(resolve, 50));
        await next();
      });
      app.ws('/', socket => socket.onMessage(data => socket.send(`echo ${String(data)}`)));
    });
    const client = await RawClient.connect(r.port);
    client.write(Buffer.from(handshake('/'), 'latin1'));
    // Sent while the middleware waits (RFC 6455 4.1 says wait; a little slack is allowed).
    client.write(clientFrame(0x1, 'while waiting'));
    const { status } = await client.head();
    assert.equal(status, 101);
    assert.equal((await client.frame())?.payload.toString(), 'echo while waiting');
    client.destroy();
  });
});

describe('an upgrade whose middleware never settles', () => {
  /** An app whose middleware hangs on /hang; returns the server-side sockets it accepted. */
  async function hangingApp() {
    const sockets: Socket[] = [];
    const r = await start({ heartbeatMs: 0 }, app => {
      app.use(async (ctx, next) => {
        if (ctx.path === '/hang') await new Promise(() => {});
        await next();
      });
      app.ws('/hang', () => undefined);
      app.ws('/ok', socket => socket.send('ok'));
    });
    r.app.server?.on('connection', (s: Socket) => sockets.push(s));
    return { r, sockets };
  }

  it('does not hold the socket once the client hangs up (FIN)', async () => {
    const { r, sockets } = await hangingApp();
    const client = await RawClient.connect(r.port);
    client.write(handshake('/hang'));
    await until(() => sockets.length === 1);
    client.socket.end();
    await within(
      until(() => sockets[0].destroyed),
      'the server freeing the socket'
    );
    await within(client.closed, 'the client seeing the close');
    // The server still serves.
    const c = await open(r.url('/ok'));
    assert.equal(await c.next(), 'ok');
    c.ws.terminate();
  });

  it(`closes a socket that sends more than ${EARLY_DATA_LIMIT} bytes before any answer`, async () => {
    const { r, sockets } = await hangingApp();
    const client = await RawClient.connect(r.port);
    client.write(handshake('/hang'));
    client.write(Buffer.alloc(EARLY_DATA_LIMIT, 1));
    await until(() => sockets.length === 1);
    assert.equal(sockets[0].destroyed, false, 'exactly the limit is still held');
    client.write(Buffer.alloc(1, 1));
    await within(client.closed, 'the server closing the socket');
  });

  it('app.close() does not wait for it', async () => {
    const { r, sockets } = await hangingApp();
    const client = await RawClient.connect(r.port);
    client.write(handshake('/hang'));
    await until(() => sockets.length === 1);
    await within(r.app.close(), 'close()', 20_000);
    assert.equal(sockets[0].destroyed, true);
    await within(client.closed, 'the client seeing the close');
  });
});

describe('the upgrade happens at the end of the chain', () => {
  it('the route handler gets ctx: ctx.state.user from app.use, ctx.params, ctx.ws === socket', async () => {
    const r = await start({ heartbeatMs: 0 }, app => {
      app.use(auth);
      app.ws('/chat/:room', (socket, ctx) => {
        socket.send(
          JSON.stringify({
            user: ctx.state.user,
            room: ctx.params.room,
            same: ctx.ws === socket,
            isWebSocket: ctx.isWebSocket,
          })
        );
      });
    });
    const c = await open(r.url('/chat/js?token=valid-ada'));
    assert.deepEqual(JSON.parse(String(await c.next())), {
      user: 'ada',
      room: 'js',
      same: true,
      isWebSocket: true,
    });
    c.ws.close();
    await c.closed;
  });

  it('order: app.use, then verifyClient, then 101, then wsUse (ctx.ws set), then the handler', async () => {
    const order: string[] = [];
    const r = await start(
      {
        heartbeatMs: 0,
        verifyClient: req => {
          order.push('verifyClient');
          return !req.url?.includes('deny');
        },
      },
      app => {
        app.use(async (ctx, next) => {
          order.push(`use ws=${ctx.ws === undefined ? 'unset' : 'set'}`);
          await next();
        });
        app.wsUse((socket, _req, next) => {
          order.push(`wsUse readyState=${socket.readyState}`);
          next();
        });
        app.ws('/ws', (socket, ctx) => {
          order.push(`handler ws=${ctx.ws === socket ? 'set' : 'unset'}`);
          socket.send('in');
        });
      }
    );
    const c = await open(r.url('/ws'));
    assert.equal(await c.next(), 'in');
    assert.deepEqual(order, ['use ws=unset', 'verifyClient', 'wsUse readyState=0', 'handler ws=set']);
    c.ws.close();
    await c.closed;

    order.length = 0;
    const denied = await rawUpgrade(r.port, '/ws?deny');
    assert.equal(denied.status, 401);
    assert.deepEqual(order, ['use ws=unset', 'verifyClient']);
  });

  it('an upgrade held in app middleware takes no maxConnections slot', async () => {
    const r = await start({ heartbeatMs: 0, maxConnections: 1 }, app => {
      app.use(async (ctx, next) => {
        if (ctx.path === '/hang') await new Promise(() => {});
        await next();
      });
      app.ws('/hang', () => undefined);
      app.ws('/ok', socket => socket.send('ok'));
    });
    const held = await RawClient.connect(r.port);
    held.write(handshake('/hang'));
    const c = await open(r.url('/ok'));
    assert.equal(await c.next(), 'ok');
    held.destroy();
    c.ws.close();
    await c.closed;
  });
});
