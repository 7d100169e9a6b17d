// Creating the server for listen(): HTTP or HTTPS from one options object, with the app's timeouts.
import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { AppResponse } from './response.js';
import type { ListenOptions } from './types.js';

export interface ServerTimeouts {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
}

/**
 * The one place a server is made from listen options. Kinds of server (HTTPS today; HTTP/2 is meant to
 * slot in here) differ only in how they are created: `attach()` wires every kind the same way.
 */
export function createServerFor(options: ListenOptions, timeouts: ServerTimeouts): Server {
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
