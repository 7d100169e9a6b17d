// nextrush-v2/client over real sockets: wire format, plain servers, backoff, retries; recovery option checks.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { WebSocket as UndiciWebSocket } from 'undici';
import WebSocket from 'ws';
import {
  backoffDelay,
  connect,
  type ConnectionState,
  type MessageMeta,
  type NextrushClient,
  type RoomEvent,
  type WebSocketConstructor,
} from '../../src/client/index.js';
import { ClusterAdapter, WebSocketPlugin, type WSConnection } from '../../src/index.js';
import { MAX_RESUME_CHARS, RECOVERY_PROTOCOL, RESUME_PARAM } from '../../src/ws/recovery/wire.js';
import { until } from '../support/until.js';
import { startsApps } from '../ws/helpers.js';

const start = startsApps();
const WsCtor = WebSocket as unknown as WebSocketConstructor;
const clients: NextrushClient[] = [];
after(() => clients.forEach(c => c.close()));

function track(client: NextrushClient) {
  clients.push(client);
  const got: [string, MessageMeta][] = [];
  const events: RoomEvent[] = [];
  const states: ConnectionState[] = [];
  client.onMessage((data, meta) =>
    got.push([typeof data === 'string' ? data : `bin:${Buffer.from(data).toString('hex')}`, meta])
  );
  client.onRoom(e => events.push(e));
  client.onState(s => states.push(s));
  return { client, got, events, states };
}

void describe('nextrush-v2/client', () => {
  void it('tells room messages (text and binary, with room and offset) from direct sends and global broadcasts', async () => {
    const sockets: WSConnection[] = [];
    const received: (string | Buffer)[] = [];
    const srv = await start({ path: '/ws', recovery: true }, app =>
      app.ws('/ws', socket => {
        socket.join('room with\nnewline "quoted"');
        socket.send('direct hello');
        socket.onMessage(m => received.push(m));
        sockets.push(socket);
      })
    );
    const t = track(connect(srv.url('/ws'), { WebSocket: WsCtor }));
    await until(() => t.events.length === 1 && t.got.length === 1);
    assert.equal(t.client.recovery, true);
    assert.deepEqual(t.events[0], {
      room: 'room with\nnewline "quoted"',
      type: 'joined',
      position: { epoch: (t.events[0] as { position: { epoch: string } }).position.epoch, offset: 0 },
    });
    srv.plugin.broadcast('line1\nline2', 'room with\nnewline "quoted"');
    srv.plugin.broadcast(Buffer.from([0x0a, 0, 0xff]), 'room with\nnewline "quoted"');
    srv.plugin.broadcast('to everyone');
    srv.plugin.broadcast(Buffer.from([1, 2]));
    await until(() => t.got.length === 5);
    const epoch = t.client.positions()['room with\nnewline "quoted"'].epoch;
    const room = 'room with\nnewline "quoted"';
    assert.deepEqual(t.got, [
      ['direct hello', { replayed: false }],
      ['line1\nline2', { room, epoch, offset: 1, replayed: false }],
      ['bin:0a00ff', { room, epoch, offset: 2, replayed: false }],
      ['to everyone', { replayed: false }],
      ['bin:0102', { replayed: false }],
    ]);
    // What the client sends reaches handlers untouched.
    assert.equal(t.client.send('up ✓'), true);
    await until(() => received.length === 1);
    assert.deepEqual(received, ['up ✓']);
    // Leaving a room is announced and forgotten.
    sockets[0].leave(room);
    await until(() => t.events.length === 2);
    assert.deepEqual(t.events[1], { room, type: 'left' });
    assert.deepEqual(t.client.positions(), {});
  });

  void it('works against a server without recovery: plain messages and reconnection only', async () => {
    const sockets: WSConnection[] = [];
    const srv = await start({ path: '/ws' }, app =>
      app.ws('/ws', socket => {
        socket.join('r');
        sockets.push(socket);
      })
    );
    // undici fails a handshake whose offered subprotocol the server ignores, as browsers do: the client
    // then tries without the offer.
    const t = track(
      connect(srv.url('/ws'), {
        WebSocket: UndiciWebSocket as unknown as WebSocketConstructor,
        backoff: { initialMs: 50, jitter: 0 },
      })
    );
    await until(() => t.client.state === 'open');
    assert.equal(t.client.recovery, false);
    srv.plugin.broadcast('{"t":"m"}\nnot a header here', 'r');
    await until(() => t.got.length === 1);
    assert.deepEqual(t.got[0], ['{"t":"m"}\nnot a header here', { replayed: false }]);
    const before = sockets.length;
    sockets[before - 1].terminate();
    await until(() => sockets.length > before && t.client.state === 'open', { label: 'reconnected' });
    assert.deepEqual(t.states.slice(-3), ['open', 'reconnecting', 'open']);
    srv.plugin.broadcast('after', 'r');
    await until(() => t.got.length === 2);
    assert.equal(t.got[1][0], 'after');
    assert.deepEqual(t.events, []);
    assert.equal(t.client.send('x'), true);
    t.client.close();
    assert.equal(t.client.state, 'closed');
    assert.equal(t.client.send('y'), false, 'nothing is sent (or queued) once closed');
  });

  void it('gives up after maxRetries failed attempts in a row and says closed', async () => {
    const srv = await start({ path: '/ws' }, app => app.ws('/ws', () => {}));
    const url = srv.url('/nowhere'); // 404: every attempt fails
    const t = track(
      connect(url, { WebSocket: WsCtor, maxRetries: 3, backoff: { initialMs: 10, jitter: 0 } })
    );
    await until(() => t.client.state === 'closed', { label: 'gave up' });
    assert.deepEqual(t.states, ['reconnecting', 'closed']);
  });

  void it('computes exponential backoff with a cap and bounded jitter', () => {
    const o = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 10].map(a => backoffDelay(a, o, () => 0)),
      [100, 200, 400, 800, 1000, 1000]
    );
    assert.equal(
      backoffDelay(2, o, () => 1),
      200,
      'full jitter takes off half'
    );
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, o);
      assert.ok(d >= 400 && d <= 800);
    }
  });

  void it('refuses to start without a WebSocket constructor where there is no global one', () => {
    const g = globalThis as { WebSocket?: unknown };
    const saved = g.WebSocket;
    g.WebSocket = undefined;
    try {
      assert.throws(() => connect('ws://127.0.0.1:1/'), /no WebSocket constructor/);
    } finally {
      g.WebSocket = saved;
    }
  });
});

void describe('recovery: resume input and options', () => {
  void it('treats a malformed or oversized resume parameter as a new client (join notices)', async () => {
    const srv = await start({ path: '/ws', recovery: true }, app =>
      app.ws('/ws', socket => socket.join('r'))
    );
    for (const resume of ['{not json', JSON.stringify({ r: ['e', -1] }), 'x'.repeat(MAX_RESUME_CHARS + 1)]) {
      const ws = new WebSocket(srv.url(`/ws?${RESUME_PARAM}=${encodeURIComponent(resume)}`), [
        RECOVERY_PROTOCOL,
      ]);
      const [first] = (await once(ws, 'message')) as [Buffer];
      assert.equal(ws.protocol, RECOVERY_PROTOCOL);
      assert.match(first.toString(), /^\{"t":"join","r":"r","e":"[^"]+","o":0\}\n$/);
      ws.close();
    }
  });

  void it('validates the recovery option and refuses adapters without history', () => {
    assert.throws(() => new WebSocketPlugin({ recovery: 'yes' as never }), /recovery/);
    assert.throws(() => new WebSocketPlugin({ recovery: { windowMs: 0 } }), /recovery\.windowMs/);
    assert.throws(() => new WebSocketPlugin({ recovery: { maxMessages: 1.5 } }), /recovery\.maxMessages/);
    assert.throws(() => new WebSocketPlugin({ recovery: { window: 5 } as never }), /recovery\.window/);
    assert.throws(
      () => new WebSocketPlugin({ recovery: true, adapter: new ClusterAdapter() }),
      /not supported with the cluster adapter/
    );
  });
});
