// Which JavaScript objects an idle upgraded connection keeps: heap snapshots before and after N connections,
// objects grouped by constructor, per connection, for nextrush, a Node http upgrade, and a bare net server.
//   npm run compile && node --expose-gc bench/heap-per-connection.mjs nextrush|http|net [N=3000]
import { fork } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';

const REQUEST =
  'GET /x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';

if (process.argv[2] === 'client') {
  // Child: opens N connections, sends the upgrade request on each, reports when all have an answer.
  const [port, n] = process.argv.slice(3).map(Number);
  let answered = 0;
  const sockets = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1', () => s.write(REQUEST));
    s.once('data', () => {
      if (++answered === n) process.send('open');
    });
    s.on('error', () => {});
    sockets.push(s);
    if (i % 200 === 199) await new Promise(r => setTimeout(r, 20));
  }
} else {
  const mode = process.argv[2] ?? 'nextrush';
  const n = Number(process.argv[3] ?? 3000);
  let server;
  if (mode === 'nextrush') {
    const { createApp, WebSocketPlugin } = await import('../build/src/index.js');
    const app = createApp();
    new WebSocketPlugin({ path: '/*', maxConnections: 100_000 }).install(app);
    app.ws('/*', s => s.onMessage(d => s.send(d)));
    server = app.listen(0, '127.0.0.1');
  } else if (mode === 'http') {
    server = http.createServer().on('upgrade', (_req, socket) => {
      socket.write(RESPONSE);
      socket.on('data', () => {});
    });
    server.listen(0, '127.0.0.1');
  } else {
    server = net.createServer(socket => {
      socket.once('data', () => socket.write(RESPONSE));
      socket.on('data', () => {});
    });
    server.listen(0, '127.0.0.1');
  }
  if (!server.listening) await new Promise(r => server.once('listening', r));

  /** Count and self size per (node type, name) in a fresh heap snapshot. */
  const census = () => {
    globalThis.gc?.();
    const file = v8.writeHeapSnapshot(
      join(tmpdir(), `heap-per-connection-${process.pid}-${Date.now()}.heapsnapshot`)
    );
    const snap = JSON.parse(readFileSync(file, 'utf8'));
    rmSync(file);
    const fields = snap.snapshot.meta.node_fields;
    const types = snap.snapshot.meta.node_types[0];
    const [ti, ni, si] = ['type', 'name', 'self_size'].map(f => fields.indexOf(f));
    const byName = new Map();
    for (let i = 0; i < snap.nodes.length; i += fields.length) {
      const key = `${types[snap.nodes[i + ti]]}: ${snap.strings[snap.nodes[i + ni]].slice(0, 50)}`;
      const e = byName.get(key) ?? { count: 0, bytes: 0 };
      e.count++;
      e.bytes += snap.nodes[i + si];
      byName.set(key, e);
    }
    return byName;
  };
  const before = census();
  const child = fork(new URL(import.meta.url), ['client', String(server.address().port), String(n)]);
  await new Promise(r => child.once('message', r));
  await new Promise(r => setTimeout(r, 1000));
  const after = census();
  const rows = [];
  for (const [key, { count, bytes }] of after) {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    // Only what grows with the connections (at least 0.9 per connection).
    if (count - b.count >= n * 0.9) rows.push([key, (count - b.count) / n, (bytes - b.bytes) / n]);
  }
  rows.sort((x, y) => y[2] - x[2]);
  console.log(`${mode}: ${n} connections; JavaScript heap per connection by object kind\n`);
  console.log('| object | count / conn | bytes / conn |\n|---|---|---|');
  let total = 0;
  for (const [key, count, bytes] of rows) {
    total += bytes;
    console.log(`| ${key} | ${count.toFixed(2)} | ${bytes.toFixed(0)} |`);
  }
  console.log(`| total | | ${total.toFixed(0)} |`);
  child.kill();
  process.exit(0);
}
