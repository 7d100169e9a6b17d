// messageRate and clientLimits over real sockets: a flooding peer is limited while a bystander keeps
// echoing; per-client caps answer 429 with Retry-After before the 101 and give slots back exactly once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApp, WebSocketPlugin, type MessageLimitEvent, type WSConnection } from '../../src/index.js';
import { start as listen } from '../core/helpers.js';
import type { Frame } from '../support/frames.js';
import {
  clientFrame,
  closeInfo,
  handshake,
  open,
  rawUpgrade,
  RawClient,
  startsApps,
  until,
  type Client,
  type Running,
} from '../ws/helpers.js';

const start = startsApps();

function echo(s: WSConnection): void {
  s.onMessage(d => void s.send(d));
}

/** A raw peer past the handshake: it can send any bytes and read the server's frames. */
async function rawPeer(r: Running, path = '/echo', headers: Record<string, string> = {}): Promise<RawClient> {
  const { client, status } = await rawUpgrade(r.port, path, headers);
  assert.equal(status, 101);
  return client;
}

/** `count` masked binary frames of 16 bytes, in one buffer: the whole flood in a single write. */
function flood(count: number): Buffer {
  const one = clientFrame(2, Buffer.alloc(16, 7));
  return Buffer.concat(Array<Buffer>(count).fill(one));
}

/** Frames until a close frame or the end; returns the data frames seen and the close frame. */
async function drain(peer: RawClient): Promise<{ data: number; close: Frame | undefined }> {
  let data = 0;
  for (;;) {
    const f = await peer.frame();
    if (f === undefined || f.opcode === 8) return { data, close: f };
    data++;
  }
}

/** The bystander sends `n` distinct messages one after the other and checks every echo. */
async function bystanderEchoes(c: Client, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    c.ws.send(`bystander ${i}`);
    assert.equal(await c.next(), `bystander ${i}`);
  }
}

describe('messageRate', () => {
  it("policy 'drop': the flood is counted and dropped, the peer stays open, a bystander echoes correctly", async () => {
    const events: MessageLimitEvent[] = [];
    const r = await start(
      {
        messageRate: { messagesPerSecond: 20, burst: 1, policy: 'drop', onLimit: (_s, e) => events.push(e) },
      },
      app => app.ws('/echo', echo)
    );
    const bystander = await open(r.url('/echo'));
    const flooder = await rawPeer(r);
    flooder.write(flood(5000));
    await bystanderEchoes(bystander, 10);
    await until(() => r.plugin.getStats().messagesReceived >= 5010, { timeoutMs: 10_000 });
    const limits = r.plugin.getStats().limits;
    // 20 of burst, plus 20 a second for the time the flood took to arrive.
    assert.ok(limits.messagesLimited >= 4900, `dropped ${limits.messagesLimited}`);
    assert.equal(limits.connectionsLimited, 0);
    // One event per episode: the first dropped message after an admitted one (reading resumes when the
    // budget refills, one message gets through, and the rest of that chunk starts a new episode).
    assert.ok(events.length >= 1 && events.length * 100 < limits.messagesLimited, `${events.length} events`);
    assert.ok(events.every(e => e.limit === 'messagesPerSecond' && e.policy === 'drop'));

    // Still open: once the bucket refills, its messages are delivered again.
    await new Promise(resolve => setTimeout(resolve, 200));
    flooder.write(clientFrame(1, 'after the flood'));
    let reply: Frame | undefined;
    do reply = await flooder.frame();
    while (reply !== undefined && reply.payload.toString() !== 'after the flood');
    assert.equal(reply?.opcode, 1, 'the flooder got its echo after the flood');
    flooder.destroy();
    await bystanderEchoes(bystander, 3);
    bystander.ws.close();
    await bystander.closed;
  });

  it("policy 'close': the flooder is closed with 1008 once, a bystander echoes correctly", async () => {
    const events: { limit: string; url: string }[] = [];
    const r = await start(
      {
        messageRate: {
          messagesPerSecond: 100,
          policy: 'close',
          onLimit: (s, e) => events.push({ limit: e.limit, url: s.url }),
        },
      },
      app => app.ws('/echo', echo)
    );
    const bystander = await open(r.url('/echo'));
    const flooder = await rawPeer(r, '/echo?who=flooder');
    flooder.write(flood(5000));
    await bystanderEchoes(bystander, 10);
    const { data, close } = await drain(flooder);
    assert.deepEqual(closeInfo(close), { code: 1008, reason: 'Rate limit exceeded' });
    assert.ok(data <= 200, `echoed ${data} of the flood before closing (burst 200)`);
    assert.deepEqual(events, [{ limit: 'messagesPerSecond', url: '/echo?who=flooder' }]);
    const limits = r.plugin.getStats().limits;
    assert.equal(limits.connectionsLimited, 1);
    assert.equal(limits.messagesLimited, 0);
    await bystanderEchoes(bystander, 3);
    bystander.ws.close();
    await bystander.closed;
  });

  it('bytesPerSecond: a peer that sends more than its byte burst at once is closed before it is decoded', async () => {
    const events: string[] = [];
    const r = await start(
      { messageRate: { bytesPerSecond: 4096, burst: 1, onLimit: (_s, e) => events.push(e.limit) } },
      app => app.ws('/echo', echo)
    );
    const small = await rawPeer(r);
    small.write(clientFrame(2, Buffer.alloc(1000)));
    assert.equal((await small.frame())?.payload.length, 1000, 'within the budget: echoed');
    const big = await rawPeer(r);
    big.write(clientFrame(2, Buffer.alloc(64 * 1024)));
    const { data, close } = await drain(big);
    assert.equal(data, 0);
    assert.deepEqual(closeInfo(close), { code: 1008, reason: 'Rate limit exceeded' });
    assert.deepEqual(events, ['bytesPerSecond']);
    small.write(clientFrame(1, 'still here'));
    assert.equal((await small.frame())?.payload.toString(), 'still here');
    small.destroy();
  });

  it('rejects bad options with the option named', () => {
    assert.throws(() => new WebSocketPlugin({ messageRate: {} }), /"messageRate" must be an object with/);
    assert.throws(
      () => new WebSocketPlugin({ messageRate: { messagesPerSecond: -1 } }),
      /"messageRate.messagesPerSecond" must be a positive number/
    );
    assert.throws(
      () => new WebSocketPlugin({ messageRate: { messagesPerSecond: 1, policy: 'ban' as never } }),
      /"messageRate.policy" must be "close" or "drop"/
    );
    assert.throws(() => new WebSocketPlugin({ clientLimits: {} }), /"clientLimits" must be an object with/);
    assert.throws(
      () => new WebSocketPlugin({ clientLimits: { maxConnections: 1, key: 'ip' as never } }),
      /"clientLimits.key" must be a function/
    );
  });
});

describe('clientLimits', () => {
  it('maxConnections: 429 with Retry-After before the 101, per key; a closed connection frees its slot', async () => {
    const refusals: string[] = [];
    const r = await start(
      {
        clientLimits: {
          maxConnections: 2,
          onRefuse: (_req, e) => refusals.push(`${e.limit} ${e.retryAfter}`),
        },
      },
      app => app.ws('/echo', echo)
    );
    const a = await open(r.url('/echo'));
    const b = await open(r.url('/echo'));
    const { client, status, text } = await rawUpgrade(r.port, '/echo');
    assert.equal(status, 429);
    assert.match(text, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
    assert.match(text, /\r\nRetry-After: 5(\r\n|$)/);
    assert.match(await client.rest(), /Too many connections from this client/);
    assert.deepEqual(refusals, ['maxConnections 5']);
    const stats = r.plugin.getStats();
    assert.equal(stats.connectionsRefused.clientLimit, 1);
    assert.deepEqual(stats.limits.upgradesRefused, { maxConnections: 1, upgradesPerMinute: 0 });
    assert.equal(stats.limits.trackedKeys, 1);
    a.ws.close();
    await a.closed;
    await until(() => r.plugin.getStats().connections === 1);
    const c = await open(r.url('/echo'));
    c.ws.send('in');
    assert.equal(await c.next(), 'in');
    for (const x of [b, c]) x.ws.close();
    await Promise.all([b.closed, c.closed]);
  });

  it('upgradesPerMinute: a burst, then 429 with the seconds until the next upgrade', async () => {
    const r = await start({ clientLimits: { upgradesPerMinute: 3 } }, app => app.ws('/echo', echo));
    for (let i = 0; i < 3; i++) {
      const c = await open(r.url('/echo'));
      c.ws.close();
      await c.closed;
    }
    const { client, status, text } = await rawUpgrade(r.port, '/echo');
    assert.equal(status, 429);
    const retryAfter = Number(/\r\nRetry-After: (\d+)/.exec(text)?.[1]);
    assert.ok(retryAfter >= 19 && retryAfter <= 20, `Retry-After ${retryAfter} (one upgrade per 20 s)`);
    await client.rest();
    assert.deepEqual(r.plugin.getStats().limits.upgradesRefused, { maxConnections: 0, upgradesPerMinute: 1 });
  });

  it('key(req) decides the client: each key has its own cap; a key that throws refuses with 500', async () => {
    const seen: string[] = [];
    const r = await start(
      {
        clientLimits: {
          maxConnections: 1,
          key: req => {
            const who = req.headers['x-client'];
            if (who === 'boom') throw new Error('no key');
            seen.push(String(who));
            return String(who);
          },
        },
      },
      app => app.ws('/echo', echo)
    );
    const alice = await rawPeer(r, '/echo', { 'X-Client': 'alice' });
    const bob = await rawPeer(r, '/echo', { 'X-Client': 'bob' });
    const second = await rawUpgrade(r.port, '/echo', { 'X-Client': 'alice' });
    assert.equal(second.status, 429);
    second.client.destroy();
    assert.deepEqual(seen, ['alice', 'bob', 'alice']);
    const boom = await rawUpgrade(r.port, '/echo', { 'X-Client': 'boom' });
    assert.equal(boom.status, 500);
    boom.client.destroy();
    assert.equal(r.plugin.getStats().connectionsRefused.error, 1);
    alice.destroy();
    bob.destroy();
  });

  it('the default key is ctx.ip: X-Forwarded-For counts only when the app trusts its proxy', async () => {
    for (const trustProxy of [true, false]) {
      const app = createApp({ trustProxy });
      new WebSocketPlugin({ clientLimits: { maxConnections: 1 } }).install(app);
      app.ws('/echo', echo);
      const port = await listen(app);
      try {
        const r = { port } as Running;
        const first = await rawPeer(r, '/echo', { 'X-Forwarded-For': '203.0.113.7' });
        const other = await rawUpgrade(port, '/echo', { 'X-Forwarded-For': '198.51.100.9, 10.0.0.1' });
        const same = await rawUpgrade(port, '/echo', { 'X-Forwarded-For': '203.0.113.7' });
        // Trusted: two different clients behind the proxy. Not trusted: one client, 127.0.0.1.
        assert.equal(other.status, trustProxy ? 101 : 429, `trustProxy ${trustProxy}`);
        assert.equal(same.status, 429);
        for (const c of [first, other.client, same.client]) c.destroy();
      } finally {
        await app.close();
      }
    }
  });

  it('the default key counts an IPv6 client by its /64: a host cannot escape by changing its address', async () => {
    const app = createApp({ trustProxy: true });
    new WebSocketPlugin({ clientLimits: { maxConnections: 1 } }).install(app);
    app.ws('/echo', echo);
    const port = await listen(app);
    try {
      const r = { port } as Running;
      const first = await rawPeer(r, '/echo', { 'X-Forwarded-For': '2001:db8:1:2::1' });
      // Same /64, other interface identifiers (written differently): the same client.
      const sameNet = await rawUpgrade(port, '/echo', { 'X-Forwarded-For': '2001:DB8:1:2:ffff:0:0:9' });
      assert.equal(sameNet.status, 429);
      // The neighbouring /64 is another client.
      const otherNet = await rawUpgrade(port, '/echo', { 'X-Forwarded-For': '2001:db8:1:3::1' });
      assert.equal(otherNet.status, 101);
      // An IPv4-mapped address is its IPv4 address.
      const v4 = await rawPeer(r, '/echo', { 'X-Forwarded-For': '192.0.2.5' });
      const mapped = await rawUpgrade(port, '/echo', { 'X-Forwarded-For': '::ffff:192.0.2.5' });
      assert.equal(mapped.status, 429);
      for (const c of [first, sameNet.client, otherNet.client, v4, mapped.client]) c.destroy();
    } finally {
      await app.close();
    }
  });

  it('gives the slot back exactly once on every path an admitted upgrade can end', async () => {
    const hang: (() => void)[] = [];
    const r = await start(
      {
        clientLimits: { maxConnections: 1 },
        protocols: ['chat'],
        verifyClient: req => {
          const q = req.url ?? '';
          if (q.includes('deny')) return false;
          if (q.includes('throw')) throw new Error('verify failed');
          if (q.includes('hang')) return new Promise<boolean>(resolve => hang.push(() => resolve(true)));
          return true;
        },
      },
      app => {
        app.wsUse((socket, req, next) => {
          if (req.url?.includes('mwclose')) socket.close(4000, 'middleware said no');
          else next();
        });
        app.ws('/echo', echo);
      }
    );
    const admitsOne = async (why: string) => {
      const c = await open(r.url('/echo'));
      c.ws.send(why);
      assert.equal(await c.next(), why, `admitted after: ${why}`);
      const over = await rawUpgrade(r.port, '/echo');
      assert.equal(over.status, 429, `only one slot after: ${why}`);
      over.client.destroy();
      c.ws.close();
      await c.closed;
      await until(() => r.plugin.getStats().limits.trackedKeys === 0, { timeoutMs: 5000 });
    };
    await admitsOne('start');

    for (const path of ['/echo?deny', '/echo?throw']) {
      const { client, status } = await rawUpgrade(r.port, path);
      assert.ok(status === 401 || status === 500, `${path}: ${status}`);
      await client.rest();
      await admitsOne(path);
    }
    const badProtocol = await rawUpgrade(r.port, '/echo', { 'Sec-WebSocket-Protocol': 'chat, bad protocol' });
    assert.equal(badProtocol.status, 400);
    await badProtocol.client.rest();
    await admitsOne('malformed subprotocol');

    // The client hangs up while verifyClient is pending; the verdict that comes later changes nothing.
    const gone = await RawClient.connect(r.port);
    gone.write(handshake('/echo?hang'));
    await until(() => hang.length === 1);
    gone.destroy();
    await gone.closed;
    await admitsOne('client hung up during verifyClient');
    hang[0]();

    const closedInMiddleware = await open(r.url('/echo?mwclose'));
    assert.equal((await closedInMiddleware.closed).code, 4000);
    await admitsOne('closed in wsUse middleware');

    const dropped = await rawPeer(r);
    dropped.destroy(); // no close frame
    await dropped.closed;
    await admitsOne('dropped without a close frame');
    assert.equal(r.plugin.getStats().limits.upgradesRefused.maxConnections, 7);
  });
});
