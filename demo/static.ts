// Static-file middleware for the demo's front end: safe path resolution, content types, HEAD support.
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { Middleware } from '../src/core/types.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

// The page only talks to its own origin; this keeps an injected script (if escaping ever failed) inert.
const HTML_CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * Maps a URL path to a file strictly inside `root`, or undefined. Percent-decoding happens before the
 * check, so `%2e%2e/` cannot escape; NUL bytes and backslashes are refused outright.
 */
export function resolveStaticPath(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  if (decoded.endsWith('/')) decoded += 'index.html';
  const base = resolve(root);
  const file = resolve(base, '.' + (decoded.startsWith('/') ? decoded : '/' + decoded));
  if (!file.startsWith(base + sep)) return undefined;
  return file;
}

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Serves files under `root` for GET and HEAD; anything it cannot serve goes to the next middleware. */
export function serveStatic(root: string): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const file = resolveStaticPath(root, ctx.path);
    if (!file) return next();
    let body: Buffer;
    try {
      const info = await stat(file);
      if (!info.isFile()) return next();
      body = await readFile(file);
    } catch {
      return next();
    }
    const type = contentTypeFor(file);
    const res = ctx.res;
    res.statusCode = 200;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', body.length);
    // The demo is edited while it runs; always revalidate so a reload shows the new file.
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (type.startsWith('text/html')) res.setHeader('Content-Security-Policy', HTML_CSP);
    res.end(ctx.method === 'HEAD' ? undefined : body);
  };
}
