// An open WebSocket does not keep its upgrade request alive: the request, its response object and the
// handshake bytes are garbage once the 101 is written (they cost ~2 KB per idle connection when kept).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { open, startsApps, until } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const start = startsApps();

describe('upgrade request retention', () => {
  it('the IncomingMessage and the upgrade response are collected while the socket stays open', async () => {
    const requests: WeakRef<object>[] = [];
    const responses: WeakRef<object>[] = [];
    let opened = 0;
    const r = await start({}, app => {
      app.use(async (ctx, next) => {
        requests.push(new WeakRef(ctx.req));
        responses.push(new WeakRef(ctx.res));
        await next();
      });
      app.ws('/', socket => {
        opened++;
        socket.onMessage(data => socket.send(data));
      });
    });
    const clients = await Promise.all(Array.from({ length: 5 }, () => open(r.url('/'))));
    await until(() => opened === 5, { label: 'five connections open' });
    await until(
      () => {
        gc();
        return (
          requests.every(ref => ref.deref() === undefined) &&
          responses.every(ref => ref.deref() === undefined)
        );
      },
      { label: 'upgrade requests and responses collected', timeoutMs: 10_000, intervalMs: 50 }
    );
    // The connections still work: nothing they need went with the request.
    clients[0].ws.send('still here');
    assert.equal(await clients[0].next(), 'still here');
  });
});

describe('upgrade retention without app middleware (the direct path)', () => {
  it('the request and the context are collected while the socket stays open; the handler may keep ctx', async () => {
    const requests: WeakRef<object>[] = [];
    const contexts: WeakRef<object>[] = [];
    let kept: unknown;
    const r = await start({}, app => {
      app.ws('/', (socket, ctx) => {
        requests.push(new WeakRef(ctx.req));
        contexts.push(new WeakRef(ctx));
        socket.onMessage(data => socket.send(data));
      });
      // A handler that keeps its ctx keeps it: that is the user's choice, not the framework's.
      app.ws('/keeps', (socket, ctx) => {
        kept = ctx;
        socket.onMessage(data => socket.send(data));
      });
    });
    const clients = await Promise.all(Array.from({ length: 5 }, () => open(r.url('/'))));
    const keeper = await open(r.url('/keeps'));
    await until(() => contexts.length === 5, { label: 'five connections open' });
    await until(
      () => {
        gc();
        return (
          requests.every(ref => ref.deref() === undefined) && contexts.every(ref => ref.deref() === undefined)
        );
      },
      { label: 'upgrade requests and contexts collected', timeoutMs: 10_000, intervalMs: 50 }
    );
    assert.ok(kept !== undefined, 'the context kept by the handler is still there');
    clients[4].ws.send('still here');
    assert.equal(await clients[4].next(), 'still here');
    keeper.ws.send('me too');
    assert.equal(await keeper.next(), 'me too');
  });

  it('a response made after the 101 (ctx.res in the route handler) writes nothing and is collected', async () => {
    const responses: WeakRef<object>[] = [];
    const r = await start({}, app => {
      app.ws('/', (socket, ctx) => {
        // Made on first use, after the protocol took the socket: attached to nothing.
        const res = ctx.res;
        responses.push(new WeakRef(res));
        res.statusCode = 500;
        res.end('not on the WebSocket');
        socket.onMessage(data => socket.send(data));
      });
    });
    const clients = await Promise.all(Array.from({ length: 3 }, () => open(r.url('/'))));
    await until(
      () => {
        gc();
        return responses.length === 3 && responses.every(ref => ref.deref() === undefined);
      },
      { label: 'late responses collected', timeoutMs: 10_000, intervalMs: 50 }
    );
    // The first thing each client receives is its echo: nothing of the response reached the socket.
    for (const c of clients) {
      c.ws.send('echo');
      assert.equal(await c.next(), 'echo');
    }
  });
});
