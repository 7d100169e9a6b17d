// Interop: headless Chromium (Debian's /usr/bin/chromium via playwright-core) against the server under test.
import type { Page } from 'playwright-core';
import { chromiumSkipReason, launchChromium, type Browser } from '../support/chromium.js';
import { registerInteropSuite } from './scenarios.js';
import type { ClientSession, CloseInfo, Message } from './session.js';

/** The page's API, implemented by PAGE_SCRIPT with the browser's own WebSocket. */
interface PageApi {
  openSession(url: string): Promise<number>;
  sessionExtensions(id: number): string;
  sessionSend(id: number, type: Message['type'], data: string): void;
  sessionNext(id: number): Promise<{ type: Message['type']; data: string }>;
  sessionClose(id: number, code: number, reason: string): void;
  sessionClosed(id: number): Promise<CloseInfo>;
}

// Plain browser JavaScript served from the server under test; binary data crosses into Node as base64.
const PAGE_SCRIPT = `
const sessions = new Map();
let counter = 0;
function b64encode(buf) {
  const bytes = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
function b64decode(str) {
  const s = atob(str);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
window.openSession = url => new Promise((resolve, reject) => {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const s = { ws, inbox: [], waiter: null, closeInfo: null, closeWaiters: [] };
  ws.onmessage = e => {
    const m = typeof e.data === 'string' ? { type: 'text', data: e.data } : { type: 'binary', data: b64encode(e.data) };
    if (s.waiter) { const w = s.waiter; s.waiter = null; w(m); } else s.inbox.push(m);
  };
  ws.onclose = e => {
    s.closeInfo = { code: e.code, reason: e.reason };
    for (const w of s.closeWaiters) w(s.closeInfo);
  };
  ws.onerror = () => reject(new Error('WebSocket error before open'));
  ws.onopen = () => { const id = ++counter; sessions.set(id, s); resolve(id); };
});
window.sessionExtensions = id => sessions.get(id).ws.extensions;
window.sessionSend = (id, type, data) => sessions.get(id).ws.send(type === 'binary' ? b64decode(data) : data);
window.sessionNext = id => {
  const s = sessions.get(id);
  return s.inbox.length ? s.inbox.shift() : new Promise(r => { s.waiter = r; });
};
window.sessionClose = (id, code, reason) => sessions.get(id).ws.close(code, reason);
window.sessionClosed = id => {
  const s = sessions.get(id);
  return s.closeInfo ? s.closeInfo : new Promise(r => s.closeWaiters.push(r));
};
`;

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>nextrush-v2 interop</title></head>
<body><script>${PAGE_SCRIPT}</script></body></html>`;

async function openInPage(page: Page, url: string): Promise<ClientSession> {
  const id = await page.evaluate(u => (globalThis as unknown as PageApi).openSession(u), url);
  const extensions = await page.evaluate(i => (globalThis as unknown as PageApi).sessionExtensions(i), id);
  return {
    extensions,
    send: m =>
      page.evaluate(([i, type, data]) => (globalThis as unknown as PageApi).sessionSend(i, type, data), [
        id,
        m.type,
        m.type === 'binary' ? m.data.toString('base64') : m.data,
      ] as const),
    next: async () => {
      const m = await page.evaluate(i => (globalThis as unknown as PageApi).sessionNext(i), id);
      return m.type === 'binary'
        ? { type: 'binary', data: Buffer.from(m.data, 'base64') }
        : { type: 'text', data: m.data };
    },
    close: (code, reason) =>
      page.evaluate(([i, c, r]) => (globalThis as unknown as PageApi).sessionClose(i, c, r), [
        id,
        code,
        reason,
      ] as const),
    closed: () => page.evaluate(i => (globalThis as unknown as PageApi).sessionClosed(i), id),
  };
}

const skipReason = chromiumSkipReason('interop/chromium');

let browser: Browser | undefined;
let page: Page | undefined;

registerInteropSuite(
  'headless Chromium',
  {
    skipReason,
    setup: async server => {
      browser = await launchChromium();
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
      await page.goto(server.httpUrl('/'));
    },
    open: url => openInPage(page!, url),
    teardown: async () => {
      await browser?.close();
    },
  },
  { page: PAGE }
);
