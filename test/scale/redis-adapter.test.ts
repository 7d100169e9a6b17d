// Two and three RedisAdapter nodes over a real redis-server: exactly once, in order, text/binary kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisAdapter } from '../../src/ws/adapters/redis.js';
import { connectPair } from './helpers/clients.js';
import type { ClientPair, Library } from './helpers/clients.js';
import { RecordingHost } from './helpers/host.js';
import { until } from '../support/until.js';
import { redisAvailable, startRedis } from './helpers/redis-server.js';
import type { RedisServer } from './helpers/redis-server.js';

const available = redisAvailable();

interface Node {
  host: RecordingHost;
  adapter: RedisAdapter;
  pair: ClientPair;
}

let prefixSeq = 0;

async function node(lib: Library, server: RedisServer, name: string, prefix: string): Promise<Node> {
  const pair = await connectPair(lib, server.port);
  const host = new RecordingHost(name);
  const adapter = new RedisAdapter({ pub: pair.pub, sub: pair.sub, prefix, nodeId: name });
  adapter.attach(host);
  await adapter.settled();
  return { host, adapter, pair };
}

async function join(n: Node, room: string, members = 1): Promise<void> {
  n.host.rooms.set(room, members);
  n.adapter.roomCreated(room);
  await n.adapter.settled();
}

async function shutdown(nodes: Node[]): Promise<void> {
  for (const n of nodes) {
    await n.adapter.close();
    await n.pair.close();
  }
}

/** Expected rendering of a message in RecordingHost.seen(). */
function seenOf(data: string | Buffer, room?: string): string {
  return `${room ?? '*'}|${typeof data === 'string' ? `t:${data}` : `b:${data.toString('hex')}`}`;
}

// node-redis on every node, ioredis on every node, and a mixed deployment (A node-redis, B/C ioredis).
const setups: [string, Library, Library][] = [
  ['node-redis', 'node-redis', 'node-redis'],
  ['ioredis', 'ioredis', 'ioredis'],
  ['node-redis and ioredis mixed', 'node-redis', 'ioredis'],
];

void describe('RedisAdapter over a real redis-server', { skip: !available }, () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });

  for (const [label, libA, libB] of setups) {
    void describe(label, () => {
      let a: Node, b: Node, c: Node;
      before(async () => {
        const prefix = `t${++prefixSeq}`;
        a = await node(libA, server, 'A', prefix);
        b = await node(libB, server, 'B', prefix);
        c = await node(libB, server, 'C', prefix);
        await join(b, 'r1', 2);
      });
      after(async () => {
        await shutdown([a, b, c]);
      });

      void it('delivers room and global messages from one node to the others exactly once and in order', async () => {
        const sent: string[] = [];
        const globals: string[] = [];
        for (let i = 0; i < 90; i++) {
          const before = a.host.deliveries.length;
          let data: string | Buffer;
          let room: string | undefined;
          if (i % 3 === 0) data = `global ${i} é✓`;
          else if (i % 3 === 1) [data, room] = [`room ${i}`, 'r1'];
          else [data, room] = [Buffer.from([i, 0xff, 0x00, 0x80]), 'r1'];
          a.adapter.publish(data, room);
          // The adapter only moves bytes to other nodes: local delivery is the hub's job.
          assert.equal(a.host.deliveries.length, before);
          sent.push(seenOf(data, room));
          if (room === undefined) globals.push(seenOf(data));
        }
        a.adapter.publish('end');
        sent.push(seenOf('end'));
        globals.push(seenOf('end'));

        await until(() => b.host.has('end') && c.host.has('end'), { label: 'B and C receive the sentinel' });
        assert.deepEqual(b.host.seen(), sent);
        assert.deepEqual(c.host.seen(), globals, 'C is not in r1 and hears only global messages');
        // The publisher's own copies coming back from Redis were dropped, never delivered.
        assert.deepEqual(a.host.seen(), []);
        assert.equal(a.adapter.stats().received, 0);
        assert.equal(a.adapter.stats().published, sent.length);
        assert.equal(b.adapter.stats().received, sent.length);
        // Text and binary both arrive as bytes, flagged as they were sent (text stays UTF-8 bytes).
        for (const d of b.host.deliveries) {
          assert.equal(d.text, !(d.room === 'r1' && !d.payload.toString('latin1').startsWith('room')));
        }
      });

      void it('carries messages back from a ioredis/node-redis node to the other library', async () => {
        await join(a, 'r2');
        const start = a.host.deliveries.length;
        b.adapter.publish(Buffer.from('bin\x00ary'), 'r2');
        b.adapter.publish('after-binary');
        await until(() => a.host.has('after-binary'), { label: 'A receives from B' });
        assert.deepEqual(a.host.seen().slice(start), [
          seenOf(Buffer.from('bin\x00ary'), 'r2'),
          seenOf('after-binary'),
        ]);
      });

      void it('stops hearing a room after roomDeleted and keeps hearing the global channel', async () => {
        await join(c, 'r3');
        b.adapter.publish('r3 first', 'r3');
        await until(() => c.host.has('r3 first'), { label: 'C hears r3 while a member' });
        c.host.rooms.delete('r3');
        c.adapter.roomDeleted('r3');
        await c.adapter.settled();
        b.adapter.publish('r3 second', 'r3');
        b.adapter.publish('end r3');
        await until(() => c.host.has('end r3'), { label: 'C hears the global sentinel' });
        assert.equal(c.host.has('r3 second'), false);
      });

      void it('sums connections and rooms over every node in clusterStats', async () => {
        a.host.connections = 3;
        b.host.connections = 5;
        c.host.connections = 7;
        const stats = await a.adapter.clusterStats();
        assert.equal(stats.nodes, 3);
        assert.equal(stats.connections, 15);
        assert.deepEqual(stats.perNode.map(n => n.nodeId).sort(), ['A', 'B', 'C']);
        assert.equal(stats.rooms.r1, 2);
        assert.equal(stats.rooms.r2, 1);
        assert.equal(stats.rooms.r3, undefined);
        assert.equal(a.adapter.stats().connected, true);
        assert.equal(a.adapter.stats().errors, 0);
      });
    });
  }
});
