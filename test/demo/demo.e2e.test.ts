// End-to-end test of the demo in headless Chromium: rooms, dashboard counts, metrics, screenshots, restart.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { createDemo } from '../../demo/app.js';
import type { WebSocketPlugin } from '../../src/index.js';
import { chromiumSkipReason, launchChromium, type Browser } from '../support/chromium.js';
import { decodePng, looksBlank } from './png.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const WAIT = { timeout: 15000 };

// On CI a missing browser is a failure, not a skip: the demo must be proven there.
const skipReason = chromiumSkipReason('the demo end-to-end test');

interface RunningDemo {
  close(): Promise<void>;
  port: number;
  wsPlugin: WebSocketPlugin;
}

async function startDemo(port: number): Promise<RunningDemo> {
  // A short stats interval keeps the waits for dashboard numbers brief; the behaviour is the same.
  const { app, wsPlugin } = createDemo({ statsIntervalMs: 200 });
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return { port: (server.address() as AddressInfo).port, close: () => app.close(), wsPlugin };
}

/** Console errors and uncaught exceptions of one page, recorded as they happen. */
function watchErrors(page: Page, sink: string[]): void {
  page.on('console', msg => {
    if (msg.type() === 'error') sink.push(msg.text());
  });
  page.on('pageerror', err => sink.push(`uncaught: ${err.message}`));
}

// While the server is down, Chromium itself logs each refused connection attempt; the page cannot
// prevent that. Only those lines are tolerated, and only during the restart phase.
const REFUSED = /WebSocket connection to '.*' failed|ERR_CONNECTION_REFUSED/;

async function waitOpen(page: Page): Promise<void> {
  await page.locator('#status[data-state="open"]').waitFor(WAIT);
}

async function waitText(page: Page, selector: string, text: string): Promise<void> {
  const exact = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  await page.locator(selector, { hasText: exact }).waitFor(WAIT);
}

async function messagesIn(page: Page): Promise<string[]> {
  return page.locator('.msg .text').allTextContents();
}

async function sendMessage(page: Page, text: string): Promise<void> {
  await page.locator('#message-input').click();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

async function waitMessage(page: Page, text: string): Promise<void> {
  await page.locator('.msg .text', { hasText: text }).first().waitFor(WAIT);
}

async function metricValue(port: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/ws/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));
  const line = text.split('\n').find(l => l.startsWith(`${name} `));
  assert.ok(line, `${name} missing from /ws/metrics`);
  return Number(line.slice(name.length + 1));
}

async function screenshotChecked(page: Page, name: string): Promise<Buffer> {
  const png = await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  assert.equal(looksBlank(decodePng(png)), false, `${name}.png looks blank`);
  return png;
}

describe('demo in a browser', { skip: skipReason ?? false }, () => {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let demo: RunningDemo | undefined;
  const errors = new Map<string, string[]>();
  const pages = new Map<string, Page>();

  async function openPage(name: string, room: string): Promise<Page> {
    assert.ok(context && demo);
    const page = await context.newPage();
    const sink: string[] = [];
    errors.set(name, sink);
    watchErrors(page, sink);
    pages.set(name, page);
    await page.goto(`http://127.0.0.1:${demo.port}/?room=${room}`);
    return page;
  }

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    demo = await startDemo(0);
    browser = await launchChromium({ width: 1280, height: 860 });
    context = browser.context;
  });

  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('the blank-screenshot check rejects an empty page', async () => {
    assert.ok(context);
    const page = await context.newPage();
    await page.goto('about:blank');
    const png = decodePng(await page.screenshot());
    assert.equal(png.width, 1280);
    assert.equal(looksBlank(png), true);
    await page.close();
  });

  it('chats within a room only, counts connections, and agrees with /ws/metrics', async () => {
    assert.ok(demo);
    const a1 = await openPage('alpha-1', 'alpha');
    const a2 = await openPage('alpha-2', 'alpha');
    const b1 = await openPage('beta-1', 'beta');
    await Promise.all([a1, a2, b1].map(waitOpen));
    await a2.setViewportSize({ width: 375, height: 812 });

    await sendMessage(a1, 'Hello alpha <b>team</b>');
    await waitMessage(a2, 'Hello alpha <b>team</b>');
    await waitMessage(a1, 'Hello alpha <b>team</b>');
    // User text is shown as text: no element was created from the markup it contains.
    assert.equal(await a2.locator('.log b').count(), 0);
    assert.equal(await a1.locator('.msg.mine').count(), 1);

    // The beta page's own message is written to its socket after the alpha broadcast went out, so once
    // it shows up, any leaked alpha message would already have arrived on the same connection.
    await sendMessage(b1, 'beta only');
    await waitMessage(b1, 'beta only');
    assert.deepEqual(await messagesIn(b1), ['beta only']);
    assert.ok(!(await messagesIn(a1)).includes('beta only'));

    await waitText(a1, '#stat-connections', '3');
    await waitText(b1, '#stat-connections', '3');
    assert.equal(await metricValue(demo.port, 'websocket_connections_active'), 3);

    // The phone-sized page must not scroll sideways.
    const overflow = await a2.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(overflow <= 375, `page is ${overflow}px wide at a 375px viewport`);

    await waitText(a1, '#stat-rooms', '2');
    await screenshotChecked(a1, 'demo-alpha-1-desktop');
    await screenshotChecked(a2, 'demo-alpha-2-phone');
    await screenshotChecked(b1, 'demo-beta-1-desktop');

    await b1.close();
    pages.delete('beta-1');
    await waitText(a1, '#stat-connections', '2');
    assert.equal(await metricValue(demo.port, 'websocket_connections_active'), 2);

    for (const [name, list] of errors) assert.deepEqual(list, [], `console errors on ${name}`);
  });

  it('shows the messages sent while a page was cut off, once and in order, after it reconnects', async () => {
    assert.ok(demo);
    const a1 = pages.get('alpha-1');
    const a2 = pages.get('alpha-2');
    assert.ok(a1 && a2, 'the first chat test must leave two alpha pages open');
    const name = await a1.evaluate<string>("sessionStorage.getItem('nextrush-demo-name')");
    const mine = [...demo.wsPlugin.connections].find(
      c => c.url.startsWith('/chat/alpha?') && c.url.includes(`name=${encodeURIComponent(name)}`)
    );
    assert.ok(mine, "alpha-1's connection is on the server");
    const before = await messagesIn(a1);
    // Cut alpha-1's TCP connection, then chat in the same tick: the page cannot be back yet.
    mine.terminate();
    const away = ['while you were away 1', 'while you were away 2', 'while you were away 3'];
    for (const content of away) {
      demo.wsPlugin.broadcast(
        JSON.stringify({
          type: 'chat-message',
          room: 'alpha',
          content,
          from: { id: 'server', name: 'server' },
          timestamp: new Date().toISOString(),
        }),
        'alpha'
      );
    }
    await a1.locator('#status[data-state="reconnecting"]').waitFor(WAIT);
    assert.equal(await a1.locator('#status').getAttribute('data-close-code'), '1006');
    await waitOpen(a1);
    await a1
      .locator('.log .event', { hasText: /^Caught up: \d+ messages from while you were away\.$/ })
      .waitFor(WAIT);
    await sendMessage(a2, 'live after the catch-up');
    await waitMessage(a1, 'live after the catch-up');
    assert.deepEqual(await messagesIn(a1), [...before, ...away, 'live after the catch-up']);
    // alpha-2 stayed connected: it saw the same messages once, live.
    await waitMessage(a2, 'live after the catch-up');
    const seen = await messagesIn(a2);
    assert.deepEqual(seen.slice(-4), [...away, 'live after the catch-up']);
    await screenshotChecked(a1, 'demo-alpha-1-caught-up');
  });

  it('reconnects after a server restart and chats again', async () => {
    assert.ok(demo);
    const a1 = pages.get('alpha-1');
    const a2 = pages.get('alpha-2');
    assert.ok(a1 && a2, 'the previous test must leave two alpha pages open');
    // Whatever else the previous test left open would change the counts below.
    for (const [name, page] of pages) {
      if (page !== a1 && page !== a2) {
        await page.close();
        pages.delete(name);
      }
    }
    const port = demo.port;

    await demo.close();
    // Both pages notice the drop and show that they are retrying.
    await a1.locator('#status[data-state="reconnecting"]').waitFor(WAIT);
    await a2.locator('#status[data-state="reconnecting"]').waitFor(WAIT);
    assert.match((await a1.locator('#status-text').textContent()) ?? '', /^Reconnecting in \d+s$/);
    // app.close() says goodbye properly: 1001 Going Away, not a dropped TCP connection (1006).
    assert.equal(await a1.locator('#status').getAttribute('data-close-code'), '1001');
    assert.equal(await a2.locator('#status').getAttribute('data-close-code'), '1001');

    demo = await startDemo(port);
    await Promise.all([a1, a2].map(waitOpen));
    await waitText(a1, '#stat-connections', '2');

    await sendMessage(a2, 'back after the restart');
    await waitMessage(a1, 'back after the restart');
    assert.equal(await metricValue(demo.port, 'websocket_connections_active'), 2);
    await screenshotChecked(a1, 'demo-alpha-1-after-restart');

    for (const [name, list] of errors) {
      assert.deepEqual(
        list.filter(line => !REFUSED.test(line)),
        [],
        `console errors on ${name}`
      );
    }
    writeFileSync(join(ARTIFACTS, 'demo-console.json'), JSON.stringify(Object.fromEntries(errors), null, 2));
  });
});
