// Child process for the deflate-bomb test: a server with deflate on, reporting its RSS (after gc) over IPC.
import type { AddressInfo } from 'node:net';
import { createApp, WebSocketPlugin } from '../../src/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
/** Peak RSS of the process so far (resourceUsage().maxRSS, KiB -> bytes): transient growth shows too. */
const rss = (): number => {
  gc();
  return process.resourceUsage().maxRSS * 1024;
};

const app = createApp();
new WebSocketPlugin({
  maxMessageSize: Number(process.env.BOMB_LIMIT ?? 1024 * 1024),
  perMessageDeflate: { threshold: 0 },
}).install(app);
app.ws('/*', socket => {
  socket.onMessage(m => void socket.send(m));
  socket.onClose(code => process.send?.({ closed: code, rss: rss() }));
});
const server = app.listen(0, '127.0.0.1');
server.once('listening', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'rss') process.send?.({ rss: rss() });
  if (m.cmd === 'exit') void app.close().then(() => process.exit(0));
});
