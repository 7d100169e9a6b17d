// wsRateLimit (app.wsUse) and rateLimit (route / app.use middleware) over real sockets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApp, rateLimit, wsRateLimit } from '../../src/index.js';
import { request, start } from '../core/helpers.js';
import { open, startsApps, until } from '../ws/helpers.js';

const startWs = startsApps();

describe('wsRateLimit', () => {
  it('caps connections per key with 1008, and gives a slot back however the connection ended', async () => {
    const refused: string[] = [];
    const r = await startWs({}, app => {
      app.wsUse(
        wsRateLimit({
          maxConnections: 2,
          key: req => new URL(req.url ?? '/', 'http://x').searchParams.get('user') ?? '',
          onRefuse: (_req, e) => refused.push(`${e.key}:${e.limit}`),
        })
      );
      app.ws('/echo', s => s.onMessage(d => void s.send(d)));
    });
    const url = (user: string) => r.url(`/echo?user=${user}`);
    const a1 = await open(url('a'));
    const a2 = await open(url('a'));
    const a3 = await open(url('a'));
    assert.deepEqual(await a3.closed, { code: 1008, reason: 'Rate limit exceeded' });
    assert.deepEqual(refused, ['a:maxConnections']);
    const b = await open(url('b'));
    b.ws.send('b is not limited by a');
    assert.equal(await b.next(), 'b is not limited by a');

    // A clean close and an abrupt one (no close frame) both give the slot back.
    a1.ws.close();
    await a1.closed;
    a2.ws.terminate();
    await a2.closed;
    await until(() => r.plugin.getStats().connections === 1);
    const again = [await open(url('a')), await open(url('a'))];
    for (const c of again) {
      c.ws.send('x');
      assert.equal(await c.next(), 'x');
    }
    const over = await open(url('a'));
    assert.equal((await over.closed).code, 1008);
    for (const c of [...again, b]) c.ws.close();
    await Promise.all([...again, b].map(c => c.closed));
  });

  it('names its own options in errors', () => {
    assert.throws(() => wsRateLimit({}), /option "wsRateLimit" must be an object with maxConnections/);
    assert.throws(
      () => wsRateLimit({ upgradesPerMinute: 0 }),
      /"wsRateLimit.upgradesPerMinute" must be an integer from 1/
    );
    assert.throws(() => wsRateLimit({ perMinute: 5 } as never), /"wsRateLimit.perMinute" must be absent/);
  });
});

describe('rateLimit', () => {
  it('answers 429 with Retry-After per key, and other keys pass', async () => {
    const app = createApp();
    app.get('/r', rateLimit({ requestsPerMinute: 2, key: ctx => String(ctx.headers['x-user']) }), ctx => {
      ctx.res.json({ ok: true });
    });
    const port = await start(app);
    try {
      const as = (user: string) => request(port, '/r', { headers: { 'x-user': user } });
      assert.equal((await as('a')).status, 200);
      assert.equal((await as('a')).status, 200);
      const refused = await as('a');
      assert.equal(refused.status, 429);
      assert.equal(refused.headers['retry-after'], '30');
      assert.deepEqual(refused.json(), {
        error: { status: 429, message: 'Too many requests', code: 'ERR_RATE_LIMITED' },
      });
      assert.equal((await as('b')).status, 200);
    } finally {
      await app.close();
    }
  });

  it('rejects bad options', () => {
    assert.throws(() => rateLimit({ requestsPerMinute: 0 }), TypeError);
    assert.throws(() => rateLimit({ requestsPerMinute: 5, key: 'ip' as never }), TypeError);
  });
});
