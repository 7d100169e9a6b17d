// Issue 12 finding 3 and the one send path: a caller's Buffer is copied up to 64 KiB, for send() and wsBroadcast().
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WSConnection } from '../../src/index.js';
import { deferred, open, startsApps } from './helpers.js';

const start = startsApps();

/** Fills `buf` with `value`, sends it, fills it again, sends again: the peer must see both contents. */
function sendTwice(send: (b: Buffer) => unknown, size: number): void {
  const buf = Buffer.alloc(size);
  buf.fill(1);
  send(buf);
  buf.fill(2);
  send(buf);
}

for (const deflate of [false, true]) {
  describe(`a reused Buffer is not aliased${deflate ? ' (permessage-deflate)' : ''}`, () => {
    for (const size of [100, 20 * 1024, 64 * 1024]) {
      it(`send() of ${size} bytes`, async () => {
        const got = deferred<WSConnection>();
        const r = await start({ perMessageDeflate: deflate }, app => app.ws('/', s => got.resolve(s)));
        const c = await open(r.url('/'));
        const socket = await got.promise;
        sendTwice(b => socket.send(b), size);
        const [a, b] = [await c.next(), await c.next()];
        assert.ok(Buffer.isBuffer(a) && Buffer.isBuffer(b));
        assert.equal(a.length, size);
        assert.ok(
          a.every(x => x === 1),
          'first message holds what the buffer held at the first call'
        );
        assert.ok(b.every(x => x === 2));
        c.ws.close();
        await c.closed;
      });

      it(`wsBroadcast() of ${size} bytes`, async () => {
        const r = await start({ perMessageDeflate: deflate }, app => app.ws('/', () => {}));
        const c = await open(r.url('/'));
        const d = await open(r.url('/'));
        sendTwice(b => r.app.wsBroadcast(b), size);
        for (const client of [c, d]) {
          const [a, b] = [await client.next(), await client.next()];
          assert.ok(Buffer.isBuffer(a) && Buffer.isBuffer(b));
          assert.ok(a.every(x => x === 1));
          assert.ok(b.every(x => x === 2));
        }
        c.ws.close();
        d.ws.close();
        await Promise.all([c.closed, d.closed]);
      });
    }
  });
}
