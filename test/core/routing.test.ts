// HTTP routing over real sockets: params, wildcard, 404, 405 with Allow, HEAD fallback, OPTIONS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/index.js';
import { request, start } from './helpers.js';

describe('routing', () => {
  const app = createApp();
  let port = 0;
  before(async () => {
    app.get('/users/:id', ctx => ctx.json({ id: ctx.params.id }));
    app.post('/users/:id', ctx => ctx.json({ posted: ctx.params.id }, 201));
    app.get('/files/*', ctx => ctx.json({ rest: ctx.params['*'] }));
    app.all('/any', ctx => ctx.json({ method: ctx.method }));
    app.get('/hello', ctx => ctx.res.send('hello'));
    app.get(
      '/chain',
      async (ctx, next) => {
        ctx.state.seen = ['route-mw'];
        await next();
      },
      ctx => ctx.json(ctx.state)
    );
    app.get('/q', ctx => ctx.json({ query: ctx.query, proto: Object.getPrototypeOf(ctx.query) === null }));
    port = await start(app);
  });
  after(() => app.close());

  it('captures URL-decoded params', async () => {
    const res = await request(port, '/users/J%C3%BCrgen%20K');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { id: 'Jürgen K' });
  });

  it('answers 400, not a crash, for a malformed escape', async () => {
    const res = await request(port, '/users/%E0%A4%A');
    assert.equal(res.status, 400);
    assert.equal((res.json() as { error: { code: string } }).error.code, 'ERR_MALFORMED_PATH');
    assert.equal((await request(port, '/users/1')).status, 200);
  });

  it('puts the rest of the path in params["*"]', async () => {
    assert.deepEqual((await request(port, '/files/a/b/c.txt')).json(), { rest: 'a/b/c.txt' });
    assert.deepEqual((await request(port, '/files')).json(), { rest: '' });
  });

  it('unknown path is a JSON 404', async () => {
    const res = await request(port, '/nowhere?x=1');
    assert.equal(res.status, 404);
    assert.match(String(res.headers['content-type']), /application\/json/);
    assert.deepEqual(res.json(), {
      error: { status: 404, message: 'Cannot find /nowhere', code: 'ERR_NOT_FOUND' },
    });
  });

  it('wrong method on a known path is 405 with Allow', async () => {
    const res = await request(port, '/users/1', { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET, POST, HEAD, OPTIONS');
  });

  it('OPTIONS on a known path answers 204 with Allow', async () => {
    const res = await request(port, '/users/1', { method: 'OPTIONS' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.allow, 'GET, POST, HEAD, OPTIONS');
  });

  it('HEAD falls back to GET without a body', async () => {
    const res = await request(port, '/hello', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '5');
    assert.equal(res.text, '');
  });

  it('all() answers every method; method-specific routes work', async () => {
    assert.deepEqual((await request(port, '/any', { method: 'PATCH' })).json(), { method: 'PATCH' });
    const res = await request(port, '/users/9', { method: 'POST' });
    assert.equal(res.status, 201);
    assert.deepEqual(res.json(), { posted: '9' });
  });

  it('route-level middleware runs before the handler', async () => {
    assert.deepEqual((await request(port, '/chain')).json(), { seen: ['route-mw'] });
  });

  it('parses the query into a null-prototype object, repeated keys as arrays', async () => {
    const res = await request(port, '/q?a=1&a=2&b=x%20y&__proto__=p');
    assert.deepEqual(res.json(), { query: { a: ['1', '2'], b: 'x y', ['__proto__']: 'p' }, proto: true });
  });
});
