// Benchmark: recovery over Redis on vs off (2 app processes), replay time for 1 000 missed messages on another node.
/*
 * One redis-server, four app processes (test/scale/fixtures/ws-node): A and B without recovery, A and B
 * with recovery (prefixes apart), all alive at once so the rows of one run share the machine's state.
 * `subscribers` `ws` clients in one room, half on A and half on B; A broadcasts `messages` room
 * messages; the time runs from the command to the last receipt at the clients. Rows, in turn, for
 * `rounds` rounds (median reported): recovery off; on with plain clients; on with nextrush.v1 clients.
 * Replay: a nextrush.v1 client that left room `rr` on node A at offset N reconnects to node B after A
 * broadcast 1 000 more; time from opening the socket to the `recovered` notice, next to a fresh join.
 * Usage: node build/bench/recovery-redis.js [messages=2000] [subscribers=200] [rounds=3]
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startNode, type AppNode } from '../test/scale/helpers/nodes.js';
import { startRedis } from '../test/scale/helpers/redis-server.js';
import { until } from '../test/support/until.js';

const [messages = 2000, subscribers = 200, rounds = 3] = process.argv.slice(2).map(Number);
const RECOVERY = JSON.stringify({ windowMs: 120_000, maxMessages: 5000 });

/** Opens `n` clients in `room` over two nodes; counts the room messages they receive. */
async function audience(nodes: AppNode[], room: string, n: number, v1: boolean) {
  const counter = { received: 0, sockets: [] as WebSocket[] };
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(
      `ws://127.0.0.1:${nodes[i % 2].port}/ws?rooms=${room}`,
      v1 ? ['nextrush.v1'] : []
    );
    let joined = false;
    ws.on('message', (d: Buffer) => {
      // Plain clients hear "joined" from the route; nextrush.v1 ones that plus a join notice.
      if (!joined) {
        if (d.includes('joined')) joined = !v1;
        if (v1 && d.includes('"t":"join"')) joined = true;
        return;
      }
      counter.received++;
    });
    counter.sockets.push(ws);
    await once(ws, 'open');
  }
  await new Promise(r => setTimeout(r, 300));
  return counter;
}

async function round(label: string, nodes: AppNode[], room: string, v1: boolean, from: number) {
  const a = await audience(nodes, room, subscribers, v1);
  await Promise.all(nodes.map(n => n.call({ cmd: 'settle' })));
  const started = process.hrtime.bigint();
  await nodes[0].call({ cmd: 'burst', rooms: [room], from, count: messages });
  await until(() => a.received >= messages * subscribers, { label, timeoutMs: 120_000 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const ws of a.sockets) ws.terminate();
  return Math.round((messages * subscribers) / seconds);
}

/** Opens a nextrush.v1 socket and resolves with ms until its first notice for `room`. */
async function firstNotice(port: number, room: string, resume?: [string, number]) {
  const q = resume ? `&nextrush-resume=${encodeURIComponent(JSON.stringify({ [room]: resume }))}` : '';
  const started = process.hrtime.bigint();
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?rooms=${room}${q}`, ['nextrush.v1']);
  let notice: Record<string, unknown> | undefined;
  let replayed = 0;
  ws.on('message', (d: Buffer) => {
    const head = d.toString('utf8', 0, d.indexOf(0x0a));
    if (head.startsWith('{"t":"m"')) replayed++;
    else if (head.startsWith('{')) notice ??= JSON.parse(head) as Record<string, unknown>;
  });
  await until(() => notice !== undefined, { timeoutMs: 30_000 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  ws.terminate();
  return { ms, notice: notice!, replayed };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const redis = await startRedis();
const nodes: AppNode[] = [];
try {
  const off = await Promise.all([
    startNode('node-redis', redis.port, 'A', 'off'),
    startNode('node-redis', redis.port, 'B', 'off'),
  ]);
  const on = await Promise.all([
    startNode('node-redis', redis.port, 'A', 'on', { RECOVERY }),
    startNode('node-redis', redis.port, 'B', 'on', { RECOVERY }),
  ]);
  nodes.push(...off, ...on);
  const rows = { off: [] as number[], onPlain: [] as number[], onV1: [] as number[] };
  await round('warm-up off', off, 'w', false, 0);
  await round('warm-up on', on, 'w', false, 0);
  for (let r = 0; r < rounds; r++) {
    rows.off.push(await round('off', off, `t${r}`, false, 0));
    rows.onPlain.push(await round('on plain', on, `p${r}`, false, 0));
    rows.onV1.push(await round('on nextrush.v1', on, `v${r}`, true, 0));
  }
  const base = median(rows.off);
  const table = [
    ['recovery off, plain clients', median(rows.off)],
    ['recovery on, plain clients', median(rows.onPlain)],
    ['recovery on, nextrush.v1 clients', median(rows.onV1)],
  ].map(([row, v]) => ({ row, deliveredPerSecond: v, ratio: Number(((v as number) / base).toFixed(2)) }));
  console.log(JSON.stringify({ messages, subscribers, rounds, nodes: 2, table, raw: rows }));

  // Replay across nodes: position on A, 1 000 missed, resume on B.
  const joined = await firstNotice(on[0].port, 'rr');
  await on[0].call({ cmd: 'burst', rooms: ['rr'], from: 0, count: 1000 });
  const resumed = await firstNotice(on[1].port, 'rr', [joined.notice.e as string, joined.notice.o as number]);
  const fresh = await firstNotice(on[1].port, 'rr2');
  console.log(
    JSON.stringify({
      replay: {
        missed: 1000,
        replayed: resumed.replayed,
        notice: resumed.notice.t,
        ms: Number(resumed.ms.toFixed(1)),
      },
      freshJoinMs: Number(fresh.ms.toFixed(1)),
    })
  );
} finally {
  await Promise.all(nodes.map(n => n.stop()));
  await redis.stop();
}
