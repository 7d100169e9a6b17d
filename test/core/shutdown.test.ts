// close() with many in-flight requests: one 'close' listener per response for life, not one per drain pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApp } from '../../src/index.js';
import { until } from '../support/until.js';
import { request, start } from './helpers.js';

describe('close() drains in-flight requests', () => {
  it('30 requests finishing one by one: no listener pile-up, no MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const app = createApp();
      const release: (() => void)[] = [];
      const listeners: number[] = [];
      app.get('/slow', async ctx => {
        await new Promise<void>(resolve => release.push(resolve));
        listeners.push(ctx.res.listenerCount('close'));
        ctx.json({ ok: true });
      });
      const port = await start(app);
      const replies = Array.from({ length: 30 }, () => request(port, '/slow'));
      await until(() => release.length === 30);
      const closing = app.close();
      // Each finished response is one drain pass for the ones still in flight.
      for (let i = 0; i < 30; i++) {
        release[i]();
        assert.equal((await replies[i]).status, 200);
      }
      await closing;
      assert.deepEqual(warnings, []);
      // The last response saw 29 drain passes; it still carries the app's one listener (Node adds none).
      assert.ok(Math.max(...listeners) <= 2, `close listeners per response: ${listeners.join(',')}`);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
