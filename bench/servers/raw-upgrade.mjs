// Calibration server: completes WebSocket handshakes with Node's http module and keeps the sockets, nothing else.
// It shows the memory floor of an idle connection held by net.Socket, without any WebSocket code.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const kept = new Set();
const server = createServer();
server.on('upgrade', (req, socket) => {
  const accept = createHash('sha1')
    .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`
  );
  socket.on('data', () => {});
  socket.on('error', () => {});
  socket.on('close', () => kept.delete(socket));
  kept.add(socket);
});
server.listen(port, '127.0.0.1');
