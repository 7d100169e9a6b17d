// ClusterAdapter with real node:cluster workers: broadcasts relay through the primary exactly once, in order.
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { ClusterStats } from '../../src/ws/adapter.js';
import { ClusterAdapter } from '../../src/ws/adapters/cluster.js';
import { until } from '../support/until.js';

interface Seen {
  binary: boolean;
  data: string | Uint8Array;
  room?: string;
}

const fixture = fileURLToPath(new URL('./fixtures/cluster-worker.js', import.meta.url));

void describe('ClusterAdapter over node:cluster IPC', () => {
  const seen = new Map<string, Seen[]>();
  const workers = new Map<string, Worker>();
  const problems: string[] = [];
  let relay: ReturnType<typeof ClusterAdapter.setupPrimary>;

  const render = (s: Seen) =>
    `${s.room ?? '*'}|${s.binary ? `b:${Buffer.from(s.data as Uint8Array).toString('hex')}` : `t:${String(s.data)}`}`;
  const got = (name: string) => (seen.get(name) ?? []).map(render);

  before(async () => {
    relay = ClusterAdapter.setupPrimary();
    cluster.setupPrimary({ exec: fixture });
    for (const name of ['W1', 'W2', 'W3']) {
      const w = cluster.fork({ NAME: name });
      seen.set(name, []);
      workers.set(name, w);
      w.on('message', (msg: { test?: string } & Seen) => {
        if (msg.test === 'delivered') seen.get(name)!.push(msg);
        if (msg.test === 'log') problems.push(`${name}: ${(msg as unknown as { msg: string }).msg}`);
      });
      await new Promise<void>(resolve =>
        w.on('message', (m: { test?: string }) => m.test === 'ready' && resolve())
      );
    }
    const w2 = workers.get('W2')!;
    w2.send({ test: 'join', room: 'r1' });
    await new Promise<void>(resolve =>
      w2.on('message', (m: { test?: string }) => m.test === 'joined' && resolve())
    );
  });

  after(async () => {
    relay.close();
    for (const w of workers.values()) {
      const exited = once(w, 'exit');
      w.kill();
      await exited;
    }
  });

  void it('relays room and global broadcasts to the other workers exactly once, in order, text and binary', async () => {
    const w1 = workers.get('W1')!;
    const expectAll: string[] = [];
    const expectGlobal: string[] = [];
    for (let i = 0; i < 40; i++) {
      const room = i % 2 ? 'r1' : undefined;
      const data = i % 4 === 3 ? Buffer.from([i, 0, 0xff]) : `m${i} ✓`;
      w1.send({ test: 'broadcast', data, room });
      const r = render({ binary: typeof data !== 'string', data, ...(room ? { room } : {}) });
      expectAll.push(r);
      if (!room) expectGlobal.push(r);
    }
    w1.send({ test: 'broadcast', data: 'end' });
    expectAll.push('*|t:end');
    expectGlobal.push('*|t:end');
    await until(() => got('W2').includes('*|t:end') && got('W3').includes('*|t:end'), {
      label: 'W2 and W3 get the sentinel',
    });
    assert.deepEqual(got('W2'), expectAll);
    assert.deepEqual(got('W3'), expectGlobal, 'W3 is not in r1');
    // The adapter never delivers the publisher's own messages (the hub does), nor echoes them back.
    assert.deepEqual(got('W1'), []);
    // No warning: in particular binary crossed IPC as bytes, not through the base64 fallback.
    assert.deepEqual(problems, []);
  });

  void it('sums every worker in clusterStats, asked from any worker', async () => {
    const w3 = workers.get('W3')!;
    const answer = new Promise<ClusterStats>(resolve =>
      w3.on(
        'message',
        (m: { test?: string; stats?: ClusterStats }) => m.test === 'stats' && resolve(m.stats!)
      )
    );
    w3.send({ test: 'stats' });
    const stats = await answer;
    assert.equal(stats.nodes, 3);
    assert.equal(stats.connections, 3);
    assert.deepEqual(stats.rooms, { r1: 1 });
    assert.deepEqual(stats.perNode.map(n => n.nodeId).sort(), ['worker-1', 'worker-2', 'worker-3']);
  });
});
