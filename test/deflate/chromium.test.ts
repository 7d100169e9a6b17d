// Chromium interop with permessage-deflate negotiated: ws.extensions and a 100 KiB JSON echo.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { chromiumSkipReason, launchChromium } from '../support/chromium.js';
import { startServer } from '../support/server-under-test.js';

const skipReason = chromiumSkipReason('deflate/chromium');

void it(
  'Chromium negotiates permessage-deflate and a 100 KiB JSON message echoes intact',
  { skip: skipReason ?? false },
  async () => {
    const server = await startServer({
      page: '<!doctype html><title>deflate</title>',
      perMessageDeflate: true,
    });
    try {
      const { context, close } = await launchChromium();
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        await page.goto(server.httpUrl('/'));
        const result = await page.evaluate(
          url =>
            new Promise<{ extensions: string; intact: boolean; length: number }>((resolve, reject) => {
              const items = [];
              for (let i = 0; items.length === 0 || JSON.stringify(items).length < 100 * 1024; i++)
                items.push({ id: i, name: `item-${i}`, tags: ['a', 'b', 'ü'], ok: i % 2 === 0 });
              const message = JSON.stringify(items);
              const ws = new WebSocket(url);
              ws.onerror = () => reject(new Error('WebSocket error'));
              ws.onopen = () => ws.send(message);
              ws.onmessage = e => {
                resolve({ extensions: ws.extensions, intact: e.data === message, length: message.length });
                ws.close(1000);
              };
            }),
          server.wsUrl('/echo')
        );
        assert.match(result.extensions, /^permessage-deflate/);
        assert.ok(result.length >= 100 * 1024);
        assert.equal(result.intact, true);
        const closed = await server.peerClose('/echo');
        assert.equal(closed.code, 1000);
      } finally {
        await close();
      }
    } finally {
      await server.close();
    }
  }
);
