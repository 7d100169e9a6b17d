// Soak run (npm run soak): waves of connections open, join rooms, exchange and close; then resources must be back to baseline.
import { createApp, WebSocketPlugin } from '../build/src/index.js';
import WebSocket from 'ws';

const seconds = Number(process.env.SOAK_SECONDS ?? 150);
const wave = Number(process.env.SOAK_WAVE ?? 200);
const app = createApp();
const plugin = new WebSocketPlugin({ heartbeatMs: 1000, maxConnections: wave * 2 });
app.register(plugin);
app.ws('/soak', socket => {
  socket.join(`room-${Math.floor(Math.random() * 20)}`);
  socket.onMessage(data => {
    if (String(data) === 'broadcast') app.wsBroadcast('hello room', [...socket.rooms][0]);
    else socket.send(data);
  });
});
const server = app.listen(0, '127.0.0.1');
await new Promise(resolve => server.once('listening', resolve));
const url = `ws://127.0.0.1:${server.address().port}/soak`;

function snapshot() {
  globalThis.gc?.();
  const s = plugin.getStats();
  return {
    connections: s.connections,
    rooms: s.rooms,
    // Pipes and TTYs are stdout/stderr, CloseReq a handle being closed: not the server's.
    resources: process
      .getActiveResourcesInfo()
      .filter(r => !['PipeWrap', 'TTYWrap', 'CloseReq', 'FSReqCallback'].includes(r))
      .sort()
      .join(','),
    rssMiB: +(process.memoryUsage().rss / 2 ** 20).toFixed(1),
    heapMiB: +(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1),
  };
}

async function client(i) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let left = 5;
  await new Promise(resolve => {
    ws.on('message', data => {
      if (String(data) === 'hello room') return;
      if (--left === 0) resolve();
      else ws.send(`msg ${i} ${left}`);
    });
    ws.send(i % 10 === 0 ? 'broadcast' : `msg ${i} ${left}`);
    if (i % 10 === 0) ws.send(`msg ${i} x`);
  });
  // Mix clean closes with abrupt ones.
  if (i % 7 === 0) ws.terminate();
  else ws.close(1000);
  await new Promise(resolve => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', resolve)));
}

async function settle() {
  while (plugin.getStats().connections > 0) await new Promise(resolve => setTimeout(resolve, 50));
  await new Promise(resolve => setTimeout(resolve, 500));
}

const baseline = snapshot();
console.log('baseline', baseline);
const end = Date.now() + seconds * 1000;
let total = 0;
let failures = 0;
let waves = 0;
while (Date.now() < end) {
  const results = await Promise.allSettled(Array.from({ length: wave }, (_, i) => client(total + i)));
  failures += results.filter(r => r.status === 'rejected').length;
  total += wave;
  if (++waves % 20 === 0) console.log(`${total} connections`, snapshot());
}
await settle();
const after = snapshot();
const { messagesSent, messagesReceived, messagesDropped, connectionsOpened, protocolErrors } =
  plugin.getStats();
console.log('after', after, {
  total,
  failures,
  connectionsOpened,
  messagesSent,
  messagesReceived,
  messagesDropped,
  protocolErrors,
});
const ok =
  after.connections === 0 &&
  after.rooms === 0 &&
  after.resources === baseline.resources &&
  failures === 0 &&
  after.rssMiB < baseline.rssMiB + 64;
await app.close();
console.log(ok ? 'SOAK OK' : 'SOAK FAILED');
process.exitCode = ok ? 0 : 1;
