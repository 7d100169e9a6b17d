// Hostile peers over HTTP/2: malformed extended CONNECTs, resets mid-frame, a reader that stalls, too many streams; a bystander keeps echoing.
import assert from 'node:assert/strict';
import { constants, type ClientHttp2Session } from 'node:http2';
import { after, describe, it } from 'node:test';
import type { WebSocketPluginOptions } from '../../src/index.js';
import { clientFrame } from '../support/frames.js';
import { until } from '../support/until.js';
import {
  connectHeaders,
  h2Session,
  refusal,
  request,
  startHttp2App,
  StreamFrames,
  type Http2App,
} from '../support/http2.js';

/** A WebSocket echo over one stream of `session`; `check()` asserts it still echoes. */
async function bystander(session: ClientHttp2Session): Promise<{ check(): Promise<void> }> {
  const { stream, headers } = await request(session, connectHeaders('/echo'));
  assert.equal(headers[':status'], 200);
  const frames = new StreamFrames(stream);
  let n = 0;
  return {
    async check() {
      const text = `still here ${n++}`;
      stream.write(clientFrame(1, Buffer.from(text)));
      const f = await frames.next();
      assert.equal(f?.payload.toString(), text, 'the bystander stream stopped echoing');
    },
  };
}

describe('hostile peers over HTTP/2', () => {
  const servers: Http2App[] = [];
  after(async () => {
    await Promise.all(servers.map(s => s.close()));
  });
  /** What the server saw of its peers: close codes, the largest bufferedAmount of a flood, send results. */
  const seen = { closeCodes: [] as number[], maxBuffered: 0, sendResults: new Set<string>() };
  async function echoApp(options: WebSocketPluginOptions = {}): Promise<Http2App> {
    const s = await startHttp2App(
      app => {
        app.ws('/echo', socket => {
          socket.onMessage(m => void socket.send(m));
          socket.onClose(code => seen.closeCodes.push(code));
        });
        app.ws('/flood', socket => {
          const chunk = Buffer.alloc(64 * 1024, 7);
          const timer = setInterval(() => {
            for (let i = 0; i < 16; i++) seen.sendResults.add(socket.send(chunk));
            seen.maxBuffered = Math.max(seen.maxBuffered, socket.bufferedAmount);
          }, 1);
          socket.onClose(() => clearInterval(timer));
        });
      },
      { heartbeatMs: 0, closeTimeoutMs: 300, ...options }
    );
    servers.push(s);
    return s;
  }

  it('answers malformed or foreign extended CONNECTs with the matching status, never 200', async () => {
    const s = await echoApp({
      allowOrigins: ['https://good.example'],
      verifyClient: req => req.url !== '/echo?deny',
    });
    const session = await h2Session(s.origin);
    const good = await bystander(session);
    const cases: [string, Record<string, string>, number][] = [
      ['another :protocol', connectHeaders('/echo', { ':protocol': 'connect-udp' }), 501],
      ['wrong version', connectHeaders('/echo', { 'sec-websocket-version': '8' }), 426],
      ['no version', connectHeaders('/echo', { 'sec-websocket-version': undefined }), 426],
      ['unknown path', connectHeaders('/nowhere'), 404],
      ['foreign origin', connectHeaders('/echo', { origin: 'https://evil.example' }), 403],
      ['verifyClient says no', connectHeaders('/echo?deny'), 401],
      ['malformed subprotocol list', connectHeaders('/echo', { 'sec-websocket-protocol': 'a b' }), 400],
    ];
    for (const [name, headers, status] of cases) {
      const r = await refusal(session, headers);
      assert.equal(r.status, status, name);
      if (status === 426) assert.equal(r.headers['sec-websocket-version'], '13');
      await good.check();
    }
    // A CONNECT without :protocol asks for a tunnel (RFC 9113 §8.5), which an app is not.
    const tunnel = await refusal(session, { ':method': 'CONNECT', ':authority': `127.0.0.1:${s.port}` });
    assert.equal(tunnel.status, 405);
    await good.check();
    assert.equal(s.plugin!.getStats().connections, 1);
    session.close();
  });

  it('a stream reset in the middle of a frame closes only that WebSocket (1006), the bystander echoes on', async () => {
    const s = await echoApp();
    const session = await h2Session(s.origin);
    const good = await bystander(session);
    seen.closeCodes.length = 0;
    const { stream } = await request(session, connectHeaders('/echo'));
    const frame = clientFrame(2, Buffer.alloc(1000, 1));
    await new Promise<void>(resolve => stream.write(frame.subarray(0, 500), () => resolve()));
    await until(() => s.plugin!.getStats().bytesReceived >= 500, { label: 'half a frame received' });
    stream.close(constants.NGHTTP2_CANCEL);
    await until(() => s.plugin!.getStats().connections === 1, { label: 'the reset WebSocket closed' });
    assert.deepEqual(seen.closeCodes, [1006]);
    await good.check();
    assert.equal(s.plugin!.getStats().http2.connectionsOpened, 2);
    session.close();
  });

  it('a client that never reads: the flow-control window shuts, the send limit closes it, memory stays bounded', async () => {
    const maxBackpressure = 1024 * 1024;
    const s = await echoApp({ maxBackpressure });
    const session = await h2Session(s.origin);
    const good = await bystander(session);
    const { stream } = await request(session, connectHeaders('/flood'));
    stream.pause(); // never reads: the stream's window (64 KiB by default) shuts after the first bytes
    const reset = new Promise<number>(resolve => stream.once('close', () => resolve(stream.rstCode ?? -1)));
    while (s.plugin!.getStats().connections === 2) await good.check();
    // send() answered 'queued' past the high-water mark, then the limit (policy 'close') failed the connection
    // with 1008; its close frame cannot pass the shut window, so the close timeout resets the stream.
    assert.ok(seen.sendResults.has('queued'), [...seen.sendResults].join());
    assert.ok(
      seen.maxBuffered <= maxBackpressure + 64 * 1024,
      `bufferedAmount reached ${seen.maxBuffered}, limit ${maxBackpressure}`
    );
    stream.resume(); // a paused stream reports its end only once read
    assert.equal(await reset, constants.NGHTTP2_CANCEL, 'RST_STREAM(CANCEL) ends the failed stream');
    await good.check();
    session.close();
  });

  it('streams beyond maxConnections get 503 while the open ones keep echoing', async () => {
    const s = await echoApp({ maxConnections: 5 });
    const session = await h2Session(s.origin);
    const good = await bystander(session);
    const accepted = await Promise.all(
      Array.from({ length: 4 }, () => request(session, connectHeaders('/echo')))
    );
    for (const a of accepted) assert.equal(a.headers[':status'], 200);
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => refusal(session, connectHeaders('/echo')).then(r => r.status))
    );
    assert.deepEqual(
      statuses,
      Array.from({ length: 20 }, () => 503)
    );
    await good.check();
    assert.equal(s.plugin!.getStats().connections, 5);
    assert.equal(s.plugin!.getStats().connectionsRefused.limit, 20);
    session.close();
  });
});

describe('the same chain for HTTP/2 WebSockets as for HTTP/1.1', () => {
  it('app middleware, verifyClient, wsUse and the handler run in the same order; app middleware can refuse with 401', async () => {
    const order: string[] = [];
    const s = await startHttp2App(
      app => {
        app.use(async (ctx, next) => {
          order.push(`app ${ctx.isWebSocket} ${ctx.req.httpVersion}`);
          if (ctx.query.token !== 'ok') ctx.throw(401, 'token required');
          await next();
        });
        app.wsUse((socket, _req, next) => {
          order.push(`wsUse ${socket.httpVersion}`);
          next();
        });
        app.ws('/echo', socket => {
          order.push(`handler ${socket.httpVersion}`);
          socket.onMessage(m => void socket.send(m));
        });
      },
      {
        heartbeatMs: 0,
        verifyClient: req => {
          order.push(`verifyClient ${req.httpVersion}`);
          return true;
        },
      }
    );
    const session = await h2Session(s.origin);
    const refused = await refusal(session, connectHeaders('/echo'));
    assert.equal(refused.status, 401);
    assert.match(refused.body, /token required/);
    assert.deepEqual(order.splice(0), ['app true 2.0']);
    const { headers } = await request(session, connectHeaders('/echo?token=ok'));
    assert.equal(headers[':status'], 200);
    await until(() => order.length === 4, { label: 'the chain ran' });
    assert.deepEqual(order, ['app true 2.0', 'verifyClient 2.0', 'wsUse 2.0', 'handler 2.0']);
    session.destroy();
    await s.close();
  });
});
