// Benchmark: cross-node broadcast throughput over RedisAdapter, 2 node processes, 1 000 WebSocket subscribers.
/*
 * Processes: this orchestrator (owns redis-server and all WebSocket clients) and two forked nodes.
 * Each node runs the app with WebSocketPlugin and a RedisAdapter; node A broadcasts, so half the subscribers
 * are served locally by A and half through Redis by B. The figure is messages delivered to clients
 * per second, counted at the clients, from the first broadcast to the last receipt.
 * Usage: node build/bench/cross-node.js [messages=500] [subscribers=1000] [bytes=64]
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { createApp, RedisAdapter, WebSocketPlugin } from '../src/index.js';
import { startRedis } from '../test/scale/helpers/redis-server.js';
import { until } from '../test/support/until.js';

type Cmd = { cmd: 'broadcast'; count: number; bytes: number } | { cmd: 'count' };

async function runNode(redisPort: number, name: string): Promise<void> {
  const pub = createClient({ url: `redis://127.0.0.1:${redisPort}` });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const adapter = new RedisAdapter({ pub, sub, prefix: 'bench', nodeId: name });
  const app = createApp();
  const plugin = new WebSocketPlugin({ path: '/', adapter, maxConnections: 10_000 });
  plugin.install(app);
  app.ws('/', () => {});
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  await adapter.settled();
  process.on('message', (m: Cmd) => {
    if (m.cmd === 'count') {
      process.send?.({ clients: plugin.connections.size });
      return;
    }
    for (let i = 0; i < m.count; i++) app.wsBroadcast(`${i}`.padEnd(m.bytes, '.'));
  });
  process.send?.({ port: (server.address() as AddressInfo).port });
}

function ask<T>(child: ChildProcess, msg: Cmd | undefined, key: string): Promise<T> {
  return new Promise(resolve => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        child.off('message', on);
        resolve(m[key] as T);
      }
    };
    child.on('message', on);
    if (msg) child.send(msg);
  });
}

async function main(): Promise<void> {
  const [messages = 500, subscribers = 1000, bytes = 64] = process.argv.slice(2).map(Number);
  const redis = await startRedis();
  const self = fileURLToPath(import.meta.url);
  const nodes = ['A', 'B'].map(name => fork(self, ['node', String(redis.port), name]));
  const clients: WebSocket[] = [];
  try {
    const ports = await Promise.all(nodes.map(n => ask<number>(n, undefined, 'port')));
    let received = 0;
    /** Receipts at clients of node B, i.e. messages that crossed Redis. */
    let viaRedis = 0;
    for (let i = 0; i < subscribers; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${ports[i % 2]}`);
      const onB = i % 2 === 1;
      ws.on('message', () => {
        received++;
        if (onB) viaRedis++;
      });
      clients.push(ws);
      if (i % 100 === 99) await Promise.all(clients.slice(-100).map(c => once(c, 'open')));
    }
    await Promise.all(clients.filter(c => c.readyState !== WebSocket.OPEN).map(c => once(c, 'open')));
    for (const n of nodes) {
      let count = 0;
      while (count !== subscribers / 2) count = await ask<number>(n, { cmd: 'count' }, 'clients');
    }
    // Warm-up round: every subscriber gets one message (also proves both nodes are wired).
    nodes[0].send({ cmd: 'broadcast', count: 1, bytes });
    await until(() => received === subscribers, {
      label: 'warm-up reaches every subscriber',
      timeoutMs: 30_000,
    });
    received = 0;
    viaRedis = 0;
    const expected = messages * subscribers;
    const started = process.hrtime.bigint();
    nodes[0].send({ cmd: 'broadcast', count: messages, bytes });
    await until(() => received >= expected, { label: 'all messages delivered', timeoutMs: 120_000 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const result = {
      nodes: 2,
      subscribers,
      messages,
      bytes,
      delivered: received,
      viaRedis,
      seconds: Number(seconds.toFixed(3)),
      deliveredPerSecond: Math.round(received / seconds),
      broadcastsPerSecond: Math.round(messages / seconds),
    };
    console.log(JSON.stringify(result));
  } finally {
    for (const c of clients) c.terminate();
    for (const n of nodes) n.kill();
    await redis.stop();
  }
}

if (process.argv[2] === 'node') await runNode(Number(process.argv[3]), process.argv[4]);
else await main();
