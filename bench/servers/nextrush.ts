// Our server under test, written the way a user would with the public API: echo on any path, fan-out on /broadcast.
import { createApp, WebSocketPlugin, type WebSocketPluginOptions } from '../../src/index.js';
import { benchRoutes } from './routes.js';

const port = Number(process.argv[2]);
const app = createApp();
// BENCH_LIMITS turns the abuse limits on: 'on' with budgets no echo scenario reaches (the cost of the
// checks alone), 'drop' / 'close' with a budget a flooder passes at once (bench/flood.mjs).
const limits = process.env.BENCH_LIMITS ?? 'off';
const messageRate: WebSocketPluginOptions['messageRate'] =
  limits === 'on'
    ? { messagesPerSecond: 1e9, bytesPerSecond: 1e12, policy: 'drop' }
    : limits === 'drop' || limits === 'close'
      ? { messagesPerSecond: 10_000, burst: 1, policy: limits }
      : undefined;
const clientLimits = limits === 'on' ? { maxConnections: 100_000, upgradesPerMinute: 1e6 } : undefined;
// Heartbeat left at its default (as a user would); the limit is raised so 10 000 idle connections fit.
new WebSocketPlugin({ path: '/*', maxConnections: 100_000, messageRate, clientLimits }).install(app);

benchRoutes(app);

app.listen(port, '127.0.0.1', () => console.error(`nextrush server on ${port}`));
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
