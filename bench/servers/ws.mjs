// Reference server on `ws` with the same behaviour as ours: echo on any path, fan-out on /broadcast.
// Run with WS_NO_BUFFER_UTIL=1 for plain ws, without it for ws with the bufferutil native add-on.
import http from 'node:http';
import { createRequire } from 'node:module';
import { WebSocket, WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
const subscribers = new Set();

const server = http.createServer((_req, res) => {
  res.writeHead(426).end();
});
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, ws => {
    if (req.url === '/broadcast') {
      // The idiomatic ws fan-out: loop over the subscribers and send to each.
      subscribers.add(ws);
      ws.on('close', () => subscribers.delete(ws));
      ws.on('message', (data, isBinary) => {
        for (const s of subscribers) if (s.readyState === WebSocket.OPEN) s.send(data, { binary: isBinary });
      });
    } else {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    }
  });
});
server.listen(port, '127.0.0.1', () => {
  // Say which native add-on ws actually loaded, so a result can be checked against its label.
  const require = createRequire(import.meta.url);
  const loaded = Object.keys(require.cache).some(k => k.includes('/node_modules/bufferutil/'));
  console.error(`ws server on ${port}, bufferutil=${loaded ? 'loaded' : 'no'}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
