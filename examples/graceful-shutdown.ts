// Example: a WebSocket echo server that shuts down gracefully on SIGTERM (peers get 1001, then the process exits 0).
import type { AddressInfo } from 'node:net';
import { createApp, WebSocketPlugin } from 'nextrush-v2';

const app = createApp();
app.register(new WebSocketPlugin({ closeTimeoutMs: 2000 }));
app.ws('/echo', socket => socket.onMessage(data => void socket.send(data)));

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on ${(server.address() as AddressInfo).port}`);
});

process.once('SIGTERM', () => {
  // New upgrades get 503, every peer gets a 1001 close frame, stragglers are destroyed after closeTimeoutMs.
  void app.close().then(() => process.exit(0));
});
