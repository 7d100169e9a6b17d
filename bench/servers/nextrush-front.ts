// Prototype: bench/servers/nextrush.ts with the upgrade fast path (src/core/upgrade-front.ts) installed.
import { createApp, WebSocketPlugin } from '../../src/index.js';
import { installUpgradeFront } from '../prototypes/upgrade-front.js';

const port = Number(process.argv[2]);
const app = createApp();
new WebSocketPlugin({ path: '/*', maxConnections: 100_000 }).install(app);
app.ws('/broadcast', s => {
  s.join('b');
  s.onMessage(d => app.wsBroadcast(d, 'b'));
});
app.ws('/*', s => {
  s.onMessage(d => {
    s.send(d);
  });
});
const server = app.listen(port, '127.0.0.1', () =>
  console.error(`nextrush (upgrade front) server on ${port}`)
);
if (!installUpgradeFront(server, { headersTimeout: server.headersTimeout }))
  throw new Error('front not installed');
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
