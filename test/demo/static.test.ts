// Tests for the demo's static-file middleware: safe path resolution, content types, fall-through.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Context } from '../../src/core/types.js';
import { resolveStaticPath, serveStatic } from '../../demo/static.js';

describe('demo static files', () => {
  const parent = mkdtempSync(join(tmpdir(), 'nextrush-static-'));
  const root = join(parent, 'public');
  let server: Server;
  let base: string;

  before(async () => {
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(join(root, 'app.js'), 'export {};');
    writeFileSync(join(root, 'sub', 'style.css'), 'body{}');
    writeFileSync(join(parent, 'secret.txt'), 'do not serve');
    const middleware = serveStatic(root);
    // A minimal context: the middleware only reads method and path and writes to res.
    server = createServer((req, res) => {
      const ctx = { req, res, method: req.method, path: new URL(req.url ?? '/', 'http://x').pathname };
      const next = () => {
        res.statusCode = 404;
        res.end('fell through');
        return Promise.resolve();
      };
      void Promise.resolve(middleware(ctx as unknown as Context, next));
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>(resolve => server.close(() => resolve()));
    rmSync(parent, { recursive: true, force: true });
  });

  it('serves index.html for / with an HTML content type and a CSP', async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(await res.text(), '<!doctype html><title>x</title>');
  });

  it('sets content types by extension', async () => {
    const js = await fetch(`${base}/app.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    await js.arrayBuffer();
    const css = await fetch(`${base}/sub/style.css`);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal(await css.text(), 'body{}');
  });

  it('answers HEAD without a body', async () => {
    const res = await fetch(`${base}/app.js`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '10');
    assert.equal(await res.text(), '');
  });

  it('passes unknown paths, directories and other methods to the next middleware', async () => {
    for (const [path, method] of [
      ['/missing.js', 'GET'],
      ['/sub', 'GET'],
      ['/app.js', 'POST'],
    ] as const) {
      const res = await fetch(`${base}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(await res.text(), 'fell through');
    }
  });

  it('never resolves outside the root, however the path is encoded', () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/sub/../../secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/a%00.js',
      '/%E0%A4%A',
    ]) {
      assert.equal(resolveStaticPath(root, path), undefined, path);
    }
    assert.equal(resolveStaticPath(root, '/sub/../app.js'), join(root, 'app.js'));
  });

  it('refuses a raw ../ path over the wire', async () => {
    // fetch normalises "..", so send the request line by hand through node:http.
    const { request } = await import('node:http');
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${base}/x`, { path: '/../secret.txt' }, res => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 404);
  });
});
