// TLS on the same app: listen({ tls }) and attach(server) serve HTTPS and wss:// (ws, Node's WebSocket, Chromium).
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent, WebSocket as UndiciWebSocket } from 'undici';
import { createApp, WebSocketPlugin, type Application } from '../../src/index.js';
import { chromiumSkipReason, launchChromium, type Browser } from '../support/chromium.js';
import { httpsGet, selfSignedCert, tlsSkipReason, type TestCert } from '../support/tls.js';
import { within } from '../interop/session.js';
import { open, refusedStatus } from '../ws/helpers.js';

const tlsSkip = tlsSkipReason('core/tls');
const chromiumSkip = chromiumSkipReason('core/tls (Chromium over wss://)');

/** One app: shared auth middleware, an HTTPS page, and a WebSocket room that echoes to everyone. */
function buildApp(): Application {
  const app = createApp({ closeTimeout: 2000 });
  new WebSocketPlugin({ heartbeatMs: 0 }).install(app);
  app.use(async (ctx, next) => {
    const token = ctx.query.token;
    if (typeof token !== 'string' || !token.startsWith('valid-')) ctx.throw(401, 'Sign in first');
    await next();
  });
  app.get('/', ctx => ctx.res.send('<!doctype html><title>tls</title>'));
  app.ws('/room', socket => {
    socket.join('all');
    socket.onMessage(data => app.wsBroadcast(data, 'all'));
    socket.send(`welcome ${new URL(socket.url, 'https://x').searchParams.get('token')}`);
  });
  return app;
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

async function listening(server: Server): Promise<number> {
  if (!server.listening) await new Promise(resolve => server.once('listening', resolve));
  return portOf(server);
}

/** The next message and the close of a WHATWG WebSocket (undici's, as Node's own). */
function undiciClient(url: string, ca: Buffer) {
  const ws = new UndiciWebSocket(url, { dispatcher: new Agent({ connect: { ca } }) });
  const messages: string[] = [];
  ws.addEventListener('message', ev => messages.push(String(ev.data)));
  const closed = new Promise<number>(resolve => ws.addEventListener('close', ev => resolve(ev.code)));
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('undici WebSocket failed to open')));
  });
  return { ws, messages, closed, opened };
}

async function waitFor<T>(get: () => T | undefined, what: string): Promise<T> {
  return within(
    (async () => {
      for (;;) {
        const v = get();
        if (v !== undefined) return v;
        await new Promise(resolve => setTimeout(resolve, 5));
      }
    })(),
    what
  );
}

describe('TLS: listen({ port, host, tls })', { skip: tlsSkip }, () => {
  let cert: TestCert;
  let app: Application;
  let port = 0;
  let browser: Browser | undefined;
  before(async () => {
    cert = selfSignedCert();
    app = buildApp();
    let called = false;
    const server = app.listen({ port: 0, host: '127.0.0.1', tls: cert }, () => (called = true));
    assert.equal(app.server, server);
    port = await listening(server);
    assert.equal(called, true);
  });
  after(async () => {
    await app.close();
    await browser?.close();
  });

  it('serves HTTPS with the same routes and middleware', async () => {
    assert.deepEqual(await httpsGet(port, '/?token=valid-a', cert.cert), {
      status: 200,
      body: '<!doctype html><title>tls</title>',
    });
    assert.equal((await httpsGet(port, '/', cert.cert)).status, 401);
  });

  it('the middleware refuses a wss:// upgrade with 401', async () => {
    assert.equal(await refusedStatus(`wss://127.0.0.1:${port}/room`, { ca: cert.cert }), 401);
  });

  it(
    'wss:// with three clients at once (ws, Node WebSocket, Chromium); close() sends them 1001',
    { skip: chromiumSkip },
    async () => {
      const url = (who: string) => `wss://127.0.0.1:${port}/room?token=valid-${who}`;
      const a = await open(url('ws'), { ca: cert.cert });
      assert.equal(await a.next(), 'welcome valid-ws');
      const b = undiciClient(url('undici'), cert.cert);
      await within(b.opened, 'undici open');
      await waitFor(() => b.messages.find(m => m === 'welcome valid-undici'), 'undici welcome');

      browser = await launchChromium(undefined, ['--ignore-certificate-errors']);
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      await page.goto(`https://127.0.0.1:${port}/?token=valid-page`);
      await page.evaluate((u: string) => {
        const w = globalThis as unknown as { got: string[]; closeCode: number; ws: globalThis.WebSocket };
        w.got = [];
        w.closeCode = 0;
        w.ws = new globalThis.WebSocket(u);
        w.ws.onmessage = e => w.got.push(String(e.data));
        w.ws.onclose = e => (w.closeCode = e.code);
      }, url('chromium'));
      const pageGot = () => page.evaluate(() => (globalThis as unknown as { got: string[] }).got);
      await within(
        (async () => {
          while (!(await pageGot()).includes('welcome valid-chromium'))
            await new Promise(resolve => setTimeout(resolve, 20));
        })(),
        'Chromium welcome'
      );

      a.ws.send('to everyone');
      assert.equal(await a.next(), 'to everyone');
      await waitFor(() => b.messages.find(m => m === 'to everyone'), 'undici broadcast');
      await within(
        (async () => {
          while (!(await pageGot()).includes('to everyone'))
            await new Promise(resolve => setTimeout(resolve, 20));
        })(),
        'Chromium broadcast'
      );

      await within(app.close(), 'close()');
      assert.equal((await a.closed).code, 1001);
      assert.equal(await within(b.closed, 'undici close'), 1001);
      const pageClose = await within(
        (async () => {
          for (;;) {
            const code = await page.evaluate(
              () => (globalThis as unknown as { closeCode: number }).closeCode
            );
            if (code !== 0) return code;
            await new Promise(resolve => setTimeout(resolve, 20));
          }
        })(),
        'Chromium close'
      );
      assert.equal(pageClose, 1001);
      assert.equal(app.server?.listening, false);
    }
  );
});

describe('attach(server)', { skip: tlsSkip }, () => {
  it("serves HTTPS and wss:// on the user's https.createServer(); close() works the same", async () => {
    const cert = selfSignedCert();
    const app = buildApp();
    const server = createHttpsServer({ key: cert.key, cert: cert.cert });
    assert.equal(app.attach(server), server);
    assert.equal(app.server, server);
    server.listen(0, '127.0.0.1');
    const port = await listening(server);
    assert.equal((await httpsGet(port, '/?token=valid-a', cert.cert)).status, 200);
    assert.equal(await refusedStatus(`wss://127.0.0.1:${port}/room`, { ca: cert.cert }), 401);
    const c = await open(`wss://127.0.0.1:${port}/room?token=valid-x`, { ca: cert.cert });
    assert.equal(await c.next(), 'welcome valid-x');
    await within(app.close(), 'close()');
    assert.equal((await c.closed).code, 1001);
    assert.equal(server.listening, false);
  });

  it('serves WebSockets on a plain http.createServer() too', async () => {
    const app = buildApp();
    const server = app.attach(createHttpServer());
    server.listen(0, '127.0.0.1');
    const port = await listening(server);
    const c = await open(`ws://127.0.0.1:${port}/room?token=valid-y`);
    assert.equal(await c.next(), 'welcome valid-y');
    await within(app.close(), 'close()');
    assert.equal((await c.closed).code, 1001);
  });

  it('one server per app: attach() after listen() or attach() throws', async () => {
    const app = buildApp();
    app.attach(createHttpServer());
    assert.throws(() => app.attach(createHttpServer()), /already has a server/);
    assert.throws(() => app.listen(0), /already has a server/);
    await app.close();
    const closed = createApp();
    await closed.close();
    assert.throws(() => closed.attach(createHttpServer()), /after close/);
  });
});
