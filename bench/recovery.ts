// Benchmark: connection recovery (LocalAdapter): broadcast throughput on vs off, replay time, history memory per room.
/*
 * One process: the app and its `ws` clients share the event loop (and this machine's two cores with
 * whatever else runs), so compare the rows of one run with each other, not with other machines.
 *   throughput: `subscribers` clients in one room, `messages` room broadcasts of `bytes` bytes; time
 *     from the first broadcast to the last receipt. Three servers: recovery off; on with plain clients
 *     (the cost of recording history); on with nextrush.v1 clients (recording plus wrapped frames).
 *   replay: a nextrush-v2/client misses 1 000 messages, then reconnects; time from opening the new
 *     socket to the `recovered` event, next to the time a fresh client takes to get its `joined`.
 *   memory: heap growth per room once `rooms` rooms each hold `maxMessages` messages of `bytes` bytes.
 * Usage: node --expose-gc build/bench/recovery.js [messages=2000] [subscribers=200] [bytes=64]
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { connect, type WebSocketConstructor } from '../src/client/index.js';
import { createApp, WebSocketPlugin, type WebSocketPluginOptions } from '../src/index.js';
import { MemoryHistory } from '../src/ws/recovery/history.js';
import { until } from '../test/support/until.js';

const [messages = 2000, subscribers = 200, bytes = 64] = process.argv.slice(2).map(Number);

async function server(options: WebSocketPluginOptions) {
  const app = createApp();
  const plugin = new WebSocketPlugin({ path: '/', maxConnections: 100_000, ...options });
  plugin.install(app);
  app.ws('/', socket => socket.join('room'));
  const http = app.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return { app, plugin, port: (http.address() as AddressInfo).port };
}

async function throughput(label: string, options: WebSocketPluginOptions, protocols: string[]) {
  const s = await server(options);
  let received = 0;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < subscribers; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/`, protocols);
    ws.on('message', () => received++);
    sockets.push(ws);
    await once(ws, 'open');
  }
  await until(() => s.plugin.rooms.size('room') === subscribers);
  received = 0;
  // Recovery clients get one `join` notice each first; count only broadcasts.
  await new Promise(r => setTimeout(r, 100));
  received = 0;
  const payload = 'x'.repeat(bytes);
  const started = process.hrtime.bigint();
  for (let i = 0; i < messages; i++) s.plugin.broadcast(payload, 'room');
  await until(() => received === messages * subscribers, { timeoutMs: 120_000 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const ws of sockets) ws.terminate();
  await s.app.close();
  const rate = (messages * subscribers) / seconds;
  console.log(
    `${label.padEnd(44)} ${seconds.toFixed(3)} s  ${Math.round(rate).toLocaleString('en')} deliveries/s`
  );
  return rate;
}

async function replay() {
  const s = await server({ recovery: { maxMessages: 1000 } });
  const Ctor = WebSocket as unknown as WebSocketConstructor;
  const url = `ws://127.0.0.1:${s.port}/`;
  const client = connect(url, { WebSocket: Ctor, backoff: { initialMs: 60_000 } });
  await until(() => client.state === 'open' && Object.keys(client.positions()).length === 1);
  // A fresh client's time to its `joined` notice: the baseline a reconnect cannot beat.
  let t0 = process.hrtime.bigint();
  const fresh = connect(url, { WebSocket: Ctor });
  await new Promise<void>(resolve => fresh.onRoom(() => resolve()));
  const freshMs = Number(process.hrtime.bigint() - t0) / 1e6;
  fresh.close();
  // Take the client's position, close it, broadcast 1 000 messages, resume from a new client.
  const positions = client.positions();
  client.close();
  const payload = 'y'.repeat(bytes);
  for (let i = 0; i < 1000; i++) s.plugin.broadcast(payload, 'room');
  const resume = encodeURIComponent(
    JSON.stringify(Object.fromEntries(Object.entries(positions).map(([r, p]) => [r, [p.epoch, p.offset]])))
  );
  t0 = process.hrtime.bigint();
  const ws = new WebSocket(`${url}?nextrush-resume=${resume}`, ['nextrush.v1']);
  let got = 0;
  const recoveredMs = await new Promise<number>(resolve =>
    ws.on('message', (d: Buffer) => {
      if (d.toString('latin1', 0, 16).startsWith('{"t":"recovered"')) {
        resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      } else got++;
    })
  );
  ws.terminate();
  await s.app.close();
  console.log(
    `replay of 1 000 missed ${bytes} B messages: ${recoveredMs.toFixed(1)} ms to 'recovered' (${got} replayed); ` +
      `fresh connect to 'joined': ${freshMs.toFixed(1)} ms`
  );
}

function memory() {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('memory: run with node --expose-gc');
    return;
  }
  const rooms = 200;
  const maxMessages = 1000;
  gc();
  const before = process.memoryUsage();
  const h = new MemoryHistory({ windowMs: 600_000, maxMessages, maxRooms: rooms });
  const payload = 'z'.repeat(bytes);
  for (let r = 0; r < rooms; r++) {
    for (let i = 0; i < maxMessages; i++)
      h.append(`room-${r}`, true, () => Buffer.from(`{"t":"m"}\n${payload}`));
  }
  gc();
  const after = process.memoryUsage();
  const perRoom = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / rooms;
  const st = h.stats();
  console.log(
    `memory: ${rooms} rooms x ${maxMessages} messages of ${bytes} B: ${(perRoom / 1024).toFixed(1)} KiB per room ` +
      `(heap + arrayBuffers growth); getStats().recovery.bytes says ${(st.bytes / rooms / 1024).toFixed(1)} KiB per room`
  );
}

console.log(
  `recovery benchmark: ${messages} messages x ${subscribers} subscribers, ${bytes} B, node ${process.version}`
);
// One warm-up pass (JIT, socket buffers), then three rounds in turn; the median of each row counts.
await throughput('warm-up (not counted)', {}, []);
const rows: [string, WebSocketPluginOptions, string[]][] = [
  ['recovery off, plain clients', {}, []],
  ['recovery on, plain clients', { recovery: true }, []],
  ['recovery on, nextrush.v1 clients', { recovery: true }, ['nextrush.v1']],
];
const rates: number[][] = rows.map(() => []);
for (let round = 0; round < 3; round++) {
  for (const [k, [label, options, protocols]] of rows.entries()) {
    rates[k].push(await throughput(label, options, protocols));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
const [off, onPlain, onRec] = rates.map(median);
console.log(
  `medians: off ${Math.round(off).toLocaleString('en')}/s, on+plain ${Math.round(onPlain).toLocaleString('en')}/s, ` +
    `on+nextrush.v1 ${Math.round(onRec).toLocaleString('en')}/s; ratios vs off: ${(onPlain / off).toFixed(2)}, ${(onRec / off).toFixed(2)}`
);
await replay();
memory();
