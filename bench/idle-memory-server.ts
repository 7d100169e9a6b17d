// Child of bench/idle-memory.ts: a server whose RSS (after gc) is reported over IPC on request.
import type { AddressInfo } from 'node:net';
import { createApp, WebSocketPlugin } from '../src/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const mode = process.argv[2] ?? 'off';
const app = createApp();
new WebSocketPlugin({
  maxConnections: 100_000,
  heartbeatMs: 0,
  perMessageDeflate:
    mode === 'off'
      ? false
      : mode === 'no-context'
        ? { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true }
        : { threshold: 0 },
}).install(app);
app.ws('/', socket => socket.onMessage(m => void socket.send(m)));
const server = app.listen(0, '127.0.0.1');
server.once('listening', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('message', (m: string) => {
  if (m === 'rss') {
    gc();
    gc();
    process.send?.({ rss: process.memoryUsage().rss });
  } else if (m === 'exit') process.exit(0);
});
