// Recovery on one node over real sockets: cut connections, 1 000 missed messages, exactly once and in order.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  connect,
  type NextrushClient,
  type RoomEvent,
  type WebSocketConstructor,
} from '../../src/client/index.js';
import { createApp, WebSocketPlugin, type WSConnection } from '../../src/index.js';
import { until } from '../support/until.js';
import { open, startsApps, type Running } from '../ws/helpers.js';

const start = startsApps();
// `ws` as the client's WebSocket, remembering each socket so a test can cut the client's own TCP connection.
const made: WebSocket[] = [];
class RecordedWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    made.push(this);
  }
}
const WsCtor = RecordedWebSocket as unknown as WebSocketConstructor;

interface Harness {
  server: Running;
  /** Server-side sockets currently open, by the client tag in their URL. */
  sockets: Map<string, WSConnection>;
}

async function server(recovery: { windowMs?: number; maxMessages?: number }): Promise<Harness> {
  const sockets = new Map<string, WSConnection>();
  const srv = await start({ path: '/ws', recovery }, app =>
    app.ws('/ws', socket => {
      const q = new URL(socket.url, 'http://x').searchParams;
      for (const room of (q.get('rooms') ?? '').split(',').filter(Boolean)) socket.join(room);
      sockets.set(q.get('tag') ?? '', socket);
    })
  );
  return { server: srv, sockets };
}

interface Recorder {
  client: NextrushClient;
  /** room -> data in arrival order. */
  got: Map<string, string[]>;
  events: RoomEvent[];
  offsets: Map<string, number[]>;
}

const clients: NextrushClient[] = [];
after(() => clients.forEach(c => c.close()));

function record(client: NextrushClient): Recorder {
  clients.push(client);
  const r: Recorder = { client, got: new Map(), events: [], offsets: new Map() };
  client.onMessage((data, meta) => {
    const room = meta.room ?? '*';
    if (!r.got.has(room)) r.got.set(room, []);
    r.got.get(room)!.push(typeof data === 'string' ? data : `bin:${Buffer.from(data).toString('hex')}`);
    if (meta.offset !== undefined) {
      if (!r.offsets.has(room)) r.offsets.set(room, []);
      r.offsets.get(room)!.push(meta.offset);
    }
  });
  client.onRoom(e => r.events.push(e));
  return r;
}

function joinedBoth(r: Recorder): boolean {
  return r.events.filter(e => e.type === 'joined').length >= 2;
}

/** What a plain ws client in the rooms receives, as text or `bin:` hex. */
async function plainClient(h: Harness, tag: string) {
  const c = await open(h.server.url(`/ws?rooms=a,b&tag=${tag}`));
  const got: string[] = [];
  c.ws.on('message', (d: Buffer, bin: boolean) => got.push(bin ? `bin:${d.toString('hex')}` : d.toString()));
  await until(() => h.sockets.has(tag));
  return { c, got };
}

// The range is a cut of 1 to 10 s: both ends of it, and both sides cutting.
const CUTS = [
  { side: 'server', outageMs: 1000 },
  { side: 'client', outageMs: 2000 },
  { side: 'client', outageMs: 10_000 },
] as const;

for (const { side, outageMs } of CUTS) {
  void describe(`recovery after the TCP connection is cut ${side}-side for ${outageMs / 1000} s`, () => {
    void it('delivers the 1 000 messages broadcast meanwhile to two rooms exactly once, in order, before newer ones', async () => {
      // Live messages keep coming during the outage too (about 1 000 a second): the window holds them all.
      const h = await server({ windowMs: 60_000, maxMessages: 2000 + outageMs * 2 });
      const plain = await plainClient(h, 'plain');
      const r = record(
        connect(h.server.url(`/ws?rooms=a,b&tag=rec`), {
          WebSocket: WsCtor,
          backoff: { initialMs: outageMs, jitter: 0 },
        })
      );
      await until(() => joinedBoth(r), { label: 'the client joined a and b' });
      assert.equal(r.client.recovery, true);

      const sent = { a: [] as string[], b: [] as string[] };
      const broadcast = (i: number) => {
        const room = i % 2 === 0 ? 'a' : 'b';
        const text = `${room}-${i} ✓`;
        sent[room].push(text);
        h.server.plugin.broadcast(text, room);
      };
      let i = 0;
      for (; i < 10; i++) broadcast(i);
      await until(() => (r.got.get('b')?.length ?? 0) === 5, { label: 'live before the cut' });

      const states: string[] = [];
      r.client.onState(s => states.push(s));
      const cut = h.sockets.get('rec')!;
      h.sockets.delete('rec');
      if (side === 'server') cut.terminate();
      else made[made.length - 1].terminate(); // the client's current socket: its last one made
      await until(() => r.client.state === 'reconnecting', { label: 'client notices' });

      for (; i < 1010; i++) broadcast(i);
      // Keep broadcasting live while the client comes back: replay must come before these.
      const live = setInterval(() => {
        for (let k = 0; k < 5; k++) broadcast(i++);
      }, 5);
      await until(() => h.sockets.has('rec'), { label: 'reconnected', timeoutMs: 20_000 });
      await until(() => r.events.filter(e => e.type === 'recovered').length === 2, {
        label: 'both rooms recovered',
      });
      clearInterval(live);
      const last = `b-${i % 2 === 0 ? i + 1 : i}`;
      broadcast(i++);
      broadcast(i++);
      await until(() => (r.got.get('b') ?? []).some(m => m.startsWith(`${last} `)), {
        label: 'the last message arrives',
      });

      assert.deepEqual(r.got.get('a'), sent.a, 'room a: every message once, in order');
      assert.deepEqual(r.got.get('b'), sent.b, 'room b: every message once, in order');
      for (const room of ['a', 'b']) {
        const offs = r.offsets.get(room)!;
        assert.deepEqual(
          offs,
          offs.map((_, k) => k + 1),
          `dense offsets in ${room}`
        );
      }
      const recovered = r.events.filter(e => e.type === 'recovered');
      assert.ok(
        recovered.every(e => e.type === 'recovered' && e.replayed >= 500),
        'at least the 500 missed per room were replayed'
      );
      assert.ok(!r.events.some(e => e.type === 'unrecoverable'));
      assert.deepEqual(states.slice(0, 2), ['reconnecting', 'open']);
      // The plain client saw every message raw, in broadcast order, untouched by recovery.
      await until(() => plain.got.length === sent.a.length + sent.b.length, {
        label: 'plain client complete',
      });
      const expected: string[] = [];
      for (let k = 0; k < i; k++) expected.push(k % 2 === 0 ? sent.a[k / 2] : sent.b[(k - 1) / 2]);
      assert.deepEqual(plain.got, expected);
      const stats = h.server.plugin.getStats().recovery!;
      assert.equal(stats.rooms, 2);
      assert.equal(stats.messages, i);
      assert.ok(stats.replayed >= 1000);
      r.client.close();
      plain.c.ws.close();
    });
  });
}

void describe('recovery limits', () => {
  void it('says unrecoverable (window) when more than maxMessages were missed, then continues live', async () => {
    const h = await server({ windowMs: 60_000, maxMessages: 100 });
    const r = record(
      connect(h.server.url('/ws?rooms=a,b&tag=rec'), {
        WebSocket: WsCtor,
        backoff: { initialMs: 300, jitter: 0 },
      })
    );
    await until(() => joinedBoth(r));
    h.sockets.get('rec')!.terminate();
    h.sockets.delete('rec');
    await until(() => r.client.state === 'reconnecting');
    for (let i = 0; i < 150; i++) h.server.plugin.broadcast(`a${i}`, 'a');
    for (let i = 0; i < 100; i++) h.server.plugin.broadcast(`b${i}`, 'b');
    await until(() => r.events.some(e => e.type === 'unrecoverable'), { label: 'unrecoverable event' });
    await until(() => r.events.some(e => e.type === 'recovered'), { label: 'b recovered' });
    const bad = r.events.find(e => e.type === 'unrecoverable');
    assert.deepEqual(bad && bad.type === 'unrecoverable' && [bad.room, bad.reason, bad.position.offset], [
      'a',
      'window',
      150,
    ]);
    assert.equal(r.got.get('a'), undefined, 'nothing of room a was replayed');
    assert.equal(r.got.get('b')?.length, 100, 'room b (exactly maxMessages missed) was replayed');
    h.server.plugin.broadcast('a-live', 'a');
    await until(() => r.got.get('a')?.[0] === 'a-live', { label: 'room a continues live' });
    assert.equal(r.offsets.get('a')?.[0], 151);
    r.client.close();
  });

  void it('says unrecoverable (window) when the missed messages are older than windowMs', async () => {
    const h = await server({ windowMs: 400, maxMessages: 1000 });
    const r = record(
      connect(h.server.url('/ws?rooms=a,b&tag=rec'), {
        WebSocket: WsCtor,
        backoff: { initialMs: 1200, jitter: 0 },
      })
    );
    await until(() => joinedBoth(r));
    h.sockets.get('rec')!.terminate();
    await until(() => r.client.state === 'reconnecting');
    h.server.plugin.broadcast('too old', 'a');
    await until(
      () => r.events.filter(e => e.type === 'unrecoverable' || e.type === 'recovered').length === 2,
      {
        label: 'both rooms answered',
      }
    );
    const a = r.events.find(e => e.room === 'a' && e.type !== 'joined');
    const b = r.events.find(e => e.room === 'b' && e.type !== 'joined');
    assert.deepEqual(a && a.type === 'unrecoverable' && a.reason, 'window');
    assert.equal(b?.type, 'recovered', 'nothing missed in b: recovered with 0 messages');
    r.client.close();
  });

  void it('says unrecoverable (epoch) after the server restarted and lost its history', async () => {
    const h = await server({});
    const r = record(
      connect(h.server.url('/ws?rooms=a,b&tag=rec'), {
        WebSocket: WsCtor,
        backoff: { initialMs: 100, maxMs: 200 },
      })
    );
    await until(() => joinedBoth(r));
    h.server.plugin.broadcast('before', 'a');
    await until(() => r.got.get('a')?.length === 1);
    const port = h.server.port;
    await h.server.app.close();
    // The same port, a new process state: the rooms' history (and epochs) are gone.
    const app = createApp();
    const again = new WebSocketPlugin({ path: '/ws', recovery: {} });
    again.install(app);
    app.ws('/ws', socket => ['a', 'b'].forEach(room => socket.join(room)));
    const listening = app.listen(port, '127.0.0.1');
    await once(listening, 'listening');
    after(() => app.close());
    await until(() => r.events.filter(e => e.type === 'unrecoverable').length === 2, {
      label: 'both rooms unrecoverable',
      timeoutMs: 20_000,
    });
    assert.ok(
      r.events
        .filter(e => e.type === 'unrecoverable')
        .every(e => e.type === 'unrecoverable' && e.reason === 'epoch')
    );
    again.broadcast('after', 'a');
    await until(() => r.got.get('a')?.length === 2);
    assert.deepEqual(r.got.get('a'), ['before', 'after']);
    r.client.close();
  });
});
