// A peer that stops reading while the server broadcasts 100 MiB: server RSS stays within maxBackpressure plus a constant, others get everything.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { rawWebSocket, until } from './helpers.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const MiB = 1024 * 1024;

describe('slow consumer', () => {
  it('broadcasting 100 MiB past a stalled peer keeps server RSS bounded; other peers get every message', async t => {
    const child = fork(`${here}fixtures/broadcast-child.js`, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exit = new Promise(resolve => child.once('exit', resolve));
    const messages: unknown[] = [];
    let wake: (() => void) | undefined;
    child.on('message', m => {
      messages.push(m);
      wake?.();
    });
    const next = async (): Promise<Record<string, number>> => {
      while (messages.length === 0) await new Promise<void>(resolve => (wake = resolve));
      return messages.shift() as Record<string, number>;
    };
    const { port, rss: baseline } = await next();
    const readers = await Promise.all(
      [0, 1].map(async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/room`);
        await new Promise(resolve => ws.once('open', resolve));
        const state = { ws, received: 0, sizes: new Set<number>() };
        ws.on('message', (data: Buffer) => {
          state.sizes.add(data.length);
          state.received++;
        });
        return state;
      })
    );
    const stalled = await rawWebSocket(port, '/room');
    stalled.socket.pause();
    await new Promise(resolve => setTimeout(resolve, 100));
    const count = 400; // 100 MiB
    child.send({ broadcast: count });
    const report = await next();
    await until(() => readers.every(r => r.received >= count), { timeoutMs: 100_000 });
    for (const r of readers) {
      assert.equal(r.received, count);
      assert.deepEqual([...r.sizes], [256 * 1024]);
    }
    assert.equal(report.connections, 3, 'the stalled peer stays connected under the drop policy');
    assert.ok(report.dropped > count / 2, `dropped ${report.dropped}`);
    // maxBackpressure (4 MiB) for the stalled peer, plus a constant for the readers' in-flight bytes and the heap.
    const growth = report.maxRss - baseline;
    t.diagnostic(`server RSS growth ${(growth / MiB).toFixed(1)} MiB, dropped ${report.dropped}`);
    assert.ok(growth < 4 * MiB + 40 * MiB, `server RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    for (const r of readers) r.ws.terminate();
    stalled.socket.destroy();
    child.send('close');
    await exit;
  });
});
