// The error path: 4xx expose their message, anything else is a 500 that leaks nothing; serving continues.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpError, createApp } from '../../src/index.js';
import { request, start } from './helpers.js';

describe('error path', () => {
  const app = createApp();
  let port = 0;
  before(async () => {
    app.get('/boom', () => {
      throw new Error('secret database password in message');
    });
    app.get('/reject', () => Promise.reject(new Error('secret async detail')));
    app.get('/teapot', ctx => ctx.throw(418, 'short and stout'));
    app.get('/http', () => {
      throw new HttpError(409, 'already exists', { code: 'ERR_CONFLICT' });
    });
    app.get('/internal', () => {
      throw new HttpError(503, 'upstream secret');
    });
    app.get('/partial', ctx => {
      ctx.res.writeHead(200, { 'Content-Type': 'text/plain' });
      ctx.res.write('partial');
      throw new Error('after headers');
    });
    app.get('/headers', ctx => {
      ctx.res.setHeader('X-Leak', 'should not survive');
      throw new Error('x');
    });
    app.get('/ok', ctx => ctx.json({ ok: true }));
    port = await start(app);
  });
  after(() => app.close());

  it('a thrown error is a 500 that does not leak its message', async () => {
    const res = await request(port, '/boom');
    assert.equal(res.status, 500);
    assert.deepEqual(res.json(), { error: { status: 500, message: 'Internal Server Error' } });
    assert.doesNotMatch(res.text, /secret|stack|at /);
  });

  it('a rejected promise is a 500 too', async () => {
    const res = await request(port, '/reject');
    assert.equal(res.status, 500);
    assert.doesNotMatch(res.text, /secret/);
  });

  it('ctx.throw and HttpError below 500 expose their message and code', async () => {
    assert.deepEqual((await request(port, '/teapot')).json(), {
      error: { status: 418, message: 'short and stout' },
    });
    const res = await request(port, '/http');
    assert.equal(res.status, 409);
    assert.deepEqual(res.json(), { error: { status: 409, message: 'already exists', code: 'ERR_CONFLICT' } });
  });

  it('an HttpError of 5xx keeps its status but hides its message', async () => {
    const res = await request(port, '/internal');
    assert.equal(res.status, 503);
    assert.doesNotMatch(res.text, /secret/);
  });

  it('headers set before the error are dropped', async () => {
    const res = await request(port, '/headers');
    assert.equal(res.status, 500);
    assert.equal(res.headers['x-leak'], undefined);
  });

  it('an error after headers were sent cuts the response short', async () => {
    await assert.rejects(request(port, '/partial'));
  });

  it('the server keeps serving after errors', async () => {
    assert.equal((await request(port, '/ok')).status, 200);
  });
});
