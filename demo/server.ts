// `npm start` entry: runs the demo on PORT (default 3000) and shuts down gracefully on Ctrl-C / SIGTERM.
import { createDemo } from './app.js';

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be an integer between 0 and 65535, got "${process.env.PORT}"`);
  process.exit(1);
}

const { app } = createDemo();
const server = app.listen(port, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`NextRush demo running at http://localhost:${actual}/`);
  console.log('Endpoints: /stats  /health  /ws/health  /ws/metrics   WebSocket: /chat/<room>, /ws (echo)');
  console.log('Press Ctrl-C to stop.');
});

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
