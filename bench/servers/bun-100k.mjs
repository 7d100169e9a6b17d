// Bun server of `npm run bench:100k` (run with the `bun` binary): every message published to every client;
// liveness is Bun's own (uWebSockets' per-socket idle timer with automatic pings), so there is no JS sweep.
const port = Number(process.argv[2]);
const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 10_000);
const { Bun, Response } = globalThis;
const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    return new Response('upgrade required', { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    // Seconds without traffic before Bun pings (sendPings) and, one more period later, closes.
    idleTimeout: Math.max(1, Math.round(heartbeatMs / 1000)),
    sendPings: true,
    open(ws) {
      ws.subscribe('all');
    },
    message(_ws, msg) {
      server.publish('all', msg);
    },
  },
});
console.log(JSON.stringify({ ready: port, bun: Bun.version }));
