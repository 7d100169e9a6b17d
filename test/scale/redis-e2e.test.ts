// End to end: two app processes with WebSocketPlugin + RedisAdapter, real `ws` clients, a real redis-server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WebSocketStats } from '../../src/ws/types.js';
import type { ClusterStats } from '../../src/ws/adapter.js';
import type { Library } from './helpers/clients.js';
import { connectClient, startNode } from './helpers/nodes.js';
import type { AppNode, Client } from './helpers/nodes.js';
import { until } from '../support/until.js';
import { redisAvailable, startRedis } from './helpers/redis-server.js';
import type { RedisServer } from './helpers/redis-server.js';

const available = redisAvailable();
const t = (s: string) => `t:${s}`;
const b = (bytes: number[]) => `b:${Buffer.from(bytes).toString('hex')}`;
const sorted = (xs: string[]) => [...xs].sort();

async function nodeStats(node: AppNode): Promise<WebSocketStats> {
  return (await node.call({ cmd: 'stats' })).stats as WebSocketStats;
}

/** Repeats an async step until the condition holds; the timeout is a safety net only. */
async function poll(step: () => Promise<void>, cond: () => boolean, label: string, timeoutMs = 20_000) {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for: ${label}`);
    await step();
    await new Promise(r => setTimeout(r, 20));
  }
}

for (const lib of ['node-redis', 'ioredis'] as Library[]) {
  void describe(`two app processes over Redis (${lib})`, { skip: !available }, () => {
    let server: RedisServer;
    let A: AppNode, B: AppNode;
    // a1/b1 are in room r1; a2/b2 in no room. a* on node A, b* on node B.
    let a1: Client, a2: Client, b1: Client, b2: Client;

    before(async () => {
      server = await startRedis();
      [A, B] = await Promise.all([
        startNode(lib, server.port, 'A', 'e2e'),
        startNode(lib, server.port, 'B', 'e2e'),
      ]);
      [a1, a2, b1, b2] = await Promise.all([
        connectClient(A.port, ['r1']),
        connectClient(A.port, []),
        connectClient(B.port, ['r1']),
        connectClient(B.port, []),
      ]);
      await Promise.all([A.call({ cmd: 'settle' }), B.call({ cmd: 'settle' })]);
    });

    after(async () => {
      for (const c of [a1, a2, b1, b2]) c?.ws.terminate();
      await Promise.all([
        A?.call({ cmd: 'close' }).catch(() => {}),
        B?.call({ cmd: 'close' }).catch(() => {}),
      ]);
      await Promise.all([A?.stop(), B?.stop()]);
      await server?.stop();
    });

    void it('delivers room and global broadcasts from either node to exactly the right clients, once', async () => {
      await A.broadcast('a-room-1', 'r1');
      await B.broadcast('b-all-1');
      await A.broadcast(Buffer.from([0x0a, 1, 2, 3]), 'r1');
      await B.broadcast(Buffer.from([0x0b, 0xff, 0]), 'r1');
      await A.broadcast('a-all-2');
      await A.broadcast('end-a');
      await B.broadcast('end-b');
      const ends = [t('end-a'), t('end-b')];
      await until(() => [a1, a2, b1, b2].every(c => ends.every(e => c.has(e))), {
        label: 'every client hears both sentinels',
      });

      const inRoom = [
        t('a-room-1'),
        t('b-all-1'),
        b([0x0a, 1, 2, 3]),
        b([0x0b, 0xff, 0]),
        t('a-all-2'),
        ...ends,
      ];
      const outside = [t('b-all-1'), t('a-all-2'), ...ends];
      for (const [name, c, want] of [
        ['a1', a1, inRoom],
        ['b1', b1, inRoom],
        ['a2', a2, outside],
        ['b2', b2, outside],
      ] as const) {
        assert.deepEqual(sorted(c.got), sorted(want), `${name} got each expected message exactly once`);
        // Each publisher's messages arrive in the order it sent them.
        const fromA = want.filter(
          m => m.startsWith('t:a') || m.startsWith('t:end-a') || m.startsWith('b:0a')
        );
        assert.deepEqual(
          c.got.filter(m => fromA.includes(m)),
          fromA,
          `${name}: A's messages in order`
        );
      }
    });

    void it('reports connections and rooms over both nodes', async () => {
      const stats = (await A.call({ cmd: 'cluster-stats' })).stats as ClusterStats;
      assert.equal(stats.nodes, 2);
      assert.equal(stats.connections, 4);
      assert.equal(stats.rooms.r1, 2);
      const own = await nodeStats(A);
      assert.equal(own.adapter.connected, true);
      assert.ok(own.adapter.published > 0 && own.adapter.received > 0);
    });

    void it('keeps local delivery while Redis is down and resumes cross-node delivery after it restarts', async () => {
      for (const c of [a1, a2, b1, b2]) c.got.length = 0;
      await server.kill();
      let down = false;
      await poll(
        async () => {
          down = !(await nodeStats(A)).adapter.connected && !(await nodeStats(B)).adapter.connected;
        },
        () => down,
        'both nodes see Redis down'
      );
      await A.broadcast('during');
      await until(() => a1.has(t('during')) && a2.has(t('during')), {
        label: "A's own clients are served during the outage",
      });
      const during = (await nodeStats(A)).adapter;
      assert.equal(during.connected, false);
      assert.ok(during.errors > 0);
      assert.ok(during.lastError);

      await server.restart();
      let k = 0;
      // Probe room r1 in both directions until each node hears the other again (resubscribed).
      await poll(
        async () => {
          await A.broadcast(`probe-a ${k}`, 'r1');
          await B.broadcast(`probe-b ${k++}`, 'r1');
        },
        () => b1.got.some(m => m.startsWith('t:probe-a')) && a1.got.some(m => m.startsWith('t:probe-b')),
        'cross-node room delivery resumes'
      );
      await A.broadcast('after-room', 'r1');
      await A.broadcast(Buffer.from([0x0a, 9]), 'r1');
      await B.broadcast('after-all');
      await A.broadcast('end-a2');
      await B.broadcast('end-b2');
      await until(() => [a1, a2, b1, b2].every(c => c.has(t('end-a2')) && c.has(t('end-b2'))), {
        label: 'every client hears the sentinels after the outage',
      });
      const real = (c: Client) => sorted(c.got.filter(m => !m.startsWith('t:probe')));
      const roomAfter = [t('after-room'), b([0x0a, 9]), t('after-all'), t('end-a2'), t('end-b2')];
      assert.deepEqual(real(a1), sorted([t('during'), ...roomAfter]));
      assert.deepEqual(real(b1), sorted(roomAfter), 'B never got the message from the outage');
      assert.deepEqual(real(a2), sorted([t('during'), t('after-all'), t('end-a2'), t('end-b2')]));
      assert.deepEqual(real(b2), sorted([t('after-all'), t('end-a2'), t('end-b2')]));
      assert.equal((await nodeStats(A)).adapter.connected, true);
    });
  });
}
