// listen({ http2: { ... } }) over real sockets: the session idle timeout, maxConcurrentStreams, maxSessionMemory, validation.
import assert from 'node:assert/strict';
import { constants, type ClientHttp2Session, type ServerHttp2Session } from 'node:http2';
import { after, describe, it } from 'node:test';
import { WebSocket } from 'undici';
import { createApp, type Http2Options, type WebSocketPluginOptions } from '../../src/index.js';
import { HTTP2_DEFAULTS, resolveHttp2Options } from '../../src/core/http2-options.js';
import { clientFrame } from '../support/frames.js';
import { until } from '../support/until.js';
import {
  closed,
  connectHeaders,
  h2Client,
  h2Session,
  nextMessage,
  opened,
  request,
  startHttp2App,
  StreamFrames,
  testCert,
  type Http2App,
} from '../support/http2.js';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** When the client session got GOAWAY (and its code), or undefined while it did not. */
function watchGoaway(session: ClientHttp2Session): { at?: number; code?: number; closed: boolean } {
  const seen: { at?: number; code?: number; closed: boolean } = { closed: false };
  session.on('goaway', (code: number) => {
    seen.at = Date.now();
    seen.code = code;
  });
  session.on('close', () => (seen.closed = true));
  return seen;
}

/** GET `path` on `session`; resolves with the body once the stream ends. */
async function get(session: ClientHttp2Session, path: string): Promise<string> {
  const { stream, headers } = await request(session, { ':method': 'GET', ':path': path });
  assert.equal(headers[':status'], 200);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('HTTP/2 session options of listen()', () => {
  /** bufferedAmount of the last /flood WebSocket. */
  let floodBuffered = 0;
  const servers: Http2App[] = [];
  const sessions: ClientHttp2Session[] = [];
  after(async () => {
    for (const session of sessions) if (!session.destroyed) session.close();
    await Promise.all(servers.map(s => s.close()));
  });
  async function start(http2: true | Http2Options, plugin: WebSocketPluginOptions = {}): Promise<Http2App> {
    const s = await startHttp2App(
      app => {
        app.get('/ping', ctx => ctx.res.send('pong'));
        app.get('/slow', async ctx => {
          await sleep(700);
          ctx.res.send('late');
        });
        app.ws('/echo', socket => socket.onMessage(m => void socket.send(m)));
        app.ws('/flood', socket => {
          const chunk = Buffer.alloc(64 * 1024, 7);
          const timer = setInterval(() => {
            for (let i = 0; i < 16; i++) socket.send(chunk);
            floodBuffered = socket.bufferedAmount;
          }, 1);
          socket.onClose(() => clearInterval(timer));
        });
      },
      { heartbeatMs: 0, closeTimeoutMs: 300, ...plugin },
      http2
    );
    servers.push(s);
    return s;
  }
  async function session(s: Http2App): Promise<ClientHttp2Session> {
    const c = await h2Session(s.origin);
    sessions.push(c);
    return c;
  }

  it('closes a session that has no stream with GOAWAY(NO_ERROR) after sessionIdleTimeout', async () => {
    const s = await start({ sessionIdleTimeout: 200 });
    const t0 = Date.now();
    const c = await session(s);
    const seen = watchGoaway(c);
    await until(() => seen.closed, { label: 'the idle session closed' });
    assert.equal(seen.code, constants.NGHTTP2_NO_ERROR);
    assert.ok(seen.at! - t0 >= 150, `GOAWAY came ${seen.at! - t0} ms after connecting, before the timeout`);
  });

  it('requests keep a session open, a slow one included; the timeout counts from the last stream', async () => {
    const s = await start({ sessionIdleTimeout: 300 });
    const c = await session(s);
    const seen = watchGoaway(c);
    // 8 requests 100 ms apart: 800 ms of use, each gap shorter than the timeout.
    for (let i = 0; i < 8; i++) {
      assert.equal(await get(c, '/ping'), 'pong');
      await sleep(100);
    }
    // One stream open for 700 ms, more than twice the timeout.
    assert.equal(await get(c, '/slow'), 'late');
    assert.equal(seen.at, undefined, 'GOAWAY while the session was in use');
    const last = Date.now();
    await until(() => seen.closed, { label: 'the session closed once idle' });
    assert.ok(seen.at! - last >= 250, `GOAWAY ${seen.at! - last} ms after the last stream`);
  });

  it('never times out a session that carries a quiet WebSocket (undici); closes it once the WebSocket is gone', async () => {
    const s = await start({ sessionIdleTimeout: 200 });
    const serverSessions: ServerHttp2Session[] = [];
    s.server.on('session', (session: ServerHttp2Session) => serverSessions.push(session));
    const client = h2Client(s.origin);
    const ws = new WebSocket(`wss://127.0.0.1:${s.port}/echo`, { dispatcher: client });
    await opened(ws);
    // heartbeatMs: 0: not one frame crosses the session for 5 timeouts.
    await sleep(1000);
    assert.equal(serverSessions.length, 1);
    assert.equal(serverSessions[0].closed, false, 'the session of a live WebSocket was timed out');
    ws.send('still there');
    assert.equal(await nextMessage(ws), 'still there');
    assert.equal(s.plugin!.getStats().http2.connections, 1);
    const done = closed(ws);
    ws.close(1000);
    assert.equal((await done).code, 1000);
    await until(() => serverSessions[0].destroyed, {
      label: 'the session closed once its WebSocket was gone',
    });
    assert.equal(serverSessions.length, 1, 'one session carried the WebSocket');
    await client.close();
  });

  it('sessionIdleTimeout: 0 keeps idle sessions', async () => {
    const s = await start({ sessionIdleTimeout: 0 });
    const c = await session(s);
    const seen = watchGoaway(c);
    await sleep(600);
    assert.equal(seen.at, undefined);
    assert.equal(await get(c, '/ping'), 'pong');
  });

  it('maxConcurrentStreams is advertised; a stream beyond it waits until one ends', async () => {
    const s = await start({ maxConcurrentStreams: 2 });
    const c = await session(s);
    assert.equal(c.remoteSettings.maxConcurrentStreams, 2);
    const first = await request(c, connectHeaders('/echo'));
    const second = await request(c, connectHeaders('/echo'));
    assert.equal(first.headers[':status'], 200);
    assert.equal(second.headers[':status'], 200);
    let thirdAnswered = false;
    const third = request(c, connectHeaders('/echo')).then(r => {
      thirdAnswered = true;
      return r;
    });
    await sleep(300);
    assert.equal(thirdAnswered, false, 'a third stream opened while 2 were open');
    assert.equal(s.plugin!.getStats().connections, 2);
    // The first WebSocket closes (closing handshake, then END_STREAM): the third may open.
    const frames = new StreamFrames(first.stream);
    first.stream.end(clientFrame(8, Buffer.from([0x03, 0xe8])));
    assert.equal(await frames.closeCode(), 1000);
    const opened3 = await third;
    assert.equal(opened3.headers[':status'], 200);
    const echo = new StreamFrames(opened3.stream);
    opened3.stream.write(clientFrame(1, 'third'));
    assert.equal((await echo.next())?.payload.toString(), 'third');
  });

  it('maxSessionMemory bounds what one session holds: beyond it a new stream gets ENHANCE_YOUR_CALM', async () => {
    // A WebSocket whose reader stalls keeps up to maxBackpressure (8 MiB here) queued on its session.
    const plugin = { maxBackpressure: 8 * 1024 * 1024 };
    for (const [maxSessionMemory, refused] of [
      [1, true],
      [HTTP2_DEFAULTS.maxSessionMemory, false],
    ] as const) {
      const s = await start({ maxSessionMemory }, plugin);
      const c = await session(s);
      const flood = await request(c, connectHeaders('/flood'));
      flood.stream.pause();
      floodBuffered = 0;
      await until(() => floodBuffered > 2 * 1024 * 1024, {
        label: 'the stalled WebSocket has more than 2 MiB queued',
      });
      const next = await request(c, connectHeaders('/echo')).then(
        r => String(r.headers[':status']),
        (err: Error) => err.message
      );
      if (refused) assert.match(next, /ENHANCE_YOUR_CALM/, `maxSessionMemory ${maxSessionMemory}`);
      else assert.equal(next, '200', `maxSessionMemory ${maxSessionMemory}`);
      // The stalled reader resets its stream; the session ends normally.
      flood.stream.close(constants.NGHTTP2_CANCEL);
      await until(() => s.plugin!.getStats().connections === (refused ? 0 : 1));
    }
  });

  it('validates the http2 option: ERR_INVALID_OPTION, and no server is made', () => {
    const bad: unknown[] = [
      { sessionIdleTimeout: -1 },
      { sessionIdleTimeout: 1.5 },
      { sessionIdleTimeout: 2 ** 31 },
      { sessionIdleTimeout: '100' },
      { maxSessionMemory: 0 },
      { maxSessionMemory: Number.NaN },
      { maxConcurrentStreams: 0 },
      { maxConcurrentStreams: 2 ** 32 },
      { maxConcurrentStream: 10 },
      'yes',
      [],
    ];
    for (const http2 of bad) {
      const app = createApp();
      assert.throws(
        () => app.listen({ port: 0, host: '127.0.0.1', tls: testCert(), http2: http2 as Http2Options }),
        (err: Error & { code?: string }) => err instanceof TypeError && err.code === 'ERR_INVALID_OPTION',
        `http2: ${JSON.stringify(http2)}`
      );
      assert.equal(app.server, undefined);
    }
    const noTls = createApp();
    assert.throws(
      () => noTls.listen({ port: 0, http2: true }),
      (err: Error & { code?: string }) => err.code === 'ERR_INVALID_OPTION' && /needs tls/.test(err.message)
    );
    // The defaults that `http2: true` stands for, and undefined keys leave them alone.
    assert.deepEqual(resolveHttp2Options(true), HTTP2_DEFAULTS);
    assert.deepEqual(resolveHttp2Options({ sessionIdleTimeout: undefined, maxConcurrentStreams: 5 }), {
      ...HTTP2_DEFAULTS,
      maxConcurrentStreams: 5,
    });
  });
});
