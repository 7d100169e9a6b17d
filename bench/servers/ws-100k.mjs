// `ws` server of `npm run bench:100k`: every message to every client (the loop from ws's README), and the
// heartbeat from ws's README (isAlive flag, terminate or ping every HEARTBEAT_MS), each sweep timed.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 10_000);
const server = http.createServer((_req, res) => res.writeHead(426).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const alive = new WeakSet();

wss.on('connection', ws => {
  alive.add(ws);
  ws.on('pong', () => alive.add(ws));
  ws.on('message', (data, isBinary) => {
    for (const c of wss.clients) if (c.readyState === WebSocket.OPEN) c.send(data, { binary: isBinary });
  });
});
setInterval(() => {
  const t0 = performance.now();
  for (const ws of wss.clients) {
    if (!alive.has(ws)) {
      ws.terminate();
      continue;
    }
    alive.delete(ws);
    ws.ping();
  }
  console.log(JSON.stringify({ sweepMs: performance.now() - t0 }));
}, heartbeatMs).unref();

server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ ready: port })));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
