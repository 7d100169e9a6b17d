// Example: one app on every core of one machine with node:cluster; ClusterAdapter carries broadcasts between workers.
// Run: npm run compile && node build/examples/cluster.js  (then connect several clients to ws://127.0.0.1:3000/ws)
import cluster from 'node:cluster';
import { ClusterAdapter, createApp, WebSocketPlugin } from '../src/index.js';

const port = Number(process.env.PORT ?? 3000);
const workers = Number(process.env.WORKERS ?? 2);

if (cluster.isPrimary) {
  // Before forking: installs the relay and selects the IPC serialization that carries binary as bytes.
  ClusterAdapter.setupPrimary();
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code) => console.log(`worker ${worker.id} exited (${code})`));
  console.log(`primary ${process.pid}: ${workers} workers on ws://127.0.0.1:${port}/ws`);
} else {
  const app = createApp();
  const ws = new WebSocketPlugin({ path: '/ws', adapter: new ClusterAdapter() });
  ws.install(app);

  // A chat: whatever one client says reaches every client, whichever worker holds its connection.
  app.ws('/ws', socket => {
    socket.send(`connected to worker ${cluster.worker?.id}`);
    socket.onMessage(data => app.wsBroadcast(data));
  });

  app.get('/stats', async ctx => {
    ctx.json(await ws.getClusterStats());
  });

  app.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}
