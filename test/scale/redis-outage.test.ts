// Redis killed and restarted under two RedisAdapter nodes: errors counted, never thrown, then cross-node delivery resumes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisAdapter } from '../../src/ws/adapters/redis.js';
import { connectPair } from './helpers/clients.js';
import type { Library } from './helpers/clients.js';
import { RecordingHost } from './helpers/host.js';
import { until } from '../support/until.js';
import { redisAvailable, startRedis } from './helpers/redis-server.js';
import type { RedisServer } from './helpers/redis-server.js';

const available = redisAvailable();

/** Whether a node-redis (`isReady`) or ioredis (`status`) client is connected and ready. */
function clientReady(client: unknown): boolean {
  const c = client as { isReady?: boolean; status?: string };
  return c.isReady ?? c.status === 'ready';
}
const rejections: unknown[] = [];
process.on('unhandledRejection', reason => rejections.push(reason));

for (const lib of ['node-redis', 'ioredis'] as Library[]) {
  void describe(`RedisAdapter with ${lib} when Redis goes away and comes back`, { skip: !available }, () => {
    let server: RedisServer;
    before(async () => {
      server = await startRedis();
    });
    after(async () => {
      await server?.stop();
    });

    void it('reports the outage without throwing, and resumes room and global delivery without a restart', async () => {
      const pa = await connectPair(lib, server.port);
      const pb = await connectPair(lib, server.port);
      const ha = new RecordingHost('A');
      const hb = new RecordingHost('B');
      const a = new RedisAdapter({ pub: pa.pub, sub: pa.sub, prefix: 'outage', nodeId: 'A' });
      const b = new RedisAdapter({ pub: pb.pub, sub: pb.sub, prefix: 'outage', nodeId: 'B' });
      a.attach(ha);
      b.attach(hb);
      hb.rooms.set('r1', 1);
      b.roomCreated('r1');
      await Promise.all([a.settled(), b.settled()]);
      try {
        a.publish('before', 'r1');
        await until(() => hb.has('before'), { label: 'B hears A before the outage' });

        await server.kill();
        // 'connected' turns false when either client of a pair notices; wait until A's publishing client
        // has noticed too, or the PUBLISH below would race the disconnect instead of testing the outage.
        await until(() => !a.stats().connected && !b.stats().connected && !clientReady(pa.pub), {
          label: 'both adapters notice the outage',
        });

        // publish never throws while Redis is down; the message is counted as lost to other nodes.
        a.publish('during');
        const s = a.stats();
        assert.equal(s.connected, false);
        assert.ok(s.errors > 0);
        assert.ok(s.lastError && s.lastError.length > 0);
        assert.ok(
          ha.logs.some(l => l.level === 'error'),
          'the outage is logged at error level'
        );

        await server.restart();
        await until(() => a.stats().connected && b.stats().connected, {
          label: 'both adapters reconnect',
          timeoutMs: 20_000,
        });

        // Resubscription happens on the client's schedule: probe the room channel until it is back.
        let k = 0;
        await until(
          () => {
            if (hb.deliveries.some(d => String(d.data).startsWith('probe'))) return true;
            a.publish(`probe ${k++}`, 'r1');
            return false;
          },
          { label: 'B hears room r1 again', timeoutMs: 20_000 }
        );
        const batch: string[] = [];
        for (let i = 0; i < 30; i++) {
          const msg = `after ${i}`;
          batch.push(msg);
          a.publish(msg, i % 2 ? 'r1' : undefined);
        }
        a.publish('end');
        await until(() => hb.has('end'), { label: 'B hears the sentinel' });
        const afterOutage = hb.deliveries.map(d => String(d.data)).filter(d => !d.startsWith('probe'));
        assert.deepEqual(
          afterOutage,
          ['before', ...batch, 'end'],
          'in order, exactly once, nothing from the outage'
        );
        assert.ok(ha.logs.some(l => l.level === 'info' && l.msg.includes('restored')));
        assert.deepEqual(rejections, []);
      } finally {
        await a.close();
        await b.close();
        await pa.close();
        await pb.close();
      }
    });
  });
}
