// The middleware chain before routing and body reading: URL rewrites, refused bodies left unread, method-first routes.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/index.js';
import { within } from '../interop/session.js';
import { until } from '../ws/helpers.js';
import { request, start } from './helpers.js';

describe('middleware runs before routing', () => {
  const app = createApp();
  const seen: string[] = [];
  let port = 0;
  before(async () => {
    app.use(async (ctx, next) => {
      seen.push(`${ctx.path} id=${ctx.params.id ?? '-'}`);
      // /v1/... is an old name of the same API: rewrite before routing.
      if (ctx.path.startsWith('/v1/')) ctx.path = ctx.path.slice(3);
      await next();
    });
    app.use(async (ctx, next) => {
      seen.push(`${ctx.path} id=${ctx.params.id ?? '-'}`);
      await next();
    });
    app.get('/users/:id', ctx => ctx.json({ id: ctx.params.id, query: ctx.query, url: ctx.url }));
    app.get('/v1/users/:id', ctx => ctx.json({ old: true }));
    port = await start(app);
  });
  after(() => app.close());

  it('a rewrite changes the route; params and query follow the new URL', async () => {
    seen.length = 0;
    const res = await request(port, '/v1/users/7?x=1');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { id: '7', query: { x: '1' }, url: '/users/7?x=1' });
    // Before the rewrite the path had no route with :id; after it, the new route's params.
    assert.deepEqual(seen, ['/v1/users/7 id=7', '/users/7 id=7']);
  });

  it('without a rewrite the original route answers', async () => {
    const res = await request(port, '/users/8');
    assert.deepEqual(res.json(), { id: '8', query: {}, url: '/users/8' });
  });

  it('a rewrite to a path with no route is a 404 for the new path', async () => {
    const res = await request(port, '/v1/nothing');
    assert.equal(res.status, 404);
    assert.equal((res.json() as { error: { message: string } }).error.message, 'Cannot find /nothing');
  });
});

describe('a request refused by middleware never has its body read', () => {
  const MiB = 1024 * 1024;
  const app = createApp({ bodyLimit: 2 * MiB });
  const bytesRead: number[] = [];
  let port = 0;
  before(async () => {
    app.use(async (ctx, next) => {
      // A refusal written by the middleware itself, without throwing.
      if (ctx.headers.authorization === 'Bearer banned') return ctx.json({ banned: true }, 403);
      if (ctx.headers.authorization !== 'Bearer good') ctx.throw(401, 'Who are you?');
      await next();
    });
    app.post('/upload', ctx => ctx.json({ length: (ctx.body as string).length }));
    port = await start(app);
    // Bytes the server read from each connection, counted when it closes.
    app.server?.on('connection', (socket: Socket) =>
      socket.on('close', () => bytesRead.push(socket.bytesRead))
    );
  });
  after(() => app.close());

  function head(auth: string): string {
    return (
      `POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\n` +
      `Content-Type: text/plain\r\nContent-Length: ${MiB}\r\n\r\n`
    );
  }

  /** Sends the head of POST /upload and `bodyBytes` of its 1 MiB body; the reply is read until the server closes. */
  function upload(auth: string, bodyBytes: number) {
    bytesRead.length = 0;
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('error', () => {}); // the server may reset the rest of an upload
    const closed = new Promise(resolve => socket.once('close', resolve));
    socket.write(head(auth) + 'a'.repeat(bodyBytes));
    return {
      sent: head(auth).length + bodyBytes,
      reply: () => reply,
      closed: () => within(closed, 'the server closing the connection'),
      /** Bytes the server read from this connection, counted when it closed. */
      serverRead: async () => {
        await until(() => bytesRead.length === 1, { label: 'the server-side count' });
        return bytesRead[0];
      },
    };
  }

  it('401 arrives while the 1 MiB body is still unsent; the server closes having read only the head', async () => {
    // The head and the first KiB only: a server that read the body before its middleware would wait.
    const u = upload('Bearer forged', 1024);
    await within(
      until(() => u.reply().includes('Who are you?')),
      'the 401'
    );
    assert.match(u.reply(), /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assert.match(u.reply(), /\r\nConnection: close\r\n/i);
    await u.closed();
    // What the server read: the head and the KiB it was sent, not the MiB the request announced.
    assert.equal(await u.serverRead(), u.sent);
  });

  it('all 1 MiB sent at once: the server stops reading at the 401 instead of draining the body', async () => {
    const u = upload('Bearer forged', MiB);
    await u.closed();
    assert.match(u.reply(), /^HTTP\/1\.1 401 /);
    const read = await u.serverRead();
    assert.ok(read < MiB / 2, `server read ${read} bytes of a ${MiB}-byte body`);
  });

  it('a refusal the middleware writes itself (no throw) also closes instead of reading the body', async () => {
    const u = upload('Bearer banned', 1024);
    await u.closed();
    assert.match(u.reply(), /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(u.reply(), /\r\nConnection: close\r\n/i);
    assert.equal(await u.serverRead(), u.sent);
  });

  it('an authorized request gets its body read and parsed for the handler', async () => {
    const res = await request(port, '/upload', {
      method: 'POST',
      headers: { authorization: 'Bearer good', 'content-type': 'text/plain' },
      body: 'b'.repeat(MiB),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { length: MiB });
  });
});

describe('routes match by method first', () => {
  const app = createApp();
  let port = 0;
  before(async () => {
    app.get('/x/:id', ctx => ctx.json({ get: ctx.params }));
    app.post('/x/*', ctx => ctx.json({ post: ctx.params }));
    app.all('/y/:id', ctx => ctx.json({ all: ctx.method }));
    app.delete('/y/*', ctx => ctx.json({ del: ctx.params }));
    port = await start(app);
  });
  after(() => app.close());

  it('GET /x/:id and POST /x/* both answer for /x/1', async () => {
    assert.deepEqual((await request(port, '/x/1')).json(), { get: { id: '1' } });
    const post = await request(port, '/x/1', { method: 'POST' });
    assert.equal(post.status, 200);
    assert.deepEqual(post.json(), { post: { '*': '1' } });
    assert.deepEqual((await request(port, '/x/1/2', { method: 'POST' })).json(), { post: { '*': '1/2' } });
  });

  it('405 with Allow only when no route of the method matches but one of another method does', async () => {
    const put = await request(port, '/x/1', { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, POST, HEAD, OPTIONS');
    // /x/1/2 is matched by POST /x/* only.
    const get = await request(port, '/x/1/2');
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST, OPTIONS');
    assert.equal((await request(port, '/z')).status, 404);
  });

  it("a method's own route beats all(); all() answers the other methods", async () => {
    assert.deepEqual((await request(port, '/y/1', { method: 'DELETE' })).json(), { del: { '*': '1' } });
    assert.deepEqual((await request(port, '/y/1', { method: 'PATCH' })).json(), { all: 'PATCH' });
    assert.equal((await request(port, '/y/1', { method: 'HEAD' })).status, 200);
  });
});
