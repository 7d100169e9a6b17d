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
