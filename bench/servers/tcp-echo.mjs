// Calibration server, no WebSocket (client runs with --raw): a raw Node TCP echo (`socket.pipe(socket)`), or with
// argument `bcast` a fan-out that forwards every chunk to every client; the ceiling of Node socket I/O.
import net from 'node:net';

const port = Number(process.argv[2]);
const fanOut = process.argv[3] === 'bcast';
const clients = new Set();
net
  .createServer(socket => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy()); // clients reset connections at the end of a run
    if (!fanOut) {
      socket.pipe(socket);
      return;
    }
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    socket.on('data', chunk => {
      for (const c of clients) c.write(chunk);
    });
  })
  .listen(port, '127.0.0.1', () => console.error(`tcp-echo${fanOut ? ' bcast' : ''} listening on ${port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
