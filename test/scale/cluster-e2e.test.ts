// End to end: two node:cluster workers running the app with ClusterAdapter, `ws` clients on each.
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ClusterAdapter } from '../../src/ws/adapters/cluster.js';
import { connectClient } from './helpers/nodes.js';
import type { Client } from './helpers/nodes.js';
import { until } from '../support/until.js';
import { freePort } from './helpers/redis-server.js';

const fixture = fileURLToPath(new URL('./fixtures/cluster-app.js', import.meta.url));

function waitFor(w: Worker, test: string): Promise<Record<string, unknown>> {
  return new Promise(resolve => {
    const on = (m: Record<string, unknown>) => {
      if (m.test !== test) return;
      w.off('message', on);
      resolve(m);
    };
    w.on('message', on);
  });
}

void describe('ClusterAdapter with real apps in two cluster workers', () => {
  let relay: ReturnType<typeof ClusterAdapter.setupPrimary>;
  const workers: Worker[] = [];
  const ports: number[] = [];
  let c1: Client, c2: Client, c3: Client;

  before(async () => {
    relay = ClusterAdapter.setupPrimary();
    cluster.setupPrimary({ exec: fixture });
    for (let i = 0; i < 2; i++) {
      const w = cluster.fork({ PORT: String(await freePort()) });
      workers.push(w);
      ports.push((await waitFor(w, 'listening')).port as number);
    }
    // c1 on worker 1 in r1; c2 on worker 2 in r1; c3 on worker 2 in no room.
    [c1, c2, c3] = await Promise.all([
      connectClient(ports[0], ['r1']),
      connectClient(ports[1], ['r1']),
      connectClient(ports[1], []),
    ]);
    await Promise.all(
      workers.map(w => {
        const synced = waitFor(w, 'synced');
        w.send({ test: 'sync' });
        return synced;
      })
    );
  });

  after(async () => {
    for (const c of [c1, c2, c3]) c?.ws.terminate();
    relay?.close();
    await Promise.all(
      workers.map(w => {
        const exited = once(w, 'exit');
        w.kill();
        return exited;
      })
    );
  });

  void it("a broadcast in one worker reaches the other worker's clients exactly once, binary kept", async () => {
    const send = (data: string | Buffer, room?: string) =>
      workers[0].send({
        test: 'broadcast',
        binary: typeof data !== 'string',
        data: typeof data === 'string' ? data : data.toString('base64'),
        ...(room === undefined ? {} : { room }),
      });
    send('room text', 'r1');
    send(Buffer.from([0, 1, 0xfe]), 'r1');
    send('to everyone');
    send('end');
    await until(() => [c1, c2, c3].every(c => c.has('t:end')), { label: 'every client hears the sentinel' });
    const room = ['t:room text', 'b:0001fe', 't:to everyone', 't:end'];
    assert.deepEqual(c1.got, room);
    assert.deepEqual(c2.got, room);
    assert.deepEqual(c3.got, ['t:to everyone', 't:end']);
  });
});
