// Server of `npm run bench:100k` on the public API: every message is broadcast to every connection; the
// heartbeat runs at HEARTBEAT_MS and each sweep's duration is printed as a JSON line for the driver.
import { performance } from 'node:perf_hooks';
import { createApp, WebSocketPlugin } from '../../src/index.js';
import { Heartbeat } from '../../src/ws/heartbeat.js';

const port = Number(process.argv[2]);
const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 10_000);

// Measurement only: time the plugin's own sweep (the method the timer calls) without changing it.
const { prototype } = Heartbeat;
const sweep = Object.getOwnPropertyDescriptor(prototype, 'sweep')?.value as (this: Heartbeat) => void;
prototype.sweep = function timedSweep(this: Heartbeat): void {
  const t0 = performance.now();
  sweep.call(this);
  console.log(JSON.stringify({ sweepMs: performance.now() - t0 }));
};

const app = createApp();
new WebSocketPlugin({ path: '/*', maxConnections: 200_000, heartbeatMs, pongTimeoutMs: heartbeatMs }).install(
  app
);
app.ws('/*', s => {
  s.onMessage(d => app.wsBroadcast(d));
});
app.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ ready: port })));
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
