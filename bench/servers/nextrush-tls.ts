// Our server for the HTTP/2 benchmark: one TLS port serving WebSockets over HTTP/1.1 and over HTTP/2 (RFC 8441), echo on any path.
import { selfSignedCert } from '../../demo/self-signed.js';
import { createApp, WebSocketPlugin } from '../../src/index.js';

const port = Number(process.argv[2]);
// bench/http2-echo.ts gives all its servers one certificate; started alone, the server makes its own.
const { BENCH_TLS_KEY: key, BENCH_TLS_CERT: cert } = process.env;
const app = createApp();
new WebSocketPlugin({ path: '/*', maxConnections: 100_000 }).install(app);
app.ws('/*', s => {
  s.onMessage(d => {
    s.send(d);
  });
});
app.listen(
  { port, host: '127.0.0.1', tls: key && cert ? { key, cert } : selfSignedCert(), http2: true },
  () => console.error(`nextrush TLS + HTTP/2 server listening on ${port}`)
);
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
