// Chromium interop with permessage-deflate negotiated: ws.extensions and a 100 KiB JSON echo.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from '../support/server-under-test.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ON_CI = process.env.CI === 'true';
const missing = !existsSync(CHROMIUM);
if (missing && !ON_CI) {
  console.error(
    `\n!!!!! deflate/chromium SKIPPED: Chromium not found at ${CHROMIUM}. On CI (CI=true) this fails.\n`
  );
}

void it(
  'Chromium negotiates permessage-deflate and a 100 KiB JSON message echoes intact',
  { skip: missing && !ON_CI },
  async () => {
    if (missing) throw new Error(`Chromium not found at ${CHROMIUM} (required on CI)`);
    const server = await startServer({
      page: '<!doctype html><title>deflate</title>',
      perMessageDeflate: true,
    });
    const profile = await mkdtemp(join(tmpdir(), 'nextrush-deflate-chromium-'));
    try {
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        timeout: 60_000,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
        ],
      });
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
        await context.close();
      }
    } finally {
      await rm(profile, { recursive: true, force: true });
      await server.close();
    }
  }
);
