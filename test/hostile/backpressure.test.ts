// Send-side backpressure: send() results, bufferedAmount, onDrain, maxBackpressure policies, per-recipient broadcasts, one write per tick.
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { SendResult, WSConnection } from '../../src/index.js';
import { Connection } from '../../src/ws/connection/connection.js';
import { SocketTransport } from '../../src/ws/connection/transport.js';
import { RoomRegistry } from '../../src/ws/rooms.js';
import { closeCodeOf, echoServer, goodClient, rawWebSocket, until } from './helpers.js';

/** Counts data frames arriving on a raw socket, and remembers the close code once a close frame arrives. */
function frameCounter(
  socket: Socket,
  initial: Buffer
): { frames: () => number; closeCode: () => number | undefined } {
  let frames = 0;
  let code: number | undefined;
  void closeCodeOf(socket, initial, opcode => {
    if (opcode === 1 || opcode === 2) frames++;
  }).then(c => (code = c));
  return { frames: () => frames, closeCode: () => code };
}

const CHUNK = Buffer.alloc(256 * 1024, 7);

/**
 * An echo server with a well-behaved client, plus a raw peer on /hold that does not read (its socket
 * is paused) and the server-side connection to it.
 */
async function stalledPeer(options: Parameters<typeof echoServer>[0] = {}) {
  const server = await echoServer(options);
  let captured: WSConnection | undefined;
  server.app.ws('/hold', socket => void (captured = socket));
  const good = await goodClient(server.port);
  const { socket, rest } = await rawWebSocket(server.port, '/hold');
  socket.pause();
  await until(() => captured !== undefined);
  return { server, good, socket, rest, conn: captured as WSConnection };
}

describe('send-side backpressure', () => {
  it("reports 'sent' / 'queued', bufferedAmount, and fires onDrain once the peer reads", async () => {
    const { server, good, socket, rest, conn } = await stalledPeer();
    assert.equal(conn.send('small'), 'sent');
    const results: SendResult[] = [];
    for (let i = 0; i < 8; i++) results.push(conn.send(CHUNK)); // 2 MiB: below the 4 MiB default
    assert.ok(
      results.every(r => r === 'queued'),
      results.join()
    );
    assert.ok(conn.bufferedAmount > 1024 * 1024, `bufferedAmount ${conn.bufferedAmount}`);
    let drained = false;
    conn.onDrain(() => (drained = true));
    await good.check();
    const counter = frameCounter(socket, rest);
    socket.resume();
    await until(() => drained && counter.frames() === 9);
    assert.equal(conn.bufferedAmount, 0);
    assert.equal(server.plugin.getStats().messagesDropped, 0);
    socket.destroy();
    await good.close();
    await server.app.close();
  });

  it("policy 'close': past maxBackpressure the connection is closed with 1008", async () => {
    const { server, good, socket, rest, conn } = await stalledPeer({ maxBackpressure: 1024 * 1024 });
    const results: SendResult[] = [];
    for (let i = 0; i < 8; i++) results.push(conn.send(CHUNK));
    // Each frame is 256 KiB plus a 10-byte header: three fit in 1 MiB, the fourth does not.
    assert.deepEqual(results.slice(0, 4), ['queued', 'queued', 'queued', 'dropped']);
    assert.equal(conn.readyState, 2);
    const code = closeCodeOf(socket, rest);
    socket.resume();
    assert.equal(await code, 1008);
    assert.equal(server.plugin.getStats().messagesDropped, 5);
    await good.check();
    socket.destroy();
    await good.close();
    await server.app.close();
  });

  it("policy 'drop': messages past maxBackpressure are dropped and counted, the rest all arrive", async () => {
    const { server, good, socket, rest, conn } = await stalledPeer({
      maxBackpressure: 1024 * 1024,
      backpressurePolicy: 'drop',
    });
    const results: SendResult[] = [];
    for (let i = 0; i < 10; i++) results.push(conn.send(CHUNK));
    const accepted = results.filter(r => r !== 'dropped').length;
    assert.equal(accepted, 3);
    assert.equal(server.plugin.getStats().messagesDropped, 7);
    assert.equal(conn.readyState, 1);
    const counter = frameCounter(socket, rest);
    socket.resume();
    await until(() => counter.frames() === accepted);
    // Still open and usable once drained.
    assert.equal(conn.send('after'), 'sent');
    await until(() => counter.frames() === accepted + 1);
    assert.equal(counter.closeCode(), undefined);
    await good.check();
    socket.destroy();
    await good.close();
    await server.app.close();
  });

  it('broadcasts obey the limit per recipient: a stalled peer is closed, the others get every message', async () => {
    const server = await echoServer({ maxBackpressure: 1024 * 1024 });
    const good = await goodClient(server.port);
    const readers = await Promise.all([rawWebSocket(server.port), rawWebSocket(server.port)]);
    const counters = readers.map(r => frameCounter(r.socket, r.rest));
    const stalled = await rawWebSocket(server.port);
    stalled.socket.pause();
    const total = 40; // 10 MiB per recipient
    for (let i = 0; i < total; i++) {
      server.plugin.broadcast(CHUNK);
      // Let readers keep up between messages, like a real producer honouring backpressure.
      await until(() => counters.every(c => c.frames() === i + 1));
    }
    const code = closeCodeOf(stalled.socket, stalled.rest);
    stalled.socket.resume();
    assert.equal(await code, 1008);
    for (const c of counters) {
      assert.equal(c.frames(), total);
      assert.equal(c.closeCode(), undefined);
    }
    await good.check();
    for (const r of readers) r.socket.destroy();
    stalled.socket.destroy();
    await good.close();
    await server.app.close();
  });
});

describe('write batching', () => {
  it('frames sent in one tick leave in one socket write', async () => {
    const listener = createServer();
    await new Promise<void>(resolve => listener.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>(resolve => listener.once('connection', resolve));
    const client = connect((listener.address() as AddressInfo).port, '127.0.0.1');
    const serverSide = await accepted;
    let writes = 0;
    const write = serverSide.write.bind(serverSide) as (...args: unknown[]) => boolean;
    (serverSide as unknown as { write: (...args: unknown[]) => boolean }).write = (...args) => {
      writes++;
      return write(...args);
    };
    const host = {
      options: {
        maxMessageSize: 1024,
        maxBackpressure: 1024 * 1024,
        backpressurePolicy: 'close' as const,
        closeTimeoutMs: 1000,
        readPauseBytes: 1024 * 1024,
      },
      stats: {
        messagesSent: 0,
        messagesReceived: 0,
        bytesSent: 0,
        bytesReceived: 0,
        messagesDropped: 0,
        protocolErrors: 0,
      },
      rooms: new RoomRegistry<Connection>({
        created() {},
        deleted() {},
        broadcast() {},
        resolve: () => undefined,
      }),
      deflate: undefined,
      clock: { tick: 1 },
      log() {},
      connectionCreated() {},
      connectionOpened() {},
      connectionClosed() {},
    };
    const init = { url: '/', params: {}, protocol: '', extensions: '', head: Buffer.alloc(0), deflate: null };
    const conn = new Connection(new SocketTransport(serverSide), host, init);
    conn.open(() => {});
    const counter = frameCounter(client, Buffer.alloc(0));
    for (let i = 0; i < 20; i++) assert.equal(conn.send(`message ${i}`), 'sent');
    assert.equal(writes, 0, 'nothing is written synchronously');
    await until(() => counter.frames() === 20);
    assert.equal(writes, 1);
    for (let i = 0; i < 5; i++) conn.send(`again ${i}`);
    await until(() => counter.frames() === 25);
    assert.equal(writes, 2);
    client.destroy();
    serverSide.destroy();
    await new Promise(resolve => listener.close(resolve));
  });
});
