// Receive-side flow control and limits: a peer that never reads cannot grow memory; message, fragment and per-fragment limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder, type FrameSink } from '../../src/protocol/decoder.js';
import { MAX_TEXT_MESSAGE_BYTES } from '../../src/protocol/utf8.js';
import { FrameReader } from '../support/frames.js';
import { clientFrame, closeCodeOf, delay, echoServer, goodClient, rawWebSocket, until } from './helpers.js';

describe('receive-side flow control', () => {
  it('an echo peer that never reads: reading pauses, bytesReceived stops growing, then everything is echoed', async () => {
    const server = await echoServer();
    const good = await goodClient(server.port);
    const { socket, rest } = await rawWebSocket(server.port);
    socket.pause(); // never reads (for now)
    const frame = clientFrame(2, Buffer.alloc(64 * 1024, 1));
    const total = 800; // 50 MiB of echo requests
    let written = 0;
    // Writes as fast as the server takes them; a write that does not drain for a while means the server stopped reading.
    while (written < total) {
      written++;
      if (!socket.write(frame)) {
        const drained = await Promise.race([
          new Promise(resolve => socket.once('drain', () => resolve(true))),
          delay(1000).then(() => false),
        ]);
        if (!drained) break;
      }
    }
    assert.ok(written < total, `the server took all ${written} messages without reading pausing`);
    const before = server.plugin.getStats().bytesReceived;
    await delay(500);
    const stats = server.plugin.getStats();
    assert.equal(stats.bytesReceived, before, 'bytesReceived kept growing while the peer did not read');
    assert.ok(stats.bytesReceived < 20 * 1024 * 1024, `server read ${stats.bytesReceived} bytes`);
    assert.equal(stats.connections, 2);
    await good.check();
    // Now the peer reads: the server resumes, and every message sent is echoed, none lost.
    let echoed = 0;
    const reader = new FrameReader();
    const read = (chunk: Buffer): void => {
      for (const f of reader.push(chunk)) if (f.opcode === 2 && f.payload.length === 64 * 1024) echoed++;
    };
    socket.on('data', read);
    read(rest);
    socket.resume();
    await until(() => echoed >= written, { timeoutMs: 60_000 });
    assert.equal(echoed, written);
    socket.destroy();
    await good.close();
    await server.app.close();
  });

  it('a message larger than maxMessageSize is refused with 1009', async () => {
    const server = await echoServer({ maxMessageSize: 64 * 1024 });
    const good = await goodClient(server.port);
    const { socket, rest } = await rawWebSocket(server.port);
    const code = closeCodeOf(socket, rest);
    socket.write(clientFrame(2, Buffer.alloc(64 * 1024 + 1)));
    assert.equal(await code, 1009);
    await good.check();
    socket.destroy();
    await good.close();
    await server.app.close();
  });

  it('a text message longer than a JavaScript string can hold is refused with 1009 on its header', async () => {
    // maxMessageSize allows it, V8 does not: without the cap the string conversion would throw out of the data handler.
    const server = await echoServer({ maxMessageSize: 2 ** 32 });
    const good = await goodClient(server.port);
    const { socket, rest } = await rawWebSocket(server.port);
    const code = closeCodeOf(socket, rest);
    socket.write(clientFrame({ opcode: 1, declaredLength: MAX_TEXT_MESSAGE_BYTES + 1, lengthForm: 64 }));
    socket.write(clientFrame({ opcode: 1, payload: 'the payload would follow' }).subarray(6));
    socket.end(); // a server that waited for the payload would see the FIN instead: 1006
    assert.equal(await code, 1009);
    await good.check();
    socket.destroy();
    await good.close();
    await server.app.close();
  });

  it('fragments adding up to more than maxMessageSize are refused with 1009', async () => {
    const server = await echoServer({ maxMessageSize: 64 * 1024 });
    const good = await goodClient(server.port);
    const { socket, rest } = await rawWebSocket(server.port);
    const code = closeCodeOf(socket, rest);
    socket.write(clientFrame(2, Buffer.alloc(1024), false));
    for (let i = 0; i < 70; i++) socket.write(clientFrame(0, Buffer.alloc(1024), false));
    assert.equal(await code, 1009);
    await good.check();
    socket.destroy();
    await good.close();
    await server.app.close();
  });

  it('a flood of 1-byte fragments is reassembled and echoed', async () => {
    const server = await echoServer();
    const good = await goodClient(server.port);
    const { socket, rest } = await rawWebSocket(server.port);
    const count = 20_000;
    const frames = [clientFrame(2, Buffer.from([0]), false)];
    for (let i = 1; i < count - 1; i++) frames.push(clientFrame(0, Buffer.from([i & 0xff]), false));
    frames.push(clientFrame(0, Buffer.from([0xff]), true));
    let buf = rest;
    const echoed = new Promise<number>(resolve => {
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 4 && buf.length >= 4 + buf.readUInt16BE(2)) resolve(buf.readUInt16BE(2));
      });
    });
    socket.write(Buffer.concat(frames));
    assert.equal(await echoed, count);
    await good.check();
    socket.destroy();
    await good.close();
    await server.app.close();
  });
});

describe('decoder memory per fragment', () => {
  it('1-byte fragments pin no more memory than about the bytes sent', () => {
    let messages = 0;
    const sink: FrameSink = {
      onText() {},
      onBinary() {
        messages++;
      },
      onPing() {},
      onPong() {},
      onCloseFrame() {},
      onError(error) {
        throw error;
      },
    };
    const decoder = new FrameDecoder(sink, { maxMessageSize: 16 * 1024 * 1024 });
    const held = (): number => (decoder as unknown as { parts: Buffer | null }).parts?.length ?? 0;
    decoder.push(clientFrame(2, Buffer.from([1]), false));
    let maxRatio = 0;
    for (let i = 1; i <= 50_000; i++) {
      // Each fragment arrives in its own chunk, the worst case for chunk retention.
      decoder.push(clientFrame(0, Buffer.from([i & 0xff]), false));
      if (i % 1000 === 0) {
        assert.equal(decoder.pendingMessageBytes, i + 1);
        assert.equal(decoder.bufferedBytes, 0);
        maxRatio = Math.max(maxRatio, held() / (i + 1));
      }
    }
    // The reassembly buffer grows by doubling: at most twice the payload bytes received.
    assert.ok(maxRatio <= 2, `reassembly buffer is ${maxRatio}x the payload`);
    decoder.push(clientFrame(0, Buffer.alloc(0), true));
    assert.equal(messages, 1);
    assert.equal(held(), 0);
  });
});
