// Issue 12 finding 2: a maxConnections slot taken by an upgrade is released exactly once, however verifyClient ends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { open, rawUpgrade, refusedStatus, startsApps, until } from './helpers.js';

const start = startsApps();

describe('pending upgrades and verifyClient', () => {
  it('a verifier that never settles frees its slot when the client hangs up', async () => {
    let calls = 0;
    const r = await start(
      {
        maxConnections: 1,
        // The first request never gets an answer; the ones after it are accepted.
        verifyClient: () => (++calls === 1 ? new Promise<boolean>(() => {}) : true),
      },
      app => app.ws('/', () => {})
    );
    const { client } = await rawUpgradeNoHead(r.port);
    await until(() => calls === 1);
    await assert.rejects(open(r.url('/')), /HTTP 503/);
    client.destroy();
    // The slot is back: a new client gets in although the first verifier is still pending.
    await until(() => calls >= 1);
    const c = await retryOpen(r.url('/'));
    assert.equal(r.plugin.getStats().connections, 1);
    c.ws.close();
    await c.closed;
  });

  it('verifyTimeoutMs answers a verifier that never settles with 503 and frees the slot', async () => {
    let calls = 0;
    const r = await start(
      {
        maxConnections: 1,
        verifyTimeoutMs: 50,
        verifyClient: () => (++calls === 1 ? new Promise<boolean>(() => {}) : true),
      },
      app => app.ws('/', () => {})
    );
    const res = await rawUpgrade(r.port, '/');
    assert.equal(res.status, 503);
    assert.match(await res.client.rest(), /Client verification timed out/);
    assert.equal(r.plugin.getStats().connectionsRefused.timeout, 1);
    const c = await open(r.url('/'));
    c.ws.close();
    await c.closed;
  });

  it('throws, rejects, resolves false, resolves true late: one slot, released each time', async () => {
    const verdicts: (() => Promise<boolean> | boolean)[] = [
      () => {
        throw new Error('sync throw');
      },
      () => Promise.reject(new Error('rejected')),
      () => Promise.resolve(false),
      () => false,
      () => new Promise(resolve => setTimeout(() => resolve(true), 20)),
    ];
    let i = 0;
    const r = await start({ maxConnections: 1, verifyClient: () => verdicts[i++]() }, app =>
      app.ws('/', () => {})
    );
    assert.equal(await refusedStatus(r.url('/')), 500);
    assert.equal(await refusedStatus(r.url('/')), 500);
    assert.equal(await refusedStatus(r.url('/')), 401);
    assert.equal(await refusedStatus(r.url('/')), 401);
    const c = await open(r.url('/'));
    c.ws.close();
    await c.closed;
    await until(() => r.plugin.getStats().connections === 0);
    const refused = r.plugin.getStats().connectionsRefused;
    assert.equal(refused.error, 2);
    assert.equal(refused.verify, 2);
    assert.equal(refused.limit, 0);
  });

  it('a client that hangs up before a late "true" is not accepted, and its slot is not freed twice', async () => {
    let release: (ok: boolean) => void = () => {};
    let calls = 0;
    const r = await start(
      {
        maxConnections: 2,
        verifyClient: () => (++calls === 1 ? new Promise<boolean>(resolve => (release = resolve)) : true),
      },
      app => app.ws('/', () => {})
    );
    const { client } = await rawUpgradeNoHead(r.port);
    await until(() => calls === 1);
    client.destroy();
    await new Promise(resolve => setTimeout(resolve, 20));
    release(true);
    // Two more clients fit: the slot came back once (not twice: a third is refused).
    const a = await retryOpen(r.url('/'));
    const b = await open(r.url('/'));
    await assert.rejects(open(r.url('/')), /HTTP 503/);
    assert.equal(r.plugin.getStats().connectionsOpened, 2);
    a.ws.close();
    b.ws.close();
    await Promise.all([a.closed, b.closed]);
  });
});

/** Sends a handshake without waiting for an answer (the verifier may never give one). */
async function rawUpgradeNoHead(port: number): Promise<{ client: { destroy(): void } }> {
  const { RawClient, handshake } = await import('./helpers.js');
  const client = await RawClient.connect(port);
  client.write(handshake('/'));
  return { client };
}

/** The hang-up reaches the server a moment after destroy(): retry a refused open a few times. */
async function retryOpen(url: string): Promise<Awaited<ReturnType<typeof open>>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await open(url);
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise(resolve => setTimeout(resolve, 10));
    }
  }
}
