// Simple WebSocket smoke test from the spec's "Playground Examples": start a server, echo text and binary, close.
// Run from this folder after `npm run build`: `node websocket-test.js`.
import { createApp, WebSocketPlugin } from 'nextrush-v2';
import WebSocket from 'ws';

const app = createApp();
const wsPlugin = new WebSocketPlugin({ path: '/ws', heartbeatMs: 30000, maxConnections: 1000 });
wsPlugin.install(app);

app.ws('/ws', socket => {
  socket.send('Welcome to NextRush v2 WebSocket!');
  socket.onMessage(data => socket.send(typeof data === 'string' ? `Echo: ${data}` : data));
});

const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const received = [];
  const fail = reason => {
    console.error(`FAIL: ${reason}`);
    process.exitCode = 1;
    void app.close();
  };
  const timer = setTimeout(() => fail('timed out waiting for replies'), 5000);
  ws.on('open', () => {
    ws.send('Hello Server!');
    ws.send(Buffer.from([1, 2, 3]));
  });
  ws.on('message', (data, isBinary) => {
    received.push(isBinary ? `binary ${data.length} bytes` : data.toString());
    if (received.length === 3) ws.close(1000, 'done');
  });
  ws.on('close', async code => {
    clearTimeout(timer);
    console.log(received.map(line => `received: ${line}`).join('\n'));
    const expected = ['Welcome to NextRush v2 WebSocket!', 'Echo: Hello Server!', 'binary 3 bytes'];
    if (JSON.stringify(received) !== JSON.stringify(expected) || code !== 1000) {
      fail(`unexpected replies or close code ${code}`);
      return;
    }
    console.log(`closed with ${code}; stats: ${JSON.stringify(wsPlugin.getStats())}`);
    await app.close();
    console.log('PASS');
  });
});
