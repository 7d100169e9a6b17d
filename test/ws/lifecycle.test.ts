// Issue 12 findings 1, 4, 5, 6 and route params over real sockets: PENDING -> OPEN -> CLOSED decides who gets what.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as pkg from '../../src/index.js';
import type { WSConnection } from '../../src/index.js';
import { clientFrame, deferred, open, rawUpgrade, startsApps, until } from './helpers.js';

const start = startsApps();

/** The code of a thrown error (undefined when nothing was thrown). */
function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return undefined;
}

describe('PENDING: a socket in wsUse middleware', () => {
  it('gets no broadcast (finding 1), may send to itself, cannot join rooms, reads readyState 0', async () => {
    const inMiddleware = deferred<void>();
    const verdict = deferred<boolean>();
    const seen: { readyState?: number; joinCode?: unknown; sent?: string } = {};
    const r = await start({}, app => {
      app.wsUse(async (socket, req, next) => {
        if (req.url === '/?member') return next();
        seen.readyState = socket.readyState;
        seen.sent = socket.send('challenge');
        seen.joinCode = codeOf(() => socket.join('members'));
        inMiddleware.resolve();
        if (await verdict.promise) next();
        else socket.close(1008, 'refused');
      });
      app.ws('/', () => {});
    });
    const member = await open(r.url('/?member'));
    const outsider = await open(r.url('/'));
    await inMiddleware.promise;
    assert.equal(await outsider.next(), 'challenge');
    r.app.wsBroadcast('members only');
    assert.equal(await member.next(), 'members only');
    verdict.resolve(false);
    assert.deepEqual(await outsider.closed, { code: 1008, reason: 'refused' });
    // Nothing but the challenge reached the outsider before its close frame.
    const after = await Promise.race([outsider.next(), Promise.resolve('nothing')]);
    assert.equal(after, 'nothing');
    assert.equal(seen.readyState, 0);
    assert.equal(seen.sent, 'sent');
    assert.equal(seen.joinCode, 'WS_ERR_NOT_OPEN');
    assert.equal(r.plugin.getStats().rooms, 0);
    member.ws.close();
    await member.closed;
  });

  it('counts against maxConnections', async () => {
    const release = deferred<void>();
    const r = await start({ maxConnections: 1 }, app => {
      app.wsUse(async (_s, _req, next) => {
        await release.promise;
        next();
      });
      app.ws('/', () => {});
    });
    const first = await open(r.url('/'));
    await assert.rejects(open(r.url('/')), /HTTP 503/);
    assert.equal(r.plugin.getStats().connections, 1);
    release.resolve();
    first.ws.close();
    await first.closed;
  });
});

describe('rooms follow the lifecycle', () => {
  it('ctx.wsRooms.join() of a closed socket is refused and creates no room (finding 4)', async () => {
    const closed = deferred<WSConnection>();
    const r = await start({}, app =>
      app.ws('/', s => s.onClose(() => setImmediate(() => closed.resolve(s))))
    );
    const c = await open(r.url('/'));
    c.ws.close();
    const socket = await closed.promise;
    assert.equal(socket.readyState, 3);
    assert.equal(
      codeOf(() => r.plugin.rooms.join(socket, 'late')),
      'WS_ERR_NOT_OPEN'
    );
    assert.equal(
      codeOf(() => socket.join('late')),
      'WS_ERR_NOT_OPEN'
    );
    assert.equal(r.plugin.rooms.has('late'), false);
    assert.equal(r.plugin.getStats().rooms, 0);
    assert.deepEqual(r.plugin.rooms.rooms(), []);
  });

  it('join("") and a foreign object have stable codes', async () => {
    const got = deferred<WSConnection>();
    const r = await start({}, app => app.ws('/', s => got.resolve(s)));
    const c = await open(r.url('/'));
    const socket = await got.promise;
    const empty = (() => {
      try {
        socket.join('');
      } catch (error) {
        return error;
      }
    })();
    assert.ok(empty instanceof TypeError);
    assert.equal((empty as { code?: string }).code, 'WS_ERR_INVALID_ROOM');
    const fake: WSConnection = { ...socket };
    assert.equal(
      codeOf(() => r.plugin.rooms.join(fake, 'x')),
      'WS_ERR_INVALID_ARGUMENT'
    );
    c.ws.close();
    await c.closed;
  });

  it('onClose handlers see socket.rooms as it was; the rooms empty after them (finding 5)', async () => {
    const seen = deferred<{ rooms: string[]; size: number }>();
    const r = await start({}, app =>
      app.ws('/', s => {
        s.join('a');
        s.join('b');
        s.onClose(() => seen.resolve({ rooms: [...s.rooms].sort(), size: r.plugin.rooms.size('a') }));
      })
    );
    const c = await open(r.url('/'));
    await until(() => r.plugin.rooms.size('b') === 1);
    c.ws.close();
    assert.deepEqual(await seen.promise, { rooms: ['a', 'b'], size: 1 });
    await until(() => r.plugin.getStats().rooms === 0);
    assert.equal(r.plugin.rooms.has('a'), false);
  });

  it('a broadcast from an onClose handler to the room reaches the others, not the closing socket', async () => {
    const r = await start({}, app =>
      app.ws('/', s => {
        s.join('room');
        s.onClose(() => r.app.wsBroadcast('left', 'room'));
      })
    );
    const stays = await open(r.url('/'));
    const leaves = await open(r.url('/'));
    await until(() => r.plugin.rooms.size('room') === 2);
    const dropped = r.plugin.getStats().messagesDropped;
    leaves.ws.close();
    await leaves.closed;
    assert.equal(await stays.next(), 'left');
    assert.equal(r.plugin.getStats().messagesDropped, dropped);
    stays.ws.close();
    await stays.closed;
  });
});

describe('the socket handed to handlers is the public interface only (finding 6)', () => {
  it('exposes no internals and a read-only readyState; the package exports no connection class', async () => {
    const got = deferred<WSConnection>();
    const r = await start({}, app => app.ws('/', s => got.resolve(s)));
    const c = await open(r.url('/'));
    const socket = (await got.promise) as unknown as Record<string, unknown>;
    for (const name of ['onText', 'onBinary', 'onError', 'onPing', 'onCloseFrame', 'fail', 'lastPingTick']) {
      assert.equal(socket[name], undefined, name);
    }
    assert.deepEqual(Object.keys(socket), []);
    assert.throws(() => {
      socket.readyState = 3;
    }, TypeError);
    assert.equal(socket.readyState, 1);
    // Applications may still attach their own data (the spec's auth example does).
    socket.user = 'ann';
    assert.equal(socket.user, 'ann');
    assert.equal((pkg as Record<string, unknown>).WebSocketConnection, undefined);
    assert.deepEqual(pkg.ReadyState, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
    c.ws.close();
    await c.closed;
  });
});

describe('route params', () => {
  it('are the match found at upgrade time, whatever routes are added later', async () => {
    const got = deferred<WSConnection>();
    const r = await start({}, app => app.ws('/room/:name', s => got.resolve(s)));
    const c = await open(r.url('/room/special'));
    const socket = await got.promise;
    // A route added afterwards that would match the same path must not change the socket's params.
    r.app.ws('/room/special', () => {});
    assert.deepEqual({ ...socket.params }, { name: 'special' });
    c.ws.close();
    await c.closed;
  });
});

describe('closing', () => {
  it("a close frame waiting in a paused socket is honoured: onClose reports the peer's code", async () => {
    const code = deferred<number>();
    const ready = deferred<WSConnection>();
    const r = await start(
      { maxBackpressure: 64 * 1024, backpressurePolicy: 'drop', closeTimeoutMs: 300 },
      app =>
        app.ws('/', s => {
          s.onClose(c => code.resolve(c));
          ready.resolve(s);
        })
    );
    const { client, status } = await rawUpgrade(r.port, '/');
    assert.equal(status, 101);
    client.socket.pause(); // the client reads nothing: the server's writes back up and it stops reading
    const socket = await ready.promise;
    const chunk = Buffer.alloc(60 * 1024, 1);
    for (let i = 0; i < 400 && socket.bufferedAmount < 8 * 1024 * 1024; i++) {
      socket.send(chunk);
      await new Promise(resolve => setImmediate(resolve));
    }
    client.write(clientFrame(0x8, Buffer.from([0x0f, 0xa5])));
    socket.close(4000);
    // closeTimeoutMs destroys the socket; the peer's 4005 was received but not decoded at that time.
    assert.equal(await code.promise, 4005);
    client.destroy();
  });
});
