// `npm start` entry: runs the demo on PORT (default 3000; HTTPS=1 for HTTPS + HTTP/2) and shuts down gracefully on Ctrl-C / SIGTERM.
import { createDemo } from './app.js';
import { selfSignedCert } from './self-signed.js';

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be an integer between 0 and 65535, got "${process.env.PORT}"`);
  process.exit(1);
}

const { app } = createDemo();
// HTTPS=1: TLS with a certificate made now (never stored), HTTP/2 and HTTP/1.1 on the one port, so
// browsers open the chat's WebSocket as a stream of the page's connection (RFC 8441).
const https = process.env.HTTPS === '1';
const onListening = (): void => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`NextRush demo running at ${https ? 'https' : 'http'}://localhost:${actual}/`);
  if (https)
    console.log('HTTPS + HTTP/2 with a self-signed certificate: your browser will ask you to accept it.');
  console.log('Endpoints: /stats  /health  /ws/health  /ws/metrics   WebSocket: /chat/<room>, /ws (echo)');
  console.log('Press Ctrl-C to stop.');
};
const server = https
  ? app.listen({ port, tls: selfSignedCert(), http2: true }, onListening)
  : app.listen(port, onListening);

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) {
    // A second Ctrl-C means "now": do not wait for the graceful close to finish.
    console.log('Forced exit.');
    process.exit(1);
  }
  stopping = true;
  console.log(`\n${signal} received, closing (WebSocket peers get 1001 Going Away)…`);
  app.close().then(
    () => {
      console.log('Closed.');
      process.exit(0);
    },
    (err: unknown) => {
      console.error('Error during shutdown:', err);
      process.exit(1);
    }
  );
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
