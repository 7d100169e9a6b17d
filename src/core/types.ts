// The framework's public contracts: application, context, middleware and plugin shapes.
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Http2SecureServer } from 'node:http2';
import type { TlsOptions } from 'node:tls';

/** Calls the rest of the middleware chain; resolves when everything downstream has finished. */
export type Next = () => Promise<void>;

/** Koa-style middleware: runs before and after `await next()` (onion order). */
export type Middleware = (ctx: Context, next: Next) => unknown;

/** A route handler is a middleware that usually does not call `next`. */
export type Handler = Middleware;

/** `ctx.res`: Node's ServerResponse with a few chainable helpers. */
export interface Response extends ServerResponse {
  /** Sets the status code; chainable. */
  status(code: number): this;
  /** Sends `data` as JSON (`application/json; charset=utf-8`) and ends the response. */
  json(data: unknown): this;
  /** Sends a string (text/plain or text/html guess), a Buffer (octet-stream) or an object (JSON) and ends. */
  send(body: string | Buffer | Uint8Array | object | null | undefined): this;
}

/**
 * Per-request context as users see it. Plugins add members by declaration merging (the WebSocket plugin
 * adds `isWebSocket`, `wsRooms` and `ws`) and set their values on `app.context`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- extended by plugins through declaration merging
export interface Context extends CoreContext {}

/** The members of a context that the framework core itself implements. */
export interface CoreContext {
  /** Node's incoming request. */
  readonly req: IncomingMessage;
  /** Node's response with chainable helpers. */
  readonly res: Response;
  /** The application handling the request. */
  readonly app: Application;
  /** Response status code (read/write). */
  status: number;
  /** Request method in upper case, e.g. `GET`. */
  readonly method: string;
  /**
   * Path without the query string, e.g. `/users/42`. Assigning it rewrites the request (the query string
   * stays): routing happens after the app's middleware, so the route of the new path answers.
   */
  path: string;
  /** The request URL: path plus query string. Assigning it rewrites the request, as for `path`. */
  url: string;
  /** Request headers, names in lower case (Node's `req.headers`). */
  readonly headers: IncomingHttpHeaders;
  /** Parsed query string as a plain object; repeated keys become arrays. */
  readonly query: Record<string, string | string[]>;
  /**
   * Route parameters (`:name`, and `*` for a trailing wildcard), URL-decoded, of the route that serves
   * the current path: an HTTP route, or for an upgrade request the `app.ws()` route. Middleware may read
   * them before routing; they follow a URL rewrite.
   */
  params: Record<string, string>;
  /**
   * Parsed request body: JSON, urlencoded (object), text (string), or undefined when there is none.
   * Read just before the route handler runs, so app middleware sees undefined here, and a request that
   * middleware refuses never has its body read. Always undefined for upgrade requests.
   */
  body: unknown;
  /** Free space for middleware to pass data downstream. */
  state: Record<string, unknown>;
  /** Remote address of the client. */
  readonly ip: string;
  /** Sends `data` as JSON with an optional status. */
  json(data: unknown, status?: number): void;
  /** Throws an HttpError; messages of statuses below 500 are shown to the client. */
  throw(status: number, message?: string): never;
}

/**
 * A raw upgrade handler, called in registration order for an HTTP `upgrade` request before any
 * middleware. Return `true` when the handler took responsibility for the socket (answered or upgraded
 * it). When nothing claims a request, the app answers it with an HTTP error and closes the socket.
 * Protocols that should run behind the app's middleware register an {@link UpgradeProtocol} instead.
 */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** An endpoint of an upgrade protocol that serves a path. */
export interface UpgradeRoute {
  /** Parameters captured from the route's path (`:name`, and `*`). */
  readonly params: Record<string, string>;
}

/** The socket of an upgrade request, owned by the app until a protocol takes it. */
export interface UpgradeSocket {
  /**
   * Hands the socket to the protocol (call it right before writing to the socket, e.g. a 101): the app
   * stops answering and tracking it. `head` holds the bytes that followed the request headers. The
   * socket is paused; the protocol resumes reading.
   */
  take(): { socket: Duplex; head: Buffer };
  /** True once the client hung up (nothing can be answered any more). */
  readonly closed: boolean;
}

/**
 * A protocol served on HTTP upgrade requests through the app's middleware chain (the WebSocket plugin
 * is one). The chain runs as for an HTTP request, and `accept` runs at its end, where a route handler
 * would: an error thrown before `take()` becomes a real HTTP response on the socket.
 */
export interface UpgradeProtocol {
  /** Whether this upgrade request is for this protocol, from its headers, before any middleware. */
  claims(req: IncomingMessage): boolean;
  /** The endpoint serving `path`, or null (the request then ends 404). May throw an HttpError (400). */
  match(path: string): UpgradeRoute | null;
  /** Prepares the context before the chain (the WebSocket plugin sets `ctx.isWebSocket`). */
  prepare?(ctx: Context): void;
  /** Accepts or refuses the upgrade at the end of the chain; `route` is the endpoint of the current path. */
  accept(ctx: Context, route: UpgradeRoute, socket: UpgradeSocket): void | Promise<void>;
  /**
   * The `:protocol` this protocol also serves over HTTP/2 (RFC 8441 extended CONNECT), e.g. `websocket`.
   * An HTTP/2 server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL only when a protocol declares one; such
   * requests run the same chain, with `ctx.req.httpVersion === '2.0'` and `ctx.res` answering the stream.
   */
  readonly connectProtocol?: string;
}

/** Where and how `listen()` serves. */
export interface ListenOptions {
  /** Port to listen on; 0 or absent picks a free one (see `server.address()`). */
  port?: number;
  /** Address to bind, e.g. `127.0.0.1`; absent binds every address. */
  host?: string;
  /** Queue length of pending connections, passed to Node's `server.listen()`. */
  backlog?: number;
  /**
   * Serve HTTPS (and `wss://`) instead of HTTP: Node's TLS server options, e.g. `{ key, cert }` or
   * `{ pfx, passphrase }`. The same routes, middleware and plugins serve both.
   */
  tls?: TlsOptions;
  /**
   * With `tls`: serve HTTP/2 and HTTP/1.1 on the one port (ALPN), both through the same app; WebSockets
   * then also open as HTTP/2 streams (RFC 8441). `listen()` returns Node's `Http2SecureServer`.
   * `true` takes the defaults of {@link Http2Options}; an object sets them.
   */
  http2?: boolean | Http2Options;
}

/**
 * HTTP/2 tuning of `listen({ tls, http2: { ... } })`. Values are checked by `listen()`, which throws a
 * TypeError with `code: 'ERR_INVALID_OPTION'` for a wrong one (and for an unknown key).
 */
export interface Http2Options {
  /**
   * A session (one TCP+TLS connection) with no open stream for this long, ms, gets GOAWAY and is closed
   * (default 60 000; 0 never closes an idle session). Only streams count, not PING or SETTINGS frames: a
   * session that carries a WebSocket is never idle, however quiet the WebSocket is (its heartbeat
   * watches it). HTTP/1.1 connections on the same port keep `keepAliveTimeout`.
   */
  sessionIdleTimeout?: number;
  /**
   * Memory one session may hold, in MB (Node's `maxSessionMemory`, default 64 here, Node's own is 10):
   * beyond it new streams are refused and streams may be reset with ENHANCE_YOUR_CALM. One session
   * carries many WebSockets, each allowed `maxMessageSize` (16 MiB by default) per message; Node 24
   * reset a 16 MiB echo at 10 MB.
   */
  maxSessionMemory?: number;
  /**
   * SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients: streams (requests and WebSockets) one session
   * may have open at once; a client queues the ones beyond it (default: Node's, 4 294 967 295, i.e. no
   * limit of its own; the WebSocket plugin's `maxConnections` still counts every stream).
   */
  maxConcurrentStreams?: number;
}

/** The server of an app: HTTP, HTTPS (`listen({ tls })`) or HTTP/2 with HTTP/1.1 (`listen({ tls, http2 })`). */
export type AppServer = Server | HttpsServer | Http2SecureServer;

/** Runs during `app.close()`, after the server stopped accepting connections. */
export type CloseHook = () => void | Promise<void>;

/** A plugin adds behaviour to an application. */
export interface Plugin {
  /** Name the application remembers the plugin by. */
  readonly name: string;
  /** Adds the plugin's routes, hooks and context members to `app`. */
  install(app: Application): void;
}

/** Options of `createApp()`: body limit, server timeouts, graceful close and proxy trust. */
export interface AppOptions {
  /** Maximum request body size in bytes (default 1 MiB); larger bodies answer 413. */
  bodyLimit?: number;
  /** Time allowed to receive all request headers, ms (default 10 000). */
  headersTimeout?: number;
  /** Time allowed to receive the whole request, ms (default 30 000). */
  requestTimeout?: number;
  /** How long an idle keep-alive connection stays open, ms (default 5 000). */
  keepAliveTimeout?: number;
  /**
   * How often Node checks `headersTimeout` and `requestTimeout`, ms (default 30 000, Node's own default):
   * a slow request is cut off between the timeout and the timeout plus this interval.
   */
  connectionsCheckingInterval?: number;
  /** How long `close()` waits for in-flight requests before destroying them, ms (default 10 000). */
  closeTimeout?: number;
  /** Trust `X-Forwarded-For` for `ctx.ip` (default false). */
  trustProxy?: boolean;
}

/** Arguments of the routing methods: a path pattern, then one or more handlers run in order. */
export type RouteArgs = [path: string, ...handlers: Middleware[]];

/**
 * The application as users see it. Plugins add members by declaration merging (the WebSocket plugin
 * adds `ws`, `wsUse` and `wsBroadcast`) and assign them in `install()`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- extended by plugins through declaration merging
export interface Application extends CoreApplication {}

/** The members of an application that the framework core itself implements. */
export interface CoreApplication {
  /**
   * Adds a middleware to the chain that runs for every request, upgrade requests included, before
   * routing, before the body is read, and before an upgrade is accepted.
   */
  use(middleware: Middleware): this;
  /** Installs a plugin (same as `plugin.install(app)`), remembering its name. */
  register(plugin: Plugin): this;

  /** Routes GET requests (and HEAD, when no HEAD route matches) for `path` to the handlers. */
  get(...args: RouteArgs): this;
  /** Routes POST requests for `path` to the handlers. */
  post(...args: RouteArgs): this;
  /** Routes PUT requests for `path` to the handlers. */
  put(...args: RouteArgs): this;
  /** Routes PATCH requests for `path` to the handlers. */
  patch(...args: RouteArgs): this;
  /** Routes DELETE requests for `path` to the handlers. */
  delete(...args: RouteArgs): this;
  /** Routes HEAD requests for `path` to the handlers. */
  head(...args: RouteArgs): this;
  /** Routes OPTIONS requests for `path` to the handlers. */
  options(...args: RouteArgs): this;
  /** Routes requests of every method for `path` to the handlers. */
  all(...args: RouteArgs): this;

  /** Properties set here appear on every context (prototype of each ctx), like Koa's `app.context`. */
  readonly context: Record<string, unknown>;

  /** Starts an HTTP server. `listen(0)` picks a free port (see `server.address()`). */
  listen(port?: number, host?: string, callback?: () => void): Server;
  listen(port: number, callback: () => void): Server;
  /**
   * Starts a server as `options` say: HTTP, HTTPS when `options.tls` is given (an `https.Server`), or
   * HTTP/2 with HTTP/1.1 when `tls` and `http2` are (an `Http2SecureServer`). `callback` runs once it
   * listens. Throws a TypeError with `code: 'ERR_INVALID_OPTION'` for an invalid `http2` option.
   */
  listen(options: ListenOptions & { http2: true | Http2Options }, callback?: () => void): Http2SecureServer;
  listen(options: ListenOptions & { tls: TlsOptions; http2?: false }, callback?: () => void): HttpsServer;
  listen(options: ListenOptions & { tls?: undefined; http2?: false }, callback?: () => void): Server;
  listen(options: ListenOptions, callback?: () => void): AppServer;

  /**
   * Serves the app, upgrades (WebSockets) included, on a server you created and listen on yourself,
   * e.g. `https.createServer({ key, cert })`. `close()` then closes that server as it would its own.
   * Returns the server. One server per app: throws after `listen()` or another `attach()`.
   */
  attach<S extends Server | Http2SecureServer>(server: S): S;

  /**
   * The server created by `listen()` or given to `attach()`, or undefined before: an `http.Server`, an
   * `https.Server` (which is one too) or, with `http2`, an `Http2SecureServer` (use the server
   * `listen()` returned when you need its exact type).
   */
  readonly server: AppServer | undefined;

  /**
   * Node request listener for HTTP requests only (`http.createServer(app.callback())`); upgrade
   * requests are not served this way: use `attach(server)` to serve WebSockets too.
   */
  callback(): (req: IncomingMessage, res: ServerResponse) => void;

  /** Plugin hook: called once the server exists (immediately if it already does). */
  onServer(hook: (server: AppServer) => void): void;
  /**
   * Plugin hook for HTTP upgrade requests: a function claims them raw, before any middleware; an
   * {@link UpgradeProtocol} is served through the app's middleware chain.
   */
  onUpgrade(handler: UpgradeHandler | UpgradeProtocol): void;
  /** Plugin hook: runs during `close()`. */
  onClose(hook: CloseHook): void;

  /**
   * Graceful shutdown: stops accepting connections, ends idle keep-alive connections at once, runs the
   * close hooks (the WebSocket plugin closes its peers with 1001 there), waits for in-flight requests up
   * to `closeTimeout`, then destroys what is left. Resolves when done; calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** True once `close()` has been called. */
  readonly closing: boolean;
}
