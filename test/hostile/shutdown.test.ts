// Graceful shutdown: 1001 to every peer, 503 for late upgrades, unresponsive peers destroyed, nothing left running; SIGTERM example.
import assert from 'node:assert/strict';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { closeCodeOf, rawWebSocket, upgradeRequest } from './helpers.js';

const here = fileURLToPath(new URL('.', import.meta.url));

function exited(child: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> {
  return new Promise(resolve => child.once('exit', (code, signal) => resolve([code, signal])));
}

function wsClose(ws: WebSocket): Promise<[number, string]> {
  return new Promise(resolve => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
}

describe('graceful shutdown', () => {
  it('app.close(): peers get 1001, late upgrades 503, a silent peer is destroyed, the process exits by itself', async () => {
    const child = fork(`${here}fixtures/shutdown-child.js`, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exit = exited(child);
    const port = await new Promise<number>(resolve =>
      child.once('message', m => resolve((m as { port: number }).port))
    );
    const polite = new WebSocket(`ws://127.0.0.1:${port}/echo`);
    await new Promise(resolve => polite.once('open', resolve));
    const politeClosed = wsClose(polite);
    // A peer that reads but never answers the close frame nor ends TCP.
    const silent = await rawWebSocket(port);
    const silentCode = closeCodeOf(silent.socket, silent.rest);
    const silentGone = new Promise(resolve => silent.socket.once('close', resolve));
    // An upgrade whose headers are still arriving when close() starts.
    const late = connect(port, '127.0.0.1');
    late.on('error', () => {});
    const request = upgradeRequest('/echo');
    late.write(request.slice(0, -2));
    let lateText = '';
    late.on('data', (chunk: Buffer) => (lateText += chunk.toString('latin1')));
    const lateClosed = new Promise(resolve => late.once('close', resolve));
    await new Promise(resolve => setTimeout(resolve, 100));

    const closed = new Promise(resolve => child.once('message', resolve));
    child.send('close');
    await new Promise(resolve => setTimeout(resolve, 50));
    late.write('\r\n');

    assert.deepEqual(await politeClosed, [1001, 'Server shutting down']);
    assert.equal(await silentCode, 1001);
    await silentGone; // destroyed by the server after closeTimeoutMs
    await lateClosed;
    assert.match(lateText, /^HTTP\/1\.1 503 /);
    assert.equal(await closed, 'closed');
    assert.deepEqual(await exit, [0, null]);
  });

  it('examples/graceful-shutdown: SIGTERM closes peers with 1001 and exits 0', async () => {
    const child = spawn(process.execPath, [`${here}../../examples/graceful-shutdown.js`], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exit = exited(child);
    const port = await new Promise<number>(resolve => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /listening on (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`);
    await new Promise(resolve => ws.once('open', resolve));
    const reply = new Promise<string>(resolve => ws.once('message', (d: Buffer) => resolve(d.toString())));
    ws.send('ping');
    assert.equal(await reply, 'ping');
    const closed = wsClose(ws);
    child.kill('SIGTERM');
    assert.equal((await closed)[0], 1001);
    assert.deepEqual(await exit, [0, null]);
  });
});
