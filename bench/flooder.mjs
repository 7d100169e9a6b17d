// Flooding peer for bench/flood.mjs: sends masked 32-byte binary frames as fast as the socket takes them,
// reads and discards whatever comes back, reconnects when the server closes it; prints counts on SIGTERM.
import net from 'node:net';
import { randomBytes } from 'node:crypto';

const [port, path = '/flood'] = [Number(process.argv[2]), process.argv[3]];
const PAYLOAD = 32;
const FRAME = 2 + 4 + PAYLOAD;
const BATCH = Math.floor((64 * 1024) / FRAME);

// One 64 KiB batch of identical masked frames, built once: the flooder spends its time writing.
const batch = Buffer.alloc(BATCH * FRAME);
const mask = randomBytes(4);
for (let i = 0; i < BATCH; i++) {
  const off = i * FRAME;
  batch[off] = 0x82;
  batch[off + 1] = 0x80 | PAYLOAD;
  mask.copy(batch, off + 2);
  for (let j = 0; j < PAYLOAD; j++) batch[off + 6 + j] = (j & 0xff) ^ mask[j & 3];
}

let framesWritten = 0;
let connections = 0;
let closedByServer = 0;
let stopping = false;

function connect() {
  if (stopping) return;
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let upgraded = false;
  let head = '';
  const pump = () => {
    while (socket.writable) {
      framesWritten += BATCH;
      if (!socket.write(batch)) return;
    }
  };
  socket.on('connect', () => {
    connections++;
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
    );
  });
  socket.on('data', chunk => {
    if (upgraded) return; // replies are read and discarded
    head += chunk.toString('latin1');
    if (!head.includes('\r\n\r\n')) return;
    if (!head.startsWith('HTTP/1.1 101')) {
      socket.destroy();
      setTimeout(connect, 50);
      return;
    }
    upgraded = true;
    pump();
  });
  socket.on('drain', pump);
  socket.on('error', () => {});
  socket.on('close', () => {
    if (upgraded) closedByServer++;
    if (!stopping) setTimeout(connect, 0);
  });
}

connect();
process.on('SIGTERM', () => {
  stopping = true;
  process.stdout.write(JSON.stringify({ framesWritten, connections, closedByServer }) + '\n');
  process.exit(0);
});
