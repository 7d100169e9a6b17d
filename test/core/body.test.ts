// Request bodies: JSON, urlencoded, text, limits (413) and malformed JSON (400).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/index.js';
import { request, start } from './helpers.js';

describe('body parsing', () => {
  const app = createApp({ bodyLimit: 1024 });
  let port = 0;
  before(async () => {
    app.use(async (ctx, next) => {
      // The body is read at the end of the chain, just before the route handler: middleware sees none.
      ctx.state.early = ctx.body ?? null;
      await next();
    });
    app.post('/echo', ctx => ctx.json({ body: ctx.body, early: ctx.state.early }));
    app.post('/stream', async ctx => {
      let size = 0;
      for await (const chunk of ctx.req) size += (chunk as Buffer).length;
      ctx.json({ parsed: ctx.body === undefined, size });
    });
    port = await start(app);
  });
  after(() => app.close());

  const post = (body: string | Buffer, type: string, extra: Record<string, string> = {}) =>
    request(port, '/echo', { method: 'POST', body, headers: { 'content-type': type, ...extra } });

  it('parses JSON', async () => {
    const res = await post('{"a":[1,2],"b":"x"}', 'application/json; charset=utf-8');
    assert.deepEqual(res.json(), { body: { a: [1, 2], b: 'x' }, early: null });
  });

  it('malformed JSON is a 400 with a clear message', async () => {
    const res = await post('{"a":', 'application/json');
    assert.equal(res.status, 400);
    const err = (res.json() as { error: { message: string; code: string } }).error;
    assert.equal(err.code, 'ERR_INVALID_JSON');
    assert.match(err.message, /^Invalid JSON body/);
  });

  it('parses urlencoded into a null-prototype object', async () => {
    const res = await post('name=J%C3%BCrgen&tag=a&tag=b&__proto__=x', 'application/x-www-form-urlencoded');
    assert.deepEqual(res.json(), {
      body: { name: 'Jürgen', tag: ['a', 'b'], ['__proto__']: 'x' },
      early: null,
    });
  });

  it('reads text as a string', async () => {
    assert.deepEqual((await post('plain words', 'text/plain')).json(), {
      body: 'plain words',
      early: null,
    });
  });

  it('a declared length over the limit is a 413', async () => {
    const res = await post(Buffer.alloc(2048, 'a'), 'text/plain');
    assert.equal(res.status, 413);
    assert.equal((res.json() as { error: { code: string } }).error.code, 'ERR_BODY_TOO_LARGE');
  });

  it('a chunked body that grows past the limit is a 413', async () => {
    const res = await post(Buffer.alloc(2048, 'a'), 'text/plain', { 'transfer-encoding': 'chunked' });
    assert.equal(res.status, 413);
  });

  it('a body at the limit is accepted', async () => {
    const res = await post(Buffer.alloc(1024, 'a'), 'text/plain');
    assert.equal(res.status, 200);
  });

  it('unknown content types are left on the stream for the handler', async () => {
    const res = await request(port, '/stream', {
      method: 'POST',
      body: Buffer.alloc(4096, 1),
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.deepEqual(res.json(), { parsed: true, size: 4096 });
  });
});

describe('default body limit', () => {
  it('is 1 MiB', async () => {
    const app = createApp();
    app.post('/', ctx => ctx.json({ length: (ctx.body as string).length }));
    const port = await start(app);
    const send = (n: number) =>
      request(port, '/', {
        method: 'POST',
        body: Buffer.alloc(n, 'a'),
        headers: { 'content-type': 'text/plain' },
      });
    assert.deepEqual((await send(1024 * 1024)).json(), { length: 1024 * 1024 });
    assert.equal((await send(1024 * 1024 + 1)).status, 413);
    await app.close();
  });
});
