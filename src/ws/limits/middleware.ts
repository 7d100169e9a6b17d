// Ready-made rate-limit middleware: wsRateLimit for app.wsUse (1008 after the 101), rateLimit for app.use (429).
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../../core/errors.js';
import type { Context, Middleware } from '../../core/types.js';
import { ReadyState } from '../connection/lifecycle.js';
import { wsError, WsCloses } from '../errors.js';
import type { WSMiddleware } from '../types.js';
import { clientKey } from './client-key.js';
import { ClientLimits } from './client-limits.js';
import { LIMIT_DEFAULTS, resolveClientLimits } from './options.js';
import type { ClientLimitsOptions } from './types.js';

/** The default key: the remote address, an IPv6 one by its /64 (see client-key.ts). */
function remoteAddress(req: IncomingMessage): string {
  return clientKey(req.socket.remoteAddress ?? '');
}

/**
 * The spec's "Rate limiting middleware" in one line: `app.wsUse(wsRateLimit({ upgradesPerMinute: 5 }))`.
 * Takes the `clientLimits` options; a client over a cap is closed with 1008 "Rate limit exceeded". It
 * runs after the 101 (as every wsUse middleware does): the plugin's `clientLimits` option answers 429
 * before the handshake instead, and costs the server less. The key defaults to the remote address (IPv6: its /64).
 */
export function wsRateLimit(options: ClientLimitsOptions): WSMiddleware {
  const config = resolveClientLimits(options ?? {}, 'wsRateLimit');
  const table = new ClientLimits(config);
  const keyOf = config.key ?? remoteAddress;
  return (socket, req, next) => {
    const key = keyOf(req);
    const verdict = table.admit(key, performance.now());
    if (!verdict.ok) {
      config.onRefuse?.(req, { limit: verdict.limit, key, retryAfter: verdict.retryAfter });
      const { close, reason } = WsCloses.WS_CLOSE_RATE_LIMIT;
      socket.close(close, reason);
      return;
    }
    const entry = verdict.entry;
    // onClose fires exactly once per connection, however it ends; a socket already closed has no
    // onClose to come, so it is released here.
    if (socket.readyState === ReadyState.CLOSED) table.release(entry, performance.now());
    else socket.onClose(() => table.release(entry, performance.now()));
    next();
  };
}

/** Options of the `rateLimit()` HTTP middleware: the per-client budget and how a client is keyed. */
export interface RateLimitOptions {
  /** Requests one client key may make per minute: a burst of this many, then one per 60/n seconds. */
  requestsPerMinute: number;
  /** The client key of a request (default `ctx.ip`: the remote address, or X-Forwarded-For with `trustProxy`; IPv6 by /64). */
  key?: (ctx: Context) => string;
  /** Client keys remembered at most (default 10 000). */
  maxKeys?: number;
}

/**
 * HTTP middleware for `app.use`: a client over `requestsPerMinute` gets 429 with `Retry-After` (error
 * code ERR_RATE_LIMITED). Where the app runs its middleware for upgrade requests, the WebSocket
 * handshake is refused the same way, before the 101.
 */
export function rateLimit(options: RateLimitOptions): Middleware {
  const { requestsPerMinute, key, maxKeys = LIMIT_DEFAULTS.maxKeys } = options ?? {};
  const positive = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1;
  if (
    !positive(requestsPerMinute) ||
    !positive(maxKeys) ||
    (key !== undefined && typeof key !== 'function')
  ) {
    throw wsError(
      'WS_ERR_INVALID_OPTION',
      'rateLimit(): requestsPerMinute and maxKeys must be positive integers, key a function'
    );
  }
  const table = new ClientLimits({ maxConnections: 0, upgradesPerMinute: requestsPerMinute, maxKeys });
  return (ctx, next) => {
    const now = performance.now();
    const verdict = table.admit(key === undefined ? clientKey(ctx.ip) : key(ctx), now);
    if (!verdict.ok) {
      throw new HttpError(429, 'Too many requests', {
        code: 'ERR_RATE_LIMITED',
        headers: { 'Retry-After': String(verdict.retryAfter) },
      });
    }
    // Only the rate counts here: the request's slot is given back at once.
    table.release(verdict.entry, now);
    return next();
  };
}
