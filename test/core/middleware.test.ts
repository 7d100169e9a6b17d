// Middleware: onion order, params visible to app middleware, next() twice, unanswered requests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApp } from '../../src/index.js';
import { request, start } from './helpers.js';

describe('middleware', () => {
  it('runs in onion order around the route handler', async () => {
    const app = createApp();
    const order: string[] = [];
    app.use(async (_ctx, next) => {
      order.push('a-in');
      await next();
      order.push('a-out');
    });
    app.use(async (ctx, next) => {
      order.push(`b-in ${ctx.params.id}`);
      await next();
      order.push('b-out');
    });
    app.get('/x/:id', ctx => {
      order.push('handler');
      ctx.json({ ok: true });
    });
    const port = await start(app);
    assert.equal((await request(port, '/x/7')).status, 200);
    assert.deepEqual(order, ['a-in', 'b-in 7', 'handler', 'b-out', 'a-out']);
    await app.close();
  });

  it('calling next() twice is a 500 and the server keeps serving', async () => {
    const app = createApp();
    app.use(async (ctx, next) => {
      if (ctx.path === '/twice') {
        await next();
        await next();
      } else await next();
    });
    app.get('/twice', () => undefined);
    app.get('/ok', ctx => ctx.json({ ok: true }));
    const port = await start(app);
    const res = await request(port, '/twice');
    assert.equal(res.status, 500);
    assert.deepEqual(res.json(), { error: { status: 500, message: 'Internal Server Error' } });
    assert.equal((await request(port, '/ok')).status, 200);
    await app.close();
  });

  it('middleware can answer without reaching the router', async () => {
    const app = createApp();
    app.use(ctx => ctx.res.status(401).json({ denied: true }));
    app.get('/', ctx => ctx.json({ reached: true }));
    const port = await start(app);
    const res = await request(port, '/');
    assert.equal(res.status, 401);
    assert.deepEqual(res.json(), { denied: true });
    await app.close();
  });

  it('a request nobody answers does not hang: 404 without a route, 500 with one, ctx.status if set', async () => {
    const app = createApp();
    app.get('/silent', () => undefined);
    app.get('/accepted', ctx => {
      ctx.status = 202;
    });
    const port = await start(app);
    assert.equal((await request(port, '/missing')).status, 404);
    const silent = await request(port, '/silent');
    assert.equal(silent.status, 500);
    assert.equal((silent.json() as { error: { code: string } }).error.code, 'ERR_NO_RESPONSE');
    assert.equal((await request(port, '/accepted')).status, 202);
    await app.close();
  });

  it('ctx exposes method, url, path, headers, ip and state', async () => {
    const app = createApp();
    app.get('/info', ctx => {
      ctx.json({
        method: ctx.method,
        url: ctx.url,
        path: ctx.path,
        header: ctx.headers['x-test'],
        ip: ctx.ip,
        state: ctx.state,
      });
    });
    const port = await start(app);
    const res = await request(port, '/info?z=1', { headers: { 'x-test': 'yes' } });
    assert.deepEqual(res.json(), {
      method: 'GET',
      url: '/info?z=1',
      path: '/info',
      header: 'yes',
      ip: '127.0.0.1',
      state: {},
    });
    await app.close();
  });

  it('trustProxy takes ctx.ip from X-Forwarded-For', async () => {
    const app = createApp({ trustProxy: true });
    app.get('/', ctx => ctx.json({ ip: ctx.ip }));
    const port = await start(app);
    const res = await request(port, '/', { headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' } });
    assert.deepEqual(res.json(), { ip: '203.0.113.9' });
    await app.close();
  });
});
