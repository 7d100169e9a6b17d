// Integration tests of handshake refusals and the WSConnection API over real sockets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WSConnection } from '../../src/index.js';
import { clientFrame, closeInfo, deferred, open, rawUpgrade, startsApps, until } from './helpers.js';

const start = startsApps();

describe('handshake refusals', () => {
  const cases: [string, Record<string, string | null>, string, number, RegExp | undefined][] = [
    ['bad key', { 'Sec-WebSocket-Key': 'short' }, 'GET', 400, undefined],
    ['missing key', { 'Sec-WebSocket-Key': null }, 'GET', 400, undefined],
    ['version 8', { 'Sec-WebSocket-Version': '8' }, 'GET', 426, /\r\nSec-WebSocket-Version: 13(\r\n|$)/],
    ['POST', {}, 'POST', 405, undefined],
  ];
  for (const [name, overrides, method, status, header] of cases) {
    it(`${name} -> ${status}, never a 101`, async () => {
      const r = await start({}, app => app.ws('/', () => {}));
      const res = await rawUpgrade(r.port, '/', overrides, undefined, method);
      assert.equal(res.status, status);
      assert.match(res.text, /^HTTP\/1\.1 \d{3} /);
      if (header) assert.match(res.text, header);
      await res.client.rest();
      assert.equal(r.plugin.getStats().connectionsOpened, 0);
      assert.equal(r.plugin.getStats().connectionsRefused.handshake, 1);
    });
  }

  it('bytes sent with the handshake in one write are not lost', async () => {
    const r = await start({}, app => app.ws('/', s => s.onMessage(m => void s.send(m))));
    const { client, status } = await rawUpgrade(r.port, '/', {}, clientFrame(0x1, 'early bird'));
    assert.equal(status, 101);
    const echo = await client.frame();
    assert.equal(echo?.opcode, 0x1);
    assert.equal(echo?.payload.toString(), 'early bird');
    client.destroy();
  });
});

describe('WSConnection', () => {
  it('send: string -> text; Buffer, Uint8Array, ArrayBuffer -> binary', async () => {
    let firstSend: string | undefined;
    const r = await start({}, app =>
      app.ws('/', s => {
        firstSend = s.send('text');
        s.send(Buffer.from([1, 2]));
        s.send(new Uint8Array([3, 4]));
        s.send(new Uint8Array([5, 6]).buffer);
        s.send(new Uint16Array([0x0807]));
      })
    );
    const c = await open(r.url('/'));
    assert.equal(await c.next(), 'text');
    assert.deepEqual(await c.next(), Buffer.from([1, 2]));
    assert.deepEqual(await c.next(), Buffer.from([3, 4]));
    assert.deepEqual(await c.next(), Buffer.from([5, 6]));
    assert.deepEqual(await c.next(), Buffer.from(new Uint16Array([0x0807]).buffer));
    assert.equal(firstSend, 'sent');
    c.ws.close();
    await c.closed;
  });

  it('close() validates code and reason; queued data goes out before the close frame', async () => {
    const errors: string[] = [];
    let stateAfterClose: number | undefined;
    const r = await start({}, app =>
      app.ws('/', s => {
        for (const code of [1005, 999, 5000, 1006, 1015]) {
          try {
            s.close(code);
          } catch (e) {
            errors.push(`${code}:${(e as Error).name}`);
          }
        }
        try {
          s.close(1000, 'x'.repeat(124));
        } catch (e) {
          errors.push(`long:${(e as Error).name}`);
        }
        s.send('one');
        s.send('two');
        s.close(4001, 'x'.repeat(123));
        stateAfterClose = s.readyState;
      })
    );
    const { client } = await rawUpgrade(r.port, '/');
    assert.equal((await client.frame())?.payload.toString(), 'one');
    assert.equal((await client.frame())?.payload.toString(), 'two');
    assert.deepEqual(closeInfo(await client.frame()), { code: 4001, reason: 'x'.repeat(123) });
    assert.deepEqual(errors, [
      '1005:RangeError',
      '999:RangeError',
      '5000:RangeError',
      '1006:RangeError',
      '1015:RangeError',
      'long:RangeError',
    ]);
    assert.equal(stateAfterClose, 2);
    client.write(clientFrame(0x8, Buffer.from([0x0f, 0xa1])));
    await client.closed;
  });

  it("a peer's close is echoed with its code; onClose fires once with it", async () => {
    const calls: [number, string][] = [];
    const closed = deferred<void>();
    const r = await start({}, app =>
      app.ws('/', s => {
        s.onClose((code, reason) => {
          calls.push([code, reason]);
          closed.resolve();
        });
      })
    );
    const { client } = await rawUpgrade(r.port, '/');
    const payload = Buffer.concat([Buffer.from([0x0f, 0xa2]), Buffer.from('done')]);
    client.write(clientFrame(0x8, payload));
    assert.deepEqual(closeInfo(await client.frame()), { code: 4002, reason: 'done' });
    await client.closed;
    await closed.promise;
    assert.deepEqual(calls, [[4002, 'done']]);
  });

  it('onClose gets 1005 for a close frame without code, 1006 when TCP dies', async () => {
    const codes: number[] = [];
    const r = await start({}, app => app.ws('/', s => s.onClose(code => codes.push(code))));
    const a = await rawUpgrade(r.port, '/');
    a.client.write(clientFrame(0x8, Buffer.alloc(0)));
    assert.deepEqual(closeInfo(await a.client.frame()), { code: 1005, reason: '' });
    const raw = await a.client.frame();
    assert.equal(raw, undefined);
    await until(() => codes.length === 1);
    const b = await rawUpgrade(r.port, '/');
    b.client.destroy();
    await until(() => codes.length === 2);
    assert.deepEqual(codes, [1005, 1006]);
  });

  it('onMessage gives text as string and binary as Buffer', async () => {
    const got = deferred<unknown[]>();
    const r = await start({}, app =>
      app.ws('/', s => {
        const seen: unknown[] = [];
        s.onMessage(m => {
          seen.push(typeof m === 'string' ? m : ['buf', Buffer.isBuffer(m), [...m]]);
          if (seen.length === 2) got.resolve(seen);
        });
      })
    );
    const c = await open(r.url('/'));
    c.ws.send('héllo');
    c.ws.send(Buffer.from([9, 8]));
    assert.deepEqual(await got.promise, ['héllo', ['buf', true, [9, 8]]]);
    c.ws.close();
    await c.closed;
  });

  it('rooms, readyState, url with query; leaving on close; closed sends are dropped', async () => {
    const conn = deferred<WSConnection>();
    const r = await start({}, app =>
      app.ws('/r', s => {
        s.join('a');
        s.join('b');
        s.leave('b');
        s.join('c');
        conn.resolve(s);
      })
    );
    const c = await open(r.url('/r?x=1&y=2'));
    const s = await conn.promise;
    assert.equal(s.url, '/r?x=1&y=2');
    assert.equal(s.readyState, 1);
    assert.deepEqual([...s.rooms].sort(), ['a', 'c']);
    assert.throws(() => s.rooms.add('z'), TypeError);
    assert.throws(() => s.rooms.delete('a'), TypeError);
    assert.deepEqual(r.plugin.rooms.rooms().sort(), ['a', 'c']);
    assert.equal(r.plugin.getStats().rooms, 2);
    c.ws.close(1000);
    await c.closed;
    await until(() => s.readyState === 3);
    assert.equal(s.rooms.size, 0);
    assert.equal(r.plugin.getStats().rooms, 0);
    assert.deepEqual(r.plugin.rooms.rooms(), []);
    const dropped = r.plugin.getStats().messagesDropped;
    assert.equal(s.send('late'), 'dropped');
    assert.doesNotThrow(() => s.close());
    assert.equal(r.plugin.getStats().messagesDropped, dropped + 1);
  });

  it('messages sent while an async wsUse middleware runs are delivered after the handler attaches', async () => {
    const release = deferred<void>();
    const r = await start({}, app => {
      app.wsUse(async (_s, _req, next) => {
        await release.promise;
        next();
      });
      app.ws('/', s => s.onMessage(m => void s.send(`echo:${String(m)}`)));
    });
    const c = await open(r.url('/'));
    for (let i = 0; i < 5; i++) c.ws.send(`m${i}`);
    await until(() => r.plugin.getStats().bytesReceived > 0 || c.ws.bufferedAmount === 0);
    release.resolve();
    for (let i = 0; i < 5; i++) assert.equal(await c.next(), `echo:m${i}`);
    c.ws.close();
    await c.closed;
  });
});
