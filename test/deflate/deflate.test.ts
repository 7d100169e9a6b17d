// permessage-deflate over real sockets: negotiation, order, broadcast sharing, stats, idle memory, subprotocols.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketPlugin } from '../../src/index.js';
import type { Connection } from '../../src/ws/connection/connection.js';
import { connectionOf } from '../../src/ws/connection/socket.js';
import { Client, startEcho, type Server } from './helpers.js';

const big = (n: number, seed = 'x'): string => `${seed}:${'{"id":1,"name":"compressible"},'.repeat(n)}`;

/** Sends a raw upgrade request and returns the response head (status line and headers). */
function rawUpgrade(port: number, extra: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(
        'GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
          extra +
          '\r\n'
      );
    });
    let head = '';
    socket.on('data', chunk => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end !== -1) {
        socket.destroy();
        resolve(head.slice(0, end));
      }
    });
    socket.on('error', reject);
  });
}

/** The internal connections behind the server's sockets (their deflate state is not public). */
function serverSide(server: Server): Connection[] {
  return [...server.plugin.connections].map(s => connectionOf(s) as Connection);
}

void describe('perMessageDeflate: negotiation and failures', () => {
  let server: Server;
  before(async () => {
    server = await startEcho({ perMessageDeflate: { threshold: 64 } });
  });
  after(() => server.close());

  it('answers the offer and echoes compressed messages; socket.extensions is set', async () => {
    const c = await Client.open(server.url());
    assert.equal(c.headers['sec-websocket-extensions'], 'permessage-deflate');
    assert.equal(serverSide(server)[0]?.extensions, 'permessage-deflate');
    const m = big(100);
    c.ws.send(m);
    assert.equal(await c.next(), m);
    await c.close();
  });

  it('declines a malformed extension header and proceeds uncompressed', async () => {
    const head = await rawUpgrade(server.port, 'Sec-WebSocket-Extensions: permessage-deflate; a="\r\n');
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.doesNotMatch(head, /sec-websocket-extensions/i);
    const c = await Client.open(server.url(), {
      perMessageDeflate: false,
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_max_window_bits=99, ;;' },
    });
    assert.equal(c.headers['sec-websocket-extensions'], undefined);
    c.ws.send(big(50));
    assert.equal(await c.next(), big(50));
    await c.close();
  });

  it('is off by default: no extension answered', async () => {
    const plain = await startEcho({});
    try {
      const c = await Client.open(plain.url());
      assert.equal(c.headers['sec-websocket-extensions'], undefined);
      assert.equal(c.ws.extensions, '');
      await c.close();
    } finally {
      await plain.close();
    }
  });
});

void describe('perMessageDeflate: ordering, close, stats', () => {
  let server: Server;
  before(async () => {
    server = await startEcho({ perMessageDeflate: { threshold: 1024 } });
    server.app.ws('/burst', socket => {
      socket.onMessage(() => {
        // big (compressed, async), small (not compressed), big, small, then close: order must hold.
        socket.send(big(200, 'a'));
        socket.send('b');
        socket.send(Buffer.from(big(300, 'c')));
        socket.send('d');
        socket.close(4000, 'done');
      });
    });
  });
  after(() => server.close());

  it('a later small uncompressed message does not overtake an earlier compressed one; close comes last', async () => {
    const c = await Client.open(server.url('/burst'));
    const closed = c.closed();
    c.ws.send('go');
    assert.equal(await c.next(), big(200, 'a'));
    assert.equal(await c.next(), 'b');
    assert.deepEqual(await c.next(), Buffer.from(big(300, 'c')));
    assert.equal(await c.next(), 'd');
    assert.equal(await closed, 4000);
  });

  it('getStats() reports bytes before and after compression', async () => {
    const before = server.plugin.getStats().compression;
    assert.ok(before);
    const c = await Client.open(server.url());
    const m = big(1000);
    c.ws.send(m);
    assert.equal(await c.next(), m);
    const s = server.plugin.getStats().compression!;
    assert.equal(s.messagesCompressed - before.messagesCompressed, 1);
    assert.equal(s.bytesIn - before.bytesIn, Buffer.byteLength(m));
    assert.ok(s.bytesOut - before.bytesOut < Buffer.byteLength(m) / 10, 'compressed well');
    assert.equal(s.messagesInflated - before.messagesInflated, 1);
    assert.equal(s.inflateBytesOut - before.inflateBytesOut, Buffer.byteLength(m));
    await c.close();
  });
});

void describe('perMessageDeflate: broadcast compresses once per compatible group', () => {
  let server: Server;
  before(async () => {
    server = await startEcho({ perMessageDeflate: { threshold: 100, serverNoContextTakeover: true } });
    server.app.ws('/room', socket => socket.join('r'));
  });
  after(() => server.close());

  it('3 compatible recipients share one compression; others get their own or none', async () => {
    const shared = await Promise.all([1, 2, 3].map(() => Client.open(server.url('/room'))));
    const narrow = await Client.open(server.url('/room'), { perMessageDeflate: { serverMaxWindowBits: 10 } });
    const plain = await Client.open(server.url('/room'), { perMessageDeflate: false });
    assert.equal(
      shared[0].headers['sec-websocket-extensions'],
      'permessage-deflate; server_no_context_takeover'
    );
    const before = server.plugin.getStats().compression!;
    const m1 = big(500, 'one');
    assert.equal(server.plugin.broadcast(m1, 'r'), 5);
    server.plugin.broadcast('small', 'r');
    const m2 = big(500, 'two');
    server.plugin.broadcast(m2, 'r');
    for (const c of [...shared, narrow, plain]) {
      assert.equal(await c.next(), m1);
      assert.equal(await c.next(), 'small');
      assert.equal(await c.next(), m2);
    }
    const after = server.plugin.getStats().compression!;
    // Two big messages x two window sizes (15 shared by three, 10 alone): four compressions, not eight.
    assert.equal(after.messagesCompressed - before.messagesCompressed, 4);
    assert.equal(after.sharedCompressions - before.sharedCompressions, 2);
    await Promise.all([...shared, narrow, plain].map(c => c.close()));
  });
});

void describe('perMessageDeflate: memory and concurrency', () => {
  it('idle connections hold no zlib streams; none are kept without context takeover', async () => {
    const server = await startEcho({
      perMessageDeflate: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
    });
    try {
      const c = await Client.open(server.url());
      const [conn] = serverSide(server);
      assert.ok(conn.deflater, 'deflate negotiated');
      assert.equal(conn.deflater.holdsStreams, false, 'nothing before the first message');
      c.ws.send(big(100));
      assert.equal(await c.next(), big(100));
      assert.equal(conn.deflater.holdsStreams, false, 'released after the message');
      await c.close();
    } finally {
      await server.close();
    }
  });

  it('connections with the same terms share one agreement object; other terms get their own', async () => {
    const server = await startEcho({ perMessageDeflate: { threshold: 0 } });
    try {
      const same = await Promise.all([1, 2, 3].map(() => Client.open(server.url())));
      const narrow = await Client.open(server.url(), { perMessageDeflate: { serverMaxWindowBits: 10 } });
      const conns = serverSide(server);
      assert.equal(conns.length, 4);
      const wide = conns.filter(c => c.deflater?.params.serverWindowBits === 15);
      const ten = conns.filter(c => c.deflater?.params.serverWindowBits === 10);
      assert.equal(wide.length, 3);
      assert.equal(ten.length, 1);
      // One params object (and one header string) for the three, not one each: idle memory per connection.
      assert.equal(new Set(wide.map(c => c.deflater?.params)).size, 1);
      assert.notEqual(ten[0].deflater?.params, wide[0].deflater?.params);
      assert.equal(ten[0].extensions, 'permessage-deflate; server_max_window_bits=10');
      assert.equal(narrow.headers['sec-websocket-extensions'], ten[0].extensions);
      // Sharing the terms shares no state: each still compresses with its own context.
      for (const [i, c] of [...same, narrow].entries()) {
        c.ws.send(big(50, `m${i}`));
        assert.equal(await c.next(), big(50, `m${i}`));
      }
      await Promise.all([...same, narrow].map(c => c.close()));
    } finally {
      await server.close();
    }
  });

  it('context takeover keeps the streams between messages (that is the context)', async () => {
    const server = await startEcho({ perMessageDeflate: { threshold: 0 } });
    try {
      const c = await Client.open(server.url());
      const [conn] = serverSide(server);
      assert.equal(conn.deflater?.holdsStreams, false);
      c.ws.send(big(100));
      assert.equal(await c.next(), big(100));
      assert.equal(conn.deflater?.holdsStreams, true);
      await c.close();
    } finally {
      await server.close();
    }
  });

  it('with concurrencyLimit 1, 20 clients x 5 messages all echo intact and in order', async () => {
    const server = await startEcho({ perMessageDeflate: { threshold: 0, concurrencyLimit: 1 } });
    try {
      const clients = await Promise.all(Array.from({ length: 20 }, () => Client.open(server.url())));
      await Promise.all(
        clients.map(async (c, i) => {
          for (let k = 0; k < 5; k++) c.ws.send(big(50 + k, `${i}-${k}`));
          for (let k = 0; k < 5; k++) assert.equal(await c.next(), big(50 + k, `${i}-${k}`));
        })
      );
      assert.equal(server.plugin.getStats().compression?.jobsWaiting, 0);
      await Promise.all(clients.map(c => c.close()));
    } finally {
      await server.close();
    }
  });
});

void describe('perMessageDeflate: option validation', () => {
  it('names the offending option', () => {
    const cases: [unknown, RegExp][] = [
      ['yes', /option "perMessageDeflate" must be a boolean or an object/],
      [{ level: 10 }, /option "perMessageDeflate\.level" must be an integer from 0 to 9/],
      [
        { serverMaxWindowBits: 8 },
        /option "perMessageDeflate\.serverMaxWindowBits" must be an integer from 9 to 15/,
      ],
      [
        { clientMaxWindowBits: 16 },
        /"perMessageDeflate\.clientMaxWindowBits" must be an integer from 8 to 15/,
      ],
      [{ threshold: -1 }, /"perMessageDeflate\.threshold"/],
      [{ concurrencyLimit: 0 }, /"perMessageDeflate\.concurrencyLimit"/],
      [{ serverNoContextTakeover: 1 }, /"perMessageDeflate\.serverNoContextTakeover" must be a boolean/],
      [{ windowBits: 9 }, /"perMessageDeflate\.windowBits" must be absent/],
    ];
    for (const [value, message] of cases) {
      assert.throws(
        () => new WebSocketPlugin({ perMessageDeflate: value as boolean }),
        (e: unknown) => e instanceof TypeError && message.test(e.message)
      );
    }
  });
});

void describe('subprotocols', () => {
  let server: Server;
  before(async () => {
    server = await startEcho({ protocols: ['chat.v2', 'chat.v1'] });
    server.app.ws('/proto', socket => void socket.send(`protocol=${socket.protocol}`));
  });
  after(() => server.close());

  it('answers the chosen protocol and exposes it as socket.protocol', async () => {
    const c = await Client.open(server.url('/proto'), {}, ['chat.v1', 'chat.v2']);
    assert.equal(c.headers['sec-websocket-protocol'], 'chat.v2');
    assert.equal(c.ws.protocol, 'chat.v2');
    assert.equal(await c.next(), 'protocol=chat.v2');
    await c.close();
  });

  it('none chosen -> no header, socket.protocol is empty', async () => {
    const head = await rawUpgrade(server.port, 'Sec-WebSocket-Protocol: other\r\n');
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.doesNotMatch(head, /sec-websocket-protocol/i);
    const c = await Client.open(server.url('/proto'), {}, ['other']).catch((e: Error) => e);
    // The ws client refuses a server that ignores its protocols; a raw client shows what the server did.
    assert.ok(c instanceof Error);
  });

  it('malformed header -> 400', async () => {
    for (const bad of ['a b', 'chat.v1, chat.v1', 'x/y']) {
      const head = await rawUpgrade(server.port, `Sec-WebSocket-Protocol: ${bad}\r\n`);
      assert.match(head, /^HTTP\/1\.1 400 /, bad);
    }
  });

  it('a header of 32 000 spaces is handled (no protocol, connection opens)', async () => {
    const head = await rawUpgrade(server.port, `Sec-WebSocket-Protocol: ${' '.repeat(32_000)}x\r\n`);
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.doesNotMatch(head, /sec-websocket-protocol/i);
    const spaces = await rawUpgrade(server.port, `Sec-WebSocket-Protocol: ${' '.repeat(8_000)},chat.v1\r\n`);
    assert.match(spaces, /^HTTP\/1\.1 101 /);
    assert.match(spaces, /Sec-WebSocket-Protocol: chat\.v1/);
  });
});
