// Recovery over Redis: two app processes, a real redis-server, nextrush-v2/client resuming on the other node.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  connect,
  type NextrushClient,
  type RoomEvent,
  type WebSocketConstructor,
} from '../../src/client/index.js';
import type { WebSocketStats } from '../../src/ws/types.js';
import type { Library } from '../scale/helpers/clients.js';
import { connectClient, startNode, type AppNode } from '../scale/helpers/nodes.js';
import { freePort, redisAvailable, startRedis, type RedisServer } from '../scale/helpers/redis-server.js';
import { until } from '../support/until.js';

const available = redisAvailable();
const RECOVERY = JSON.stringify({ windowMs: 60_000, maxMessages: 5000 });

/** One server frame as a nextrush.v1 client gets it: the header (undefined: no room) and the data. */
interface Frame {
  header: { t: string; r?: string; e?: string; o?: number; n?: number; reason?: string } | undefined;
  data: string;
}

/**
 * A nextrush-v2/client over `ws` whose connections go wherever `target` points (a load balancer in
 * small), recording every raw frame the server sent, across reconnects, in arrival order.
 */
class Tracked {
  target: number;
  readonly frames: Frame[] = [];
  readonly sockets: WebSocket[] = [];
  readonly events: RoomEvent[] = [];
  /** room -> data in the order the application saw it. */
  readonly got = new Map<string, string[]>();
  readonly client: NextrushClient;

  constructor(port: number, rooms: string[]) {
    this.target = port;
    const route = (url: string) => url.replace('127.0.0.1:1/', `127.0.0.1:${this.target}/`);
    const sockets = this.sockets;
    const frames = this.frames;
    class Routed extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(route(url), protocols);
        sockets.push(this);
        this.on('message', (d: Buffer) => {
          const nl = d.indexOf(0x0a);
          const head = d.toString('utf8', 0, nl);
          const header = head === '' ? undefined : (JSON.parse(head) as Frame['header']);
          frames.push({ header, data: d.toString('utf8', nl + 1) });
        });
      }
    }
    this.client = connect(`ws://127.0.0.1:1/ws?rooms=${rooms.join(',')}`, {
      WebSocket: Routed as unknown as WebSocketConstructor,
      backoff: { initialMs: 50, maxMs: 300 },
    });
    this.client.onMessage((data, meta) => {
      if (meta.room === undefined) return;
      if (!this.got.has(meta.room)) this.got.set(meta.room, []);
      this.got.get(meta.room)!.push(String(data));
    });
    this.client.onRoom(e => this.events.push(e));
  }

  /** Cuts the client's TCP connection from its side (it reconnects to wherever `target` points then). */
  cut(): void {
    this.sockets.at(-1)?.terminate();
  }

  count(room: string): number {
    return this.got.get(room)?.length ?? 0;
  }

  notices(type: string, room?: string): Frame[] {
    return this.frames.filter(f => f.header?.t === type && (room === undefined || f.header.r === room));
  }
}

/**
 * Walks a client's raw frames and returns every place where a room message does not continue the
 * room's position densely: a duplicate, a hole, or an epoch change with a hole, none announced by a
 * notice. Notices (join, recovered, unrecoverable) set the position, as they do for the client.
 */
function silentGaps(frames: Frame[]): string[] {
  const at = new Map<string, { e: string; o: number }>();
  const bad: string[] = [];
  for (const { header: h } of frames) {
    if (h === undefined || h.r === undefined) continue;
    if (h.t === 'm') {
      const p = at.get(h.r);
      const ok = p === undefined ? false : p.e === h.e ? h.o === p.o + 1 : h.o === 1;
      if (!ok) bad.push(`${h.r}: ${JSON.stringify(p)} -> ${h.e}/${h.o}`);
    }
    if (h.e !== undefined && h.o !== undefined) at.set(h.r, { e: h.e, o: h.o });
  }
  return bad;
}

const range = (room: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${room}:${from + i}`);

async function connected(node: AppNode): Promise<boolean> {
  return ((await node.call({ cmd: 'stats' })).stats as WebSocketStats).adapter.connected;
}

async function waitConnected(nodes: AppNode[], want: boolean, label: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    const states = await Promise.all(nodes.map(connected));
    if (states.every(s => s === want)) return;
    if (Date.now() - started > 20_000) throw new Error(`timed out: ${label}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

for (const lib of ['node-redis', 'ioredis'] as Library[]) {
  void describe(`recovery over Redis, two app processes (${lib})`, { skip: !available }, () => {
    let redis: RedisServer;
    let A: AppNode;
    let B: AppNode;
    const tracked: Tracked[] = [];
    const track = (t: Tracked) => (tracked.push(t), t);
    const nodes: AppNode[] = [];
    const node = async (name: string) => {
      const n = await startNode(lib, redis.port, name, `rec-${lib}`, { RECOVERY });
      nodes.push(n);
      return n;
    };

    before(async () => {
      redis = await startRedis();
      [A, B] = await Promise.all([node('A'), node('B')]);
    });

    after(async () => {
      for (const t of tracked) t.client.close();
      await Promise.all(nodes.map(n => n.stop()));
      await redis?.stop();
    });

    void it(
      'a client cut for 3 s while 1 000 messages go to its two rooms gets each once, in order, on the other node',
      { timeout: 60_000 },
      async () => {
        const c = track(new Tracked(A.port, ['r1', 'r2']));
        const plain = await connectClient(B.port, ['r1', 'r2']);
        await until(() => c.notices('join').length === 2, { label: 'joined both rooms' });
        await A.call({ cmd: 'burst', rooms: ['r1', 'r2'], from: 0, count: 20 });
        await until(() => c.count('r1') === 20 && c.count('r2') === 20, { label: 'live before the cut' });

        const dead = await freePort();
        c.target = dead; // reconnect attempts are refused while the network is "down"
        const cutAt = Date.now();
        c.cut();
        // 1 000 messages to its two rooms while it is away, from both nodes.
        for (let k = 0; k < 5; k++) {
          const from = 20 + k * 100;
          await A.call({ cmd: 'burst', rooms: ['r1', 'r2'], from, count: 50 });
          await B.call({ cmd: 'burst', rooms: ['r1', 'r2'], from: from + 50, count: 50 });
        }
        await new Promise(r => setTimeout(r, Math.max(0, 3000 - (Date.now() - cutAt))));
        assert.equal(c.client.state, 'reconnecting');
        c.target = B.port; // resumes on the other node; live messages go on meanwhile
        await B.call({ cmd: 'burst', rooms: ['r1', 'r2'], from: 520, count: 40 });
        await until(() => c.count('r1') === 560 && c.count('r2') === 560, { label: 'all 560 per room' });

        for (const room of ['r1', 'r2'])
          assert.deepEqual(c.got.get(room), range(room, 0, 560), `${room}: once, in order`);
        assert.deepEqual(silentGaps(c.frames), []);
        assert.equal(c.notices('recovered').length, 2);
        assert.equal(c.notices('unrecoverable').length, 0);
        const replayed = c.notices('recovered').reduce((n, f) => n + (f.header?.n ?? 0), 0);
        assert.ok(replayed >= 1000, `the 1 000 missed messages were replayed (${replayed})`);
        // A plain ws client on the other node saw the same messages in the same (Redis) order, unwrapped.
        await until(() => plain.got.length >= 1120, { label: 'plain client got all' }).catch((err: Error) => {
          const all = new Set(plain.got);
          const missing = [...range('t:r1', 0, 560), ...range('t:r2', 0, 560)].filter(m => !all.has(m));
          throw new Error(
            `${err.message}: got ${plain.got.length}, missing ${missing.slice(0, 5).join(' ')}...`
          );
        });
        assert.equal(plain.got.length, 1120);
        const plainOrder = plain.got.map(m => m.slice(2));
        const wrappedOrder = c.frames.filter(f => f.header?.t === 'm').map(f => f.data);
        for (const room of ['r1', 'r2']) {
          assert.deepEqual(
            plainOrder.filter(m => m.startsWith(room)),
            range(room, 0, 560)
          );
        }
        assert.equal(new Set(wrappedOrder).size, 1120);
        plain.ws.terminate();
      }
    );

    void it(
      'clients resume on the other node after their node is SIGKILLed: no loss, no duplicate, in order',
      { timeout: 60_000 },
      async () => {
        const c = track(new Tracked(A.port, ['k1', 'k2']));
        const d = track(new Tracked(A.port, ['k1']));
        await until(() => c.notices('join').length === 2 && d.notices('join').length === 1, {
          label: 'joined',
        });
        await A.call({ cmd: 'burst', rooms: ['k1', 'k2'], from: 0, count: 100 });
        await B.call({ cmd: 'burst', rooms: ['k1', 'k2'], from: 100, count: 100 });
        await until(() => c.count('k2') === 200 && d.count('k1') === 200, { label: 'live before the kill' });

        c.target = d.target = B.port; // the balancer sends reconnects to the surviving node
        await A.stop(); // SIGKILL
        await B.call({ cmd: 'burst', rooms: ['k1', 'k2'], from: 200, count: 150 });
        await until(() => c.client.state === 'open' && d.client.state === 'open', { label: 'reconnected' });
        await B.call({ cmd: 'burst', rooms: ['k1', 'k2'], from: 350, count: 150 });
        await until(() => c.count('k1') === 500 && c.count('k2') === 500 && d.count('k1') === 500, {
          label: 'all 500 per room',
        });
        for (const room of ['k1', 'k2']) assert.deepEqual(c.got.get(room), range(room, 0, 500));
        assert.deepEqual(d.got.get('k1'), range('k1', 0, 500));
        for (const t of [c, d]) {
          assert.deepEqual(silentGaps(t.frames), []);
          assert.equal(t.notices('unrecoverable').length, 0);
        }
        assert.equal(c.notices('recovered').length, 2);
        assert.equal(d.notices('recovered').length, 1);
      }
    );

    void it(
      'a Redis restart ends in full recovery or an explicit unrecoverable event per room, never a silent gap',
      { timeout: 60_000 },
      async () => {
        A = await node('A2');
        const c = track(new Tracked(A.port, ['x1', 'x2']));
        const d = track(new Tracked(B.port, ['x1']));
        await until(() => c.notices('join').length === 2 && d.notices('join').length === 1, {
          label: 'joined',
        });
        await B.call({ cmd: 'burst', rooms: ['x1', 'x2'], from: 0, count: 50 });
        await until(() => c.count('x2') === 50 && d.count('x1') === 50, { label: 'live before' });

        await redis.kill();
        await waitConnected([A, B], false, 'both nodes see Redis down');
        // Broadcast while Redis is down: B's own clients get it (unrecorded); A's clients cannot.
        // (not 'burst': its PING would wait for Redis to come back)
        for (let i = 50; i < 55; i++) await B.broadcast(`x1:${i}`, 'x1');
        await redis.restart();
        await waitConnected([A, B], true, 'both nodes reconnect');
        await until(() => c.notices('unrecoverable').length >= 2 && d.notices('unrecoverable').length >= 1, {
          label: 'every room told',
        });
        await A.call({ cmd: 'burst', rooms: ['x1', 'x2'], from: 100, count: 30 });
        await B.call({ cmd: 'burst', rooms: ['x1', 'x2'], from: 130, count: 30 });
        await until(() => c.count('x2') === 110 && d.count('x1') === 110, {
          label: 'delivery resumed',
        }).catch((err: Error) => {
          const notices = (t: Tracked) => JSON.stringify(t.frames.filter(f => f.header?.t !== 'm'));
          throw new Error(
            `${err.message}: c ${c.count('x1')}/${c.count('x2')} ${notices(c)}, d ${d.count('x1')} ${notices(d)}`
          );
        });
        // And resuming across the restart works in the new epoch.
        c.target = B.port;
        c.cut();
        await B.call({ cmd: 'burst', rooms: ['x1', 'x2'], from: 160, count: 40 });
        await until(() => c.count('x1') === 150 && c.count('x2') === 150 && d.count('x1') === 150, {
          label: 'resumed after restart',
        });

        for (const t of [c, d]) {
          assert.deepEqual(silentGaps(t.frames), []);
          for (const room of t === c ? ['x1', 'x2'] : ['x1']) {
            const told = t.notices('unrecoverable', room);
            assert.ok(told.length >= 1, `${room}: the outage is announced`);
            for (const f of told) assert.ok(['unavailable', 'epoch', 'gap'].includes(f.header!.reason!));
            // Everything recorded reached it once, in order: before the outage and after it (c resumed too).
            assert.deepEqual(
              t.got.get(room),
              [...range(room, 0, 50), ...range(room, 100, 200)],
              `${t === c ? 'c' : 'd'} ${room}: ${JSON.stringify(t.frames.filter(f => f.header?.t !== 'm'))}`
            );
          }
        }
        // The message broadcast during the outage reached B's client once, as an unrecorded plain message.
        assert.equal(d.frames.filter(f => f.header === undefined && f.data.startsWith('x1:5')).length, 5);
        const stats = (await B.call({ cmd: 'stats' })).stats as WebSocketStats;
        assert.equal(stats.recovery?.store, 'redis');
        assert.equal(stats.recovery?.unrecorded, 5);
      }
    );
  });
}
