// Helpers for the hostile-input tests: a WebSocket echo server, raw TCP clients, client frames and a watchdog echo client.
import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import WebSocket from 'ws';
import { createApp, WebSocketPlugin } from '../../src/index.js';
import type { AppOptions, Application, WebSocketPluginOptions } from '../../src/index.js';
import { FrameReader } from '../support/frames.js';

export { clientFrame } from '../support/frames.js';
export { until } from '../support/until.js';

export interface EchoServer {
  app: Application;
  plugin: WebSocketPlugin;
  port: number;
}

/** An app with the plugin and an echo route at /echo, listening on 127.0.0.1:0. */
export async function echoServer(
  options: WebSocketPluginOptions = {},
  appOptions: AppOptions = {}
): Promise<EchoServer> {
  const app = createApp(appOptions);
  const plugin = new WebSocketPlugin({ heartbeatMs: 0, ...options });
  app.register(plugin);
  app.ws('/echo', socket => socket.onMessage(data => void socket.send(data)));
  const server = app.listen(0, '127.0.0.1');
  if (!server.listening) await new Promise(resolve => server.once('listening', resolve));
  return { app, plugin, port: (server.address() as AddressInfo).port };
}

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

export function upgradeRequest(path = '/echo', extra = '', host = '127.0.0.1'): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

/** Sends raw bytes and resolves with the status line of the first response (or '' if the socket closed silently). */
export function rawStatus(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise(resolve => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = (): void => {
      socket.destroy();
      resolve(text.split('\r\n')[0] ?? '');
    };
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n')) done();
    });
    socket.on('close', done);
    socket.write(bytes);
  });
}

/** A raw client that completed the handshake; `rest` holds bytes read after the 101 response. */
export async function rawWebSocket(port: number, path = '/echo'): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(upgradeRequest(path));
  let buf = Buffer.alloc(0);
  while (!buf.includes('\r\n\r\n')) {
    const chunk = await new Promise<Buffer | null>(resolve => {
      socket.once('data', resolve);
      socket.once('close', () => resolve(null));
    });
    if (chunk === null) throw new Error('closed during handshake');
    buf = Buffer.concat([buf, chunk]);
  }
  assert.match(buf.toString('latin1'), /^HTTP\/1\.1 101 /);
  const end = buf.indexOf('\r\n\r\n') + 4;
  return { socket, rest: buf.subarray(end) };
}

/** Reads server frames from a raw socket until a close frame; resolves with its code (1006 when TCP closed first). */
export function closeCodeOf(
  socket: Socket,
  initial: Buffer = Buffer.alloc(0),
  onFrame?: (opcode: number) => void
): Promise<number> {
  return new Promise(resolve => {
    const reader = new FrameReader();
    let done = false;
    const read = (chunk: Buffer): void => {
      for (const frame of reader.push(chunk)) {
        if (done) return;
        if (frame.opcode === 8) {
          done = true;
          resolve(frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005);
          return;
        }
        onFrame?.(frame.opcode);
      }
    };
    socket.on('data', read);
    socket.on('close', () => {
      if (!done) resolve(1006);
      done = true;
    });
    read(initial);
  });
}

/** A well-behaved ws client connected throughout a test; `check()` asserts it still echoes correctly. */
export async function goodClient(port: number): Promise<{ check(): Promise<void>; close(): Promise<void> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let n = 0;
  return {
    async check() {
      for (let i = 0; i < 3; i++) {
        const text = `hello ${n++} ${'x'.repeat(i * 1000)}`;
        let onClose: ((code: number) => void) | undefined;
        const reply = new Promise<string>((resolve, reject) => {
          ws.once('message', (data: Buffer) => resolve(data.toString()));
          onClose = code => reject(new Error(`good client closed with ${code}`));
          ws.once('close', onClose);
        });
        ws.send(text);
        try {
          assert.equal(await reply, text);
        } finally {
          if (onClose) ws.removeListener('close', onClose);
        }
      }
      assert.equal(ws.readyState, WebSocket.OPEN);
    },
    close() {
      return new Promise(resolve => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close(1000);
      });
    },
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
