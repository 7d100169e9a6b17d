// Our server under test, written the way a user would with the public API: echo on any path, fan-out on /broadcast.
import { createApp, WebSocketPlugin } from '../../src/index.js';

const port = Number(process.argv[2]);
const app = createApp();
// Heartbeat left at its default (as a user would); the limit is raised so 10 000 idle connections fit.
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

app.listen(port, '127.0.0.1', () => console.error(`nextrush server on ${port}`));
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
