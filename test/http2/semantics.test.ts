// The same WSConnection over an HTTP/2 stream: subprotocols, permessage-deflate, heartbeat, and rooms shared with HTTP/1.1 peers.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import WebSocket from 'ws';
import { clientFrame } from '../support/frames.js';
import { until } from '../support/until.js';
import {
  connectHeaders,
  h2Session,
  request,
  startHttp2App,
  StreamFrames,
  testCert,
  type Http2App,
} from '../support/http2.js';
import type { WebSocketPluginOptions } from '../../src/index.js';

/** RFC 7692 §7.2.1: the compressed payload is the DEFLATE output without its trailing 00 00 ff ff. */
function deflateMessage(data: Buffer): Buffer {
  const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}
/** RFC 7692 §7.2.2: append 00 00 ff ff, then inflate. */
function inflateMessage(data: Buffer): Buffer {
  return inflateRawSync(Buffer.concat([data, Buffer.from([0, 0, 0xff, 0xff])]), {
    finishFlush: constants.Z_SYNC_FLUSH,
  });
}

describe('WSConnection semantics over an HTTP/2 stream', () => {
  const servers: Http2App[] = [];
  after(async () => {
    await Promise.all(servers.map(s => s.close()));
  });
  const closes: number[] = [];
  async function start(options: WebSocketPluginOptions): Promise<Http2App> {
    const s = await startHttp2App(
      app => {
        app.ws('/echo', socket => {
          socket.send(`protocol=${socket.protocol}`);
          socket.onMessage(m => void socket.send(m));
          socket.onClose(code => closes.push(code));
        });
        app.ws('/room', socket => socket.join('r'));
      },
      { closeTimeoutMs: 300, ...options }
    );
    servers.push(s);
    return s;
  }

  it('negotiates a subprotocol and permessage-deflate, and compressed messages echo both ways', async () => {
    const s = await start({ heartbeatMs: 0, protocols: ['chat.v1'], perMessageDeflate: true });
    const session = await h2Session(s.origin);
    const { stream, headers } = await request(
      session,
      connectHeaders('/echo', {
        'sec-websocket-protocol': 'chat.v2, chat.v1',
        'sec-websocket-extensions': 'permessage-deflate',
      })
    );
    assert.equal(headers[':status'], 200);
    assert.equal(headers['sec-websocket-protocol'], 'chat.v1');
    assert.match(String(headers['sec-websocket-extensions']), /^permessage-deflate/);
    const frames = new StreamFrames(stream);
    assert.equal((await frames.next())?.payload.toString(), 'protocol=chat.v1');
    const text = 'over HTTP/2, compressed. '.repeat(200);
    stream.write(clientFrame({ opcode: 1, rsv: 4, payload: deflateMessage(Buffer.from(text)) }));
    const echo = await frames.next();
    assert.equal(echo?.rsv, 4, 'the echo of a 5 KB message is compressed (RSV1)');
    assert.ok(echo.payload.length < text.length / 4);
    assert.equal(inflateMessage(echo.payload).toString(), text);
    assert.equal(s.plugin!.getStats().http2.connections, 1);
    session.close();
  });

  it('heartbeat: pings go down the stream; a peer that answers stays, a silent one is dropped', async () => {
    const s = await start({ heartbeatMs: 100, pongTimeoutMs: 200 });
    closes.length = 0;
    const session = await h2Session(s.origin);
    const answering = await request(session, connectHeaders('/echo'));
    const silent = await request(session, connectHeaders('/echo'));
    const answered = new StreamFrames(answering.stream);
    let pings = 0;
    void (async () => {
      for (let f = await answered.next(); f; f = await answered.next()) {
        if (f.opcode !== 9) continue;
        pings++;
        answering.stream.write(clientFrame(10, f.payload));
      }
    })();
    const silentFrames = new StreamFrames(silent.stream);
    assert.equal((await silentFrames.next())?.opcode, 1, 'the greeting');
    assert.equal((await silentFrames.next())?.opcode, 9, 'a ping came down the silent stream');
    // No pong: the connection is dropped (TCP destroy is RST_STREAM on HTTP/2), the other one stays.
    assert.equal(await silentFrames.closeCode(), 1006);
    await until(() => closes.includes(1006));
    await until(() => pings >= 3, { label: 'three pings answered' });
    assert.equal(s.plugin!.getStats().connections, 1, 'the peer that answers pings is still open');
    session.close();
  });

  it('one room across transports: HTTP/1.1 and HTTP/2 members get the same broadcast', async () => {
    const s = await start({ heartbeatMs: 0 });
    const session = await h2Session(s.origin);
    const h2 = await request(session, connectHeaders('/room'));
    const h2Frames = new StreamFrames(h2.stream);
    const h1 = new WebSocket(`wss://127.0.0.1:${s.port}/room`, { ca: testCert().cert });
    const h1Got = new Promise<Buffer>(resolve => h1.once('message', (d: Buffer) => resolve(d)));
    await new Promise<void>((resolve, reject) => {
      h1.once('open', () => resolve());
      h1.once('error', reject);
    });
    await until(() => s.plugin!.getStats().connections === 2);
    const stats = s.plugin!.getStats();
    assert.equal(stats.http2.connections, 1);
    s.app.wsBroadcast('to both', 'r');
    assert.equal((await h2Frames.next())?.payload.toString(), 'to both');
    assert.equal((await h1Got).toString(), 'to both');
    h1.close();
    session.close();
  });
});
