// Starts each spec example (build/examples/*.js) as a child process and checks the behaviour the spec describes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { request } from './core/helpers.js';
import { open, refusedStatus, until } from './ws/helpers.js';

interface Example {
  port: number;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function startExample(name: string): Promise<Example> {
  const port = await freePort();
  const child = spawn(process.execPath, [`build/examples/${name}.js`], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  while (!(await canConnect(port))) {
    if (exited) throw new Error(`${name} exited: ${err}`);
    await new Promise(resolve => setTimeout(resolve, 20));
  }
  return { port, child, stdout: () => out, stderr: () => err };
}

function stop(e: Example): Promise<void> {
  return new Promise(resolve => {
    if (e.child.exitCode !== null) return resolve();
    e.child.once('exit', () => resolve());
    e.child.kill();
  });
}

const json = (m: string | Buffer): Record<string, unknown> =>
  JSON.parse(typeof m === 'string' ? m : m.toString()) as Record<string, unknown>;

describe('examples', () => {
  it('quick-start: welcome, then "Echo: <msg>"', async () => {
    const e = await startExample('quick-start');
    // The port can accept connections a moment before the listen callback's line reaches our pipe.
    await until(() => /WebSocket server running on ws:\/\/localhost:\d+\/ws/.test(e.stdout()));
    const c = await open(`ws://127.0.0.1:${e.port}/ws`);
    assert.equal(await c.next(), 'Welcome to NextRush v2 WebSocket!');
    c.ws.send('Hello Server!');
    assert.equal(await c.next(), 'Echo: Hello Server!');
    c.ws.close(1000, 'bye');
    await c.closed;
    await until(() => /Received: Hello Server!/.test(e.stdout()));
    await stop(e);
  });

  it('plugin-installation: installs with debug on; no route yet, so /ws answers 404 and logs it', async () => {
    const e = await startExample('plugin-installation');
    assert.equal(await refusedStatus(`ws://127.0.0.1:${e.port}/ws`), 404);
    await until(() => /"msg":"upgrade refused".*"status":404/.test(e.stderr()));
    await stop(e);
  });

  it('chat-rooms: welcome, join notice and messages reach the room only; /stats counts', async () => {
    const e = await startExample('chat-rooms');
    const url = (room: string) => `ws://127.0.0.1:${e.port}/chat/${room}`;
    const a = await open(url('js'));
    assert.deepEqual(json(await a.next()), {
      type: 'welcome',
      room: 'js',
      message: 'Welcome to room "js"!',
      stats: { activeUsers: 1, totalMessages: 0 },
    });
    assert.equal(json(await a.next()).type, 'user-joined');
    const other = await open(url('rust'));
    assert.equal(json(await other.next()).room, 'rust');
    assert.equal(json(await other.next()).type, 'user-joined');
    const b = await open(url('js'));
    assert.equal(json(await b.next()).type, 'welcome');
    const joinedA = json(await a.next());
    assert.deepEqual([joinedA.type, joinedA.activeUsers], ['user-joined', 2]);
    assert.equal(json(await b.next()).type, 'user-joined');

    b.ws.send('hi all');
    for (const c of [a, b]) {
      const m = json(await c.next());
      assert.deepEqual([m.type, m.room, m.content], ['chat-message', 'js', 'hi all']);
      assert.match(String(m.messageId), /^msg_\d+_/);
    }
    b.ws.close();
    await b.closed;
    const left = json(await a.next());
    assert.deepEqual([left.type, left.activeUsers], ['user-left', 1]);

    const res = await request(e.port, '/stats');
    assert.deepEqual(res.json(), {
      totalConnections: 3,
      activeConnections: 2,
      rooms: { js: { users: 1, messages: 1 }, rust: { users: 1, messages: 0 } },
    });
    // rust got nothing after its own join notice.
    other.ws.send('only rust');
    assert.equal(json(await other.next()).content, 'only rust');
    a.ws.close();
    other.ws.close();
    await Promise.all([a.closed, other.closed]);
    await stop(e);
  });

  it('auth-middleware: 1008 without or with a bad token, user attached with a good one, rate limit', async () => {
    const e = await startExample('auth-middleware');
    const url = (q: string) => `ws://127.0.0.1:${e.port}/ws${q}`;
    const none = await open(url(''));
    assert.deepEqual(await none.closed, { code: 1008, reason: 'Authentication required' });
    const bad = await open(url('?token=forged'));
    assert.deepEqual(await bad.closed, { code: 1008, reason: 'Invalid token' });
    for (let i = 0; i < 5; i++) {
      const ok = await open(url('?token=valid-ada'));
      assert.equal(await ok.next(), 'Hello ada');
      ok.ws.close();
      await ok.closed;
    }
    const limited = await open(url('?token=valid-ada'));
    assert.deepEqual(await limited.closed, { code: 1008, reason: 'Rate limit exceeded' });
    await stop(e);
  });

  it('rate-limit: the sixth connection in a minute is closed with 1008; HTTP past 30 a minute gets 429', async () => {
    const e = await startExample('rate-limit');
    const url = `ws://127.0.0.1:${e.port}/ws`;
    for (let i = 0; i < 5; i++) {
      const ok = await open(url);
      ok.ws.send(`echo ${i}`);
      assert.equal(await ok.next(), `echo ${i}`);
      ok.ws.close();
      await ok.closed;
    }
    const limited = await open(url);
    assert.deepEqual(await limited.closed, { code: 1008, reason: 'Rate limit exceeded' });
    // Requests until the first 429. The bucket holds 30 and refills one every 2 s, so on a slow machine
    // a request or two more may pass: the allowance grows with the time the requests took.
    const startedAt = performance.now();
    let passed = 0;
    let last = await request(e.port, '/hello');
    while (last.status === 200 && passed < 100) {
      passed++;
      last = await request(e.port, '/hello');
    }
    const refills = Math.ceil((performance.now() - startedAt) / 2000);
    assert.equal(last.status, 429);
    assert.ok(passed >= 30 && passed <= 30 + refills, `${passed} requests passed, ${refills} refills`);
    // One request refills every 2 s; the 30 requests took part of that already.
    assert.ok(['1', '2'].includes(String(last.headers['retry-after'])), String(last.headers['retry-after']));
    assert.equal((last.json() as { error: { code?: string } }).error.code, 'ERR_RATE_LIMITED');
    await stop(e);
  });

  it('streaming: stream-started, then data points with the same streamId', async () => {
    const e = await startExample('streaming');
    const c = await open(`ws://127.0.0.1:${e.port}/stream/data`);
    const started = json(await c.next());
    assert.equal(started.type, 'stream-started');
    const point = json(await c.next());
    assert.equal(point.type, 'data-point');
    assert.equal(point.streamId, started.streamId);
    assert.equal((point.metrics as { connections: number }).connections, 1);
    c.ws.close();
    await c.closed;
    await until(() => /Data stream stream_\d+_\w+ ended/.test(e.stdout()));
    await stop(e);
  });

  it('binary: bytes come back reversed as binary; text is acknowledged as text', async () => {
    const e = await startExample('binary');
    const c = await open(`ws://127.0.0.1:${e.port}/binary`);
    c.ws.send(Buffer.from([1, 2, 3]));
    assert.deepEqual(await c.next(), Buffer.from([3, 2, 1]));
    c.ws.send('plain');
    assert.equal(await c.next(), 'Text received: plain');
    c.ws.close();
    await c.closed;
    await stop(e);
  });

  it('security: allowed origins with a user agent pass; others 403 or 401; 64 KiB limit', async () => {
    const e = await startExample('security');
    const url = `ws://127.0.0.1:${e.port}/ws`;
    const ua = { 'User-Agent': 'test' };
    const c = await open(url, { origin: 'https://app.yourdomain.com', headers: ua });
    c.ws.send('x');
    assert.equal(await c.next(), 'x');
    c.ws.send(Buffer.alloc(64 * 1024 + 1));
    assert.equal((await c.closed).code, 1009);
    assert.equal(await refusedStatus(url, { origin: 'https://evil.com', headers: ua }), 403);
    assert.equal(await refusedStatus(url, { headers: ua }), 401);
    assert.equal(await refusedStatus(url, { origin: 'https://yourdomain.com' }), 401);
    const ok = await open(url, { origin: 'https://yourdomain.com', headers: ua });
    ok.ws.close();
    await ok.closed;
    await stop(e);
  });

  it('error-handling: invalid JSON and failures are reported; close is logged and cleaned up', async () => {
    const e = await startExample('error-handling');
    const c = await open(`ws://127.0.0.1:${e.port}/secure-ws`);
    c.ws.send('{"no":"type"}');
    assert.deepEqual(json(await c.next()), { error: 'Invalid message format' });
    c.ws.send('not json');
    assert.deepEqual(json(await c.next()), { error: 'Message processing failed' });
    c.ws.send('{"type":"fail"}');
    assert.deepEqual(json(await c.next()), { error: 'Message processing failed' });
    c.ws.send('{"type":"ok"}');
    c.ws.send('{"x":1}');
    // The valid message produced no reply: the next reply is the one for the invalid message after it.
    assert.deepEqual(json(await c.next()), { error: 'Invalid message format' });
    c.ws.close(4000, 'done');
    await c.closed;
    await until(() => /Cleaned up resources of \/secure-ws/.test(e.stdout()));
    assert.match(e.stdout(), /WebSocket closed: 4000 - done\n/);
    await stop(e);
  });

  it('monitoring: /ws/health and /ws/metrics report the plugin stats', async () => {
    const e = await startExample('monitoring');
    const c = await open(`ws://127.0.0.1:${e.port}/ws`);
    c.ws.send('ping?');
    assert.equal(await c.next(), 'ping?');
    const health = await request(e.port, '/ws/health');
    assert.equal(health.status, 200);
    const body = health.json() as { status: string; websocket: Record<string, unknown> };
    assert.equal(body.status, 'healthy');
    assert.equal(body.websocket.activeConnections, 1);
    assert.equal(body.websocket.totalRooms, 1);
    assert.equal(typeof body.websocket.uptime, 'number');
    const metrics = await request(e.port, '/ws/metrics');
    assert.equal(metrics.status, 200);
    assert.equal(metrics.headers['content-type'], 'text/plain');
    assert.equal(
      metrics.text,
      [
        'websocket_connections_active 1',
        'websocket_rooms_total 1',
        'websocket_messages_sent_total 1',
        'websocket_messages_received_total 1',
      ].join('\n')
    );
    c.ws.close();
    await c.closed;
    await stop(e);
  });
  it('shared-auth: one app.use guards HTTP and WebSocket; ctx.state.user reaches the ws handler', async () => {
    const e = await startExample('shared-auth');
    assert.equal((await request(e.port, '/me')).status, 401);
    const me = await request(e.port, '/me', { headers: { authorization: 'Bearer token-bob' } });
    assert.deepEqual(me.json(), { user: 'bob' });
    assert.equal(await refusedStatus(`ws://127.0.0.1:${e.port}/live`), 401);
    assert.equal(await refusedStatus(`ws://127.0.0.1:${e.port}/live?token=forged`), 401);
    const c = await open(`ws://127.0.0.1:${e.port}/live?token=token-ada`);
    assert.equal(await c.next(), 'hello ada');
    c.ws.send('hi');
    assert.equal(await c.next(), 'ada: hi');
    c.ws.close();
    await c.closed;
    await stop(e);
  });
});
