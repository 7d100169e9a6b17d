// Prototype: bench/servers/nextrush.ts with the upgrade fast path (bench/prototypes/upgrade-front.ts) installed.
import { createApp, WebSocketPlugin } from '../../src/index.js';
import { benchRoutes } from './routes.js';
import { installUpgradeFront } from '../prototypes/upgrade-front.js';

const port = Number(process.argv[2]);
const app = createApp();
new WebSocketPlugin({ path: '/*', maxConnections: 100_000 }).install(app);
benchRoutes(app);
const server = app.listen(port, '127.0.0.1', () =>
  console.error(`nextrush (upgrade front) server on ${port}`)
);
if (!installUpgradeFront(server, { headersTimeout: server.headersTimeout }))
  throw new Error('front not installed');
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
