// WebSockets over HTTP/2 (RFC 8441) end to end with undici's client: echo, many streams on one connection, HTTP/1.1 fallback.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { WebSocket } from 'undici';
import { closed, h2Client, nextMessage, opened, startHttp2App, type Http2App } from '../support/http2.js';

describe('WebSockets over HTTP/2 with undici', () => {
  const servers: Http2App[] = [];
  after(async () => {
    await Promise.all(servers.map(s => s.close()));
  });
  async function start(...args: Parameters<typeof startHttp2App>): Promise<Http2App> {
    const s = await startHttp2App(...args);
    servers.push(s);
    return s;
  }

  it('echoes text and binary over an extended CONNECT stream, and the stats count it as HTTP/2', async () => {
    const s = await start(app =>
      app.ws('/echo', socket => {
        socket.onMessage(m => void socket.send(m));
      })
    );
    const client = h2Client(s.origin);
    const ws = new WebSocket(`wss://127.0.0.1:${s.port}/echo`, { dispatcher: client });
    ws.binaryType = 'arraybuffer';
    await opened(ws);
    const stats = s.plugin!.getStats();
    assert.deepEqual(stats.http2, { connections: 1, connectionsOpened: 1 });
    ws.send('hello over h2');
    assert.equal(await nextMessage(ws), 'hello over h2');
    ws.send(Buffer.from([1, 2, 3, 255]));
    assert.deepEqual(await nextMessage(ws), Buffer.from([1, 2, 3, 255]));
    const done = closed(ws);
    ws.close(1000, 'bye');
    assert.deepEqual(await done, { code: 1000, reason: 'bye' });
    await client.close();
  });

  it('opens 100 WebSockets over one HTTP/2 connection, all echoing at once', async () => {
    const sessions = new Set<unknown>();
    const s = await start(app =>
      app.ws('/echo', socket => {
        socket.onMessage(m => void socket.send(m));
      })
    );
    s.server.on('session', session => sessions.add(session));
    const client = h2Client(s.origin);
    const sockets = Array.from(
      { length: 100 },
      () => new WebSocket(`wss://127.0.0.1:${s.port}/echo`, { dispatcher: client })
    );
    await Promise.all(sockets.map(opened));
    assert.equal(s.plugin!.getStats().http2.connections, 100);
    const replies = sockets.map((ws, i) => {
      const reply = nextMessage(ws);
      ws.send(`message ${i}`);
      return reply;
    });
    assert.deepEqual(
      await Promise.all(replies),
      sockets.map((_, i) => `message ${i}`)
    );
    assert.equal(sessions.size, 1, 'one TCP+TLS connection carried every stream');
    await Promise.all(
      sockets.map(ws => {
        const c = closed(ws);
        ws.close();
        return c;
      })
    );
    await client.close();
  });

  it('a client without HTTP/2 gets HTTP/1.1 on the same port', async () => {
    const s = await start(app =>
      app.ws('/echo', socket => {
        socket.onMessage(m => void socket.send(m));
      })
    );
    const client = h2Client(s.origin, false);
    const ws = new WebSocket(`wss://127.0.0.1:${s.port}/echo`, { dispatcher: client });
    await opened(ws);
    assert.deepEqual(s.plugin!.getStats().http2, { connections: 0, connectionsOpened: 0 });
    assert.equal(s.plugin!.getStats().connections, 1);
    ws.send('over http/1.1');
    assert.equal(await nextMessage(ws), 'over http/1.1');
    const done = closed(ws);
    ws.close();
    await done;
    await client.close();
  });
});
