// Creating the server for listen(): HTTP, HTTPS or HTTP/2 + HTTP/1.1 from one options object, with the app's timeouts.
import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Http2SecureServer } from 'node:http2';
import { Errors } from './errors.js';
import { createHttp2Server } from './http2.js';
import { resolveHttp2Options } from './http2-options.js';
import { AppResponse } from './response.js';
import type { ListenOptions } from './types.js';

export interface ServerTimeouts {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
}

/**
 * The one place a server is made from listen options. Kinds of server (HTTP, HTTPS, HTTP/2 with
 * HTTP/1.1) differ only in how they are created: `attach()` wires every kind the same way.
 */
export function createServerFor(
  options: ListenOptions,
  timeouts: ServerTimeouts
): Server | Http2SecureServer {
  if (options.http2) {
    const http2 = resolveHttp2Options(options.http2);
    // Browsers speak HTTP/2 only over TLS; cleartext HTTP/2 (h2c) is not offered.
    if (!options.tls) throw Errors.invalidOption('listen(): http2 needs tls ({ key, cert })');
    return createHttp2Server(options.tls, timeouts, http2);
  }
  const { headersTimeout, requestTimeout, keepAliveTimeout, connectionsCheckingInterval } = timeouts;
  const common = {
    // The subclass carries the ctx.res helpers on its prototype; Node's typings cannot express it.
    ServerResponse: AppResponse as unknown as typeof ServerResponse,
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval,
  };
  const server = options.tls ? createHttpsServer({ ...options.tls, ...common }) : createHttpServer(common);
  server.keepAliveTimeout = keepAliveTimeout;
  return server;
}

/** `listen(port?, host?, cb?)`, `listen(port, cb)` and `listen(options, cb?)` as one options object. */
export function listenArguments(
  portOrOptions: number | ListenOptions | undefined,
  hostOrCallback: string | (() => void) | undefined,
  callback: (() => void) | undefined
): { options: ListenOptions; callback: (() => void) | undefined } {
  const cb = typeof hostOrCallback === 'function' ? hostOrCallback : callback;
  if (typeof portOrOptions === 'object' && portOrOptions !== null)
    return { options: portOrOptions, callback: cb };
  const host = typeof hostOrCallback === 'string' ? hostOrCallback : undefined;
  return { options: { port: portOrOptions, host }, callback: cb };
}
