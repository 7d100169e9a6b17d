// The framework core over HTTP/2: routes, middleware, ctx.res helpers, bodies and errors, HTTP/1.1 on the same port, close().
import assert from 'node:assert/strict';
import { httpsGet } from '../support/tls.js';
import type { ClientHttp2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { after, describe, it } from 'node:test';
import type { UpgradeProtocol } from '../../src/core/types.js';
import {
  connectHeaders,
  h2Session,
  refusal,
  request,
  startHttp2App,
  testCert,
  type Http2App,
} from '../support/http2.js';

/** One HTTP/2 request with an optional body; resolves with status, headers and the body as text. */
async function fetchH2(
  session: ClientHttp2Session,
  path: string,
  method = 'GET',
  body?: string,
  headers: Record<string, string> = {}
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const stream = session.request(
    { ':method': method, ':path': path, ...headers },
    { endStream: body === undefined }
  );
  if (body !== undefined) stream.end(body);
  const response = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { status: Number(response[':status']), headers: response, body: Buffer.concat(chunks).toString() };
}

/** One HTTP/1.1 request over TLS (ALPN http/1.1) to the same port. */
const fetchH1 = (port: number, path: string) => httpsGet(port, path, testCert().cert);

describe('the core over HTTP/2', () => {
  const servers: Http2App[] = [];
  after(async () => {
    await Promise.all(servers.map(s => s.close()));
  });

  async function app(): Promise<Http2App> {
    const s = await startHttp2App(a => {
      a.use(async (ctx, next) => {
        ctx.res.setHeader('x-version', ctx.req.httpVersion);
        await next();
      });
      a.get('/json/:id', ctx => ctx.res.status(201).json({ id: ctx.params.id, q: ctx.query.q }));
      a.get('/text', ctx => ctx.res.send('plain'));
      a.post('/echo', ctx => ctx.json({ got: ctx.body }));
      a.get('/teapot', ctx => ctx.throw(418, 'short and stout'));
      a.get('/boom', () => {
        throw new Error('secret detail');
      });
    });
    servers.push(s);
    return s;
  }

  it('serves routes and middleware with the ctx.res helpers, over HTTP/2 and HTTP/1.1 on the same port', async () => {
    const s = await app();
    const session = await h2Session(s.origin);
    const json = await fetchH2(session, '/json/42?q=x');
    assert.equal(json.status, 201);
    assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(json.headers['x-version'], '2.0');
    assert.deepEqual(JSON.parse(json.body), { id: '42', q: 'x' });
    const text = await fetchH2(session, '/text');
    assert.equal(text.body, 'plain');
    assert.equal(text.headers['content-length'], '5');
    const h1 = await fetchH1(s.port, '/json/7');
    assert.equal(h1.status, 201);
    assert.deepEqual(JSON.parse(h1.body), { id: '7' });
    session.close();
  });

  it('reads request bodies, with or without content-length (HTTP/2 needs none)', async () => {
    const s = await app();
    const session = await h2Session(s.origin);
    const body = JSON.stringify({ a: [1, 2] });
    const sized = await fetchH2(session, '/echo', 'POST', body, {
      'content-type': 'application/json',
      'content-length': String(body.length),
    });
    assert.deepEqual(JSON.parse(sized.body), { got: { a: [1, 2] } });
    const unsized = await fetchH2(session, '/echo', 'POST', body, { 'content-type': 'application/json' });
    assert.deepEqual(JSON.parse(unsized.body), { got: { a: [1, 2] } });
    session.close();
  });

  it('errors take the one error path: HttpError statuses, 500 without details, 404', async () => {
    const s = await app();
    const session = await h2Session(s.origin);
    const teapot = await fetchH2(session, '/teapot');
    assert.equal(teapot.status, 418);
    assert.deepEqual(JSON.parse(teapot.body), { error: { status: 418, message: 'short and stout' } });
    const boom = await fetchH2(session, '/boom');
    assert.equal(boom.status, 500);
    assert.doesNotMatch(boom.body, /secret/);
    assert.equal((await fetchH2(session, '/nowhere')).status, 404);
    session.close();
  });

  it('advertises extended CONNECT only when a protocol serves it, and runs it through the app chain', async () => {
    const plain = await startHttp2App(a => a.get('/', ctx => ctx.res.send('ok')), null);
    servers.push(plain);
    const session = await h2Session(plain.origin);
    assert.equal(session.remoteSettings.enableConnectProtocol, false, 'no plugin, no setting');
    session.close();
    const withPlugin = await app(); // the WebSocket plugin serves `websocket` over extended CONNECT
    const wsSession = await h2Session(withPlugin.origin);
    assert.equal(wsSession.remoteSettings.enableConnectProtocol, true);
    wsSession.close();

    // A tiny protocol served over extended CONNECT: it echoes the stream's bytes back.
    const seen: string[] = [];
    const echo: UpgradeProtocol = {
      connectProtocol: 'x-echo',
      claims: req => req.headers[':protocol'] === 'x-echo',
      match: path => (path === '/x' ? { params: {} } : null),
      prepare: ctx => void seen.push(`prepare ${ctx.req.httpVersion}`),
      accept: (_ctx, _route, upgrade) => {
        const { socket } = upgrade.take();
        const stream = socket as ServerHttp2Stream;
        stream.respond({ ':status': 200 });
        stream.pipe(stream);
      },
    };
    const served = await startHttp2App(a => {
      a.use(async (ctx, next) => {
        seen.push(`app ${ctx.path}`);
        if (ctx.query.deny !== undefined) ctx.throw(401, 'denied');
        await next();
      });
      a.get('/', ctx => ctx.res.send('ok'));
    }, null);
    servers.push(served);
    const before = await h2Session(served.origin);
    assert.equal(before.remoteSettings.enableConnectProtocol, false);
    served.app.onUpgrade(echo); // registered after listen: new sessions get the setting
    const after = await h2Session(served.origin);
    assert.equal(after.remoteSettings.enableConnectProtocol, true);

    const headers = (path: string, protocol = 'x-echo') => ({
      ...connectHeaders(path),
      ':protocol': protocol,
    });
    const { stream, headers: ok } = await request(after, headers('/x'));
    assert.equal(ok[':status'], 200);
    const reply = new Promise<string>(resolve => stream.once('data', (d: Buffer) => resolve(d.toString())));
    stream.write('ping');
    assert.equal(await reply, 'ping');
    assert.deepEqual(seen.splice(0), ['prepare 2.0', 'app /x']);
    assert.equal((await refusal(after, headers('/x?deny'))).status, 401);
    assert.equal((await refusal(after, headers('/nowhere'))).status, 404);
    assert.equal((await refusal(after, headers('/x', 'connect-udp'))).status, 501);
    const tunnel = await refusal(after, { ':method': 'CONNECT', ':authority': `127.0.0.1:${served.port}` });
    assert.equal(tunnel.status, 405);
    stream.destroy();
    before.close();
    after.close();
  });

  it('close() sends GOAWAY to every HTTP/2 session, which then ends', async () => {
    const s = await app();
    const session = await h2Session(s.origin);
    const goaway = new Promise<number>(resolve => session.once('goaway', (code: number) => resolve(code)));
    const sessionClosed = new Promise<void>(resolve => session.once('close', () => resolve()));
    assert.equal((await fetchH2(session, '/text')).status, 200);
    await s.close();
    assert.equal(await goaway, 0, 'GOAWAY with NO_ERROR');
    await sessionClosed;
  });
});
