// The ws error catalogue (every throw has a stable code), next() twice, and a heartbeat that pings only quiet peers.
import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { describe, it } from 'node:test';
import { createApp, WebSocketPlugin, WsErrors, type WSConnection } from '../../src/index.js';
import { deferred, open, startsApps, until } from './helpers.js';

const start = startsApps();

/** [constructor name, code] of what `fn` throws. */
function thrown(fn: () => unknown): [string, unknown] | undefined {
  try {
    fn();
  } catch (error) {
    return [(error as Error).constructor.name, (error as { code?: unknown }).code];
  }
  return undefined;
}

describe('error catalogue', () => {
  it('socket methods throw errors with stable codes', async () => {
    const got = deferred<WSConnection>();
    const r = await start({}, app => app.ws('/', s => got.resolve(s)));
    const c = await open(r.url('/'));
    const s = await got.promise;
    assert.deepEqual(
      thrown(() => s.close(999)),
      ['RangeError', 'WS_ERR_INVALID_CLOSE_CODE']
    );
    assert.deepEqual(
      thrown(() => s.close(1000, 'x'.repeat(124))),
      ['RangeError', 'WS_ERR_INVALID_CLOSE_REASON']
    );
    assert.deepEqual(
      thrown(() => s.ping(Buffer.alloc(126))),
      ['RangeError', 'WS_ERR_PING_TOO_LONG']
    );
    assert.deepEqual(
      thrown(() => s.send(42 as unknown as string)),
      ['TypeError', 'WS_ERR_INVALID_ARGUMENT']
    );
    assert.deepEqual(
      thrown(() => s.join('')),
      ['TypeError', 'WS_ERR_INVALID_ROOM']
    );
    assert.deepEqual(
      thrown(() => s.rooms.add('x')),
      ['TypeError', 'WS_ERR_ROOMS_READ_ONLY']
    );
    assert.deepEqual(
      thrown(() => r.app.wsBroadcast(7 as unknown as string)),
      ['TypeError', 'WS_ERR_INVALID_ARGUMENT']
    );
    assert.deepEqual(
      thrown(() => r.plugin.install(createApp())),
      ['Error', 'WS_ERR_ALREADY_INSTALLED']
    );
    assert.deepEqual(
      thrown(() => r.app.ws('no-slash', () => {})),
      ['TypeError', 'WS_ERR_INVALID_ARGUMENT']
    );
    c.ws.close();
    await c.closed;
  });

  it('option validation: WS_ERR_INVALID_OPTION, maxMessageSize bounded by what a Buffer holds', () => {
    assert.deepEqual(
      thrown(() => new WebSocketPlugin({ verifyTimeoutMs: 0 })),
      ['TypeError', 'WS_ERR_INVALID_OPTION']
    );
    assert.deepEqual(
      thrown(() => new WebSocketPlugin({ maxMessageSize: constants.MAX_LENGTH + 1 })),
      ['TypeError', 'WS_ERR_INVALID_OPTION']
    );
    assert.equal(
      thrown(() => new WebSocketPlugin({ verifyTimeoutMs: 5 })),
      undefined
    );
    for (const [code, entry] of Object.entries(WsErrors)) assert.ok(entry.message.length > 0, code);
  });

  it('next() called twice throws WS_ERR_NEXT_CALLED_TWICE and the socket closes with 1011', async () => {
    const codes: unknown[] = [];
    const r = await start({}, app => {
      app.wsUse((_s, _req, next) => {
        next();
        try {
          next();
        } catch (error) {
          codes.push((error as { code?: unknown }).code);
          throw error;
        }
      });
      app.ws('/', () => {});
    });
    const c = await open(r.url('/'));
    assert.deepEqual(await c.closed, { code: 1011, reason: 'Internal error' });
    assert.deepEqual(codes, ['WS_ERR_NEXT_CALLED_TWICE']);
  });
});

describe('heartbeat', () => {
  it('pings a quiet connection, not one whose traffic proves it alive', async () => {
    const r = await start({ heartbeatMs: 200, pongTimeoutMs: 5000 }, app => app.ws('/', () => {}));
    const busy = await open(r.url('/'));
    const quiet = await open(r.url('/'));
    let busyPings = 0;
    let quietPings = 0;
    busy.ws.on('ping', () => busyPings++);
    quiet.ws.on('ping', () => quietPings++);
    const timer = setInterval(() => busy.ws.send('tick'), 10);
    await until(() => quietPings >= 2, { label: 'two pings to the quiet client' });
    clearInterval(timer);
    assert.equal(busyPings, 0);
    busy.ws.close();
    quiet.ws.close();
    await Promise.all([busy.closed, quiet.closed]);
  });
});
