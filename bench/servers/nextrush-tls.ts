// Our server for the HTTP/2 benchmark: one TLS port serving WebSockets over HTTP/1.1 and over HTTP/2 (RFC 8441), echo on any path.
import { selfSignedCert } from '../../demo/self-signed.js';
import { createApp, WebSocketPlugin } from '../../src/index.js';

const port = process.argv[2];
const app = createApp();
new WebSocketPlugin({ path: '/*', maxConnections: 100_000 }).install(app);
app.ws('/*', s => {
  s.onMessage(d => {
    s.send(d);
  });
});
app.listen(
  {
    port: Number(port),
    host: '127.0.0.1',
    tls: selfSignedCert(),
    http2: true,
  },
  () => console.error(`nextrush TLS + HTTP/2 server on ${port}`)
);
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
