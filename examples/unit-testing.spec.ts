// The spec's "Unit Testing" example, run with vitest as written (`npx vitest run examples/unit-testing.spec.ts`).
import { describe, it, expect } from 'vitest';
import { createApp, WebSocketPlugin } from 'nextrush-v2';
import WebSocket from 'ws';
import type { AddressInfo } from 'node:net';

describe('WebSocket Plugin', () => {
  it('should handle WebSocket connections', async () => {
    const app = createApp();
    const wsPlugin = new WebSocketPlugin({ path: '/test' });
    wsPlugin.install(app);

    let receivedMessage = '';

    app.ws('/test', socket => {
      socket.onMessage(data => {
        receivedMessage = data.toString();
        socket.send(`Echo: ${data}`);
      });
    });

    // Test with WebSocket client
    // Implementation depends on your testing framework
    // -- what follows is ours: the client part the spec leaves open, so that the example can fail.
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>(resolve => server.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}/test`);
    await new Promise<void>((resolve, reject) => {
      client.once('open', () => resolve());
      client.once('error', reject);
    });
    const reply = new Promise<string>(resolve =>
      client.once('message', data => resolve((data as Buffer).toString()))
    );
    client.send('hello');
    expect(await reply).toBe('Echo: hello');
    expect(receivedMessage).toBe('hello');
    client.close(1000);
    await app.close();
  });
});
