// Integration tests of every WebSocketPlugin option over real sockets (ws client and raw TCP).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { WebSocketPlugin } from '../../src/index.js';
import type { WSConnection } from '../../src/index.js';
import {
  clientFrame,
  closeInfo,
  deferred,
  open,
  rawUpgrade,
  refusedStatus,
  startsApps,
  until,
} from './helpers.js';

const start = startsApps();

describe('option path', () => {
  it('serves string, list, wildcard and :param paths; 404 elsewhere; app.ws outside path is served', async () => {
    const r = await start({ path: ['/ws', '/chat/*', '/room/:id'] }, app => {
      const reply = (name: string) => (s: WSConnection) => {
        s.send(JSON.stringify({ name, params: s.params, url: s.url }));
      };
      app.ws('/ws', reply('ws'));
      app.ws('/chat/*', reply('chat'));
      app.ws('/room/:id', reply('room'));
      app.ws('/outside', reply('outside'));
    });
    const ask = async (path: string) => {
      const c = await open(r.url(path));
      const m = JSON.parse((await c.next()) as string) as unknown;
      c.ws.close();
      await c.closed;
      return m;
    };
    assert.deepEqual(await ask('/ws'), { name: 'ws', params: {}, url: '/ws' });
    assert.deepEqual(await ask('/chat/lobby/x?y=1'), {
      name: 'chat',
      params: { '*': 'lobby/x' },
      url: '/chat/lobby/x?y=1',
    });
    assert.deepEqual(await ask('/room/42'), { name: 'room', params: { id: '42' }, url: '/room/42' });
    assert.deepEqual(await ask('/outside'), { name: 'outside', params: {}, url: '/outside' });

    const { client, status } = await rawUpgrade(r.port, '/nope');
    assert.equal(status, 404);
    await client.rest();
    assert.equal(await refusedStatus(r.url('/ws/extra')), 404);
    assert.equal(r.plugin.getStats().connectionsRefused.path, 2);
  });

  it('a single string path works', async () => {
    const r = await start({ path: '/only' }, app => app.ws('/only', s => void s.send('hi')));
    const c = await open(r.url('/only'));
    assert.equal(await c.next(), 'hi');
    c.ws.close();
    await c.closed;
  });
});

describe('option heartbeatMs / pongTimeoutMs', () => {
  it('pings arrive; a ws client that answers stays open', async () => {
    const r = await start({ heartbeatMs: 20, pongTimeoutMs: 40 }, app => app.ws('/', () => {}));
    const c = await open(r.url('/'));
    let pings = 0;
    c.ws.on('ping', () => pings++);
    await until(() => pings >= 5); // 5 pings span well over pongTimeoutMs
    assert.equal(c.ws.readyState, c.ws.OPEN);
    assert.equal(r.plugin.getStats().connections, 1);
    c.ws.close();
    await c.closed;
  });

  it('a raw client that never answers pings is terminated; onClose gets 1006', async () => {
    const gone = deferred<number>();
    const r = await start({ heartbeatMs: 20, pongTimeoutMs: 30 }, app =>
      app.ws('/', s => s.onClose(code => gone.resolve(code)))
    );
    const { client, status } = await rawUpgrade(r.port, '/');
    assert.equal(status, 101);
    const first = await client.frame();
    assert.equal(first?.opcode, 0x9, 'a ping arrives');
    assert.equal(await gone.promise, 1006);
    await client.closed;
    assert.equal(r.plugin.getStats().connections, 0);
  });

  it('heartbeatMs 0 disables pings', async () => {
    const r = await start({ heartbeatMs: 0, pongTimeoutMs: 1 }, app =>
      app.ws('/', s => s.onMessage(m => void s.send(m)))
    );
    const c = await open(r.url('/'));
    let pings = 0;
    c.ws.on('ping', () => pings++);
    // Round trips over a period far longer than a 1 ms pong timeout: no ping, no termination.
    for (let i = 0; i < 20; i++) {
      c.ws.send(`m${i}`);
      assert.equal(await c.next(), `m${i}`);
      await new Promise(resolve => setTimeout(resolve, 2));
    }
    assert.equal(pings, 0);
    assert.equal(c.ws.readyState, c.ws.OPEN);
    c.ws.close();
    await c.closed;
  });
});

describe('option maxConnections', () => {
  it('the N+1th upgrade gets 503', async () => {
    const r = await start({ maxConnections: 2 }, app => app.ws('/', () => {}));
    const a = await open(r.url('/'));
    const b = await open(r.url('/'));
    assert.equal(await refusedStatus(r.url('/')), 503);
    assert.equal(r.plugin.getStats().connectionsRefused.limit, 1);
    a.ws.close();
    await a.closed;
    await until(() => r.plugin.getStats().connections === 1);
    const c = await open(r.url('/'));
    b.ws.close();
    c.ws.close();
    await Promise.all([b.closed, c.closed]);
  });

  it('upgrades waiting in an async verifyClient count: 20 concurrent against 5 yield exactly 5 x 101', async () => {
    const release = deferred<void>();
    let verifying = 0;
    const r = await start(
      {
        maxConnections: 5,
        verifyClient: async () => {
          verifying++;
          await release.promise;
          return true;
        },
      },
      app => app.ws('/', () => {})
    );
    let refused = 0;
    const attempts = Array.from({ length: 20 }, () =>
      rawUpgrade(r.port, '/').then(x => {
        if (x.status === 503) refused++;
        return x;
      })
    );
    // 15 are refused while the first 5 are still inside verifyClient.
    await until(() => refused === 15);
    assert.equal(verifying, 5);
    release.resolve();
    const results = await Promise.all(attempts);
    assert.deepEqual(results.map(x => x.status).sort(), [
      ...Array<number>(5).fill(101),
      ...Array<number>(15).fill(503),
    ]);
    assert.equal(r.plugin.getStats().connections, 5);
    for (const x of results) x.client.destroy();
    await until(() => r.plugin.getStats().connections === 0);
  });
});

describe('option maxMessageSize', () => {
  const size = 1000;
  const setup = async () =>
    start({ maxMessageSize: size }, app => app.ws('/', s => s.onMessage(m => void s.send(m))));

  it('a message of exactly the limit passes; limit+1 closes with 1009', async () => {
    const r = await setup();
    const c = await open(r.url('/'));
    c.ws.send('x'.repeat(size));
    assert.equal(await c.next(), 'x'.repeat(size));
    c.ws.send(Buffer.alloc(size + 1));
    assert.equal((await c.closed).code, 1009);
  });

  it('also when fragmented', async () => {
    const r = await setup();
    const ok = await rawUpgrade(r.port, '/');
    ok.client.write(clientFrame(0x2, Buffer.alloc(600, 1), false));
    ok.client.write(clientFrame(0x0, Buffer.alloc(400, 2), true));
    const echo = await ok.client.frame();
    assert.equal(echo?.opcode, 0x2);
    assert.equal(echo?.payload.length, size);
    ok.client.destroy();

    const big = await rawUpgrade(r.port, '/');
    big.client.write(clientFrame(0x1, 'a'.repeat(600), false));
    big.client.write(clientFrame(0x0, 'b'.repeat(401), true));
    assert.equal(closeInfo(await big.client.frame())?.code, 1009);
    await big.client.closed;
  });
});

describe('option allowOrigins', () => {
  it('string and RegExp rules; others get 403; no Origin is allowed', async () => {
    const r = await start({ allowOrigins: ['https://a.example', /^https:\/\/.*\.b\.example$/] }, app =>
      app.ws('/', () => {})
    );
    for (const origin of ['https://a.example', 'https://x.b.example', undefined]) {
      const { client, status } = await rawUpgrade(r.port, '/', origin ? { Origin: origin } : {});
      assert.equal(status, 101, String(origin));
      client.destroy();
    }
    assert.equal(await refusedStatus(r.url('/'), { origin: 'https://evil.example' }), 403);
    const raw = await rawUpgrade(r.port, '/', { Origin: 'https://b.example' });
    assert.equal(raw.status, 403);
    await raw.client.rest();
    assert.equal(r.plugin.getStats().connectionsRefused.origin, 2);
  });

  it("'*' allows every origin", async () => {
    const r = await start({ allowOrigins: ['*'] }, app => app.ws('/', () => {}));
    const c = await open(r.url('/'), { origin: 'https://anything.example' });
    c.ws.close();
    await c.closed;
  });
});

describe('option verifyClient', () => {
  const cases: [string, (req: IncomingMessage) => boolean | Promise<boolean>, number][] = [
    ['sync true', () => true, 101],
    ['sync false', () => false, 401],
    ['async true', () => Promise.resolve(true), 101],
    ['async false', () => Promise.resolve(false), 401],
    [
      'throwing',
      () => {
        throw new Error('boom');
      },
      500,
    ],
    ['rejecting', () => Promise.reject(new Error('boom')), 500],
    ['reads the request', req => req.headers['x-token'] === 'ok', 101],
  ];
  for (const [name, verify, expected] of cases) {
    it(`${name} -> ${expected}`, async () => {
      const r = await start({ verifyClient: verify }, app => app.ws('/', () => {}));
      const { client, status } = await rawUpgrade(r.port, '/', { 'X-Token': 'ok' });
      assert.equal(status, expected);
      client.destroy();
      const stats = r.plugin.getStats();
      if (expected === 401) assert.equal(stats.connectionsRefused.verify, 1);
      if (expected === 500) assert.equal(stats.connectionsRefused.error, 1);
      await until(() => r.plugin.getStats().connections === 0);
    });
  }
});

describe('invalid options', () => {
  const bad: [Record<string, unknown>, string][] = [
    [{ path: 'ws' }, 'path'],
    [{ heartbeatMs: -1 }, 'heartbeatMs'],
    [{ pongTimeoutMs: 0 }, 'pongTimeoutMs'],
    [{ maxConnections: 1.5 }, 'maxConnections'],
    [{ maxMessageSize: '1' }, 'maxMessageSize'],
    [{ allowOrigins: 'https://a' }, 'allowOrigins'],
    [{ verifyClient: true }, 'verifyClient'],
    [{ debug: 'yes' }, 'debug'],
  ];
  for (const [options, name] of bad) {
    it(`throws naming "${name}"`, () => {
      assert.throws(
        () => new WebSocketPlugin(options),
        (e: Error) => e instanceof TypeError && e.message.includes(`"${name}"`)
      );
    });
  }
});

describe('option debug', () => {
  const program = (debug: boolean) => `
    import { createApp, WebSocketPlugin } from ${JSON.stringify(new URL('../../src/index.js', import.meta.url).href)};
    import WebSocket from 'ws';
    const app = createApp();
    new WebSocketPlugin({ debug: ${debug} }).install(app);
    app.ws('/', s => s.close(1000, 'bye'));
    const server = app.listen(0, '127.0.0.1', () => {
      const ws = new WebSocket('ws://127.0.0.1:' + server.address().port + '/nowhere');
      ws.on('error', () => {
        const ok = new WebSocket('ws://127.0.0.1:' + server.address().port + '/');
        ok.on('close', () => app.close());
      });
    });`;
  const run = (debug: boolean) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', program(debug)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', reject);
      child.on('close', code => (code === 0 ? resolve(err) : reject(new Error(`exit ${code}: ${err}`))));
    });

  it('emits JSON lines on stderr when on, nothing when off', async () => {
    const [on, off] = await Promise.all([run(true), run(false)]);
    assert.equal(off, '');
    const lines = on
      .trim()
      .split('\n')
      .map(l => JSON.parse(l) as { level: string; source: string; msg: string });
    assert.ok(lines.length >= 2);
    assert.ok(lines.every(l => l.source === 'nextrush:ws' && l.level === 'debug'));
    assert.ok(lines.some(l => l.msg === 'upgrade refused'));
    assert.ok(lines.some(l => l.msg === 'connection opened'));
  });
});
